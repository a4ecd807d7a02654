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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from .. import stats, transports
from ..analysis import machine_caption, transit_us
from ..core.errors import ConfigError
from ..models import (
    long_poll_batch_size,
    long_poll_events_per_response,
    long_poll_latency_bounds,
    long_poll_latency_cv,
    long_poll_mean_latency,
)
from ..runner.store import Run

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

#: the transport under study
LP = "long-poll"
#: Planning assumption (not a measurement): what the stacks and the proxy add
#: to the added delay on one transit, in seconds, before any run exists.
STACK_TRANSIT_S = 0.001
#: Planning assumption: wall seconds per run beyond its publishing (fleet start,
#: connections, drain, stop, writing the run). The notebook prints the wall
#: time it actually took beside the plan.
RUN_OVERHEAD_S = 1.2
#: Planning assumption: wall seconds to start (and stop) a fresh server process.
SERVER_START_S = 2.0
#: An earlier measurement quoted as a reference, not reproduced by a committed
#: run (docs/references.md, "Earlier measurements used as anchors"): about
#: 6 KiB of server memory per held aiohttp long-poll request at 10,000 requests.
REFERENCE_HELD_KIB = 6.0
REFERENCE_HELD_REQUESTS = 10_000
#: fewest cycles (or held responses) a run needs for its median to count
MIN_CYCLES = 3

_GROUP = ["delay", "rate"]
_RUNS = "t interval over runs"


# -- planning --------------------------------------------------------------------
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


# -- per-run quantities ----------------------------------------------------------
def _responses(table: pd.DataFrame) -> pd.Series:
    """Completed responses per row (``requests`` for runs stored before
    ``responses`` existed, when no request could be told from a response)."""
    return table["responses"] if "responses" in table else table["requests"]


def events_per_response(table: pd.DataFrame) -> pd.Series:
    """Delivered events per completed non-empty response, one value per row.

    ``delivered`` counts (client, event) pairs; ``responses - empty_responses``
    the completed responses that carried at least one event. A request still
    held when the run stopped is not a response (it delivered nothing), so it
    is left out; runs recorded before ``responses`` existed fall back to
    ``requests``. NaN where no response carried an event.
    """
    answered = (_responses(table) - table["empty_responses"]).astype(float)
    return table["delivered"] / answered.where(answered > 0)


def response_stats(messages: pd.DataFrame, start_ns: int = 0,
                   held_after_ms: float | None = None) -> dict[str, float]:
    """Batching, cycle and held-request transit of one long-poll run, from its deliveries.

    All events of one response share the client's receive time, so each
    client's responses are its distinct ``received_ns``: every one of them is
    a *completed* response that carried events (a request held at stop, or
    answered empty, delivered nothing and has no row). For batching only the
    steady state counts: responses whose first event was published at or
    after ``start_ns`` (the end of the warm-up; this drops each client's first
    response, held from its connection), except each client's last response,
    whose gap the end of publishing cut short. For consecutive responses k,
    k+1 of a client:

    * if response k+1 carries an event published *before* response k arrived,
      the next request found it waiting and was answered at once, so the time
      between the two arrivals is one full **cycle** (response out, next
      request in, handling): the model's gap ``2d``;
    * if its first event was published more than one cycle after response k
      arrived (``held_after_ms``; default: this run's cycle), the next request
      was surely held when it appeared, and its latency is one **held-request
      transit**: the model's ``d``.

    Returns ``events_per_response`` (mean events per counted response) and
    ``responses``, the medians ``cycle_ms`` and ``held_transit_ms`` (NaN with
    fewer than `MIN_CYCLES` instances) and their counts ``cycles`` and
    ``held``. Duplicated deliveries are dropped first.
    """
    m = messages.drop_duplicates(["client_id", "seq"])
    per = (m.groupby(["client_id", "received_ns"], sort=True)["published_ns"]
           .agg(["min", "size"]).reset_index())
    # each client's last response carries the gap cut short by the end of
    # publishing: like the warm-up, it is not the steady state
    last = per.groupby("client_id").cumcount(ascending=False) == 0
    counted = (per["min"] >= start_ns) & ~last
    cycles: list[np.ndarray] = []
    gaps: list[tuple[np.ndarray, np.ndarray]] = []
    for _, g in per.groupby("client_id", sort=False):
        arrive = g["received_ns"].to_numpy(dtype=np.int64)
        pub = g["min"].to_numpy(dtype=np.int64)
        keep = pub[1:] >= start_ns
        immediate = (pub[1:] < arrive[:-1]) & keep
        cycles.append((arrive[1:] - arrive[:-1])[immediate])
        gaps.append(((pub[1:] - arrive[:-1])[keep], (arrive[1:] - pub[1:])[keep]))
    cyc = np.concatenate(cycles) / 1e6 if cycles else np.array([])
    cycle_ms = float(np.median(cyc)) if len(cyc) >= MIN_CYCLES else math.nan
    threshold = cycle_ms if held_after_ms is None else held_after_ms
    held = np.array([])
    if gaps and math.isfinite(threshold):
        after = np.concatenate([a for a, _ in gaps]) / 1e6
        latency = np.concatenate([b for _, b in gaps]) / 1e6
        held = latency[after > threshold]
    sizes = per.loc[counted, "size"]
    return {"events_per_response": float(sizes.mean()) if len(sizes) else math.nan,
            "responses": int(len(sizes)), "cycle_ms": cycle_ms, "cycles": int(len(cyc)),
            "held_transit_ms": float(np.median(held)) if len(held) >= MIN_CYCLES else math.nan,
            "held": int(len(held))}


