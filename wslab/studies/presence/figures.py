"""Figures of notebook 08: the presence frontier (detection time against heartbeat bytes)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...core.machine import machine_info, versions

__all__ = ["frontier_figure", "presence_caption"]

_LABEL_DY = (6, -18, 2, 16)  # points: the production labels sit close together
_MARKERS = {"websocket": "o", "sse": "s", "long-poll": "^", "keepalive": "D"}


def presence_caption(clients: int, window: float) -> str:
    """The setup line: machine, versions, clients per configuration, cost window."""
    mach, ver = machine_info(), versions()
    vers = ", ".join(f"{k} {v}" for k, v in ver.items())
    return (f"Setup: {mach['cores']} cores, {mach['cpu']}, {mach['os']} | {vers} | "
            f"n = {clients} vanishing clients per configuration (one silent vanish: veth "
            f"down between two network namespaces), cost over {window:g} s")


def _plain(x: float, _pos: int) -> str:
    return f"{x:g}"


def frontier_figure(measured: pd.DataFrame, production: pd.DataFrame) -> Figure:
    """Detection time against wire bytes per second per client, log axes.

    Measured (filled markers, 95 % intervals on both axes, n in the legend)
    with the model's detection interval of each configuration as a grey bar;
    production defaults drawn hollow with their model interval, labelled
    "model".
    """
    fig, ax = plt.subplots(figsize=(8, 5.2))
    for mech, g in measured.groupby("mechanism", sort=False):
        ax.errorbar(g["wire_Bps"], g["detect_s"],
                    xerr=[g["wire_Bps"] - g["wire_low"], g["wire_high"] - g["wire_Bps"]],
                    yerr=[g["detect_s"] - g["detect_low"], g["detect_high"] - g["detect_s"]],
                    fmt=_MARKERS.get(str(mech), "o"), ms=6, capsize=3,
                    label=f"{mech}, measured (mean, 95 % CI, n = {int(g['n'].min())} each)")
        ax.vlines(g["wire_Bps"], g["model_low"], g["model_high"], colors="0.6", lw=5,
                  alpha=0.5, zorder=0)
    ax.vlines([], [], [], colors="0.6", lw=5, alpha=0.5, label="model interval [low, high]")
    for k, (_, row) in enumerate(production.iterrows()):
        ax.errorbar([row["wire_Bps"]], [row["detect_mean_s"]],
                    yerr=[[row["detect_mean_s"] - row["detect_low_s"]],
                          [row["detect_high_s"] - row["detect_mean_s"]]],
                    fmt="*", mfc="none", ms=11, capsize=3, color="0.25", ls="none")
        ax.annotate(f"{row['stack']} ({row['interval_s']:g} s / {row['timeout_s']:g} s), model",
                    (row["wire_Bps"], row["detect_mean_s"]), textcoords="offset points",
                    xytext=(8, _LABEL_DY[k % len(_LABEL_DY)]), fontsize=7)
    ax.plot([], [], "*", mfc="none", ms=11, color="0.25",
            label="production default, model only (not measured)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(_plain))
    ax.set_xlabel("heartbeat cost on the wire per client (bytes/s, payload + 52 B per segment)")
    ax.set_ylabel("detection time after a silent vanish (s)")
    ax.set_title("Presence frontier: detection time vs heartbeat bandwidth")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig
