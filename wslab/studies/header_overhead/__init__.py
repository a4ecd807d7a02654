"""Header and framing overhead from a run's byte counts, and the Kaazing table.

Theory of operation. The kit's byte counts are the kernel's (``TCP_INFO``,
per connection, read before the close handshake): TCP payload each way, plus
the number of TCP segments each way (SYN and pure ACKs included). Nothing
here estimates a size from a payload; it only subtracts what is known
exactly:

* **the event body.** Every transport carries the same body,
  ``{"seq":N,"t":NS,"p":"<payload>"}`` (`wslab.core.events.encode`), whose size
  follows from the digits of ``seq`` and ``published_ns`` of each delivery
  (`event_body_bytes`, with `wslab.analysis.BODY_FIXED_BYTES`). A polling
  response wraps its events in a JSON array: ``[`` + bodies joined by ``,`` +
  ``]``.
* **HTTP anatomy** (`http_anatomy`): a poll's client sends only its request
  line and headers (GET, no body), so ``bytes_up / requests`` *is* the
  request header size; ``bytes_down / requests`` minus the array body is the
  status line and response headers.
* **WebSocket anatomy** (`ws_anatomy`): per connection, the client sends only
  its opening handshake (no frames before the counters are read), and the
  server sends its ``101`` handshake and one text frame per event:
  ``bytes_down - bodies = H + h * frames``. Two runs with different event
  counts give two points per connection count; a least-squares line over all
  connections gives the frame header ``h`` (RFC 6455 §5.2 says 2 bytes
  server to client for payloads up to 125 bytes) and the handshake ``H``.
* **Marginal cost** (`marginal_cost`): what one more message costs one client,
  from two runs of the same transport that differ only in duration: the
  difference of per-client bytes (and segments) divided by the difference of
  per-client deliveries. Connection setup cancels out, ACK segments stay in.
  This is the steady state that the Kaazing example describes.
* **TCP/IP bytes**: each segment carries 52 bytes of IPv4 + TCP headers with
  timestamps on Linux loopback (`wslab.models.TCPIP_HEADER_BYTES_IPV4_TS`).

`kaazing_three_way` puts the paper's figures, the model with measured header
sizes and the measurement (scaled linearly from the measured client count)
side by side.

Repeats and intervals. Byte counts are exact, but what one message costs
varies a little from run to run (a poll that caught two events or none,
delayed ACKs folding segments, CPU time). Notebook 04 runs every
configuration as a short and a long run, ``repeats`` times with distinct
seeds (`experiment`); each repeat gives one value of every figure, and
`with_intervals` reports the mean over the repeats with a Student t
interval (n = repeats). `model_checks` sets the measurements beside the
model inputs (RFC 6455's frame header, the header profile's bytes, the
paper's 871 B) with computed verdicts (`wslab.stats.check_table`).

Modules, by job: `anatomy` (byte anatomy of a run or a pair of runs),
`kaazing` (the paper's example), `planning` (configurations, trials, the
experiment and its run pairs), `repeats` (per-repeat tables and intervals
over the repeats), `checks` (model checks, ratios, findings) and `figures`.
This package re-exports every public name, so ``header_overhead.http_anatomy``
and the others are used from here.
"""

from __future__ import annotations

from .anatomy import (
    anatomy_table,
    connection_bytes,
    event_body_bytes,
    http_anatomy,
    marginal_cost,
    ws_anatomy,
)
from .checks import findings, model_checks, overhead_ratios, profile_bytes, profile_extra_bytes
from .figures import plot_anatomy, plot_kaazing
from .kaazing import KAAZING_COLUMNS, kaazing_model, kaazing_three_way
from .planning import CONFIGS, config_label, experiment, run_pairs, trials
from .repeats import anatomy_repeats, marginal_repeats, run_metrics_repeats, with_intervals

__all__ = [
    "CONFIGS",
    "KAAZING_COLUMNS",
    "anatomy_repeats",
    "anatomy_table",
    "config_label",
    "connection_bytes",
    "event_body_bytes",
    "experiment",
    "findings",
    "http_anatomy",
    "kaazing_model",
    "kaazing_three_way",
    "marginal_cost",
    "marginal_repeats",
    "model_checks",
    "overhead_ratios",
    "plot_anatomy",
    "plot_kaazing",
    "profile_bytes",
    "profile_extra_bytes",
    "run_metrics_repeats",
    "run_pairs",
    "trials",
    "with_intervals",
    "ws_anatomy",
]
