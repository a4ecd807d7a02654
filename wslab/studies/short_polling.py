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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from .. import stats
from ..analysis import machine_caption, transit_us
from ..core.errors import ConfigError
from ..models import (
    empty_poll_fraction,
    short_poll_latency_mean,
    short_poll_latency_quantile,
    short_poll_requests_per_event,
)
from ..runner.store import Run

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

#: The transports measured beside short polling, drawn as points next to its
#: curves: the push transports and long polling (pull, but with no interval).
COMPARED = ("tcp", "websocket", "sse", "long-poll")

#: What identifies one point of the sweep (its runs are the repeats).
KEYS = ["transport", "rate", "interval", "delay"]

#: Per-run metrics `summarise` gives with an interval over the repeats.
METRICS = ("mean_ms", "p50_ms", "p99_ms", "bytes_per_event", "requests_per_event",
           "empty_fraction", "polls_per_client", "extra_polls")

#: Seconds a run takes beyond its publishing time (fleet process start,
#: connections, drain, tables written): 1.8 s measured with 8 clients on a
#: 2-core machine shared with other work (30 runs in 129 s, 15 runs behind the
#: impairment proxy in 52 s), rounded up.
RUN_OVERHEAD_S = 2.0

_T_METHOD = "t interval over runs"


# -- planning ------------------------------------------------------------------
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


