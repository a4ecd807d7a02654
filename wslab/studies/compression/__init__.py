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
client CPU per delivery, median latency and server memory per connection,
means with t intervals over repeats. `check_model` sets the measured bytes
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
)
from .trials import BASELINE, SETTINGS, Plan, experiment, plan, setting_of

__all__ = ["BASELINE", "COST_METRICS", "SETTINGS", "Plan", "bodies", "check_model",
           "compression_conclusions", "cost_table", "experiment", "extension_header",
           "gzip_delta", "labelled", "plan", "ratio_figure", "setting_of", "ws_delta",
           "ws_frame"]