def _start_ns(run: Run) -> int:
    """The end of the run's warm-up on the publish clock (as `Run.latency_us`)."""
    return int(run.manifest["publish"]["start_ns"] + int(run.summary["warmup_s"] * 1e9))


def run_diagnostics(runs: Sequence[Run], table: pd.DataFrame) -> pd.DataFrame:
    """`response_stats` of every long-poll run of the sweep, one row each
    (``trial``, ``delay``, ``rate``, ``repeat``, then its keys, the
    per-response ones prefixed ``steady_`` where they could be confused with
    the summary's: ``steady_events_per_response``, ``steady_responses``).

    ``runs`` are the experiment's runs in the order of ``table``'s rows. The
    held-request threshold is the run's own cycle, or where a run has too few
    immediate cycles (sparse events) the median cycle of the other runs at
    its delay; with none at that delay its held transit is NaN.
    """
    if len(runs) != len(table):
        raise ConfigError(f"runs ({len(runs)}) and table rows ({len(table)}) must match")
    pairs = [(run, row) for run, row in zip(runs, table.itertuples(), strict=True)
             if row.transport == LP]
    if not pairs:
        raise ConfigError(f"no {LP} run in the table")
    rows = []
    for run, row in pairs:
        st = response_stats(run.messages, _start_ns(run))
        rows.append({"trial": row.trial, "delay": row.delay, "rate": row.rate,
                     "repeat": row.repeat, **st})
    diag = pd.DataFrame(rows)
    pooled = diag.groupby("delay")["cycle_ms"].median()
    for i, (run, _) in enumerate(pairs):
        ref = float(pooled[diag.at[i, "delay"]])
        if not math.isfinite(diag.at[i, "cycle_ms"]) and math.isfinite(ref):
            again = response_stats(run.messages, _start_ns(run), held_after_ms=ref)
            diag.loc[i, ["held_transit_ms", "held"]] = again["held_transit_ms"], again["held"]
    return diag.rename(columns={"events_per_response": "steady_events_per_response",
                                "responses": "steady_responses"})


