"""Short-polling interval sweep (claim C2): plan, summaries with intervals, model checks, figures.

Theory of operation. A short-poll client asks "anything after seq N?" every
``T`` seconds on a fixed grid, so the server sees one request every ``T``. An
event published at a random moment (Poisson schedule) waits for the next
request to *arrive* at the server -- uniform on ``[0, T)``, mean ``T/2`` -- and
then travels back once, in the response. Its mean latency is therefore
``T/2 + one transit (+ server time)``, not ``T/2 + a full round trip``: the
request's outbound transit overlaps the wait. We estimate that transit from the
same sweep with `wslab.analysis.transit_us`: the median one-way latency of the
websocket runs at the same event rate (and delay), which also carries the
server's write path. The model is `wslab.models.short_poll_latency_mean` with
``transit`` set to that estimate.

Precision decides the run lengths (`plan`). Each point is measured ``repeats``
times with distinct seeds (`wslab.Experiment`), and its interval is the
Student t interval over those runs (`wslab.stats.mean_ci`): runs are the
independent unit, not deliveries. A run's mean rests on its events, whose
waits are independent uniforms (`wslab.stats.short_poll_duration`), so the
publishing time is chosen for a per-run precision that makes the t interval
over ``repeats`` runs about ``±rel_half_width`` of the model value
(`per_run_half_width`). The measured window is a whole number of intervals,
so that event times cover every poll phase equally.

Overhead per *delivered* event (one event reaching one client) is what the
kernel counted on each connection (TCP payload, up + down, handshakes
included), divided by the deliveries; empty polls are paid for but deliver
nothing, and their share is ``exp(-λT)`` for Poisson arrivals
(`wslab.models.empty_poll_fraction`); a client makes ``1/(λT)`` requests per
delivered event (`wslab.models.short_poll_requests_per_event`).

Everything here works on `wslab.Experiment` tables (one row per run), so the
notebook stays thin and the tests can feed synthetic frames.

Modules, by job: `planning` (run lengths from the precision target, the
grid, the expected wall time), `tables` (per run and per point, with the
models), `checks` (verdicts, edges, conclusions) and `figures`. This package
re-exports every public name, so ``short_polling.plan`` and the others are
used from here.
"""

from __future__ import annotations

from .checks import check, conclusions, count_inside, delay_check, edge_table
from .figures import (
    plot_ccdf,
    plot_delay,
    plot_empty_fraction,
    plot_frontier,
    plot_latency_vs_interval,
    plot_overhead,
)
from .planning import COMPARED, RUN_OVERHEAD_S, expected_wall_s, per_run_half_width, plan, plan_grid
from .tables import (
    KEYS,
    METRICS,
    interval_sweep_caption,
    model_table,
    run_table,
    summarise,
    tail_latencies,
    with_model,
)

__all__ = [
    "COMPARED",
    "KEYS",
    "METRICS",
    "RUN_OVERHEAD_S",
    "check",
    "conclusions",
    "count_inside",
    "delay_check",
    "edge_table",
    "expected_wall_s",
    "interval_sweep_caption",
    "model_table",
    "per_run_half_width",
    "plan",
    "plan_grid",
    "plot_ccdf",
    "plot_delay",
    "plot_empty_fraction",
    "plot_frontier",
    "plot_latency_vs_interval",
    "plot_overhead",
    "run_table",
    "summarise",
    "tail_latencies",
    "with_model",
]
