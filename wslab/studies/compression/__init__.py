"""Compression on the wire (issue 10 §4): permessage-deflate and gzip polls.

Notebook 09, section "Compression". Theory of operation: one `wslab.Experiment`
(`experiment`) runs each setting of `SETTINGS` -- the websocket transport
without compression, with websockets' default permessage-deflate (RFC 7692;
2^12-byte windows, context kept between messages), without context takeover
(§7.1.1), with 2^15- and 2^9-byte windows (§7.1.2), and long polling with
and without gzip responses (RFC 9110 §8.4, `wslab.transports._gzip`) -- for
each payload kind (`wslab.core.events.PAYLOAD_KINDS`: random printable
bytes, realistic JSON records, one JSON window repeated) and size, with
repeats on distinct seeds; within a repeat every setting gets the same seed,
hence the same event bodies.

`cost_table` gives per setting, kind and size the wire ratio (bytes per
event down over the uncompressed baseline's, paired by repeat), server and
client CPU per delivery and median latency, means with t intervals over
repeats. `memory_experiment` runs the websocket settings at two N, each run
in a fresh server, and `memory_table` fits server memory per connection as
the slope of RSS over N (a server that served earlier runs reuses the memory
they freed, so one server for the whole grid would not do). `check_model` sets the measured bytes
per event beside zlib's offline result on the same bodies (`model`), with
computed verdicts.
"""

from .figures import ratio_figure
from .model import bodies, extension_header, gzip_delta, ws_delta, ws_frame
from .tables import (
    COST_METRICS,
    check_model,
    compression_conclusions,
    cost_table,
    labelled,
    memory_table,
)
from .trials import BASELINE, SETTINGS, Plan, experiment, memory_experiment, plan, setting_of

__all__ = ["BASELINE", "COST_METRICS", "SETTINGS", "Plan", "bodies", "check_model",
           "compression_conclusions", "cost_table", "experiment", "extension_header",
           "gzip_delta", "labelled", "memory_experiment", "memory_table", "plan", "ratio_figure",
           "setting_of", "ws_delta", "ws_frame"]
