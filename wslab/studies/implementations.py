"""Notebook 09 §5 (claim C5): WebSocket's cost, the protocol's share and the library's.

Three libraries put the same RFC 6455 frames on the wire: websockets
(``websocket``), aiohttp (``aiohttp-ws``) and picows (``picows``). What
separates them is the library; what separates all three from the ``tcp`` floor
(a 4-byte length prefix, no handshake beyond TCP's) is the protocol plus the
library. One `wslab.Experiment` broadcasts a fixed-rate stream to many clients; its
repeats share one seed across the four transports, so comparisons are paired
over repeats (`wslab.stats.ratio_ci`): one-way p50 and p99 over the tcp
floor's, and the server's CPU per delivery over websockets'.

`protocol_bytes` sets the bytes per event beside the framing model: on the
wire, an event costs a WebSocket frame header (RFC 6455 §5.2: 2 bytes below
126 bytes of payload, 4 below 65,536) where tcp pays its 4-byte prefix, plus
each library's handshake and close spread over the events. The three
libraries' frames are the same, so their steady-state bytes per event must
agree; `same_bytes_check` computes that verdict. The asyncio/uvloop matrix
and memory per connection are `benchmarks/implementations.py`'s (README).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .. import stats
from ..core.events import encode
from ..experiment import Experiment
from ..models import ws_frame_header_bytes
from ..plots import transport_colors

__all__ = ["FLOOR", "IMPLEMENTATIONS", "Plan", "body_bytes", "experiment", "plan", "plot_ratios",
           "protocol_bytes", "ratio_table"]

IMPLEMENTATIONS = ("websocket", "aiohttp-ws", "picows")
FLOOR = "tcp"
#: tcp's framing: a 4-byte big-endian length before each body (`wslab.core.wire`)
TCP_PREFIX_BYTES = 4


@dataclass(frozen=True)
class Plan:
    """Size of the experiment: ``clients`` clients, a fixed-rate stream."""

    repeats: int
    clients: int
    rate: float
    duration: float
    payload: int = 64

    @property
    def runs(self) -> int:
        return self.repeats * (len(IMPLEMENTATIONS) + 1)

    def describe(self) -> str:
        return (f"{self.runs} runs: {self.repeats} repeats × {len(IMPLEMENTATIONS) + 1} "
                f"transports, {self.clients} clients, {self.rate:g} events/s for "
                f"{self.duration:g} s, {self.payload} B payloads")


def plan(quick: bool) -> Plan:
    """Quick mode: 2 repeats of 1 s with 20 clients (indicative only); full
    mode: 8 repeats of 4 s with 300 clients."""
    if quick:
        return Plan(repeats=2, clients=20, rate=50, duration=1.0)
    return Plan(repeats=8, clients=300, rate=50, duration=4.0)


def experiment(p: Plan, seed: int = 1) -> Experiment:
    """The experiment (not yet run): the floor and the three libraries, one
    seed per repeat, runs under ``<runs>/09_implementations``."""
    return Experiment("09_implementations", grid={"transport": [FLOOR, *IMPLEMENTATIONS]},
                      repeats=p.repeats, seed=seed,
                      # summaries only: the figures need no per-delivery rows (histograms
                      # are in the summary), and 300 clients' rows would weigh 0.5 MB a run
                      base={"schedule": "fixed", "payload": p.payload, "clients": p.clients,
                            "rate": p.rate, "duration": p.duration, "keep_messages": False})


def _paired(df: pd.DataFrame, metric: str, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    wide = df.pivot_table(index="repeat", columns="transport", values=metric)
    wide = wide[[a, b]].dropna()
    return wide[a].to_numpy(float), wide[b].to_numpy(float)


def ratio_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per implementation: p50 and p99 over tcp's, server CPU per delivery over
    websockets', each a median over repeats with a paired bootstrap 95 % interval."""
    rows = []
    for impl in IMPLEMENTATIONS:
        row: dict[str, object] = {"transport": impl}
        for metric, ref, col in (("latency_p50_us", FLOOR, "p50 / tcp"),
                                 ("latency_p99_us", FLOOR, "p99 / tcp"),
                                 ("server_cpu_us_per_event", "websocket",
                                  "server CPU / websockets")):
            a, b = _paired(runs, metric, impl, ref)
            est = (stats.ratio_ci(a, b, unit="repeats") if impl != ref else
                   stats.Estimate(1.0, 1.0, 1.0, len(a), "reference", 0.95))
            row[col] = est.value
            row[col + " low"], row[col + " high"], row[col + " n"] = est.low, est.high, est.n
        # the summary's server_cpu_us_per_event is per delivered event (per delivery)
        cpu = stats.mean_ci(runs.loc[runs.transport == impl, "server_cpu_us_per_event"],
                            unit="runs")
        row["server CPU µs per delivery"] = cpu.value
        row["server CPU µs per delivery low"], row["server CPU µs per delivery high"] = (
            cpu.low, cpu.high)
        rows.append(row)
    return pd.DataFrame(rows)