def _push(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of push transports (`wslab.transports.base.Delivery`)."""
    return table[table["transport"].isin(transports.names("push"))]


def long_poll_runs(table: pd.DataFrame, diagnostics: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """One row per long-poll run with what the checks need, in ms.

    ``transit_ms``: `wslab.analysis.transit_us` at the run's (delay, rate);
    ``realized_rate``: the events its Poisson stream actually held per second
    (published / duration; a short stream can be 20 % off its nominal rate);
    ``x``: the model's events per gap, realized rate × 2 transits; the
    models at that rate and transit (``model_mean_ms``, ``model_batch``,
    ``bound_ms`` = three transits); measured latency mean and max;
    ``events_per_response`` (the summary's: completed non-empty responses);
    ``push_excess_ms``: the mean over the push runs of the same (delay, rate,
    repeat) of their maximum minus their median, the worst a single leg of
    the stack stalled there; and the `run_diagnostics` columns when given.
    """
    transit = transit_us(table, by=_GROUP) / 1e3
    lp = table[table["transport"] == LP].copy()
    if lp.empty:
        raise ConfigError(f"no {LP} run in the table")
    idx = pd.MultiIndex.from_frame(lp[_GROUP])
    lp["transit_ms"] = transit.reindex(idx).to_numpy()
    lp["realized_rate"] = lp["published"] / lp["duration"]
    t_s, lam = lp["transit_ms"].to_numpy() / 1e3, lp["realized_rate"].to_numpy(dtype=float)
    lp["x"] = lam * 2 * t_s
    lp["model_mean_ms"] = long_poll_mean_latency(lam, t_s) * 1e3
    lp["model_batch"] = long_poll_batch_size(lam, t_s)
    lp["bound_ms"] = 3 * lp["transit_ms"]
    lp["latency_mean_ms"] = lp["latency_mean_us"] / 1e3
    lp["latency_max_ms"] = lp["latency_max_us"] / 1e3
    lp["events_per_response"] = events_per_response(lp)
    push = _push(table)
    excess = ((push["latency_max_us"] - push["latency_p50_us"]) / 1e3).groupby(
        [push["delay"], push["rate"], push["repeat"]]).mean()
    lp["push_excess_ms"] = excess.reindex(
        pd.MultiIndex.from_frame(lp[[*_GROUP, "repeat"]])).to_numpy()
    cols = ["trial", "delay", "rate", "repeat", "realized_rate", "transit_ms", "x",
            "latency_mean_ms", "model_mean_ms", "latency_max_ms", "bound_ms",
            "events_per_response", "model_batch", "delivered", "responses", "empty_responses",
            "in_flight_at_stop", "push_excess_ms"]
    out = lp[[c for c in cols if c in lp.columns]]
    if diagnostics is not None:
        keep = ["trial", "steady_events_per_response", "steady_responses", "cycle_ms", "cycles",
                "held_transit_ms", "held"]
        out = out.merge(diagnostics[keep], on="trial", how="left")
    return out.sort_values([*_GROUP, "repeat"]).reset_index(drop=True)


# -- model checks ------------------------------------------------------------------
def _estimate(values: pd.Series) -> stats.Estimate:
    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return stats.Estimate(math.nan, math.nan, math.nan, 0, _RUNS)
    return stats.mean_ci(v, unit="runs")


def _precision(df: pd.DataFrame, target: float) -> pd.DataFrame:
    """Add the achieved half-width as a share of the model (``±pct``) and
    whether it met ``target`` (a fraction)."""
    half = (df["high"] - df["low"]) / 2 / df["model"].abs()
    df["±pct"] = (half * 100).round(1)
    df["target"] = np.where(~np.isfinite(half), "no interval",
                            np.where(half <= target, "met", "missed"))
    return df


def _checks(rows: list[dict[str, Any]], target: float) -> pd.DataFrame:
    df = stats.check_table(rows)
    if df.empty:
        return df
    return _precision(df, target)


def mean_latency_checks(lp: pd.DataFrame, target: float = 0.05) -> pd.DataFrame:
    """Mean latency (ms) per (delay, rate) against `wslab.models.long_poll_mean_latency`
    at the measured transit and each run's realized rate (the model column is
    the mean of the runs' model values); columns of `wslab.stats.check_table`
    plus ``x`` and the model's share of events that wait for a request
    (``p_gap``), ``±pct`` and ``target``."""
    rows = []
    for (d, r), g in lp.groupby(_GROUP):
        x = float(g["x"].mean())
        rows.append({"delay_ms": d * 1e3, "rate": r, "x": x,
                     "p_gap": x / (x + math.exp(-x)) if x > 0 else 0.0,
                     "quantity": "mean latency (ms)", "measured": _estimate(g["latency_mean_ms"]),
                     "model": float(g["model_mean_ms"].mean())})
    return _checks(rows, target)


def bound_verdict(measured: stats.Estimate, bound: float) -> str:
    """Whether a measured maximum (with its interval) is at most ``bound``:
    ``"max ≤ bound (CI below it by 4.2 %)"``, ``"bound inside 95 % CI"`` or
    ``"max above bound by 3.1 %"`` (the gap from the nearer interval end,
    relative to the bound)."""
    if not (math.isfinite(measured.low) and math.isfinite(measured.high)):
        return f"no interval (n={measured.n})"
    def gap(end: float) -> float:
        return abs(end - bound) / abs(bound) * 100 if bound else math.inf

    if measured.high <= bound:
        return f"max ≤ bound (CI below it by {gap(measured.high):.1f} %)"
    if measured.low > bound:
        return f"max above bound by {gap(measured.low):.1f} %"
    return f"bound inside {measured.level * 100:g} % CI"


def max_latency_checks(lp: pd.DataFrame, target: float = 0.05) -> pd.DataFrame:
    """Maximal latency (ms) per (delay, rate): the mean over runs of each run's
    maximum against two bounds, with `bound_verdict`:

    * ``≤ 3 transits``: RFC 6202 §2.2 with the measured transit;
    * ``≤ transit + cycle``: the same bound with the gap measured instead of
      assumed (`response_stats`; needs the diagnostics columns), ``3d + s``.

    ``push_excess_ms`` is the push runs' own worst stall at that point (their
    maximum minus median), what one leg of the stack can add.
    """
    rows = []
    for (d, r), g in lp.groupby(_GROUP):
        t = float(g["transit_ms"].iloc[0])
        est = _estimate(g["latency_max_ms"])
        extra = {"delay_ms": d * 1e3, "rate": r,
                 "push_excess_ms": float(g["push_excess_ms"].mean())}
        rows.append({**extra, "quantity": "max ≤ 3 transits", "measured": est,
                     "model": float(long_poll_latency_bounds(t).max)})  # 3 t, RFC 6202 §2.2
        if "cycle_ms" in g and np.isfinite(g["cycle_ms"]).any():
            cycle = float(g["cycle_ms"].mean())
            rows.append({**extra, "quantity": "max ≤ transit + cycle", "measured": est,
                         "model": t + cycle})
    df = _checks(rows, target)
    if not df.empty:
        df.insert(df.columns.get_loc("verdict"), "excess_ms", df["measured"] - df["model"])
        df["verdict"] = [bound_verdict(stats.Estimate(m, lo, hi, int(n), meth), b)
                         for m, lo, hi, n, meth, b in zip(df.measured, df.low, df.high, df.n,
                                                          df.method, df.model, strict=True)]
    return df


#: the quantities of `batching_checks`
STEADY = "events/response after warm-up"
WHOLE_RUN = "events/response, whole run"


def batching_checks(lp: pd.DataFrame, target: float = 0.05) -> pd.DataFrame:
    """Events per completed non-empty response per (delay, rate) against the
    renewal model `wslab.models.long_poll_batch_size` (``λc + exp(-λc)``,
    ``c`` = 2 measured transits, λ each run's realized rate, the model column
    the mean over the runs); ``asymptote`` is
    `wslab.models.long_poll_events_per_response` (``max(1, λc)``).

    Two measurements, both over completed responses only: `STEADY`, from the
    deliveries after the warm-up (`response_stats`; needs the diagnostics
    columns), which is what the steady-state model describes; and
    `WHOLE_RUN`, the summary's delivered events over completed non-empty
    responses (`events_per_response`), which also counts each client's first
    response, held from its connection -- worth one response in the run's
    few cycles when the round trip is long -- and its last one, cut short by
    the end of publishing.
    """
    rows = []
    for (d, r), g in lp.groupby(_GROUP):
        t = float(g["transit_ms"].iloc[0]) / 1e3
        lam = float(g["realized_rate"].mean())
        extra = {"delay_ms": d * 1e3, "rate": r, "x": float(g["x"].mean()),
                 "asymptote": float(long_poll_events_per_response(lam, t))}
        model = float(g["model_batch"].mean())
        if "steady_events_per_response" in g:
            rows.append({**extra, "quantity": STEADY, "model": model,
                         "measured": _estimate(g["steady_events_per_response"])})
        rows.append({**extra, "quantity": WHOLE_RUN, "model": model,
                     "measured": _estimate(g["events_per_response"])})
    return _checks(rows, target)


def leg_checks(lp: pd.DataFrame, target: float = 0.05) -> pd.DataFrame:
    """The model's premises per (delay, rate), from `run_diagnostics`: the
    held-request transit against the push transit (the model's ``d``), and
    the response cycle against two push transits (the model's gap)."""
    if "cycle_ms" not in lp:
        raise ConfigError("leg_checks needs long_poll_runs(table, run_diagnostics(...))")
    rows = []
    for (d, r), g in lp.groupby(_GROUP):
        t = float(g["transit_ms"].iloc[0])
        extra = {"delay_ms": d * 1e3, "rate": r}
        for quantity, col, model in (("held-request transit (ms)", "held_transit_ms", t),
                                     ("response cycle (ms)", "cycle_ms", 2 * t)):
            est = _estimate(g[col])
            if est.n:
                rows.append({**extra, "quantity": quantity, "measured": est, "model": model})
    return _checks(rows, target)


def check_text(checks: pd.DataFrame, digits: int = 3) -> str:
    """A check table as text: every column but ``method``, which is named once
    below it."""
    method = ", ".join(dict.fromkeys(checks["method"])) if len(checks) else "none"
    return (checks.drop(columns="method").round(digits).to_string(index=False)
            + f"\nintervals: 95 %, {method}; ±pct: half-width over the model value")


def bounds_table(transits: Iterable[float], rates: Iterable[float] = (1.0, 10.0, 100.0)
                 ) -> pd.DataFrame:
    """The RFC 6202 §2.2 model for fixed one-way transits (ms), no measurement.

    Columns: one transit (min and low-rate mean), the rate-dependent mean
    (`wslab.models.long_poll_mean_latency`) at each of ``rates``, the
    high-rate mean (two transits) and the maximal latency (three transits).
    """
    rows = []
    for d in transits:
        b = long_poll_latency_bounds(d)
        row = {"one-way delay (ms)": d * 1e3, "min = 1 transit (ms)": b.min * 1e3}
        for r in rates:
            row[f"mean @ {r:g}/s (ms)"] = float(long_poll_mean_latency(r, d)) * 1e3
        row["mean, rate → ∞ (ms)"] = 2 * d * 1e3
        row["max = 3 transits (ms)"] = b.max * 1e3
        rows.append(row)
    return pd.DataFrame(rows).round(2)


# -- bytes, timeouts, memory ---------------------------------------------------------
def _fmt(e: stats.Estimate, digits: int = 1) -> str:
    if not (math.isfinite(e.low) and math.isfinite(e.high)):
        return f"{e.value:.{digits}f} (n={e.n})"
    return f"{e.value:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def bytes_table(table: pd.DataFrame) -> pd.DataFrame:
    """Bytes on the wire (up + down) per delivered event: mean over the repeats
    with its t interval, one row per transport × delay × rate (``bpe``,
    ``bpe_low``, ``bpe_high``, ``bpe_n``, and ``text``: "mean [low, high] (n=…)")."""
    t = table.assign(bpe=table["bytes_up_per_event"] + table["bytes_down_per_event"])
    rows = []
    for (name, d, r), g in t.groupby(["transport", *_GROUP], sort=False):
        est = _estimate(g["bpe"])
        rows.append({"transport": name, "delay": d, "rate": r, **est.as_dict("bpe"),
                     "text": f"{_fmt(est, 0)} (n={est.n})"})
    return pd.DataFrame(rows).sort_values([*_GROUP, "transport"]).reset_index(drop=True)


def timeout_table(table: pd.DataFrame) -> pd.DataFrame:
    """What the long-poll timeout costs, one row per timeout (s): per delivered
    event the completed responses (`requests_per_event` of the summary) and
    the empty ones, the share of responses that were empty, and the bytes --
    each as ``mean [95 % CI]`` over the repeats (``n`` runs)."""
    t = table.assign(
        timeout_s=table["option_timeout"],
        responses_per_event=_responses(table) / table["delivered"],
        empty_per_event=table["empty_responses"] / table["delivered"],
        bytes_per_event=table["bytes_up_per_event"] + table["bytes_down_per_event"])
    cols = {"responses_per_event": 2, "empty_per_event": 2, "empty_fraction": 3,
            "bytes_per_event": 0}
    rows = []
    for timeout, g in t.groupby("timeout_s"):
        row: dict[str, Any] = {"timeout_s": timeout, "n": len(g),
                               "delivered": float(g["delivered"].mean())}
        for c, digits in cols.items():
            est = _estimate(g[c])
            row[c] = _fmt(est, digits)
            row.update({f"_{c}": est.value, f"_{c}_low": est.low, f"_{c}_high": est.high})
        rows.append(row)
    return pd.DataFrame(rows)


def timeout_lines(tab: pd.DataFrame) -> list[str]:
    """The timeout's cost in words, from `timeout_table`: each timeout's
    completed and empty responses per delivered event, and the ratio of the
    shortest timeout's responses per event to the longest's."""
    lines = [f"timeout {r.timeout_s:g} s: {r.responses_per_event} completed responses and "
             f"{r.empty_per_event} empty ones per delivered event (n={r.n} runs)"
             for r in tab.itertuples()]
    short, long = tab.iloc[0], tab.iloc[-1]
    if len(tab) > 1 and long["_responses_per_event"] > 0:
        lines.append(f"the {short.timeout_s:g} s timeout costs "
                     f"{short['_responses_per_event'] / long['_responses_per_event']:.1f}× the "
                     f"responses per delivered event of the {long.timeout_s:g} s one")
    return lines


def idle_runs(counts: Iterable[int], name: str = "03_long_poll_idle", seed: int = 0,
              repeats: int = 1, progress: bool = False, **base: Any) -> pd.DataFrame:
    """Idle long-poll runs, one fresh server process per client count and repeat.

    Each (count, repeat) is its own `wslab.Experiment` (``<name>_n<count>_r<k>``,
    resumable, seeded ``seed + k``), so each server starts empty and its peak
    RSS is its baseline plus what ``count`` held requests cost; memory freed
    by an earlier run cannot be reused by a later one. Counts are interleaved
    within each repeat. ``base`` holds the run parameters (``rate``,
    ``duration``, ...); the transport is long-poll.
    """
    from ..experiment import Experiment

    frames = []
    for k in range(repeats):
        for n in counts:
            exp = Experiment(f"{name}_n{int(n)}_r{k}", seed=seed + k,
                             base={"transport": LP, **base, "clients": int(n)})
            frames.append(exp.run(progress=progress).assign(repeat=k))
    return pd.concat(frames, ignore_index=True)


def held_request_memory(table: pd.DataFrame, level: float = 0.95) -> dict[str, Any]:
    """Server RSS per held long-poll request: the least-squares slope of
    (clients, server peak RSS) over the runs, with its t interval (n − 2
    degrees of freedom; each idle client holds one request).

    Returns ``slope`` (an `wslab.stats.Estimate` in KiB per held request, n =
    runs), ``intercept_mib`` and the client counts used.
    """
    x = table["clients"].to_numpy(dtype=float)
    y = table["server_rss_peak_bytes"].to_numpy(dtype=float) / 1024
    if len(np.unique(x)) < 2 or len(x) < 3:
        raise ConfigError("need at least three runs with two different client counts, not "
                          f"{len(x)} runs with counts {sorted(set(x.astype(int)))}")
    xm = x.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * xm)
    resid = y - (intercept + slope * x)
    se = math.sqrt(float((resid**2).sum()) / (len(x) - 2) / sxx)
    h = stats.t_quantile((1 + level) / 2, len(x) - 2) * se
    est = stats.Estimate(slope, slope - h, slope + h, len(x), "OLS slope, t interval over runs",
                         level)
    return {"slope": est, "intercept_mib": intercept / 1024,
            "clients_min": int(x.min()), "clients_max": int(x.max())}


def memory_lines(mem: Mapping[str, Any]) -> list[str]:
    """The held-request memory with its interval, and the earlier reference
    (`REFERENCE_HELD_KIB`) beside it with where it lies."""
    e: stats.Estimate = mem["slope"]
    where = ("inside" if e.contains(REFERENCE_HELD_KIB) else "outside")
    return [f"server RSS per held long-poll request: {e.value:.1f} KiB, 95 % CI "
            f"[{e.low:.1f}, {e.high:.1f}] (n={e.n} runs, {e.method}; line through "
            f"{mem['clients_min']}..{mem['clients_max']} clients, intercept "
            f"{mem['intercept_mib']:.1f} MiB)",
            f"reference, not measured here: about {REFERENCE_HELD_KIB:g} KiB at "
            f"{REFERENCE_HELD_REQUESTS:,} held requests (an earlier measurement, "
            f"docs/references.md): {where} this interval"]


# -- figures -------------------------------------------------------------------------
def _delay_label(d: float) -> str:
    return f"{d * 1e3:g} ms one-way"


def _plain_log(axis: Any, ticks: Sequence[float] | None = None) -> None:
    """Log scale with plain numbers as tick labels ("0.1", "20", "500")."""
    if ticks is not None:
        axis.set_ticks(list(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _errorbar(ax: Any, x: Any, frame: pd.DataFrame, col: str, **kw: Any) -> Any:
    """Points ``frame[col]`` with error bars from ``low``/``high`` (or ``col_low``/``col_high``)."""
    lo, hi = (f"{col}_low", f"{col}_high") if f"{col}_low" in frame else ("low", "high")
    y = frame[col].to_numpy(dtype=float)
    err = np.vstack([y - frame[lo].to_numpy(dtype=float), frame[hi].to_numpy(dtype=float) - y])
    return ax.errorbar(x, y, yerr=np.nan_to_num(err), capsize=3, **kw)


def _n_text(n: Iterable[Any]) -> str:
    values = sorted({int(v) for v in n})
    return "n = " + "/".join(str(v) for v in values)


def plot_batching(ax: Any, checks: pd.DataFrame) -> Any:
    """Events per completed non-empty response (after the warm-up: `STEADY`)
    against λc (c = 2 measured transits), one series per delay with 95 % CI
    error bars, and the renewal model lines."""
    main = checks[checks["quantity"] == STEADY]
    if main.empty:
        main = checks[checks["quantity"] == WHOLE_RUN]
    for d, part in main.groupby("delay_ms"):
        _errorbar(ax, part["x"], part, "measured", fmt="o", ms=6,
                  label=f"measured, {d:g} ms one-way ({_n_text(part['n'])} runs each)")
    lo = max(main["x"].min() * 0.5, 1e-3)
    hi = max(main["x"].max() * 2, 10)
    x = np.geomspace(lo, hi, 300)
    ax.plot(x, x + np.exp(-x), "k--", lw=1.3, label="model: λc + exp(−λc)")
    ax.plot(x, np.maximum(1, x), ":", color="gray", lw=1.3, label="asymptote: max(1, λc)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log(ax.xaxis)
    _plain_log(ax.yaxis)
    ax.set_xlabel("rate × round trip λc (events per gap; c = 2 × measured transit)")
    ax.set_ylabel("events per completed non-empty response")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def _rate_panel(ax: Any, delay: float, ylabel: str, rates: Sequence[float]) -> None:
    """Axes of one per-delay panel: event rate (log, plain ticks) against ``ylabel``."""
    ax.set_xscale("log")
    _plain_log(ax.xaxis, rates)
    ax.set_xlim(min(rates) / 1.6, max(rates) * 1.6)
    ax.set_title(f"added delay {_delay_label(delay)}", fontsize="medium")
    ax.set_xlabel("event rate (events/s, Poisson)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)


def _nudge(rates: pd.Series, k: int, of: int) -> np.ndarray:
    """Rates shifted a little on the log axis so overlapping error bars separate."""
    return rates.to_numpy(dtype=float) * 1.06 ** (k - (of - 1) / 2)


def plot_latency_vs_rate(axes: Sequence[Any], table: pd.DataFrame, lp: pd.DataFrame
                         ) -> Sequence[Any]:
    """Latency against rate, one panel per delay, every point a mean over the
    repeats with its 95 % CI: long-poll mean and max, the push transports'
    means, the model mean at the measured transit, and one and three measured
    transits (they differ by rate where the stack dominates)."""
    from ..plots import transport_colors

    t = table.assign(latency_mean_ms=table["latency_mean_us"] / 1e3)
    push = {name: g for name, g in t.groupby("transport", sort=False) if name != LP}
    colors = transport_colors([LP, *push])
    rates = sorted(t["rate"].unique())
    for ax, (d, part) in zip(axes, lp.groupby("delay"), strict=False):
        agg = _by_rate(part, ["latency_mean_ms", "latency_max_ms", "transit_ms"])
        n = _n_text(agg["latency_mean_ms_n"])
        for k, (name, g) in enumerate(push.items()):
            pa = _by_rate(g[g["delay"] == d], ["latency_mean_ms"])
            _errorbar(ax, _nudge(pa["rate"], k, len(push) + 1), pa, "latency_mean_ms", fmt="o-",
                      color=colors[name], lw=1, ms=4, label=f"{name} mean")
        x = _nudge(agg["rate"], len(push), len(push) + 1)
        _errorbar(ax, x, agg, "latency_mean_ms", fmt="o-", color=colors[LP], lw=2.2, ms=6,
                  label=f"{LP} mean")
        _errorbar(ax, x, agg, "latency_max_ms", fmt="s--", color=colors[LP], lw=1.4, ms=6,
                  mfc="white", label=f"{LP} max")
        tr = agg["transit_ms"].to_numpy() / 1e3
        ax.plot(agg["rate"], long_poll_mean_latency(agg["rate"].to_numpy(), tr) * 1e3, "k:",
                marker="x", label="model mean (measured transit)")
        # a short horizontal mark at each rate (the transit is measured per rate), joined
        ax.plot(agg["rate"], tr * 1e3, color="green", lw=1, marker="_", ms=22, mew=1.5,
                label="1 transit (push median)")
        ax.plot(agg["rate"], 3 * tr * 1e3, color="red", lw=1, marker="_", ms=22, mew=1.5,
                label="3 transits")
        _rate_panel(ax, d, "one-way latency (ms)", rates)
        ax.set_ylim(bottom=max(0.0, ax.get_ylim()[0]))  # a latency is never negative
        ax.legend(fontsize="x-small", loc="best", title=f"mean of {n} runs, bars: 95 % CI",
                  title_fontsize="x-small")
    return axes


def _by_rate(frame: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Per rate: each column's mean over the runs with its t interval."""
    rows = []
    for r, g in frame.groupby("rate"):
        row: dict[str, Any] = {"rate": r}
        for c in cols:
            row.update(_estimate(g[c]).as_dict(c))
        rows.append(row)
    return pd.DataFrame(rows)


def plot_bytes(axes: Sequence[Any], table: pd.DataFrame, body: float | None = None
               ) -> Sequence[Any]:
    """Bytes per delivered event vs rate, one panel per delay, one line per
    transport (mean over the repeats, 95 % CI bars). ``body`` (bytes, e.g.
    `wslab.analysis.body_bytes_per_event`) draws the event body alone."""
    from ..plots import transport_colors

    b = bytes_table(table)
    names = list(dict.fromkeys(b["transport"]))
    colors = transport_colors(names)
    rates = sorted(b["rate"].unique())
    for ax, (d, part) in zip(axes, b.groupby("delay"), strict=False):
        for k, name in enumerate(names):
            g = part[part["transport"] == name].sort_values("rate")
            _errorbar(ax, _nudge(g["rate"], k, len(names)), g, "bpe", fmt="o-",
                      color=colors[name], label=f"{name} ({_n_text(g['bpe_n'])} runs)")
        if body is not None:
            ax.axhline(body, color="gray", ls="--", lw=1, label=f"event body alone ({body:.0f} B)")
        _rate_panel(ax, d, "bytes per delivered event (B, up + down)", rates)
        ax.legend(fontsize="x-small")
    return axes


# -- findings --------------------------------------------------------------------------
def _where(df: pd.DataFrame) -> str:
    """Which rates a check holds at, misses at (with the verdict), cannot decide
    (a bound inside the interval of a maximum) or has no interval for."""
    v = df["verdict"]
    groups = [("holds at", v.str.startswith(("model inside", "max ≤")), False),
              ("misses at", v.str.startswith(("model above", "model below", "max above")), True),
              ("undecided (bound inside CI) at", v.str.startswith("bound inside"), False),
              ("no interval at", v.str.startswith("no interval"), False)]
    parts = []
    for words, mask, why in groups:
        if mask.any():
            part = df[mask]
            parts.append(words + " " + ("; ".join(f"{r.rate:g}/s ({r.verdict})"
                                                  for r in part.itertuples()) if why else
                                        ", ".join(f"{r:g}/s" for r in part["rate"])))
    return "; ".join(parts)


def findings(mean: pd.DataFrame, maxima: pd.DataFrame, batching: pd.DataFrame,
             legs: pd.DataFrame, target: float = 0.05) -> list[str]:
    """Sentences computed from the check tables' verdicts, one per delay and check."""
    def at(df: pd.DataFrame, d: float, q: str | None = None) -> pd.DataFrame:
        keep = df["delay_ms"] == d
        return df[keep & (df["quantity"] == q)] if q else df[keep]

    lines = []
    for d in sorted(mean["delay_ms"].unique()):
        lines.append(f"{d:g} ms, mean latency vs model: {_where(at(mean, d))}")
        lines.append(f"{d:g} ms, max ≤ 3 transits: {_where(at(maxima, d, 'max ≤ 3 transits'))}")
        cyc = at(maxima, d, "max ≤ transit + cycle")
        if len(cyc):
            lines.append(f"{d:g} ms, max ≤ transit + measured cycle: {_where(cyc)}")
        for q in (STEADY, WHOLE_RUN):
            part = at(batching, d, q)
            if len(part):
                lines.append(f"{d:g} ms, {q} vs λc + exp(−λc): {_where(part)}")
        for q in ("held-request transit (ms)", "response cycle (ms)"):
            part = at(legs, d, q)
            if len(part):
                ratio = ", ".join(f"{r.rate:g}/s: {r.measured / r.model:.2f}×"
                                  for r in part.itertuples())
                lines.append(f"{d:g} ms, premise {q.split(' (')[0]} = model: {_where(part)} "
                             f"(measured/model {ratio})")
    lp_checks = pd.concat([mean, maxima, batching])
    met = int((lp_checks["target"] == "met").sum())
    lines.append(f"precision: {met} of {len(lp_checks)} long-poll model checks reached the "
                 f"±{target * 100:g} % target (largest half-width ±{lp_checks['±pct'].max():g} % of the model)")
    return lines
