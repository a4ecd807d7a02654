"""Tables of the interval sweep from `wslab.Experiment` rows: one row per run
in the figures' units (`run_table`), per sweep point with t intervals over the
repeats (`summarise`), the models beside them (`with_model`), the model alone,
the tail's deliveries and the figures' caption."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ...analysis import machine_caption, transit_us
from ...core.errors import ConfigError
from ...models import (
    empty_poll_fraction,
    short_poll_latency_mean,
    short_poll_latency_quantile,
    short_poll_requests_per_event,
)
from ...runner.store import Run

__all__ = [
    "KEYS", "METRICS", "interval_sweep_caption", "model_table", "run_table", "summarise",
    "tail_latencies", "with_model",
]

#: What identifies one point of the sweep (its runs are the repeats).
KEYS = ["transport", "rate", "interval", "delay"]

#: Per-run metrics `summarise` gives with an interval over the repeats.
METRICS = ("mean_ms", "p50_ms", "p99_ms", "bytes_per_event", "requests_per_event",
           "empty_fraction", "polls_per_client", "extra_polls")


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
            row.update(stats.mean_ci_columns(g[m].to_numpy(dtype=float), m, level))
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
