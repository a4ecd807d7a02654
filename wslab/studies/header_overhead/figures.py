"""Figures of notebook 04, on axes the caller owns: the byte anatomy as
stacked bars and the Kaazing example as grouped bars on a log axis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_anatomy", "plot_kaazing"]


def plot_anatomy(ax: Any, table: pd.DataFrame) -> Any:
    """Stacked bars of `anatomy_table` (or its `with_intervals`): request headers,
    response headers, body, TCP/IP; the total's 95 % interval as an error bar
    where the table has ``total_low`` / ``total_high``, and the polls or
    frames counted (``counted``, ``unit``) under each bar."""
    parts = [("request_headers", "request line + headers (up)", "tab:blue", ""),
             ("response_headers", "status line + headers / frame header (down)", "tab:orange",
              ""),
             ("body", "event body (+ JSON array)", "tab:gray", ""),
             ("tcpip", "TCP/IP headers (52 B per segment, both ways)", "white", "//")]
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for col, label, color, hatch in parts:
        ax.bar(x, table[col], 0.6, bottom=bottom, color=color, hatch=hatch,
               edgecolor="black", lw=0.5, label=label)
        bottom += table[col].to_numpy(dtype=float)
    if "total_low" in table:
        lo = np.nan_to_num(bottom - table.total_low.to_numpy(dtype=float))
        hi = np.nan_to_num(table.total_high.to_numpy(dtype=float) - bottom)
        ax.errorbar(x, bottom, yerr=np.vstack([lo, hi]), fmt="none", ecolor="black",
                    capsize=4, lw=1, label="95 % interval of the total (t, over repeats)")
    for xi, total, hdr in zip(x, bottom, table["header_bytes"], strict=True):
        ax.text(xi + 0.32, total, f"{total:.0f} B\n(headers {hdr:.0f} B)", ha="left",
                va="center", fontsize="x-small")
    ticks = []
    for label, row in table.iterrows():
        tick = str(label).replace(" (", "\n(")
        if "counted" in table:
            tick += f"\nn = {int(row.counted):,} {row.unit}"
        ticks.append(tick)
    ax.set_xticks(x, ticks, fontsize="small")
    ax.set_ylabel("bytes per request + response, or per frame (B)")
    ax.set_ylim(0, bottom.max() * 1.15)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y", alpha=0.4)
    ax.set_axisbelow(True)
    return ax


def plot_kaazing(ax: Any, table: pd.DataFrame) -> Any:
    """Grouped bars of `kaazing_three_way`: Mbit/s (SI) per client count, log y.

    One colour per transport, one look per method: paper dotted, model pale,
    measured solid, measured + TCP/IP hatched; 95 % intervals as error bars
    where the table has them. Extrapolated bars (``extrapolated``) are hollow
    with a dashed edge, so they are never mistaken for measurements.
    """
    import matplotlib
    from matplotlib.patches import Patch

    from ...plots import readable_ticks

    series = list(dict.fromkeys(zip(table.transport, table.method, strict=True)))
    transports = list(dict.fromkeys(table.transport))
    cmap = matplotlib.colormaps["tab10"]
    color = {t: cmap(i % 10) for i, t in enumerate(transports)}
    look = {"paper": ("..", 1.0), "model": ("", 0.45), "measured": ("", 1.0),
            "measured + TCP/IP": ("//", 1.0)}
    counts = sorted(table.clients.unique())
    width = 0.85 / len(series)
    handles: list[Any] = []
    for k, (transport, method) in enumerate(series):
        part = table[(table.transport == transport) & (table.method == method)]
        part = part.set_index("clients").reindex(counts)
        hatch, alpha = look[method]
        xs = np.arange(len(counts)) + (k - (len(series) - 1) / 2) * width
        extra = part.extrapolated.fillna(False).astype(bool).to_numpy()
        c = color[transport]
        bars = ax.bar(xs, part.mbit_s, width, color=[(1, 1, 1, 1) if e else c for e in extra],
                      alpha=alpha, hatch=hatch, edgecolor=[c if e else "black" for e in extra],
                      lw=[1.0 if e else 0.4 for e in extra])
        for bar, e in zip(bars, extra, strict=True):
            if e:
                bar.set_linestyle("--")
        lo, hi = part.mbit_s_low.to_numpy(dtype=float), part.mbit_s_high.to_numpy(dtype=float)
        if np.isfinite(lo).any():
            y = part.mbit_s.to_numpy(dtype=float)
            ax.errorbar(xs, y, yerr=np.vstack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)]),
                        fmt="none", ecolor="black", capsize=2, lw=0.8)
        handles.append(Patch(facecolor=c, alpha=alpha, hatch=hatch, edgecolor="black", lw=0.4,
                             label=f"{transport}: {method}"))
    if table.extrapolated.any():
        handles.append(Patch(facecolor="white", edgecolor="gray", ls="--",
                             label="hollow, dashed: extrapolated linearly from the measured N"))
    if np.isfinite(table.mbit_s_low.to_numpy(dtype=float)).any():
        handles.append(matplotlib.lines.Line2D([], [], color="black", marker="|", ls="none",
                                               label="95 % interval (t, over repeats)"))
    ax.set_yscale("log")
    readable_ticks(ax, "y")
    ax.set_xticks(np.arange(len(counts)), [f"{n:,} clients" for n in counts])
    ax.set_ylabel("overhead bandwidth (Mbit/s, SI: bits / 10^6)")
    ax.legend(handles=handles, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.set_axisbelow(True)
    return ax
