"""Figures of notebook 05, on axes the caller owns: RSS growth with fitted
lines and references, per-point metrics, fan-out spread and the latency tail
at one N."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ._common import _ci, _order
from .variants import ANCHORS, KIB, VARIANTS

__all__ = ["plot_latency_ccdf", "plot_metric", "plot_rss", "plot_spread"]


def _colors(names: Sequence[str]) -> dict[str, Any]:
    import seaborn as sns

    return dict(zip(names, sns.color_palette("colorblind", len(names)), strict=True))


def _names(frame: pd.DataFrame) -> list[str]:
    known = [v.name for v in VARIANTS]
    return known + [n for n in dict.fromkeys(frame.variant) if n not in known]


def _ticks(ax: Any, axis: str, values: Sequence[float] | None = None) -> None:
    from ...plots import readable_ticks  # matplotlib only when a figure is drawn

    readable_ticks(ax, axis, values)


def _errorbar(ax: Any, g: pd.DataFrame, column: str, scale: float = 1.0, **kw: Any) -> Any:
    """Points of ``column`` with their ``_low``/``_high`` bounds as error bars
    (no bar where there is no interval)."""
    y = g[column].to_numpy(dtype=float) * scale
    lo = g[f"{column}_low"].to_numpy(dtype=float) * scale
    hi = g[f"{column}_high"].to_numpy(dtype=float) * scale
    err = np.vstack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)])
    return ax.errorbar(g.clients, y, yerr=err, capsize=3, **kw)


def plot_rss(ax: Any, points: pd.DataFrame, slopes: pd.DataFrame, anchors: bool = True) -> Any:
    """Server RSS growth (MiB) against N: the mean over the repeats at each N
    with its 95 % interval, the fitted line with its 95 % confidence band and
    the slope with its interval in the legend; the references (`ANCHORS`) as
    dotted lines of their slope through the variant's fitted intercept, in its
    colour, so slopes compare directly."""
    colors = _colors(_names(points))
    xs = np.linspace(0, max(points.clients.max(), 1), 60)
    for row in slopes.itertuples():
        g = points[points.variant == row.variant]
        c = colors[row.variant]
        line = (row.kib_per_connection * KIB * xs + row.intercept_mib * KIB**2) / KIB**2
        label = (f"{row.variant}: {_ci(row, 'kib_per_connection')} KiB/conn "
                 f"(n = {row.points} runs)")
        ax.plot(xs, line, "-", color=c, lw=1.2, label=label)
        if row.points > 2 and row.sxx > 0:
            t = stats.t_quantile(0.975, row.points - 2)
            half = t * np.sqrt(row.residual_var * (1 / row.points + (xs - row.x_mean) ** 2
                                                   / row.sxx)) / KIB**2
            ax.fill_between(xs, line - half, line + half, color=c, alpha=0.15, lw=0)
        _errorbar(ax, g, "rss_growth_mib", fmt="o", color=c, ms=4)
    if anchors:  # each reference's slope through its variant's fitted intercept
        base = slopes.set_index("variant").intercept_mib
        for a in ANCHORS[ANCHORS.variant.isin(slopes.variant)].itertuples():
            ax.plot(xs, a.kib_per_connection * xs / KIB + base[a.variant], ":", lw=1.2,
                    color=colors.get(a.variant),
                    label=f"reference {a.kib_per_connection:g} KiB/conn ({a.source})")
    ax.set_xlabel("concurrent connections N")
    ax.set_ylabel("server RSS growth (MiB)")
    _ticks(ax, "x", sorted(points.clients.unique()))
    ax.tick_params(axis="x", labelrotation=30)
    ax.legend(fontsize=6.5, loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def plot_metric(ax: Any, points: pd.DataFrame, column: str, ylabel: str,
                logy: bool = True) -> Any:
    """One line per variant of ``column`` (mean over the repeats, 95 % t interval
    as error bars) against N on a log axis; n runs per point in the legend."""
    colors = _colors(_names(points))
    for name in _order(points):
        g = points[points.variant == name].sort_values("clients")
        runs = "/".join(str(r) for r in sorted(set(g.runs)))
        _errorbar(ax, g, column, fmt="o-", color=colors[name], ms=4,
                  label=f"{name} (n = {runs} runs per point)")
    ax.set_xlabel("concurrent connections N")
    ax.set_ylabel(ylabel)
    ax.set_xscale("log")
    _ticks(ax, "x", sorted(points.clients.unique()))
    if logy:
        ax.set_yscale("log")
        _ticks(ax, "y")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_spread(ax: Any, points: pd.DataFrame, tail: str, tail_label: str) -> Any:
    """Fan-out spread against N: the median over a run's events (filled, solid)
    and its tail ``tail`` (hollow, dashed; ``tail_label`` is "p99" or "max"),
    each the mean over the repeats with a 95 % t interval."""
    from matplotlib.lines import Line2D

    colors = _colors(_names(points))
    handles = []
    for name in _order(points):
        g = points[points.variant == name].sort_values("clients")
        c = colors[name]
        _errorbar(ax, g, "spread_p50_ms", fmt="o-", color=c, ms=4)
        _errorbar(ax, g, tail, fmt="o--", color=c, ms=5, mfc="none")
        runs = "/".join(str(r) for r in sorted(set(g.runs)))
        handles.append(Line2D([], [], color=c, marker="o", label=f"{name} (n = {runs} runs)"))
    handles += [Line2D([], [], color="gray", marker="o", label="median over events"),
                Line2D([], [], color="gray", marker="o", mfc="none", ls="--",
                       label=f"{tail_label} over events")]
    ax.set_xlabel("concurrent connections N")
    ax.set_ylabel(f"fan-out spread per event (ms): median and {tail_label}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks(ax, "x", sorted(points.clients.unique()))
    _ticks(ax, "y")
    ax.legend(handles=handles, fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_latency_ccdf(ax: Any, latencies: Mapping[str, np.ndarray], runs: Mapping[str, int],
                      clients: int) -> Any:
    """The latency tail at one N: per variant, P(latency >= x) of every measured
    delivery of its runs (pooled over the repeats) on log-log axes, with the
    deliveries and runs it rests on in the legend."""
    colors = _colors(_names(pd.DataFrame({"variant": list(latencies)})))
    for name, values in latencies.items():
        x = np.sort(np.asarray(values, dtype=float)) / 1e3
        if not len(x):
            continue
        y = (len(x) - np.arange(len(x))) / len(x)
        ax.step(x, y, where="post", color=colors[name], lw=1.4,
                label=f"{name} (n = {len(x):,} deliveries, {runs.get(name, 0)} runs)")
    ax.axhline(0.01, color="gray", lw=0.8, ls=":", label="P = 0.01 (the p99)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks(ax, "x")
    _ticks(ax, "y")
    ax.set_xlabel(f"one-way latency at N = {clients:,} (ms)")
    ax.set_ylabel("fraction of deliveries ≥ x")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax
