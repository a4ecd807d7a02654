"""Statistics every figure uses: estimates with intervals, model verdicts, run lengths.

Every number a figure or a table shows next to a model is an `Estimate`: a
value, an interval at a stated level, the number of *independent units* the
interval rests on and how it was computed, e.g. ``97.8 [95.1, 100.4] (n=12,
bootstrap over runs)``. NumPy only: the Student t quantile and the binomial
tail are computed here (`t_quantile`, `quantile_ci`), the normal one comes from
the standard library.

Which unit is independent
-------------------------
The rows of a run (one per delivery) are **not** independent observations:

* one event is delivered to every client from one publish, one fan-out loop
  and one moment of the machine's load, so its deliveries move together;
* one client's deliveries share its connection, its poll phase (short
  polling: a client that polls just before events tends to wait little for
  all of them) and its process;
* one run shares a machine state (CPU frequency, other load, page cache, the
  seeded schedule).

An interval that treats 100,000 deliveries as 100,000 independent draws is
far too narrow. Resample (or average over) the unit whose variation the
claim is about:

* **runs** (repeats) — the default for figures. A claim such as "short
  polling at T = 1 s adds T/2" is about what a re-measurement would give, and
  a re-measurement varies from run to run (machine noise, seed, phases). Give
  each run one value (its mean or p99) and use `mean_ci` over those values
  (`Experiment.aggregate`), or resample whole runs with `cluster_bootstrap_ci`
  (``cluster="trial"``) for a pooled statistic. With few runs (< 10) prefer
  the t interval: a bootstrap over 3–5 units under-covers.
* **clients** — for questions *within* one setup (how latency spreads across
  clients, fan-out fairness) or a single run with many clients whose state is
  independent. It ignores run-to-run variation, so it is narrower and only
  supports statements about that run.
* **events** — for a per-event model inside one run: with Poisson arrivals the
  waits of different events are independent (short polling: uniform over the
  interval), while the deliveries of one event to several clients are not.
  `short_poll_duration` and `long_poll_duration` count events.

Comparisons between transports are **paired**: within one repeat every
transport gets the same seed, hence the same event schedule (see
`wslab.experiment`), so `ratio_ci` resamples repeats as pairs.

Precision decides durations
---------------------------
`runs_needed`, `short_poll_duration` and `long_poll_duration` turn "the mean
within ±x % at 95 %" into a number of runs or a publishing duration, so
experiments are as long as the claim needs and no longer.

Modules
-------
Every name is importable from ``wslab.stats``; the code lives by job:

* `wslab.stats.estimate` -- `Estimate`, `verdict`, `check_table`.
* `wslab.stats.distributions` -- `t_quantile` (and the binomial tail the
  order-statistic intervals use), without SciPy.
* `wslab.stats.intervals` -- closed-form intervals: `mean_ci` (and `mean_ci_columns`), `quantile_ci`,
  `median_ci`, `slope_ci` (a least-squares slope, e.g. memory per connection).
* `wslab.stats.bootstrap` -- resampling: `bootstrap_ci`, `ratio_ci`,
  `cluster_bootstrap_ci`.
* `wslab.stats.precision` -- `runs_needed`, `short_poll_duration`,
  `long_poll_duration`.
"""

from __future__ import annotations

from .bootstrap import bootstrap_ci, cluster_bootstrap_ci, ratio_ci
from .distributions import t_quantile
from .estimate import Estimate, check_table, verdict
from .intervals import mean_ci, mean_ci_columns, median_ci, quantile_ci, slope_ci
from .precision import long_poll_duration, runs_needed, short_poll_duration

__all__ = [
    "Estimate",
    "bootstrap_ci",
    "check_table",
    "cluster_bootstrap_ci",
    "long_poll_duration",
    "mean_ci",
    "mean_ci_columns",
    "median_ci",
    "quantile_ci",
    "ratio_ci",
    "runs_needed",
    "short_poll_duration",
    "slope_ci",
    "t_quantile",
    "verdict",
]