def printable(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """``value [low, high]`` strings for `ratio_table`'s estimates, with n."""
    out = pd.DataFrame({"transport": table["transport"]})
    for col in ("p50 / tcp", "p99 / tcp", "server CPU / websockets",
                "server CPU µs per delivery"):
        out[col] = [f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]" for v, lo, hi in
                    zip(table[col], table[col + " low"], table[col + " high"], strict=True)]
    out["n (repeats)"] = table["p50 / tcp n"]
    return out


def body_bytes(p: Plan) -> int:
    """Size of one event body of this plan (`wslab.core.events.encode`: seq and a
    13-digit CLOCK_MONOTONIC stamp around the payload), for the framing model."""
    return len(encode(1000, 10**12, b"x" * p.payload))


def protocol_bytes(runs: pd.DataFrame, body_bytes: float) -> pd.DataFrame:
    """Bytes down per event, measured (mean over runs, t interval), beside the
    framing model: the frame header for ``body_bytes`` against tcp's prefix."""
    rows = []
    for t in (FLOOR, *IMPLEMENTATIONS):
        est = stats.mean_ci(runs.loc[runs.transport == t, "bytes_down_per_event"],
                            unit="runs")
        framing = TCP_PREFIX_BYTES if t == FLOOR else int(
            ws_frame_header_bytes(int(body_bytes), masked=False))
        rows.append({"transport": t, "bytes_down_per_event": est.value, "low": est.low,
                     "high": est.high, "n": est.n, "framing_bytes_model": framing})
    out = pd.DataFrame(rows)
    floor = out.loc[out.transport == FLOOR, "bytes_down_per_event"].iloc[0]
    out["over_tcp"] = out["bytes_down_per_event"] - floor
    return out


def same_bytes_check(table: pd.DataFrame, tolerance: float = 0.02) -> str:
    """Do the three libraries' bytes per event agree within ``tolerance``
    (relative)? A computed verdict line (they send the same frames; only their
    handshakes and close differ, spread over the run's events)."""
    sub = table[table.transport.isin(IMPLEMENTATIONS)]
    lo, hi = sub["bytes_down_per_event"].min(), sub["bytes_down_per_event"].max()
    spread = (hi - lo) / lo
    ok = "agree" if spread <= tolerance else "differ"
    return (f"the three libraries' bytes down per event {ok}: {lo:.1f}–{hi:.1f} B "
            f"(spread {spread:.1%}, tolerance {tolerance:.0%})")


def plot_ratios(table: pd.DataFrame, runs_caption: str = "") -> Figure:
    """Two panels: latency over the tcp floor (p50, p99) and server CPU per
    delivery over websockets', with 95 % intervals; 1.0 marks the reference."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    colors = transport_colors()
    x = np.arange(len(table))
    for ax, cols, ref in ((axes[0], ("p50 / tcp", "p99 / tcp"), "tcp floor"),
                          (axes[1], ("server CPU / websockets",), "websockets")):
        width, handles = 0.8 / len(cols), []
        for k, col in enumerate(cols):
            v = table[col].to_numpy(float)
            err = np.vstack([v - table[col + " low"], table[col + " high"] - v])
            ax.bar(x + (k - (len(cols) - 1) / 2) * width, v, width, yerr=err, capsize=3,
                   color=[colors.get(t, "grey") for t in table.transport],
                   hatch="" if k == 0 else "//", edgecolor="black", lw=0.5)
            handles.append(Patch(facecolor="white", edgecolor="black",
                                 hatch="" if k == 0 else "//", label=col))
        handles.append(ax.axhline(1.0, color="black", lw=0.8, ls="--", label=f"= {ref}"))
        ax.set_xticks(x, list(table.transport))
        ax.set_ylabel("ratio (median over repeats, 95 % CI)")
        ax.legend(handles=handles, fontsize=8)
    n = int(table["p50 / tcp n"].min())
    axes[0].set_title(f"one-way latency / tcp's (n = {n} repeats)", fontsize=10)
    axes[1].set_title(f"server CPU per delivery / websockets' (n = {n} repeats)", fontsize=10)
    if runs_caption:
        fig.suptitle(runs_caption, fontsize=8)
    return fig


def findings(table: pd.DataFrame, target_p50: float = 1.15, target_cpu: float = 1 / 1.5
             ) -> Sequence[str]:
    """Computed lines against the issue's targets: p50 within ``target_p50``×
    tcp's, server CPU per delivery at most ``target_cpu``× websockets'."""
    lines = []
    for _, r in table.iterrows():
        p50 = ("meets" if r["p50 / tcp high"] <= target_p50 else
               "meets at the median only" if r["p50 / tcp"] <= target_p50 else "misses")
        line = f"{r.transport}: p50 {r['p50 / tcp']:.2f}× tcp ({p50} ≤ {target_p50}×)"
        if r.transport != "websocket":  # the CPU reference itself has no verdict
            cpu = ("meets" if r["server CPU / websockets high"] <= target_cpu else
                   "meets at the median only" if r["server CPU / websockets"] <= target_cpu
                   else "misses")
            line += (f"; server CPU {r['server CPU / websockets']:.2f}× websockets' "
                     f"({cpu} ≤ {target_cpu:.2f}×)")
        lines.append(line)
    return lines
