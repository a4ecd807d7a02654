"""Notebook 09 section 3's figure: header bytes per poll, HTTP/1.1 beside HTTP/2."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

from ...models import KAAZING_HEADER_BYTES

__all__ = ["plot_header_bytes"]


def plot_header_bytes(per_poll: pd.DataFrame, probe: pd.DataFrame, axes) -> None:
    """Left: request + response header bytes per repeated poll from the kernel's
    counts (`with_intervals` rows, 95 % t interval over repeats, n in the
    legend), with the Kaazing paper's 871 B. Right: the request HEADERS frame
    of each poll of the probe connection (`probe_table`), measured (bars) and
    the HPACK model (markers), on a log axis: the first poll vs the repeats."""
    ax, bx = axes
    labels = list(per_poll.index)
    y = per_poll.header_bytes.to_numpy(dtype=float)
    err = np.vstack([y - per_poll.header_bytes_low, per_poll.header_bytes_high - y])
    n = int(per_poll.header_bytes_n.min())
    for proto, color in (("HTTP/1.1", "tab:blue"), ("HTTP/2", "tab:orange")):
        idx = [i for i, lab in enumerate(labels) if lab.startswith(proto + " ")]
        ax.bar(idx, y[idx], yerr=err[:, idx], capsize=4, color=color,
               label=f"{proto}, measured (kernel), 95 % CI, n = {n} repeats")
    ax.axhline(KAAZING_HEADER_BYTES, color="grey", ls="--", label="Kaazing paper: 871 B")
    ax.set_ylim(0, KAAZING_HEADER_BYTES * 1.25)
    ax.set_xticks(range(len(labels)), [lab.replace(" (", "\n(") for lab in labels])
    ax.set_ylabel("header bytes per repeated poll (B)")
    ax.set_title("headers per poll (request + response)")
    ax.legend(fontsize=8)
    first = probe.groupby(["headers", "poll"], sort=False).mean(numeric_only=True).reset_index()
    width = 0.4
    for i, (profile, g) in enumerate(first.groupby("headers", sort=False)):
        x = g.poll.to_numpy() + (i - 0.5) * width
        bx.bar(x, g.request_headers, width, color=("tab:green", "tab:purple")[i % 2],
               label=f"HTTP/2, {profile} headers: measured on the wire")
        bx.plot(x, g.model_request_headers, "kx", ms=8,
                label="HPACK model (RFC 7541)" if i == 0 else None)
    bx.set_yscale("log")
    bx.yaxis.set_major_locator(FixedLocator([10, 20, 50, 100, 200, 500]))
    bx.yaxis.set_major_formatter(ScalarFormatter())
    bx.yaxis.set_minor_formatter(NullFormatter())
    bx.set_ylim(10, 800)
    bx.set_xlabel("poll on the connection (1 = first)")
    bx.set_ylabel("request HEADERS frame (B)")
    bx.set_title("HTTP/2: the first poll vs the repeats")
    bx.set_xticks(sorted(first.poll.unique()))
    conns = int((probe.poll == 1).groupby(probe.headers).sum().min())
    bx.legend(fontsize=8, title=f"n = {conns} connections per profile", title_fontsize=8)
