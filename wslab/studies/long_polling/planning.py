"""Planning notebook 03: durations from the precision target, trials, seeds
and the sweep's caption.

The model's per-event CV (`wslab.models.long_poll_latency_cv` at the planned
transit) goes into `wslab.stats.long_poll_duration` with the per-run
half-width that makes the t interval over ``repeats`` runs about
``±rel_half_width`` of the mean (`per_run_half_width`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import NormalDist
from typing import Any

import pandas as pd

from ... import stats
from ...analysis import machine_caption
from ...core.errors import ConfigError
from ...models import long_poll_latency_cv
from ...runner.store import Run
from ._common import LP

__all__ = [
    "RUN_OVERHEAD_S", "SERVER_START_S", "STACK_TRANSIT_S", "delay_sweep_caption", "fixed_span",
    "per_run_half_width", "plan_lines", "plan_trials", "seed_check", "sweep_plan", "sweep_trials",
]

#: Planning assumption (not a measurement): what the stacks and the proxy add
#: to the added delay on one transit, in seconds, before any run exists.
STACK_TRANSIT_S = 0.001
#: Planning assumption: wall seconds per run beyond its publishing (fleet start,
#: connections, drain, stop, writing the run). The notebook prints the wall
#: time it actually took beside the plan.
RUN_OVERHEAD_S = 1.2
#: Planning assumption: wall seconds to start (and stop) a fresh server process.
SERVER_START_S = 2.0


def per_run_half_width(rel_half_width: float, repeats: int, level: float = 0.95) -> float:
    """The relative half-width one run must reach (normal quantile) for the t
    interval over ``repeats`` such runs to reach ``rel_half_width``:
    ``h · z · sqrt(R) / t(R-1)`` (runs that differ only by their events).

    >>> round(per_run_half_width(0.05, 5), 4)
    0.0789
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 2:
        raise ConfigError(f"repeats must be an integer >= 2 for an interval, not {repeats!r}")
    if not (isinstance(rel_half_width, int | float) and rel_half_width > 0):
        raise ConfigError(f"rel_half_width must be a positive fraction, not {rel_half_width!r}")
    z = NormalDist().inv_cdf((1 + level) / 2)
    return rel_half_width * z * math.sqrt(repeats) / stats.t_quantile((1 + level) / 2,
                                                                      repeats - 1)


def sweep_plan(delays: Iterable[float], rates: Iterable[float], *, repeats: int,
               transports: Sequence[str], rel_half_width: float = 0.05,
               floor_s: float = 1.5, cap_s: float = 60.0) -> pd.DataFrame:
    """Publishing duration per (delay, rate) from the precision wanted, and its cost.

    For each point: the planned transit (added delay + `STACK_TRANSIT_S`), the
    model's expected events per gap ``x = 2λd`` and per-event latency CV
    (`wslab.models.long_poll_latency_cv`, the pilot CV here), the duration
    `wslab.stats.long_poll_duration` gives for `per_run_half_width`, and that
    duration clipped to ``[floor_s, cap_s]`` (``capped`` says the target needed
    more than ``cap_s``). ``runs`` counts every transport × repeat, and
    ``wall_s`` their expected wall time with `RUN_OVERHEAD_S` per run.
    """
    if not 0 < floor_s <= cap_s:
        raise ConfigError(f"need 0 < floor_s <= cap_s, not {floor_s!r}, {cap_s!r}")
    names = list(transports)
    if LP not in names:
        raise ConfigError(f"transports must include {LP!r}, not {names}")
    h_run = per_run_half_width(rel_half_width, repeats)
    rows = []
    for d in delays:
        for r in rates:
            transit = float(d) + STACK_TRANSIT_S
            cv = float(long_poll_latency_cv(r, transit))
            needed = stats.long_poll_duration(float(r), cv, h_run)
            duration = min(max(needed, floor_s), cap_s)
            rows.append({"delay_ms": float(d) * 1e3, "rate": float(r),
                         "planned_transit_ms": transit * 1e3, "x": 2 * r * transit,
                         "model_cv": cv, "needed_s": needed, "duration_s": duration,
                         "capped": needed > cap_s, "runs": len(names) * repeats,
                         "wall_s": len(names) * repeats * (duration + RUN_OVERHEAD_S)})
    return pd.DataFrame(rows)


def plan_trials(plan: pd.DataFrame, transports: Sequence[str]) -> list[dict[str, Any]]:
    """Explicit trials (``Experiment(trials=...)``) for `sweep_plan`'s rows: every
    transport at each (delay, rate) with that row's duration, so the
    transports of one repeat share one seed and one Poisson stream."""
    return [{"transport": t, "delay": row.delay_ms / 1e3, "rate": float(row.rate),
             "duration": float(row.duration_s)}
            for row in plan.itertuples() for t in transports]


