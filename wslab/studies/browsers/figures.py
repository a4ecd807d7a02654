"""Notebook 11's figures: latency of Chromium beside the Python clients, and
request head bytes per poll with and without cookies beside the model."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ... import plots
from .tables import COOKIE_LINE_BYTES

__all__ = ["header_figure", "latency_figure"]

CLIENT_COLORS = {"python": "tab:blue", "chromium": "tab:orange"}


def latency_figure(compare: pd.DataFrame) -> plt.Figure:
    """p50 and p99 per transport (log axis), Chromium beside Python: mean over
    runs with its 95 % t interval as error bars; n runs in the legend."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=False)
    transports = list(dict.fromkeys(compare.transport))
    x = np.arange(len(transports))
    for ax, q in zip(axes, ("latency p50 (ms)", "latency p99 (ms)"), strict=True):
        for k, (client, color) in enumerate(CLIENT_COLORS.items()):
            d = compare[(compare.quantity == q) & (compare.client == client)]
            d = d.set_index("transport").reindex(transports)
            err = np.vstack([d["mean"] - d.low, d.high - d["mean"]])
            ax.bar(x + (k - 0.5) * 0.38, d["mean"], 0.38, color=color,
                   yerr=np.nan_to_num(err), capsize=3,
                   label=f"{client} (n = {int(d.n.max())} runs each)")
        ax.set_xticks(x, transports)
        # push transports deliver in ms, short polling in a fraction of its interval
        ax.set_yscale("log")
        ax.set_ylabel(f"{q.split(' (')[0]} (ms, log scale)")
        ax.set_title(q.split(" (")[0])
        ax.legend(fontsize=8)
        plots.readable_ticks(ax, "y")
    return fig


def header_figure(heads: pd.DataFrame, bare: float) -> plt.Figure:
    """Request line + headers per short poll, per client kind: mean over runs
    with its 95 % t interval; the model for each cookie jar (head without
    cookies + jar + ``Cookie: `` and CRLF) as a marker."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    y = np.arange(len(heads))
    err = np.nan_to_num(np.vstack([heads["mean"] - heads.low, heads.high - heads["mean"]]))
    ax.barh(y, heads["mean"], xerr=err, capsize=3, color="tab:gray",
            label=f"measured (n = {int(heads.n.max())} runs each)")
    for k, who in enumerate(heads.who):
        if who.startswith("chromium, ") and " B of cookies" in who:
            jar = float(who.split(", ")[1].split(" B")[0])
            ax.plot(bare + jar + COOKIE_LINE_BYTES, k, "kd",
                    label=f"model: no-cookie head + jar + {COOKIE_LINE_BYTES} B")
    handles, labels = ax.get_legend_handles_labels()
    keep = dict(zip(labels, handles, strict=True))
    ax.legend(keep.values(), keep.keys(), fontsize=8, loc="lower right")
    ax.set_yticks(y, heads.who)
    ax.set_xlabel("request line + headers per poll (bytes, kernel-counted)")
    plots.readable_ticks(ax, "x")
    return fig
