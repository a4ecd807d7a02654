"""The compression figure: wire ratio per setting, payload kind and size."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .trials import BASELINE

__all__ = ["ratio_figure"]


def ratio_figure(costs: pd.DataFrame, checks: pd.DataFrame) -> Figure:
    """One panel per payload size: bytes per event down over the uncompressed
    baseline's for each compressed setting and payload kind (mean over
    repeats, 95 % t interval), with zlib's offline ratio on the same bodies
    (the model) as a black marker."""
    import matplotlib.pyplot as plt

    sizes = sorted(costs.payload.unique())
    kinds = list(dict.fromkeys(costs.payload_kind))
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.5 * len(sizes), 3.8),
                             layout="constrained", squeeze=False)
    packed = costs[costs.setting.map(BASELINE) != costs.setting]
    settings = list(dict.fromkeys(packed.setting))
    model = checks.set_index(["setting", "payload_kind", "payload"]).zlib_ratio
    width = 0.8 / max(len(settings), 1)
    for ax, size in zip(axes[0], sizes, strict=True):
        for k, setting in enumerate(settings):
            t = packed[(packed.payload == size) & (packed.setting == setting)]
            t = t.set_index("payload_kind").reindex(kinds)
            x = np.arange(len(kinds)) + (k - (len(settings) - 1) / 2) * width
            v = t.wire_ratio.to_numpy(float)
            err = [v - t.wire_ratio_low.to_numpy(float), t.wire_ratio_high.to_numpy(float) - v]
            ax.bar(x, v, width, label=f"{setting} (n = {int(t.n.min())} repeats)")
            ax.errorbar(x, v, yerr=np.nan_to_num(np.abs(err)), fmt="none", ecolor="black",
                        capsize=2, elinewidth=1)
            m = [model.get((setting, kind, size), np.nan) for kind in kinds]
            ax.scatter(x, m, marker="o", s=30, facecolors="white", edgecolors="black", zorder=3,
                       label="model: zlib offline, same bodies" if k == 0 else None)
        ax.axhline(1.0, color="gray", lw=0.8, ls=":")
        ax.set_xticks(np.arange(len(kinds)), kinds)
        ax.set_xlabel(f"payload kind ({size} B payloads)")
        ax.set_ylabel("bytes per event down / uncompressed")
        ax.legend(fontsize=7)
    return fig
