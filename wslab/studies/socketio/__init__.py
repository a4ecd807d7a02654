"""Socket.IO beside raw WebSocket and long polling (issue 11 §3): notebook 12.

Theory of operation. Socket.IO (python-socketio on aiohttp,
`wslab.transports.socketio`) carries each event as ``42["e",<body>]``: an
Engine.IO MESSAGE (``4``) holding a Socket.IO EVENT (``2``) whose JSON array
holds the event name and the kit's body (`wslab.models.socketio`). Over its
WebSocket transport that is a fixed 8 B beyond the raw WebSocket's frame;
over polling each batch also costs a held ``GET`` and its response head;
the default path starts polling and upgrades (``2probe``/``3probe``/``5``).

Sections (`planning.Plan` sizes them; quick mode is indicative only):

1. `measure_compare`: the same seeded stream on Socket.IO's three modes,
   raw websocket and long-poll, repeats with distinct seeds; bytes per event,
   latency p50/p99, server CPU per delivery (`compare_table`, intervals over
   repeats), bytes beside the framing models (`framing_checks`).
   `measure_rooms`: one room or ten, every event to all (`rooms_table`).
2. `measure_memory`: server RSS growth over N; memory per connection is the
   slope (`memory_table`, as notebook 05 computes it). `summary_table` joins
   1 and 2 into the one table, `plot_summary` draws it.
3. `measure_upgrade` (set-up time and bytes per mode, `upgrade_table`) and
   `measure_heartbeat` (one PING/PONG's bytes from a scaled-down interval,
   what it costs at the 25 s default, `heartbeat_checks`).
4. `measure_faults`: connection resets, a server restart and an
   Upgrade-stripping proxy on Socket.IO (its own reconnection, no resume),
   Socket.IO with the kit's resume, and raw websocket (`fault_table`).
"""

from .figures import plot_memory, plot_summary
from .planning import FAULT_CASES, MODES, VARIANTS, WS_PAIR, Plan, Variant, plan, run_out, run_row
from .runs import (
    ROOMS,
    measure_compare,
    measure_faults,
    measure_heartbeat,
    measure_memory,
    measure_rooms,
    measure_upgrade,
)
from .tables import (
    COMPARE_METRICS,
    compare_table,
    conclusions,
    fault_table,
    framing_checks,
    heartbeat_checks,
    heartbeat_exchanges,
    loss_check,
    memory_table,
    rooms_table,
    summary_table,
    upgrade_table,
)

__all__ = [
    "COMPARE_METRICS", "FAULT_CASES", "ROOMS", "MODES", "VARIANTS", "WS_PAIR", "Plan", "Variant",
    "compare_table", "conclusions", "fault_table", "framing_checks", "heartbeat_checks",
    "heartbeat_exchanges", "loss_check", "measure_compare", "measure_faults",
    "measure_heartbeat", "measure_memory", "measure_rooms", "measure_upgrade", "memory_table",
    "plan", "rooms_table",
    "plot_memory", "plot_summary", "run_out", "run_row", "summary_table", "upgrade_table",
]