# -- tables ----------------------------------------------------------------------
def run_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run of an `Experiment.run` table, in the units of the figures.

    `KEYS` (``interval`` NaN for transports without one, ``delay`` in s, 0
    without the proxy), ``repeat``, ``clients``, ``duration``, ``delivered``,
    ``lost``, latency in ms (``mean_ms``, ``p50_ms``, ``p99_ms``, after the
    warm-up), ``bytes_per_event`` (up + down) and its two parts,
    ``requests_per_event``, ``empty_fraction``, ``latency_p50_us`` (for
    `wslab.analysis.transit_us`), and for short polling ``polls_per_client``
    (completed polls over the run) and ``extra_polls`` (those beyond
    duration / T: the run's edges).
    """
    t = table
    n = len(t)

    def col(name: str, default: float = np.nan) -> pd.Series:
        if name in t.columns:
            return pd.to_numeric(t[name], errors="coerce").astype(float)
        return pd.Series(default, index=t.index, dtype=float)

    out = pd.DataFrame({
        "transport": t["transport"].astype(str), "rate": col("rate"),
        "interval": col("interval"), "delay": col("delay").fillna(0.0),
        "repeat": t["repeat"] if "repeat" in t.columns else np.zeros(n, dtype=int),
        "clients": t["clients"], "duration": col("duration"),
        "delivered": t["delivered"], "lost": t["lost"],
        "mean_ms": col("latency_mean_us") / 1e3, "p50_ms": col("latency_p50_us") / 1e3,
        "p99_ms": col("latency_p99_us") / 1e3,
        "bytes_per_event": col("bytes_up_per_event") + col("bytes_down_per_event"),
        "bytes_up_per_event": col("bytes_up_per_event"),
        "bytes_down_per_event": col("bytes_down_per_event"),
        "requests_per_event": col("requests_per_event"),
        "empty_fraction": col("empty_fraction"),
        "latency_p50_us": col("latency_p50_us"),
    })
    # Polls per client over the whole run, and beyond the publishing time / T:
    # the polls made before the first event and while the clients collect the
    # last one (the run's edges), which steady-state models leave out.
    polls = col("responses") / pd.to_numeric(t["clients"], errors="coerce")
    out["polls_per_client"] = polls.where(out["interval"].notna())
    out["extra_polls"] = out["polls_per_client"] - out["duration"] / out["interval"]
    return out.reset_index(drop=True)


def summarise(table: pd.DataFrame, metrics: Sequence[str] = METRICS,
              level: float = 0.95) -> pd.DataFrame:
    """One row per sweep point (`KEYS`) with each metric's mean over the
    repeats and its t interval: ``<metric>``, ``<metric>_low``,
    ``<metric>_high``, ``<metric>_n`` (`wslab.stats.mean_ci` over runs; one
    run gives NaN bounds). Also ``runs``, ``clients``, ``duration`` (mean over
    the runs), ``delivered`` and ``lost`` (sums) and ``transit_ms``: the
    websocket median at that rate and delay (`wslab.analysis.transit_us`).
    """
    runs = run_table(table)
    missing = [m for m in metrics if m not in runs.columns]
    if missing:
        raise ConfigError(f"unknown metric(s) {', '.join(missing)}; allowed: "
                          f"{', '.join(c for c in runs.columns if c not in KEYS)}")
    tr = transit_us(runs, by=["delay", "rate"], reference="websocket") / 1e3
    rows = []
    for key, g in runs.groupby(KEYS, sort=True, dropna=False):
        row: dict[str, Any] = dict(zip(KEYS, key, strict=True))
        row.update(runs=len(g), clients=g["clients"].iloc[0], duration=g["duration"].mean(),
                   delivered=int(g["delivered"].sum()), lost=int(g["lost"].sum()))
        for m in metrics:
            values = g[m].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if len(values):
                row.update(stats.mean_ci(values, level, unit="runs").as_dict(m))
            else:
                row.update({m: np.nan, f"{m}_low": np.nan, f"{m}_high": np.nan, f"{m}_n": 0})
        row["transit_ms"] = float(tr.loc[(row["delay"], row["rate"])])
        rows.append(row)
    return pd.DataFrame(rows)


def with_model(summary: pd.DataFrame) -> pd.DataFrame:
    """The short-poll rows of `summarise` with the models added (ms where timed):
    ``model_mean_ms`` (T/2 + transit), ``model_round_trip_ms`` (T/2 + two
    transits, the textbook form), ``model_p99_ms`` (0.99 T + transit),
    ``model_empty_fraction`` (exp(-λT)) and ``model_requests_per_event``
    (1/(λT))."""
    sp = summary[summary["interval"].notna()].copy()
    if sp.empty:
        raise ConfigError("no short-poll rows (rows with an interval) in the summary")
    T, d, lam = (sp["interval"].to_numpy(), sp["transit_ms"].to_numpy() / 1e3,
                 sp["rate"].to_numpy())
    sp["model_mean_ms"] = short_poll_latency_mean(T, d) * 1e3
    sp["model_round_trip_ms"] = short_poll_latency_mean(T, 2 * d) * 1e3
    sp["model_p99_ms"] = short_poll_latency_quantile(0.99, T, d) * 1e3
    sp["model_empty_fraction"] = empty_poll_fraction(T, lam)
    sp["model_requests_per_event"] = short_poll_requests_per_event(T, lam)
    return sp.reset_index(drop=True)


def _estimate(row: Any, metric: str) -> stats.Estimate:
    return stats.Estimate(float(row[metric]), float(row[f"{metric}_low"]),
                          float(row[f"{metric}_high"]), int(row[f"{metric}_n"]), _T_METHOD)


_CHECKS = {  # metric: (quantity, model column)
    "mean_ms": ("mean latency (ms)", "model_mean_ms"),
    "p99_ms": ("p99 latency (ms)", "model_p99_ms"),
    "empty_fraction": ("empty-poll fraction", "model_empty_fraction"),
    "requests_per_event": ("requests per delivered event", "model_requests_per_event"),
}


def check(summary: pd.DataFrame, metric: str = "mean_ms", min_interval: float = 0.05,
          target: float | None = 0.05) -> pd.DataFrame:
    """`wslab.stats.check_table` of one metric against its model for the
    short-poll points with ``T >= min_interval``: columns ``rate``,
    ``T (ms)``, then quantity, measured, low, high, n, model, verdict,
    method; with ``target`` also ``±% of model`` (the interval's half-width
    relative to the model value) and ``within target`` (<= target)."""
    if metric not in _CHECKS:
        raise ConfigError(f"metric must be one of {', '.join(_CHECKS)}, not {metric!r}")
    quantity, model_col = _CHECKS[metric]
    m = with_model(summary)
    m = m[m["interval"] >= min_interval - 1e-12].sort_values(["delay", "rate", "interval"])
    rows = [{"rate": r["rate"], "T (ms)": round(r["interval"] * 1e3, 6), "quantity": quantity,
             "measured": _estimate(r, metric), "model": r[model_col]}
            for _, r in m.iterrows()]
    out = stats.check_table(rows)
    if target is not None and len(out):
        out["±% of model"] = 100 * (out["high"] - out["low"]) / 2 / out["model"].abs()
        out["within target"] = out["±% of model"] <= 100 * target
    return out


def count_inside(table: pd.DataFrame, column: str = "verdict") -> str:
    """``"model inside the 95 % CI in k of n rows"`` for a check table's
    verdict column (the level read from the verdicts)."""
    v = table[column].astype(str)
    inside = v.str.startswith("model inside")
    level = v[inside].str.extract(r"inside ([\d.]+) %")[0]
    pct = level.iloc[0] if len(level) else "95"
    return f"model inside the {pct} % CI in {int(inside.sum())} of {len(v)} rows"


def edge_table(summary: pd.DataFrame, min_interval: float = 0.05) -> pd.DataFrame:
    """How far each short-poll run's request count departs from the steady
    state: ``D/T`` (publishing time over the interval: the polls per client a
    steady state gives), the measured polls per client and the ``extra`` ones
    (mean over runs with their 95 % interval), the ``edge share`` (extra /
    (D/T), in %), and requests per delivered event measured against ``1/(λT)``
    (``excess``, in %). A run's edges are the polls before its first event and
    those made while the clients collect its last one."""
    m = with_model(summary)
    m = m[m["interval"] >= min_interval - 1e-12].sort_values(["delay", "rate", "interval"])
    return pd.DataFrame({
        "rate": m["rate"], "T (ms)": (m["interval"] * 1e3).round(6),
        "D/T": m["duration"] / m["interval"], "polls/client": m["polls_per_client"],
        "extra": m["extra_polls"], "extra low": m["extra_polls_low"],
        "extra high": m["extra_polls_high"],
        "edge share (%)": 100 * m["extra_polls"] / (m["duration"] / m["interval"]),
        "requests/event": m["requests_per_event"], "1/(λT)": m["model_requests_per_event"],
        "excess (%)": 100 * (m["requests_per_event"] / m["model_requests_per_event"] - 1),
    }).reset_index(drop=True)


def delay_check(summary: pd.DataFrame) -> pd.DataFrame:
    """Measured short-poll mean latency against both forms of the model, each
    with its verdict: ``T/2 + transit`` (one transit, the response's) and
    ``T/2 + round trip`` (two transits, the textbook form). One row per
    short-poll point (every interval); ``transit (ms)`` is the websocket median
    at the same rate and delay; ``nearer model`` names the model closer to the
    measured mean."""
    m = with_model(summary).sort_values(["delay", "rate", "interval"])
    out = []
    for _, r in m.iterrows():
        est = _estimate(r, "mean_ms")
        one = stats.verdict(est, r["model_mean_ms"])
        two = stats.verdict(est, r["model_round_trip_ms"])
        out.append({"delay (ms)": r["delay"] * 1e3, "rate": r["rate"],
                    "T (ms)": round(r["interval"] * 1e3, 6),
                    "transit (ms)": r["transit_ms"], "measured mean (ms)": est.value,
                    "low": est.low, "high": est.high, "n": est.n,
                    "T/2 + transit": r["model_mean_ms"], "verdict (one transit)": one,
                    "T/2 + round trip": r["model_round_trip_ms"],
                    "verdict (round trip)": two,
                    "nearer model": "one transit" if abs(est.value - r["model_mean_ms"])
                    < abs(est.value - r["model_round_trip_ms"]) else "round trip"})
    return pd.DataFrame(out)


def _inside(table: pd.DataFrame, column: str = "verdict") -> pd.Series:
    return table[column].astype(str).str.startswith("model inside")


def conclusions(checks: dict[str, pd.DataFrame], delay: pd.DataFrame | None,
                summary: pd.DataFrame, target: float = 0.05) -> list[str]:
    """The notebook's conclusions as sentences computed from its tables, so that
    each follows from a printed verdict: per `check` table (keyed by metric)
    the verdict count, the points outside and (for ``mean_ms``) how many
    intervals met ±``target``; per delay in `delay_check` which model is
    nearer and where each lies inside; per rate whether each `COMPARED`
    transport beats short polling at every interval in both mean latency and
    bytes per delivered event (upper bound below the best short-poll lower
    bound)."""
    lines = []
    for metric, tbl in checks.items():
        quantity = _CHECKS[metric][0]
        inside = _inside(tbl)
        line = f"{quantity}, T >= {tbl['T (ms)'].min():g} ms: {count_inside(tbl)}"
        if "within target" in tbl.columns:
            line += (f"; interval within ±{target * 100:g} % of the model in "
                     f"{int(tbl['within target'].sum())} of {len(tbl)}")
        out = tbl[~inside]
        if len(out):
            line += "; outside: " + "; ".join(
                f"{r['rate']:g}/s at T = {r['T (ms)']:g} ms ({r['verdict']})"
                for _, r in out.iterrows())
        lines.append(line)
    if delay is not None:
        for d, g in delay.groupby("delay (ms)"):
            n = len(g)
            lines.append(
                f"{d:g} ms one-way delay: the measured mean is nearer T/2 + one transit than "
                f"T/2 + round trip at {int((g['nearer model'] == 'one transit').sum())} of {n} "
                f"intervals; T/2 + one transit inside the 95 % CI at "
                f"{int(_inside(g, 'verdict (one transit)').sum())} of {n}, T/2 + round trip "
                f"at {int(_inside(g, 'verdict (round trip)').sum())} of {n}")
    sp = summary[summary["interval"].notna()]
    for lam, g in summary[summary["interval"].isna()].groupby("rate"):
        s = sp[sp["rate"] == lam]
        if s.empty:
            continue
        lat, byt = s["mean_ms_low"].min(), s["bytes_per_event_low"].min()
        both = [r.transport for r in g.itertuples()
                if r.mean_ms_high < lat and r.bytes_per_event_high < byt]
        rest = [f"{r.transport} (latency {'lower' if r.mean_ms_high < lat else 'not lower'}, "
                f"bytes {'lower' if r.bytes_per_event_high < byt else 'not lower'})"
                for r in g.itertuples() if r.transport not in both]
        line = (f"{lam:g} events/s: lower mean latency and fewer bytes per delivered event than "
                f"short polling at every interval measured: {', '.join(both) or 'none'}")
        lines.append(line + (f"; {', '.join(rest)}" if rest else ""))
    return lines


def model_table(intervals: Iterable[float], rates: Iterable[float]) -> pd.DataFrame:
    """Model only (no measurement): mean wait ``T/2`` (ms), polls per second per
    client ``1/T`` and the empty-poll fraction ``exp(-λT)`` at each rate."""
    intervals = [float(T) for T in intervals]
    df = pd.DataFrame({"T (ms)": [T * 1e3 for T in intervals],
                       "T/2 (ms)": [short_poll_latency_mean(T) * 1e3 for T in intervals],
                       "polls/s": [1 / T for T in intervals]})
    for lam in rates:
        df[f"empty @ {lam:g}/s"] = [empty_poll_fraction(T, lam) for T in intervals]
    return df


def tail_latencies(latencies: pd.DataFrame, rate: float,
                   intervals: Sequence[float]) -> pd.DataFrame:
    """The short-poll deliveries (`wslab.Experiment.latencies`) at ``rate`` and
    the given ``intervals``, pooled over the repeats: ``interval``,
    ``repeat``, ``latency_ms``."""
    lat = latencies[(latencies["transport"] == "short-poll") & (latencies["rate"] == rate)]
    lat = lat[np.isclose(lat["interval"].to_numpy(dtype=float)[:, None],
                         np.asarray(intervals, dtype=float)[None, :]).any(axis=1)]
    if lat.empty:
        raise ConfigError(f"no short-poll deliveries at rate {rate:g} and T in "
                          f"{', '.join(f'{T:g}' for T in intervals)} s")
    return pd.DataFrame({"interval": lat["interval"].astype(float).to_numpy(),
                         "repeat": lat["repeat"].to_numpy(),
                         "latency_ms": lat["latency_us"].to_numpy() / 1e3})


def interval_sweep_caption(runs: Sequence[Run]) -> str:
    """Setup line for the interval sweep's figures: machine and versions
    (`wslab.analysis.machine_caption`), the sweep's ranges and the runs per
    point (repeats, distinct seeds)."""
    head = machine_caption(runs[0])
    p = [r.manifest["parameters"] for r in runs]
    intervals = sorted({x["interval"] for x in p if x.get("interval")})
    transports = list(dict.fromkeys(r.transport for r in runs))
    points: dict[tuple[Any, ...], int] = {}
    for x in p:
        key = (x["transport"], x["rate"], x.get("interval"), x.get("delay"))
        points[key] = points.get(key, 0) + 1
    reps = "/".join(str(k) for k in sorted(set(points.values())))
    durations = sorted({float(x["duration"]) for x in p})
    delays = sorted({float(x["delay"]) for x in p if x.get("delay")})

    def join(key: str) -> str:
        return "/".join(f"{v:g}" for v in sorted({float(x[key]) for x in p}))

    span = (f"{durations[0]:g}" if len(durations) == 1
            else f"{durations[0]:g}–{durations[-1]:g}")
    text = (f"{head} | {', '.join(transports)}; {join('clients')} clients, "
            f"{p[0]['schedule']} events at {join('rate')} events/s, {join('payload')} B "
            f"payload, {span} s per run (first {_join_warmup(runs)} s warm-up excluded), "
            f"{reps} runs per point (distinct seeds); short-poll T = "
            f"{', '.join(f'{T * 1e3:g}' for T in intervals)} ms")
    if delays:
        text += f"; one-way delay {'/'.join(f'{d * 1e3:g}' for d in delays)} ms (proxy)"
    return text


def _join_warmup(runs: Sequence[Run]) -> str:
    return "/".join(f"{v:g}" for v in sorted({float(r.summary["warmup_s"]) for r in runs}))


# -- figures -------------------------------------------------------------------
_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")


def _rate_colors(rates: Iterable[float]) -> dict[float, Any]:
    import seaborn as sns

    rates = sorted(set(rates))
    return dict(zip(rates, sns.color_palette("viridis", len(rates)), strict=True))


def _minor_labels(axis: Any) -> FuncFormatter:
    """Label the 2 and 5 minor ticks of a log axis that spans under two decades
    (otherwise one or no major tick would be labelled); nothing on wider axes."""
    def fmt(v: float, _: Any) -> str:
        lo, hi = sorted(axis.get_view_interval())
        if v <= 0 or lo <= 0 or hi / lo > 100:
            return ""
        mantissa = round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6)
        return f"{v:g}" if mantissa in (2.0, 5.0) else ""

    return FuncFormatter(fmt)


def _plain_ticks(ax: Any, axis: str = "both") -> None:
    """Plain numbers on log axes ("5", "0.02"), never "5×10⁰"; minor ticks 2 and 5
    labelled on narrow axes (`_minor_labels`), the others unlabelled."""
    for name in ("x", "y") if axis == "both" else (axis,):
        a = getattr(ax, f"{name}axis")
        a.set_major_formatter(_PLAIN)
        a.set_minor_formatter(_minor_labels(a) if a.get_scale() == "log" else NullFormatter())


def _log_axes(ax: Any, xlabel: str, ylabel: str, y: bool = True) -> None:
    ax.set_xscale("log")
    if y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.12)
    _plain_ticks(ax, "both" if y else "x")


def _errorbar(ax: Any, x: Any, d: pd.DataFrame, metric: str, scale: float = 1.0,
              **style: Any) -> Any:
    """Points of ``metric`` with their interval (error bars; NaN bounds: none)."""
    y = d[metric].to_numpy(dtype=float) * scale
    lo = d[f"{metric}_low"].to_numpy(dtype=float) * scale
    hi = d[f"{metric}_high"].to_numpy(dtype=float) * scale
    err = np.vstack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)])
    return ax.errorbar(x, y, yerr=err, capsize=2.5, **style)


def _runs_label(d: pd.DataFrame) -> str:
    n = sorted({int(v) for v in d["runs"]})
    return "n = " + "/".join(map(str, n)) + " runs per point"


def plot_latency_vs_interval(axes: Sequence[Any], summary: pd.DataFrame) -> None:
    """Mean and p99 latency against the interval (one axis per rate), log-log,
    each point with its 95 % interval over the repeats; the model mean
    ``T/2 + transit``, the model p99 ``0.99 T + transit`` and the transit
    (websocket median) as lines."""
    m = with_model(summary)
    rates = sorted(m["rate"].unique())
    if len(axes) != len(rates):
        raise ConfigError(f"give one axis per rate ({len(rates)}), not {len(axes)}")
    for ax, lam in zip(axes, rates, strict=True):
        d = m[m["rate"] == lam].sort_values("interval")
        T = d["interval"].to_numpy() * 1e3
        for col, mk, lab in (("mean_ms", "o", "mean"), ("p99_ms", "^", "p99")):
            _errorbar(ax, T, d, col, fmt=mk + "-", lw=1.1, ms=5,
                      label=f"measured {lab} ± 95 % CI ({_runs_label(d)})")
        tr = float(d["transit_ms"].iloc[0])
        grid = np.geomspace(T.min() * 0.8, T.max() * 1.25, 100)
        ax.plot(grid, grid / 2 + tr, "k--", lw=1.3, label="model mean: T/2 + transit")
        ax.plot(grid, 0.99 * grid + tr, "k:", lw=1.1, label="model p99: 0.99 T + transit")
        ax.axhline(tr, color="gray", lw=1, ls="-.", label="transit (websocket median)")
        _log_axes(ax, "polling interval T (ms)", "one-way latency (ms)")
        ax.set_title(f"{lam:g} events/s (Poisson)", fontsize="medium")
        ax.legend(fontsize="x-small", loc="upper left")


def plot_empty_fraction(ax: Any, summary: pd.DataFrame) -> None:
    """Measured empty-poll fraction (± 95 % CI over the repeats) against the
    interval, one colour per rate, with the model ``exp(-λT)``."""
    m = with_model(summary)
    colors = _rate_colors(m["rate"])
    for lam, d in m.groupby("rate"):
        d = d.sort_values("interval")
        _errorbar(ax, d["interval"] * 1e3, d, "empty_fraction", fmt="o", color=colors[lam],
                  label=f"measured, {lam:g} events/s ({_runs_label(d)})")
        grid = np.geomspace(d["interval"].min() * 0.8, d["interval"].max() * 1.25, 200)
        ax.plot(grid * 1e3, empty_poll_fraction(grid, lam), "--", color=colors[lam],
                lw=1.2, label=f"model exp(-λT), λ = {lam:g}/s")
    _log_axes(ax, "polling interval T (ms)", "fraction of polls returning no event", y=False)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def plot_overhead(axes: Sequence[Any], summary: pd.DataFrame,
                  reference: str = "websocket") -> None:
    """Bytes (up + down) and HTTP requests per delivered event against the
    interval, one colour per rate, each point ± 95 % CI over the repeats; the
    model ``1/(λT)`` on the requests axis; the ``reference`` push transport's
    bytes per event as a dotted line with its interval as a band."""
    m = with_model(summary)
    colors = _rate_colors(m["rate"])
    for lam, d in m.groupby("rate"):
        d = d.sort_values("interval")
        T = d["interval"] * 1e3
        for ax, col in zip(axes, ("bytes_per_event", "requests_per_event"), strict=True):
            _errorbar(ax, T, d, col, fmt="o-", color=colors[lam], ms=4, lw=1.1,
                      label=f"short-poll, {lam:g} events/s ({_runs_label(d)})")
        grid = np.geomspace(d["interval"].min() * 0.8, d["interval"].max() * 1.25, 100)
        axes[1].plot(grid * 1e3, short_poll_requests_per_event(grid, lam), "--",
                     color=colors[lam], lw=1.1, label=f"model 1/(λT), λ = {lam:g}/s")
        ref = summary[(summary["rate"] == lam) & (summary["transport"] == reference)]
        if len(ref):
            r = ref.iloc[0]
            axes[0].axhline(r["bytes_per_event"], color=colors[lam], ls=":", lw=1.2,
                            label=f"{reference}, {lam:g} events/s (band: 95 % CI, "
                                  f"n = {int(r['runs'])} runs)")
            if np.isfinite(r["bytes_per_event_low"]):
                axes[0].axhspan(r["bytes_per_event_low"], r["bytes_per_event_high"],
                                color=colors[lam], alpha=0.15, lw=0)
    _log_axes(axes[0], "polling interval T (ms)", "bytes per delivered event, up + down (B)")
    _log_axes(axes[1], "polling interval T (ms)", "HTTP requests per delivered event")
    for ax in axes:
        ax.legend(fontsize="x-small")


def plot_frontier(ax: Any, summary: pd.DataFrame) -> None:
    """The latency-overhead frontier: x = mean latency (ms), y = bytes per
    delivered event, both ± 95 % CI over the repeats; short-poll as one curve
    per rate (annotated with T at its ends), the `COMPARED` transports (push,
    and long-poll) as points coloured by rate."""
    from ..plots import transport_colors

    m = with_model(summary)
    colors = _rate_colors(m["rate"])
    tcol = transport_colors(list(COMPARED))
    markers = dict(zip(COMPARED, ("P", "o", "s", "D"), strict=True))

    def bars(d: pd.DataFrame, **style: Any) -> None:
        x, y = d["mean_ms"].to_numpy(float), d["bytes_per_event"].to_numpy(float)
        xerr = np.vstack([np.nan_to_num(x - d["mean_ms_low"]), np.nan_to_num(d["mean_ms_high"] - x)])
        yerr = np.vstack([np.nan_to_num(y - d["bytes_per_event_low"]),
                          np.nan_to_num(d["bytes_per_event_high"] - y)])
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, capsize=2, **style)

    for lam, d in m.groupby("rate"):
        d = d.sort_values("interval")
        bars(d, fmt=".-", color=colors[lam], lw=1.4,
             label=f"short-poll, {lam:g} events/s ({_runs_label(d)})")
        for r in d.iloc[[0, -1]].itertuples():
            ax.annotate(f"T={r.interval * 1e3:g} ms", (r.mean_ms, r.bytes_per_event),
                        fontsize="x-small", xytext=(4, 2), textcoords="offset points")
    others = summary[summary["interval"].isna()]  # every transport without an interval
    for name, d in others.groupby("transport", sort=False):
        for lam, g in d.groupby("rate"):
            bars(g, fmt=markers.get(name, "o"), ms=7, color=tcol.get(name),
                 mec=colors.get(lam, "k"), mew=1.8, zorder=3)
        ax.errorbar([], [], fmt=markers.get(name, "o"), color=tcol.get(name), ms=7,
                    label=f"{name} (edge colour = rate; {_runs_label(d)})")
    _log_axes(ax, "mean one-way latency (ms)", "bytes per delivered event, up + down (B)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def plot_ccdf(ax: Any, tail: pd.DataFrame, transit_ms: float, rate: float) -> None:
    """Tail view: the CCDF P(latency > x) of the pooled deliveries (`tail_latencies`)
    at each interval, log-log, with the model ``1 - (x - transit)/T`` dashed
    and the p99 level dotted (the model reaches it at ``0.99 T + transit``)."""
    import seaborn as sns

    intervals = sorted(tail["interval"].unique())
    palette = dict(zip(intervals, sns.color_palette("crest", len(intervals)), strict=True))
    for T in intervals:
        d = tail[tail["interval"] == T]
        x = np.sort(d["latency_ms"].to_numpy())
        n = len(x)
        y = 1.0 - np.arange(n) / n  # P(L >= x_i): the last point sits at 1/n
        ax.step(x, y, where="post", color=palette[T], lw=1.5,
                label=f"T = {T * 1e3:g} ms (n = {n:,} deliveries, "
                      f"{d['repeat'].nunique()} runs)")
        Tm = T * 1e3
        grid = np.linspace(transit_ms, Tm + transit_ms, 400)[:-1]
        ax.plot(grid, 1 - (grid - transit_ms) / Tm, "--", color=palette[T], lw=1.0)
    ax.plot([], [], "k--", lw=1.0, label="model: 1 - (x - transit)/T")
    ax.axhline(0.01, color="gray", ls=":", lw=1.0, label="p99 level (model: 0.99 T + transit)")
    _log_axes(ax, "one-way latency x (ms)", "fraction of deliveries with latency > x")
    ax.set_ylim(max(0.5 / max(len(tail), 1), 1e-4), 1.5)
    ax.set_title(f"{rate:g} events/s: latency tail", fontsize="medium")
    ax.legend(fontsize="x-small", loc="lower left")


def plot_delay(ax: Any, summary: pd.DataFrame) -> None:
    """Short polling behind a one-way delay: measured mean minus ``T/2`` (the
    latency the network adds) against ``T``, ± 95 % CI over the repeats, with
    one transit and a round trip (websocket median, twice) as lines."""
    m = with_model(summary).sort_values("interval")
    T = m["interval"].to_numpy() * 1e3
    shifted = m.assign(**{c: m[c] - T / 2 for c in ("mean_ms", "mean_ms_low", "mean_ms_high")})
    _errorbar(ax, T, shifted, "mean_ms", fmt="o", ms=6, color="C0",
              label=f"measured mean − T/2 ± 95 % CI ({_runs_label(m)})")
    tr = float(m["transit_ms"].iloc[0])
    ax.axhline(tr, color="k", ls="--", lw=1.3, label=f"one transit (websocket median) {tr:.1f} ms")
    ax.axhline(2 * tr, color="C3", ls=":", lw=1.3, label=f"round trip (2 × transit) {2 * tr:.1f} ms")
    ax.set_xscale("log")
    _plain_ticks(ax, "x")
    ax.set_xticks(T)
    ax.set_xlabel("polling interval T (ms)")
    ax.set_ylabel("mean latency − T/2 (ms)")
    top = np.nanmax(np.append(shifted["mean_ms_high"].to_numpy(dtype=float), 2.3 * tr))
    ax.set_ylim(0, 1.1 * top)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
