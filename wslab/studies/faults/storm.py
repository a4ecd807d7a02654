"""Section 3 of notebook 07: a reconnect storm after a server restart (claim C8).

N WebSocket clients hold one stream; the Lab SIGKILLs the server and starts
it again on the same ports (``server_restart``). Every client sees its
connection die at the same instant, and how they come back depends on their
backoff policy (`POLICIES`). Per run (`storm_row`): the connect-rate peak
(connections established per 10 ms and 100 ms bin, from the connection rows'
``opened_ns``: the *client-side* instant the handshake completed), the
kernel's accept-queue overflows and drops (`wslab.core.netstat`, machine-wide:
valid on a quiet machine only), failed attempts, time until every client has
resumed (the last client's first delivery after ``restarted_ns``), the
restarted server's CPU and RSS, and events lost and duplicated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...core import netstat
from ...runner.lab import Lab
from ...runner.store import Run
from .paths import run_out

__all__ = ["POLICIES", "StormPlan", "connect_times", "connect_rate", "measure_storm", "storm_plan",
           "storm_row"]

#: client backoff policies (options of `wslab.transports.reconnect`; kit default: base
#: 0.05 s, cap 2 s, factor 2, full jitter)
POLICIES: dict[str, dict[str, Any]] = {
    "no jitter": {"backoff_jitter": "none"},
    "full jitter": {"backoff_jitter": "full"},
    "longer base": {"backoff_jitter": "full", "backoff_base": 0.5},
}


@dataclass(frozen=True)
class StormPlan:
    """Clients, repeats per policy and the stream around the restart."""

    clients: int
    repeats: int
    duration: float
    restart_at: float
    down: float = 1.0
    rate: float = 2.0

    @property
    def faults(self) -> list[str]:
        return [f"server_restart:at={self.restart_at:g}s,down={self.down:g}s"]

    def runs(self) -> int:
        return self.repeats * len(POLICIES)

    def wall_s(self) -> float:
        """Estimated wall time: the ramp (measured here: ~1.5 ms per client), the run and
        ~5 s of start, drain and tables per run."""
        return self.runs() * (self.clients * 1.5e-3 + self.duration + self.down + 5)


def storm_plan(quick: bool) -> StormPlan:
    """Quick: a few hundred clients, one run per policy; full: 10,000 clients, 3 each."""
    if quick:
        return StormPlan(clients=150, repeats=1, duration=4.0, restart_at=1.5)
    return StormPlan(clients=10_000, repeats=3, duration=10.0, restart_at=3.0)


def connect_times(run: Run) -> np.ndarray:
    """Seconds from the restart to each reconnection's establishment (client side)."""
    restarted = run.manifest["server_restarts"][0]["restarted_ns"]
    c = run.connections
    return (c.loc[c.fault_ns > 0, "opened_ns"].to_numpy(np.int64) - restarted) / 1e9


def connect_rate(times_s: np.ndarray, bin_s: float, lo: float, hi: float) -> pd.DataFrame:
    """Connections established per second in bins of ``bin_s`` over ``[lo, hi)``."""
    # whole bins from lo that cover hi, as integer multiples: a 100 ms bin is then
    # exactly ten 10 ms bins, and no point near hi falls past the last edge
    n = max(1, math.ceil((hi - lo) / bin_s - 1e-9))
    edges = lo + bin_s * np.arange(n + 1)
    counts, _ = np.histogram(times_s, edges)
    return pd.DataFrame({"t_s": edges[:-1], "rate_per_s": counts / bin_s})


def _resumed_s(run: Run) -> float:
    """From the restart to the last client's first delivery after its fault (s),
    from the summary (storm runs keep no per-delivery table)."""
    s = run.summary
    restarted = run.manifest["server_restarts"][0]["restarted_ns"]
    if s["recovery_ms"].get("n", 0) < s["clients"] or not s.get("recovered_last_ns"):
        return math.nan  # some client never came back
    return float(s["recovered_last_ns"] - restarted) / 1e9


def storm_row(policy: str, repeat: int, run: Run, counters: dict[str, int]) -> dict[str, Any]:
    """One run's storm figures (see the module docstring)."""
    s, t = run.summary, connect_times(run)
    r = run.manifest["server_restarts"][0]
    peak = {b: connect_rate(t, b, 0.0, max(float(t.max(initial=0.0)), b)).rate_per_s.max()
            if len(t) else 0.0 for b in (0.01, 0.1)}
    return {"policy": policy, "repeat": repeat, "clients": s["clients"],
            "reconnects": s["reconnects"], "failed_attempts": s["failed_attempts"],
            "peak_per_s_10ms": peak[0.01], "peak_per_s_100ms": peak[0.1],
            "listen_overflows": counters.get("TcpExt.ListenOverflows", 0),
            "listen_drops": counters.get("TcpExt.ListenDrops", 0),
            "attempt_fails": counters.get("Tcp.AttemptFails", 0),
            "down_s": (r["restarted_ns"] - r["killed_ns"]) / 1e9,
            "all_resumed_s": _resumed_s(run), "server_cpu_s": s["server_cpu_s"],
            "server_rss_mb": s["server_rss_peak_bytes"] / 2**20,
            "lost": s["lost"], "duplicated": s["duplicated"], "published": s["published"]}


def measure_storm(p: StormPlan, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every policy ``p.repeats`` times, interleaved (policy after policy within a repeat),
    each run on a fresh server. Returns (one row per run, connect times: one row per
    reconnection)."""
    rows, times = [], []
    for k in range(p.repeats):
        for policy, options in POLICIES.items():
            with Lab() as lab:
                before = netstat.read_counters()
                run = lab.run("websocket", clients=p.clients, rate=p.rate,
                              duration=p.duration, schedule="fixed", seed=seed + k,
                              options=options, faults=p.faults, progress=False,
                              keep_messages=False,  # 10,000 clients: the summary suffices
                              out=run_out("storm", f"{policy}-rep{k}"))
                counters = netstat.delta(before, netstat.read_counters(),
                                         netstat.STORM_COUNTERS)
            rows.append(storm_row(policy, k, run, counters))
            times.append(pd.DataFrame({"policy": policy, "repeat": k,
                                       "t_s": connect_times(run)}))
    return pd.DataFrame(rows), pd.concat(times, ignore_index=True)
