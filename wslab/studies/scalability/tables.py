"""Estimates with intervals from the scale sweep: slopes over N per variant
(memory and CPU per connection), the references' verdicts, per-point means
over the repeats, the tail a figure may call a p99, capacity per core, the
machine's limits, and the findings."""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ._common import _ci, _order
from .variants import ANCHORS, KIB

__all__ = [
    "TAIL_MIN_VALUES", "anchor_checks", "capacity_table", "cpu_slopes", "findings", "fit_slope",
    "machine_limits", "point_table", "slope_table", "tail_choice",
]

#: A tail statistic is a p99 only over at least this many values per run.
TAIL_MIN_VALUES = 1_000


def fit_slope(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Least-squares line ``y = slope * x + intercept`` with a t interval on the slope.

    Returns ``slope``, ``slope_low``, ``slope_high`` (Student t with
    ``points - 2`` degrees of freedom: NaN with fewer than 3 points),
    ``slope_se``, ``intercept``, ``r2``, ``points`` and ``x_mean`` / ``sxx`` /
    ``residual_var`` (for a confidence band of the line). NaN pairs are
    dropped; fewer than two distinct x give a NaN slope (a single ratio is
    not a slope).
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n = len(xa)
    nan = math.nan
    out = {"slope": nan, "slope_low": nan, "slope_high": nan, "slope_se": nan,
           "intercept": nan, "r2": nan, "points": n, "x_mean": nan, "sxx": nan,
           "residual_var": nan}
    if len(np.unique(xa)) < 2:
        return out
    slope, intercept = np.polyfit(xa, ya, 1)
    resid = ya - (slope * xa + intercept)
    total = float(((ya - ya.mean()) ** 2).sum())
    sxx = float(((xa - xa.mean()) ** 2).sum())
    out.update(slope=float(slope), intercept=float(intercept), x_mean=float(xa.mean()), sxx=sxx,
               r2=1.0 - float((resid**2).sum()) / total if total > 0 else 1.0)
    if n > 2:
        var = float((resid**2).sum()) / (n - 2)
        se = math.sqrt(var / sxx)
        h = stats.t_quantile((1 + level) / 2, n - 2) * se
        out.update(slope_se=se, slope_low=float(slope) - h, slope_high=float(slope) + h,
                   residual_var=var)
    return out


def slope_table(frame: pd.DataFrame, x: str = "clients", y: str = "rss_growth_bytes",
                order: Sequence[str] | None = None, *, scale: float = KIB,
                name: str = "kib_per_connection", intercept_scale: float = KIB**2,
                intercept_name: str = "intercept_mib") -> pd.DataFrame:
    """Per variant: the fitted slope of ``y`` over ``x`` divided by ``scale``
    (default: memory per connection in KiB) with its 95 % interval and ``_n``
    (runs), the intercept (default MiB), r², the largest N, and the first
    anchor for that variant (``anchor_kib``, NaN if none).

    Columns also carry the band terms (``x_mean``, ``sxx``, ``residual_var``
    in ``y`` units) that `plot_rss` needs to draw the line's interval.
    """
    rows = []
    for variant in _order(frame, order):
        g = frame[frame.variant == variant]
        fit = fit_slope(g[x], g[y])
        anchor = ANCHORS[ANCHORS.variant == variant].kib_per_connection
        rows.append({"variant": variant, name: fit["slope"] / scale,
                     f"{name}_low": fit["slope_low"] / scale,
                     f"{name}_high": fit["slope_high"] / scale, f"{name}_n": fit["points"],
                     intercept_name: fit["intercept"] / intercept_scale, "r2": fit["r2"],
                     "points": fit["points"], "max_clients": int(g[x].max()),
                     "anchor_kib": float(anchor.iloc[0]) if len(anchor) else np.nan,
                     "x_mean": fit["x_mean"], "sxx": fit["sxx"],
                     "residual_var": fit["residual_var"]})
    return pd.DataFrame(rows)


def cpu_slopes(frame: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Per variant: server CPU per published event over N; the slope is the CPU
    one more connection costs per event (``us_per_connection``, µs, with its
    95 % interval), the intercept the fixed cost of an event (``intercept_us``)."""
    out = slope_table(frame, y="cpu_us_per_event", order=order, scale=1.0,
                      name="us_per_connection", intercept_scale=1.0,
                      intercept_name="intercept_us")
    return out.drop(columns=["anchor_kib"])


def _estimate(row: Any, name: str, method: str) -> stats.Estimate:
    return stats.Estimate(float(getattr(row, name)), float(getattr(row, f"{name}_low")),
                          float(getattr(row, f"{name}_high")), int(getattr(row, f"{name}_n")),
                          method)


def anchor_checks(slopes: pd.DataFrame) -> pd.DataFrame:
    """Each reference of `ANCHORS` beside the measured slope of its variant.

    Columns ``variant``, ``source``, ``measured`` (KiB per connection),
    ``low``, ``high``, ``n`` (runs), ``reference`` (KiB), ``verdict``
    (computed: ``reference inside 95 % CI`` or ``reference above CI by x %``
    ...) and ``method``. Variants that were not measured are left out.
    """
    rows = []
    for a in ANCHORS.itertuples():
        match = slopes[slopes.variant == a.variant]
        if match.empty:
            continue
        est = _estimate(next(match.itertuples()), "kib_per_connection",
                        "OLS slope of RSS over N, t interval over runs")
        rows.append({"variant": a.variant, "source": a.source, "measured": est,
                     "model": float(a.kib_per_connection)})
    checks = stats.check_table(rows)
    if checks.empty:
        return pd.DataFrame(columns=["variant", "source", "measured", "low", "high", "n",
                                     "reference", "verdict", "method"])
    checks["verdict"] = checks.verdict.str.replace("model", "reference", n=1)
    checks = checks.rename(columns={"model": "reference"}).drop(columns=["quantity"])
    return checks[["variant", "source", "measured", "low", "high", "n", "reference", "verdict",
                   "method"]]


#: Per-run metrics `point_table` summarises by default.
POINT_METRICS = ("rss_growth_mib", "cpu_us_per_delivery", "latency_p99_ms", "latency_max_ms",
                 "spread_p50_ms", "spread_p99_ms", "spread_max_ms")


def point_table(frame: pd.DataFrame, metrics: Sequence[str] = POINT_METRICS,
                order: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (variant, N): each metric's mean over the repeats with a 95 %
    Student t interval (``_low``, ``_high``, ``_n`` runs; NaN bounds from one
    run), ``runs``, and the fewest ``deliveries_measured`` and
    ``events_measured`` of a run at that point (what a tail rests on)."""
    rows = []
    for variant in _order(frame, order):
        for n, g in frame[frame.variant == variant].groupby("clients", sort=True):
            row: dict[str, Any] = {"variant": variant, "clients": int(n), "runs": len(g),
                                   "deliveries_measured": g.deliveries_measured.min(),
                                   "events_measured": g.events_measured.min()}
            for m in metrics:
                row.update(stats.mean_ci_columns(g[m].to_numpy(dtype=float), m))
            rows.append(row)
    return pd.DataFrame(rows)


def tail_choice(frame: pd.DataFrame, count: str, p99: str, maximum: str) -> tuple[str, str]:
    """The tail column a figure may show and its label: ``(p99, "p99")`` when every
    run rests on at least `TAIL_MIN_VALUES` values of ``count``, else
    ``(maximum, "max")`` (a "p99" of fewer values is their maximum or close to it)."""
    counts = frame[count].to_numpy(dtype=float)
    if len(counts) and np.nanmin(counts) >= TAIL_MIN_VALUES:
        return p99, "p99"
    return maximum, "max"


def capacity_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per variant at its largest N: CPU per delivery (mean over the repeats,
    95 % t interval, ``_n`` runs), the deliveries/s one core could sustain at
    that cost (``1e6 / cpu``; its interval is the bounds' inverses) and the
    event rate at which a broadcast to that N would saturate one core."""
    points = point_table(frame, ["cpu_us_per_delivery"])
    rows = []
    for variant, g in points.groupby("variant", sort=False):
        top = g.loc[g.clients.idxmax()]
        cpu, lo, hi = (float(top[f"cpu_us_per_delivery{s}"]) for s in ("", "_low", "_high"))

        def inv(v: float) -> float:
            return 1e6 / v if v > 0 else np.inf

        rows.append({"variant": variant, "clients": int(top.clients),
                     "cpu_us_per_delivery": cpu, "cpu_us_per_delivery_low": lo,
                     "cpu_us_per_delivery_high": hi, "runs": int(top.runs),
                     "deliveries_per_s_per_core": inv(cpu),
                     "deliveries_per_s_per_core_low": inv(hi),
                     "deliveries_per_s_per_core_high": inv(lo),
                     "saturating_rate_per_s": inv(cpu) / top.clients,
                     "saturating_rate_per_s_low": inv(hi) / top.clients,
                     "saturating_rate_per_s_high": inv(lo) / top.clients})
    return pd.DataFrame(rows)


def machine_limits() -> dict[str, Any]:
    """What bounds N on this machine, read from it: the open-file limits of a
    process (soft, hard), the clients one server process may hold
    (`wslab.runner.config.max_clients`), the loopback ephemeral port range
    (ports one source address can use towards one server port), cores and memory."""
    import psutil

    from ...runner.config import max_clients

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(v) for v in f.read().split())
        ports: int | None = hi - lo + 1
    except (OSError, ValueError):
        ports = None
    return {"open_files_soft": soft, "open_files_hard": hard,
            "clients_per_server_process": max_clients(), "ephemeral_ports": ports,
            "cores": os.cpu_count(), "memory_gib": psutil.virtual_memory().total / KIB**3}


def findings(slopes: pd.DataFrame, checks: pd.DataFrame, cpu: pd.DataFrame,
             capacity: pd.DataFrame, points: pd.DataFrame) -> list[str]:
    """The sentences the closing section rests on, every number and verdict computed."""
    lines = []
    for r in slopes.itertuples():
        lines.append(f"{r.variant}: {_ci(r, 'kib_per_connection')} KiB per connection "
                     f"(OLS over {r.points} runs up to N = {r.max_clients:,}, r² {r.r2:.3f})")
    for c in checks.itertuples():
        lines.append(f"{c.variant} vs {c.source} ({c.reference:g} KiB): {c.verdict}")
    ranked = slopes.dropna(subset=["kib_per_connection"]).sort_values("kib_per_connection")
    if len(ranked) > 1:
        lo, hi = ranked.iloc[0], ranked.iloc[-1]
        apart = hi.kib_per_connection_low > lo.kib_per_connection_high
        lines.append(f"least memory per connection: {lo.variant}, most: {hi.variant} "
                     f"({'intervals apart' if apart else 'intervals overlap'})")
    for r in cpu.itertuples():
        lines.append(f"{r.variant}: {_ci(r, 'us_per_connection')} µs server CPU per "
                     f"connection per event (OLS over {r.points} runs)")
    for r in capacity.itertuples():
        lines.append(f"{r.variant} at N = {r.clients:,}: {_ci(r, 'cpu_us_per_delivery')} µs "
                     f"CPU per delivery (n = {r.runs} runs): one core saturates near "
                     f"{_ci(r, 'saturating_rate_per_s')} events/s to all of them")
    for variant, g in points.groupby("variant", sort=False):
        g = g.sort_values("clients")
        if len(g) < 2:
            continue
        a, b = g.iloc[0], g.iloc[-1]
        grows = b.spread_p50_ms_low > a.spread_p50_ms_high
        lines.append(f"{variant}: median fan-out spread {_ci(a, 'spread_p50_ms')} ms at "
                     f"N = {a.clients:,}, {_ci(b, 'spread_p50_ms')} ms at "
                     f"N = {b.clients:,}: " + ("grows with N (intervals apart)" if grows
                                                else "no growth shown (intervals overlap)"))
    return lines
