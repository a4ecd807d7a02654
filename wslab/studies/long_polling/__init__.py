"""Long polling under network delay (claim C3): plan, model checks, tables and figures for notebook 03.

Theory of operation. RFC 6202 §2.1: a long-poll request is held at the server
until an event exists (or a timeout passes); the client re-issues a request at
once. RFC 6202 §2.2: an event that finds a request held reaches the client
after one network transit; an event that arrives while the previous response
is on its way back waits for the next request, so the worst case is three
transits (response, next request, response), and the events that pile up in
that gap travel together in one response (batching). `wslab.models` turns
this into a renewal model (`long_poll_mean_latency`, `long_poll_batch_size`,
`long_poll_latency_cv`, `long_poll_latency_bounds`) whose only parameter is
the one-way transit ``d``; the gap with no request held is ``2d``.

What is measured, and against what:

* the transit ``d`` at each (delay, rate) is `wslab.analysis.transit_us`: the
  median, over the push runs (websocket and sse) of that delay and rate, of
  each run's median latency -- a push transport never waits for a request;
* per long-poll run: mean and maximal latency after the warm-up, events per
  *completed* non-empty response (`events_per_response`: a request still held
  when the run stops is a request, not a response), and, from the deliveries
  (`response_stats`), the **response cycle** (time between two responses when
  the next request was answered at once, which is the gap ``2d`` of the
  model) and the **held-request transit** (latency of an event that found a
  request already held, the model's ``d``). The last two test the model's
  premises, so a miss can be explained by a measurement;
* every number shown against a model is the mean over ``repeats`` runs with
  distinct seeds and its Student t interval over those runs
  (`wslab.stats.mean_ci`): runs are the independent unit, never deliveries.
  Within a repeat long-poll, websocket and sse get the same seed, hence the
  same Poisson stream (`wslab.Experiment`).

Precision decides durations (`sweep_plan`): the model's per-event CV
(`wslab.models.long_poll_latency_cv` at the planned transit) goes into
`wslab.stats.long_poll_duration` with the per-run half-width that makes the
t interval over ``repeats`` runs about ``±rel_half_width`` of the mean
(`per_run_half_width`). The model's CV is that of an ideal network, so a
stack's own jitter widens the achieved interval: every check table prints the
achieved half-width and whether it met the target.

Units: delays and transits in seconds in inputs, milliseconds in the printed
tables; latency columns of the experiment table are in microseconds.

Modules, by job: `planning` (durations from the precision target, trials,
seeds, the sweep's caption), `runs` (per-run quantities from the summaries
and the deliveries), `checks` (model checks with verdicts, the bounds table,
findings), `costs` (bytes, the timeout, held-request memory) and `figures`.
This package re-exports every public name, so ``long_polling.sweep_plan``
and the others are used from here.
"""

from __future__ import annotations

from ._common import LP
from .checks import (
    STEADY,
    WHOLE_RUN,
    batching_checks,
    bound_verdict,
    bounds_table,
    check_text,
    findings,
    leg_checks,
    max_latency_checks,
    mean_latency_checks,
)
from .costs import (
    REFERENCE_HELD_KIB,
    REFERENCE_HELD_REQUESTS,
    bytes_table,
    held_request_memory,
    idle_runs,
    memory_lines,
    timeout_lines,
    timeout_table,
)
from .figures import plot_batching, plot_bytes, plot_latency_vs_rate
from .planning import (
    RUN_OVERHEAD_S,
    SERVER_START_S,
    STACK_TRANSIT_S,
    delay_sweep_caption,
    fixed_span,
    per_run_half_width,
    plan_lines,
    plan_trials,
    seed_check,
    sweep_plan,
    sweep_trials,
)
from .runs import MIN_CYCLES, events_per_response, long_poll_runs, response_stats, run_diagnostics

__all__ = [
    "LP",
    "MIN_CYCLES",
    "REFERENCE_HELD_KIB",
    "REFERENCE_HELD_REQUESTS",
    "RUN_OVERHEAD_S",
    "SERVER_START_S",
    "STACK_TRANSIT_S",
    "STEADY",
    "WHOLE_RUN",
    "batching_checks",
    "bound_verdict",
    "bounds_table",
    "bytes_table",
    "check_text",
    "delay_sweep_caption",
    "events_per_response",
    "findings",
    "fixed_span",
    "held_request_memory",
    "idle_runs",
    "leg_checks",
    "long_poll_runs",
    "max_latency_checks",
    "mean_latency_checks",
    "memory_lines",
    "per_run_half_width",
    "plan_lines",
    "plan_trials",
    "plot_batching",
    "plot_bytes",
    "plot_latency_vs_rate",
    "response_stats",
    "run_diagnostics",
    "seed_check",
    "sweep_plan",
    "sweep_trials",
    "timeout_lines",
    "timeout_table",
]
