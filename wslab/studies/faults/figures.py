"""The storm figure of notebook 07: connect rate around the restart, per policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ... import plots, stats
from .storm import POLICIES, connect_rate

__all__ = ["storm_figure"]


def storm_figure(times: pd.DataFrame, rows: pd.DataFrame, bin_s: float = 0.1,
                 span: tuple[float, float] = (-0.5, 4.0)) -> Figure:
    """One panel per policy: connections established per second (``bin_s`` bins, client
    side) against time since the restart; the line is the mean over repeats, the band
    its 95 % t interval (none with one repeat); the dashed line and grey band mark
    the mean time until every client has resumed and its interval."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(POLICIES), figsize=(12, 3.6), sharey=True)
    for ax, policy in zip(np.atleast_1d(axes), POLICIES, strict=True):
        mine = times[times.policy == policy]
        curves = [connect_rate(g.t_s.to_numpy(), bin_s, *span).set_index("t_s").rate_per_s
                  for _, g in mine.groupby("repeat")]
        n = len(curves)
        grid = pd.concat(curves, axis=1) if curves else pd.DataFrame()
        est = [stats.mean_ci(r, unit="runs") for r in grid.to_numpy()]
        t = grid.index.to_numpy() + bin_s / 2
        ax.plot(t, [e.value for e in est], color="C0", label=f"connect rate (n={n} runs)")
        if n > 1:
            ax.fill_between(t, [e.low for e in est], [e.high for e in est], color="C0",
                            alpha=0.25, label="95 % t interval")
        done = stats.mean_ci(rows.loc[rows.policy == policy, "all_resumed_s"], unit="runs")
        ax.axvline(done.value, color="k", ls="--", lw=1,
                   label=f"all resumed: {done.value:.2f} s")
        if n > 1:
            ax.axvspan(done.low, done.high, color="0.6", alpha=0.3)
        opts = ", ".join(f"{k.removeprefix('backoff_')} {v}" for k, v in POLICIES[policy].items())
        ax.set_title(f"{policy} ({opts}; others: kit default)", fontsize=8)
        ax.set_xlabel("time since the server restarted (s)")
        ax.set_xlim(*span)
        ax.legend(fontsize=7, loc="upper right")
        plots.readable_ticks(ax)
    np.atleast_1d(axes)[0].set_ylabel(f"connections established per s ({bin_s * 1e3:g} ms bins)")
    fig.tight_layout()
    return fig
