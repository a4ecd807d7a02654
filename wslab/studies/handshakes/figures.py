"""The handshake figure: time to first event per transport at each delay, model beside it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ... import plots
from ...models.handshake import TRANSPORTS

__all__ = ["ttfe_figure"]

_TITLES = {"clear": "clear text", "1.2": "TLS 1.2", "1.3": "TLS 1.3"}


def ttfe_figure(table: pd.DataFrame) -> Figure:
    """One panel per TLS mode (`wslab.studies.handshakes.checks.ttfe_table`): the mean
    time to first event with its 95 % interval per transport (dodged around each
    delay), the proxy-path model (solid line, anchored at 0 ms) and the real
    network path's model (dashed: one more round trip, the SYN's)."""
    modes = [m for m in ("clear", "1.2", "1.3") if m in set(table["tls"])]
    fig, axes = plt.subplots(1, len(modes), figsize=(4.2 * len(modes), 3.8), sharey=True,
                             squeeze=False)
    present = set(table["transport"])
    names = [t for t in TRANSPORTS if t in present]  # the kit's order: tcp, websocket, ...
    colors = plots.transport_colors(names)
    delays = sorted(set(table["delay_ms"]))
    width = 0.6 * (min(np.diff(delays)) if len(delays) > 1 else 10.0) / max(len(names), 1)
    for ax, mode in zip(axes[0], modes, strict=True):
        sub = table[table["tls"] == mode]
        for k, name in enumerate(names):
            g = sub[sub["transport"] == name].sort_values("delay_ms")
            x = g["delay_ms"] + (k - (len(names) - 1) / 2) * width
            ax.errorbar(x, g["ttfe_ms"], yerr=[g["ttfe_ms"] - g["low"], g["high"] - g["ttfe_ms"]],
                        fmt="o", ms=4, capsize=2, color=colors[name],
                        label=f"{name} (n={int(g['n'].min())}/point)")
        model = sub.groupby("delay_ms")[["model_ms", "network_model_ms"]].mean()
        rtts = int(sub["rtts"].iloc[0])
        ax.plot(model.index, model["model_ms"], "-", color="0.3", lw=1,
                label=f"model, proxy path: {rtts} RTT")
        ax.plot(model.index, model["network_model_ms"], "--", color="0.6", lw=1,
                label=f"model, real path: {rtts + 1} RTT (SYN delayed too; not measured)")
        ax.set_title(_TITLES[mode])
        ax.set_xlabel("one-way delay added each direction (ms)")
        ax.set_xticks(delays)
        plots.readable_ticks(ax, "y")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    # headroom above the highest interval, so the legends cover no point
    axes[0][0].set_ylim(top=1.75 * max(float(table["high"].max()), float(table["network_model_ms"].max())))
    axes[0][0].set_ylabel("time to first event (ms)\nconnect() to the event in hand")
    fig.legend(handles=[Line2D([], [], ls="", marker="o", color="0.2",
                               label="measured mean, 95 % CI")],
               loc="lower right", fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
