"""Presence (claim C9): how long until a server knows a silently vanished client is gone.

Notebook 08. Theory of operation: a client whose network vanishes (no FIN,
no RST; `wslab.net.netns` stages it between two network namespaces) is only
ever noticed through a missing answer. For each mechanism -- WebSocket
ping/pong (the kit's websocket server), an SSE heartbeat comment with
TCP_USER_TIMEOUT (aiohttp-sse), a long-poll presence tracker, TCP keepalive --
`measure` (`runs`) starts real servers in one namespace and real idle
clients in the other, measures the idle cost (kernel byte counters, server
CPU), vanishes the clients and records when each server declares each
client gone; `checks` sets the detection times and bytes beside
`wslab.models.presence` with computed verdicts; `figures` draws the
frontier. The children are `server` and `client` (run with ``python -m``).
"""

from .checks import (
    PRODUCTION_STACKS,
    SLACK_S,
    Plan,
    bounds_verdict,
    check_bytes,
    check_detection,
    conclusions,
    cost_table,
    frontier,
    model_table,
    plan,
    production_points,
    run_plan,
)
from .figures import frontier_figure, presence_caption
from .runs import WARMUP_PERIODS, Config, Measurement, measure
from .server import MECHANISMS, POLL_S

__all__ = ["MECHANISMS", "POLL_S", "PRODUCTION_STACKS", "SLACK_S", "WARMUP_PERIODS", "Config", "Measurement", "Plan",
           "bounds_verdict", "check_bytes", "check_detection", "conclusions", "cost_table",
           "frontier", "model_table",
           "frontier_figure", "measure", "plan", "presence_caption", "production_points",
           "run_plan"]
