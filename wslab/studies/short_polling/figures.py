"""Figures of notebook 02, on axes the caller owns: every point with its 95 %
interval over the repeats, the models as lines, plain numbers on log axes."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from ...core.errors import ConfigError
from ...models import empty_poll_fraction, short_poll_requests_per_event
from .planning import COMPARED
from .tables import with_model

__all__ = [
    "plot_ccdf", "plot_delay", "plot_empty_fraction", "plot_frontier", "plot_latency_vs_interval",
    "plot_overhead",
]

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
    from ...plots import transport_colors

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
