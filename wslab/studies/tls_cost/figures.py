"""The TLS cost figure: clear vs TLS per transport, three panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["tls_figure"]

_PANELS = (("bytes", "TLS - clear, bytes per event (B)"),
           ("server", "server CPU per delivery (µs)"),
           ("memory", "server memory per connection (KiB)"))


def tls_figure(bytes_: pd.DataFrame, cpu: pd.DataFrame, memory: pd.DataFrame,
               checks: pd.DataFrame) -> Figure:
    """Left: what TLS adds to the steady-state bytes per event per transport
    (paired over repeats, 95 % t interval) beside the record model (22 B x
    records per event, ``checks``, a black marker). Middle and right: clear
    and TLS bars with their 95 % intervals (CPU: mean over repeats; memory:
    the slope of RSS over N with its t interval)."""
    import matplotlib.pyplot as plt

    tables = {"bytes": bytes_, "server": cpu[cpu.side == "server"], "memory": memory}
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
    for ax, (key, label) in zip(axes, _PANELS, strict=True):
        t = tables[key].reset_index(drop=True)
        ax.set_ylabel(label)
        if t.empty:  # no memory sweep (quick mode: one server per setting)
            ax.text(0.5, 0.5, "not measured in this mode", ha="center", va="center",
                    transform=ax.transAxes, color="dimgray")
            ax.set_xticks([])
            continue
        x = np.arange(len(t))
        pairs = ((("TLS - clear", "tab:orange"),) if key == "bytes"
                 else (("clear", "tab:blue"), ("TLS", "tab:orange")))
        width = 0.76 / len(pairs)
        for k, (setting, color) in enumerate(pairs):
            xs = x + (k - (len(pairs) - 1) / 2) * width
            v = t[setting].to_numpy(float)
            lo, hi = t[f"{setting} low"].to_numpy(float), t[f"{setting} high"].to_numpy(float)
            unit = "runs" if key == "memory" else "repeats"
            ax.bar(xs, v, width, color=color, label=f"{setting} (n = {int(t.n.min())} {unit})")
            ax.errorbar(xs, v, yerr=np.nan_to_num(np.abs([v - lo, hi - v])), fmt="none",
                        ecolor="black", capsize=3, elinewidth=1)
        if key == "bytes":
            model = t.transport.map(checks.set_index("transport").model).to_numpy(float)
            ax.scatter(x, model, marker="o", s=40, facecolors="white", edgecolors="black",
                       zorder=3, label="model: 22 B x records per event")
        ax.set_xticks(x, t.transport)
        ax.set_xlabel("transport")
        ax.legend(fontsize=7, loc="lower right")
    return fig