def plan_lines(plan: pd.DataFrame, rel_half_width: float, repeats: int,
               **others: tuple[int, float, float]) -> list[str]:
    """The plan in words: trials, publishing time and expected wall time.

    ``others`` name further experiments as ``(runs, seconds of publishing per
    run, extra wall seconds per run)``, e.g. ``idle=(6, 4.0, SERVER_START_S)``.
    """
    lines = [f"sweep: {int(plan.runs.sum())} runs ({len(plan)} delay × rate points × "
             f"{plan.runs.iloc[0] // repeats} transports × {repeats} repeats), "
             f"{(plan.runs * plan.duration_s).sum():.0f} s of publishing, "
             f"expected wall ≈ {plan.wall_s.sum():.0f} s; target: 95 % CI within "
             f"±{rel_half_width * 100:g} % of each long-poll mean (per-run "
             f"±{per_run_half_width(rel_half_width, repeats) * 100:.1f} %)"]
    capped = plan[plan.capped]
    if len(capped):
        pts = ", ".join(f"{r.delay_ms:g} ms/{r.rate:g}/s" for r in capped.itertuples())
        lines.append(f"capped below the target's duration: {pts}")
    total = plan.wall_s.sum()
    for name, (runs, seconds, extra) in others.items():
        wall = runs * (seconds + RUN_OVERHEAD_S + extra)
        total += wall
        lines.append(f"{name}: {runs} runs × {seconds:g} s, expected wall ≈ {wall:.0f} s")
    lines.append(f"expected wall time of the measurements: ≈ {total:.0f} s "
                 f"({total / 60:.1f} min; planning assumption {RUN_OVERHEAD_S:g} s per run "
                 f"beyond publishing)")
    return lines


def fixed_span(rate: float, duration: float) -> float:
    """Seconds from the first to the last event of a ``fixed`` schedule
    (`wslab.core.events.schedule_offsets`: ``int(rate · duration)`` events
    ``1/rate`` apart, the first at 0). A run stops once its last event is
    delivered, so this, not ``duration``, is how long its clients wait."""
    return max(int(rate * duration) - 1, 0) / rate


def sweep_trials(transports: Sequence[str], delays: Iterable[float], rates: Iterable[float],
                 duration: Any) -> list[dict[str, Any]]:
    """Explicit trials (for ``Experiment(trials=...)``): every transport × delay × rate.

    ``duration`` is seconds, or a callable ``rate -> seconds``.
    """
    rates = list(rates)
    delays = list(delays)
    out = []
    for t in transports:
        for d in delays:
            for r in rates:
                dur = duration(r) if callable(duration) else duration
                out.append({"transport": t, "delay": float(d), "rate": float(r),
                            "duration": float(dur)})
    return out


def seed_check(table: pd.DataFrame) -> str:
    """One line: do the transports of each (delay, rate, repeat) share one seed,
    and do repeats differ? Computed from the table's ``seed`` column."""
    keys = ["delay", "rate", "repeat"]
    shared = bool((table.groupby(keys)["seed"].nunique() == 1).all())
    per_point = table.groupby(["delay", "rate"])
    distinct = bool((per_point["seed"].nunique() == per_point["repeat"].nunique()).all())
    return (f"seeds: one per (delay, rate, repeat) shared by "
            f"{table['transport'].nunique()} transports: {shared}; "
            f"distinct across the {table['repeat'].nunique()} repeats: {distinct}")


def delay_sweep_caption(runs: Sequence[Run], table: pd.DataFrame) -> str:
    """The setup line of the delay × rate sweep: machine and versions from the
    manifests (`wslab.analysis.machine_caption`), then the swept parameters."""
    head = machine_caption(list(runs))

    def values(col: str, scale: float = 1.0) -> str:
        return ", ".join(f"{v * scale:g}" for v in sorted(table[col].dropna().unique()))

    lo, hi = table["duration"].min(), table["duration"].max()
    dur = f"{lo:g} s" if lo == hi else f"{lo:g}–{hi:g} s"
    return (f"{head} | transports {', '.join(dict.fromkeys(table['transport']))}; "
            f"{values('clients')} clients; {table['schedule'].iloc[0]} schedule; "
            f"added one-way delay {values('delay', 1e3)} ms each direction "
            f"(wslab.net.proxy); rates {values('rate')} events/s; "
            f"{dur} of publishing per run (from the precision "
            f"target); {values('payload')} B payload; first {values('warmup_s')} s of each run "
            f"excluded as warm-up; {table['repeat'].nunique()} repeats, one seed per repeat "
            f"shared by every transport (the same Poisson stream)")
