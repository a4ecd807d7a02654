"""Planning the interval sweep: publishing time per (rate, interval) from the
precision wanted (`plan`), the experiment's grid (`plan_grid`) and its
expected wall time."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import NormalDist
from typing import Any

import pandas as pd

from ... import stats
from ...core.errors import ConfigError

__all__ = [
    "COMPARED", "RUN_OVERHEAD_S", "expected_wall_s", "per_run_half_width", "plan", "plan_grid",
]

#: The transports measured beside short polling, drawn as points next to its
#: curves: the push transports and long polling (pull, but with no interval).
COMPARED = ("tcp", "websocket", "sse", "long-poll")

#: Seconds a run takes beyond its publishing time (fleet process start,
#: connections, drain, tables written): 1.8 s measured with 8 clients on a
#: 2-core machine shared with other work (30 runs in 129 s, 15 runs behind the
#: impairment proxy in 52 s), rounded up.
RUN_OVERHEAD_S = 2.0


def per_run_half_width(rel_half_width: float, repeats: int, level: float = 0.95) -> float:
    """The relative half-width one run must reach (at ``level``, normal
    quantile) for the t interval over ``repeats`` such runs to reach
    ``rel_half_width``: ``h · z · sqrt(R) / t(R-1)``.

    A run's mean has standard error ``h_run / z``; the mean of ``R`` runs has
    ``h_run / (z sqrt(R))``, and its t interval multiplies that by
    ``t(R-1)``. Fewer repeats make ``t`` larger, hence longer runs.

    >>> round(per_run_half_width(0.05, 5), 4)
    0.0789
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 2:
        raise ConfigError(f"repeats must be an integer >= 2 for an interval over runs, "
                          f"not {repeats!r}")
    if not 0 < level < 1:
        raise ConfigError(f"level must be between 0 and 1, not {level!r}")
    p = (1 + level) / 2
    return rel_half_width * NormalDist().inv_cdf(p) * math.sqrt(repeats) / stats.t_quantile(
        p, repeats - 1)


def plan(rates: Sequence[float], intervals: Sequence[float], *, clients: int, repeats: int,
         rel_half_width: float = 0.05, transit: float = 0.0005, warmup: float = 0.5,
         min_window: float = 1.0, level: float = 0.95) -> pd.DataFrame:
    """Publishing time of each (rate, interval) for a mean latency within
    ±``rel_half_width`` of ``T/2 + transit`` (95 % t interval over ``repeats``).

    The measured window is `wslab.stats.short_poll_duration` at the per-run
    precision `per_run_half_width` (``clients`` with independent random poll
    phases, as wslab's clients draw them), at least ``min_window`` seconds,
    rounded up to a whole number of intervals; ``duration`` adds ``warmup``.
    Columns: ``rate``, ``interval``, ``needed_s`` (the window the precision
    asks for), ``periods``, ``window_s``, ``events`` (expected in the window),
    ``duration``.
    """
    if not rates or not intervals:
        raise ConfigError("give at least one rate and one interval")
    if not (isinstance(warmup, int | float) and warmup >= 0):
        raise ConfigError(f"warmup must be seconds >= 0, not {warmup!r}")
    h = per_run_half_width(rel_half_width, repeats, level)
    rows = []
    for lam in rates:
        for T in intervals:
            need = stats.short_poll_duration(lam, T, h, clients, level, transit=transit,
                                             phases="random", warmup=0.0)
            periods = math.ceil(max(need, min_window, T) / T - 1e-9)
            window = periods * T
            rows.append({"rate": float(lam), "interval": float(T), "needed_s": need,
                         "periods": periods, "window_s": round(window, 6),
                         "events": lam * window, "duration": round(warmup + window, 6)})
    return pd.DataFrame(rows)


def plan_grid(planned: pd.DataFrame, compared: Sequence[str] = COMPARED,
              compared_duration: float = 2.0, **shared: Any) -> list[dict[str, list[Any]]]:
    """A conditional `wslab.Experiment` grid: short-poll at every row of
    ``planned`` (`plan`) with its duration, and each ``compared`` transport at
    every rate for ``compared_duration`` seconds. ``shared`` parameters (e.g.
    ``delay=0.025``) go into every part of the grid.

    >>> p = pd.DataFrame({"rate": [10.0], "interval": [0.1], "duration": [2.5]})
    >>> plan_grid(p, compared=["tcp"])[0]
    {'transport': ['short-poll'], 'rate': [10.0], 'interval': [0.1], 'duration': [2.5]}
    """
    if planned.empty:
        raise ConfigError("the plan has no rows: give at least one rate and one interval")
    extra = {k: [v] for k, v in shared.items()}
    grid: list[dict[str, list[Any]]] = [
        {"transport": ["short-poll"], "rate": [float(r.rate)], "interval": [float(r.interval)],
         "duration": [float(r.duration)], **extra} for r in planned.itertuples()]
    if compared:
        grid.append({"transport": list(compared),
                     "rate": sorted({float(x) for x in planned["rate"]}),
                     "duration": [float(compared_duration)], **extra})
    return grid


def expected_wall_s(trials: Iterable[Any], overhead_s: float = RUN_OVERHEAD_S) -> float:
    """Expected wall time (s) of running ``trials`` (`wslab.Experiment.trials`):
    each trial's publishing time plus ``overhead_s``."""
    return sum(float(t.config.duration) + overhead_s for t in trials)
