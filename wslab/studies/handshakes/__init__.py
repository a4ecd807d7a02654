"""Handshakes step by step, subprotocols, TLS session resumption (claims C4/C5): notebook 09.

Theory of operation. `runs.measure` starts the kit's server child (clear, TLS
1.2 or TLS 1.3, as `wslab.Lab` does) with one event in its history, puts the
impairment proxy child in front of every transport at each one-way delay,
and runs `probe.probe_once`, a blocking step-timed client, several times per
point: it stamps ``connect()``, the TLS handshake, the answer's head (``101``
or HTTP head), the first event and, for polling, a second poll on the
kept-alive connection, with the kernel's byte counters after each step.
`checks` gives the tables with 95 % intervals, n and the round-trip model
(`wslab.models.handshake`) with computed verdicts; `figures` draws them.
`subprotocols` runs the kit's websocket server with and without a
``subprotocols`` list against each offer; `resumption` measures full vs
resumed TLS handshakes with the blocking `ssl` module (``session=``,
``session_reused``).
"""

from .checks import (
    TOLERANCE,
    conclusions,
    resumption_table,
    setup_line,
    step_table,
    ttfe_checks,
    ttfe_table,
)
from .figures import ttfe_figure
from .probe import STEPS, probe_once, request_bytes
from .resumption import handshake_once, measure_resumption
from .runs import DELAYS_MS, TLS_MODES, measure, proxied, served, wall_s
from .subprotocols import CASES, subprotocol_table

__all__ = [
    "CASES", "DELAYS_MS", "STEPS", "TLS_MODES", "TOLERANCE", "conclusions", "handshake_once", "measure",
    "measure_resumption", "probe_once", "proxied", "request_bytes", "resumption_table", "served",
    "setup_line", "step_table", "subprotocol_table", "ttfe_checks", "ttfe_figure", "ttfe_table",
    "wall_s",
]
