"""The Kaazing example (every client receives one message per second): the
paper's table from its formula, and paper, model with measured sizes and
measurement side by side."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...models import (
    KAAZING_CLIENTS,
    KAAZING_FRAME_BYTES,
    KAAZING_HEADER_BYTES,
    KAAZING_PAPER_POLLING_MBPS,
    KAAZING_PAPER_WS_MBPS,
    kaazing_bandwidth,
)

__all__ = ["KAAZING_COLUMNS", "kaazing_model", "kaazing_three_way"]

#: Columns of `kaazing_three_way`.
KAAZING_COLUMNS = ["clients", "transport", "method", "bytes_per_message", "mbit_s",
                   "mbit_s_low", "mbit_s_high", "paper_mbps", "basis", "extrapolated"]


def kaazing_model(header_bytes: float = KAAZING_HEADER_BYTES,
                  frame_bytes: float = KAAZING_FRAME_BYTES,
                  clients: Sequence[int] = KAAZING_CLIENTS) -> pd.DataFrame:
    """The Kaazing table from the model, rounded as the paper prints it.

    Columns ``clients``, ``polling_mbps``, ``websocket_mbps`` in the paper's
    unit (bits / 2**20 per second); polling to 2 significant digits below 100
    and to whole numbers above (6.6, 66, 665), WebSocket to 3 decimals
    (0.015, 0.153, 1.526). With the defaults this is the paper's table.
    """
    n = np.asarray(clients, dtype=float)
    poll = np.asarray(kaazing_bandwidth(n, header_bytes).paper_mbps)
    ws = np.asarray(kaazing_bandwidth(n, frame_bytes).paper_mbps)
    rounded = [float(f"{p:.2g}") if p < 100 else float(round(p)) for p in poll]
    return pd.DataFrame({"clients": np.asarray(clients, dtype=np.int64),
                         "polling_mbps": rounded, "websocket_mbps": np.round(ws, 3)})


def kaazing_three_way(model_bytes: Mapping[str, float], measured: Mapping[str, Mapping[str, Any]],
                      clients: Sequence[int] = KAAZING_CLIENTS) -> pd.DataFrame:
    """The Kaazing example three ways: paper, model with measured sizes, measurement.

    Every client receives one message per second.

    Args:
        model_bytes: transport label -> overhead bytes per message measured
            from a run (e.g. ``{"short-poll (aiohttp)": 270, "websocket": 2}``),
            fed to `wslab.models.kaazing_bandwidth`. Labels starting with
            ``websocket`` are WebSocket rows, the others polling rows.
        measured: transport label -> ``{"clients": N, "overhead_bytes": B,
            "overhead_tcpip_bytes": B2}`` per message per client from runs
            of N real clients (`marginal_cost`), optionally with
            ``overhead_bytes_low`` / ``_high`` and ``overhead_tcpip_bytes_low``
            / ``_high`` (a 95 % interval, `with_intervals`); scaled linearly
            to each client count. ``basis`` says "measured at N" or
            "extrapolated from N", ``extrapolated`` is True for the latter.
        clients: client counts (default 1,000 / 10,000 / 100,000).

    Returns:
        Long table (`KAAZING_COLUMNS`): ``method`` is ``paper``, ``model``,
        ``measured`` (TCP payload only, like the paper) or ``measured +
        TCP/IP``; ``mbit_s`` is SI (bits / 1e6) with ``mbit_s_low`` /
        ``_high`` where the measurement has an interval (NaN otherwise),
        ``paper_mbps`` bits / 2**20.
    """
    rows = []

    def add(n: int, transport: str, method: str, nbytes: float, basis: str,
            paper: float | None = None, low: float = math.nan, high: float = math.nan,
            extrapolated: bool = False) -> None:
        bw = kaazing_bandwidth(n, nbytes)
        rows.append({"clients": int(n), "transport": transport, "method": method,
                     "bytes_per_message": float(nbytes), "mbit_s": float(bw.si_mbps),
                     "mbit_s_low": n * low * 8 / 1e6, "mbit_s_high": n * high * 8 / 1e6,
                     "paper_mbps": float(bw.paper_mbps) if paper is None else paper,
                     "basis": basis, "extrapolated": extrapolated})

    for i, n in enumerate(clients):
        add(n, "polling", "paper", KAAZING_HEADER_BYTES, "paper (871 B headers)",
            KAAZING_PAPER_POLLING_MBPS[i] if i < 3 and n == KAAZING_CLIENTS[i] else None)
        add(n, "websocket", "paper", KAAZING_FRAME_BYTES, "paper (2 B frames)",
            KAAZING_PAPER_WS_MBPS[i] if i < 3 and n == KAAZING_CLIENTS[i] else None)
        for label, b in model_bytes.items():
            add(n, label, "model", b, "model, measured sizes")
        for label, m in measured.items():
            at = int(m["clients"])
            basis = f"measured at N = {at:,}" if at == n else f"extrapolated from N = {at:,}"
            for method, key in (("measured", "overhead_bytes"),
                                ("measured + TCP/IP", "overhead_tcpip_bytes")):
                add(n, label, method, m[key], basis, low=m.get(f"{key}_low", math.nan),
                    high=m.get(f"{key}_high", math.nan), extrapolated=at != n)
    return pd.DataFrame(rows, columns=KAAZING_COLUMNS)
