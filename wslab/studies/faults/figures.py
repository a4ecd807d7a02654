"""The storm figure of notebook 07: connect rate around the restart, per policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ... import plots, stats
from .storm import POLICIES, connect_rate

__all__ = ["storm_figure"]


def storm_figure(times: pd.DataFrame, rows: pd.DataFrame, bin_s: float = 0.1,
                 span: tuple[float, float] | None = None) -> Figure:
    """One panel per policy: connections established per second (``bin_s`` bins, client
    side) against time since the restart; thin lines are the runs, the thick line
    their mean and the band its 95 % t interval, clipped at 0 (none with one repeat);
    the dashed line and grey band mark the mean time until every client has resumed
    and its interval (clipped to the panel). The time axis reaches past the latest
    resumption (``span``: None)."""
    import matplotlib.pyplot as plt

    if span is None:
        last = float(np.nanmax(rows.all_resumed_s)) if len(rows) else 4.0
        span = (-0.5, max(4.0, float(np.ceil(last + 0.5))))

    fig, axes = plt.subplots(1, len(POLICIES), figsize=(12, 3.6), sharey=True)
    for ax, policy in zip(np.atleast_1d(axes), POLICIES, strict=True):
        mine = times[times.policy == policy]
        curves = [connect_rate(g.t_s.to_numpy(), bin_s, *span).set_index("t_s").rate_per_s
                  for _, g in mine.groupby("repeat")]
        n = len(curves)
        grid = pd.concat(curves, axis=1) if curves else pd.DataFrame()
        est = [stats.mean_ci(r, unit="runs") for r in grid.to_numpy()]
        t = grid.index.to_numpy() + bin_s / 2
        for k in range(grid.shape[1]):
            ax.plot(t, grid.iloc[:, k].to_numpy(), color="C0", lw=0.6, alpha=0.4,
                    label="each run" if k == 0 else None)
        ax.plot(t, [e.value for e in est], color="C0", lw=1.8,
                label=f"connect rate, mean (n={n} runs)")
        if n > 1:  # a rate is never negative: the t interval is clipped at 0
            ax.fill_between(t, [max(e.low, 0.0) for e in est], [e.high for e in est],
                            color="C0", alpha=0.2, label="95 % t interval")
        done = stats.mean_ci(rows.loc[rows.policy == policy, "all_resumed_s"], unit="runs")
        ax.axvline(done.value, color="k", ls="--", lw=1,
                   label=f"all resumed: {done.value:.2f} s")
        if n > 1 and np.isfinite(done.low) and np.isfinite(done.high):
            ax.axvspan(max(done.low, span[0]), min(done.high, span[1]), color="0.6",
                       alpha=0.3)
        opts = ", ".join(f"{k.removeprefix('backoff_')} {v}" for k, v in POLICIES[policy].items())
        ax.set_title(f"{policy} ({opts}; others: kit default)", fontsize=8)
        ax.set_xlabel("time since the server restarted (s)")
        ax.set_xlim(*span)
        ax.legend(fontsize=7, loc="upper right")
        plots.readable_ticks(ax)
    np.atleast_1d(axes)[0].set_ylabel(f"connections established per s ({bin_s * 1e3:g} ms bins)")
    fig.tight_layout()
    return fig
