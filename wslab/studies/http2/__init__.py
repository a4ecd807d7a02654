"""HTTP/2 polling and streaming (notebook 09, section 3): HPACK and multiplexing.

Theory of operation. Short polling pays full headers on every poll over
HTTP/1.1 (RFC 6202 §2.2; the Kaazing example's 871 B). HTTP/2 (RFC 9113)
sends them as an HPACK block (RFC 7541) in a HEADERS frame: the first
request of a connection carries literals, later ones mostly one-byte
indices into the connection's dynamic table, plus whatever changed (the
``:path`` whose ``since`` moves) and the 9-byte frame header
(`wslab.models.hpack`). The hypothesis: a repeated HTTP/2 poll costs a
small fraction of an HTTP/1.1 one, whatever the header profile, so the
Kaazing table shrinks by that factor.

Methods. (1) `wire.probe`: one connection, polls one after the other, every
frame counted from the bytes the client's socket wrote and read (their sum
equals the kernel's count in clear), beside the HPACK model fed with the
exact fields httpx sends. (2) `planning.poll_experiment`: ``short-poll`` and
``h2-short-poll`` with both header profiles, a short and a long run per
configuration and repeat; the per-poll bytes are the difference of the
kernel's counts over the difference of requests (notebook 04's
``http_anatomy``, which the notebook passes in), so the connection's setup
and first request cancel out; intervals are t intervals over repeats.
(3) `tables.kaazing_h2`: the Kaazing table with those bytes.
(4) `planning.multiplex_experiment`: N long-poll subscriptions, k per
connection, for connections, bytes, memory and latency.

Modules: `planning` (sweeps), `wire` (the probe and the HPACK check),
`tables` (per-poll table, side by side, Kaazing, multiplexing), `figures`.
"""

from __future__ import annotations

from .figures import plot_header_bytes
from .planning import (
    CONFIGS,
    RUN_OVERHEAD_S,
    Plan,
    config_label,
    multiplex_experiment,
    plan,
    poll_experiment,
    run_pairs,
)
from .tables import (
    PER_POLL,
    kaazing_h2,
    multiplex_table,
    per_poll_repeats,
    side_by_side,
    with_intervals,
)
from .wire import PROBE_TIMEOUT_S, probe, probe_checks, probe_table, probes, request_fields

__all__ = [
    "CONFIGS",
    "PER_POLL",
    "PROBE_TIMEOUT_S",
    "Plan",
    "RUN_OVERHEAD_S",
    "config_label",
    "kaazing_h2",
    "multiplex_experiment",
    "multiplex_table",
    "per_poll_repeats",
    "plan",
    "plot_header_bytes",
    "poll_experiment",
    "probe",
    "probe_checks",
    "probe_table",
    "probes",
    "request_fields",
    "run_pairs",
    "side_by_side",
    "with_intervals",
]
