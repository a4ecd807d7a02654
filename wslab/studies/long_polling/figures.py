"""Figures of notebook 03, on axes the caller owns: batching against λc,
latency against rate per delay, bytes per delivered event; every point a mean
over the repeats with its 95 % CI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from ...models import long_poll_mean_latency
from ._common import LP, _estimate
from .checks import STEADY, WHOLE_RUN
from .costs import bytes_table

__all__ = ["plot_batching", "plot_bytes", "plot_latency_vs_rate"]


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
    from ...plots import transport_colors

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
    from ...plots import transport_colors

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
