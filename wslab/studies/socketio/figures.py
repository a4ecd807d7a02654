"""Notebook 12's figures, drawn on axes the caller owns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ... import plots, stats
from ...models import sio_ws_event_bytes, ws_frame_bytes
from .tables import KIB

__all__ = ["plot_memory", "plot_summary"]

_PANELS = (("bytes_per_event", "bytes per event (both ways, after set-up)"),
           ("latency_p50_ms", "latency (ms)"),
           ("cpu_us_per_delivery", "server CPU per delivery (µs)"),
           ("kib_per_conn", "server memory per connection (KiB)"))


def _colors(variants: Sequence[str]) -> dict[str, str]:
    palette = plots.transport_colors()
    fallback = iter(["tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"])
    return {v: palette.get(v, next(fallback)) for v in variants}


def _bars(ax: Axes, table: pd.DataFrame, col: str, x: np.ndarray, colors: list[str],
          offset: float = 0.0, width: float = 0.7, **kw) -> None:
    y = table[col].to_numpy(float)
    err = np.vstack([y - table[f"{col}_low"].to_numpy(float),
                     table[f"{col}_high"].to_numpy(float) - y])
    err = np.where(np.isfinite(err), err, 0.0)
    ax.bar(x + offset, y, width, color=colors, yerr=err, capsize=3, **kw)


def plot_summary(axes: Sequence[Axes], table: pd.DataFrame) -> None:
    """Four panels of `summary_table`: bytes per event (with the framing
    models as black ticks), latency p50 and p99, CPU per delivery and memory
    per connection; error bars are the 95 % intervals, n under each panel."""
    variants = list(table.variant)
    colors = [c for c in _colors(variants).values()]
    x = np.arange(len(variants))
    for ax, (col, label) in zip(axes, _PANELS, strict=True):
        if col == "latency_p50_ms":
            _bars(ax, table, "latency_p50_ms", x, colors, -0.2, 0.4, label="p50")
            _bars(ax, table, "latency_p99_ms", x, colors, 0.2, 0.4, alpha=0.5, hatch="//",
                  label="p99")
            ax.legend(fontsize=7)
            n = table["latency_p50_ms_n"]
        else:
            _bars(ax, table, col, x, colors)
            n = table[f"{col}_n"]
        if col == "bytes_per_event" and "body_bytes" in table:
            body = table.body_bytes.to_numpy(float)
            for i, v in enumerate(variants):
                model = {"websocket": lambda b: ws_frame_bytes(b, masked=False),
                         "socketio/websocket": sio_ws_event_bytes}.get(v)
                if model is not None and np.isfinite(body[i]):
                    ax.hlines(float(model(round(body[i]))), i - 0.4, i + 0.4, color="k",
                              lw=2, label="framing model" if v == "websocket" else "_nolegend_")
            ax.legend(fontsize=7)
        counts = [f"n={int(k)}" if np.isfinite(k) else "not measured" for k in n]
        ax.set_xticks(x, [f"{v}\n{k}" for v, k in zip(variants, counts, strict=True)],
                      rotation=45, ha="right", fontsize=7)
        ax.set_ylabel(label)
        plots.readable_ticks(ax, "y")


def plot_memory(ax: Axes, frame: pd.DataFrame) -> None:
    """Server RSS growth (MiB) over connections N per variant, measured points
    and the least-squares line through them (dashed), on log-log axes."""
    for variant, color in _colors(list(dict.fromkeys(frame.variant))).items():
        g = frame[frame.variant == variant].sort_values("clients")
        ax.plot(g.clients, g.rss_growth_bytes / KIB**2, "o", color=color,
                label=f"{variant} (n={len(g)} runs)")
        est = stats.slope_ci(g.clients, g.rss_growth_bytes / KIB)
        if np.isfinite(est.value):
            xs = np.array([g.clients.min(), g.clients.max()], float)
            ys = (np.polyfit(g.clients, g.rss_growth_bytes / KIB**2, 1)[1]
                  + est.value * xs / KIB)
            ax.plot(xs, ys, "--", color=color, lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("connections N")
    ax.set_ylabel("server RSS growth (MiB)")
    ax.legend(fontsize=7)
    plots.readable_ticks(ax, "x")
