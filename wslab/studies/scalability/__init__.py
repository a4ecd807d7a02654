"""Scalability (claim C6): what each held connection costs the server.

Persistent transports keep state per client: a socket, buffers, a task or a
held request. The scale sweep measures, per *variant* (a transport with its
options: websocket with and without permessage-deflate, websocket with one
queue and sender task per client, SSE, long polling), runs at several client
counts N at a low, fixed event rate, each run in a **fresh server** (RSS that
a previous run grew, and that the allocator kept, would hide the next run's
cost), each (variant, N) **repeated** with distinct seeds (`measure`).

What is estimated, and how its interval is computed:

- **memory per connection**: the slope of server RSS growth (RSS at publish
  start minus RSS before the clients connected) over N, an ordinary
  least-squares line through every run with a Student t interval on the slope
  (n = runs, n - 2 degrees of freedom; `fit_slope`). A slope is robust to the
  fixed cost of a server with any clients at all, which a ratio RSS / N would
  spread over the clients. `anchor_checks` sets it beside the published
  references (`ANCHORS`) with a computed verdict.
- **CPU per connection**: the same fit of server CPU per published event over
  N (one more connection costs one more delivery per event).
- per point (variant, N): CPU per delivered event, one-way latency tail and
  the fan-out spread (per event, first to last recipient), each the mean over
  the repeats with a t interval (`point_table`; runs are the independent
  unit, the deliveries of one event are not independent of each other).

A tail is only called a p99 when it rests on at least `TAIL_MIN_VALUES`
values per run (deliveries for latency, events for the spread); otherwise the
figure shows and labels the maximum (`tail_choice`). A run holds N x events
deliveries but only ``events`` fan-outs, so the spread's tail is a maximum
at any affordable run length.

Everything but `measure` works on tables (`Experiment.table` rows), so it is
unit-tested on synthetic frames.

Modules, by job: `variants` (what is compared, the references),
`planning` (trials, fresh-server runs, per-run metrics), `tables` (slopes,
verdicts, per-point intervals, capacity, findings) and `figures`. This
package re-exports every public name, so ``scalability.fit_slope`` and the
others are used from here.
"""

from __future__ import annotations

from .figures import plot_latency_ccdf, plot_metric, plot_rss, plot_spread
from .planning import latencies_at, measure, scale_frame, trials
from .tables import POINT_METRICS as POINT_METRICS  # public, though not in __all__ (as before)
from .tables import (
    TAIL_MIN_VALUES,
    anchor_checks,
    capacity_table,
    cpu_slopes,
    findings,
    fit_slope,
    machine_limits,
    point_table,
    slope_table,
    tail_choice,
)
from .variants import ANCHORS, KIB, VARIANTS, Variant, anchors_table, variant_name

__all__ = [
    "ANCHORS",
    "KIB",
    "TAIL_MIN_VALUES",
    "VARIANTS",
    "Variant",
    "anchor_checks",
    "anchors_table",
    "capacity_table",
    "cpu_slopes",
    "findings",
    "fit_slope",
    "latencies_at",
    "machine_limits",
    "measure",
    "plot_latency_ccdf",
    "plot_metric",
    "plot_rss",
    "plot_spread",
    "point_table",
    "scale_frame",
    "slope_table",
    "tail_choice",
    "trials",
    "variant_name",
]
