"""Notebook 10's figure: half-open handshakes held over time, per server."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...plots import readable_ticks
from .slowloris import held_over_time

__all__ = ["slowloris_figure"]


def slowloris_figure(df: pd.DataFrame, points: int = 300) -> Figure:
    """Half-open connections each server still holds against time since they
    opened (`measure_slowloris` rows): the mean over rounds with its 95 %
    band (t interval over rounds, clipped to [0, count]), and the timeout
    model as a dashed step in the same colour. Past the probe's bound nothing
    was measured (shaded)."""
    bound = float(df["max_s"].iloc[0])
    times = np.linspace(0.0, bound, points)
    held = held_over_time(df, times)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    colors = [plt.get_cmap("tab10")(k) for k in range(10)]
    for k, (label, g) in enumerate(held.groupby("series", sort=False)):
        color = colors[k % len(colors)]
        count, rounds = g["model"].iloc[0], int(g["n"].iloc[0])
        # thinner on top: where the series coincide (before any timeout) all show
        ax.plot(g["t_s"], g["held"], color=color, lw=5.0 - 1.1 * k, alpha=0.85,
                label=f"{label}: measured, mean of {rounds} rounds × {count:.0f}, 95 % band")
        ax.fill_between(g["t_s"], g["held_low"].clip(0, count), g["held_high"].clip(0, count),
                        color=color, alpha=0.2, lw=0)
        model_s = df.loc[df["series"] == label, "model_s"].iloc[0]
        text = f"T = {model_s:,.0f} s, off the axis" if model_s > bound else f"T = {model_s:g} s"
        ax.plot(g["t_s"], g["model"], color=color, ls="--", lw=1, drawstyle="steps-post",
                label=f"model: {text}")
    ax.axvspan(bound, bound * 1.08, color="0.9", lw=0)
    ax.text(bound * 1.04, 0.5, "not measured\n(probe's bound)", rotation=90, ha="center",
            va="bottom", fontsize=7, color="0.4")
    ax.set_xlim(0, bound * 1.08)
    ax.set_xlabel("time since the half-open connections opened (s)")
    ax.set_ylabel("half-open handshakes held by the server")
    ax.set_title("Slowloris: how long each server holds a handshake that never ends")
    readable_ticks(ax)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig
