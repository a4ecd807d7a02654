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

The notebook's second part, transport fallback behind middleboxes (claims C7,
C11), is `fallback`: the `fallback` transport's two negotiation orders through
each proxy profile, what every client ends on, what the failed attempts cost,
against the negotiation rule and the refused handshake's bytes.
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
from .fallback import (
    BREAKS,
    ORDERS,
    FallbackPlan,
    bytes_models,
    check_models,
    client_table,
    clients_of,
    clopper_pearson,
    compact,
    failed_bytes_model,
    fallback_caption,
    fallback_conclusions,
    fallback_figure,
    fallback_model_table,
    fallback_plan,
    predicted_transport,
    profiles,
    refusal_bytes,
    request_bytes,
    summary_table,
)
from .figures import frontier_figure, presence_caption
from .runs import WARMUP_PERIODS, Config, Measurement, measure
from .server import MECHANISMS, POLL_S

__all__ = ["MECHANISMS", "POLL_S", "PRODUCTION_STACKS", "SLACK_S", "WARMUP_PERIODS", "Config", "Measurement", "Plan",
           "bounds_verdict", "check_bytes", "check_detection", "conclusions", "cost_table",
           "frontier", "model_table",
           "frontier_figure", "measure", "plan", "presence_caption", "production_points",
           "run_plan",
           # fallback (claims C7, C11)
           "BREAKS", "ORDERS", "FallbackPlan", "bytes_models", "check_models", "compact", "client_table", "clients_of",
           "clopper_pearson", "failed_bytes_model", "fallback_caption", "fallback_conclusions",
           "fallback_figure", "fallback_model_table", "fallback_plan", "predicted_transport",
           "profiles", "refusal_bytes", "request_bytes", "summary_table"]
