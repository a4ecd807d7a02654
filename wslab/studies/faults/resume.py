"""Section 2 of notebook 07: resuming after resets and a server restart (claim C8).

Three kinds of run, each on its own server:

* ``reset``: the proxy resets every connection 2 s after its set-up
  (``reset_peer``); the clients see the RST at once, back off and resume from
  their last seq. Each reconnection is one recovery sample
  (`recoveries`: from the fault the client saw to its first delivery
  after it), set beside `wslab.models.recovery_mean`.
* ``restart``: the server process is killed and restarted on the same ports
  (``server_restart``); its history comes back as a durable log would.
* ``history``: an outage longer than what the server's history holds: the
  clients come back to a history that starts past their last seq, and the
  summary names the lost seq ranges.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...runner.lab import Lab
from ...runner.store import Run
from .paths import run_out

__all__ = ["HISTORY", "RESUMING", "ROUND_TRIPS", "ResumePlan", "loss_row", "measure_resume",
           "recoveries"]

#: the transports that resume from a seq (short polling always asks from its last seq too,
#: but has no connection to lose between polls)
RESUMING = ("websocket", "sse", "long-poll", "tcp")
#: round trips from a new connect to the first resumed byte: TCP's handshake, then the
#: WebSocket upgrade / the HTTP request (tcp: the 8-byte resume word's transit and the reply)
ROUND_TRIPS = {"websocket": 2, "sse": 2, "long-poll": 2, "tcp": 2}
#: the small history of the ``history`` run (events); its outage holds ~30 events
HISTORY = 5


@dataclass(frozen=True)
class ResumePlan:
    """Sizes of section 2: reset runs' duration and repeats, restart and history runs."""

    reset_duration: float
    repeats: int
    rate: float = 100.0
    clients: int = 2
    reset_after_s: float = 2.0
    restart_at_s: float = 2.0
    restart_down_s: float = 1.0

    def runs(self) -> int:
        return self.repeats * (len(RESUMING) + 1) + 1

    def wall_s(self, overhead: float = 2.5) -> float:
        """Estimated wall time: reset runs side by side, then restarts and the history run."""
        return self.repeats * (self.reset_duration + overhead) \
            + self.repeats * (6 + overhead) + 3 + overhead


def recoveries(run: Run) -> np.ndarray:
    """Recovery time (s) of every reconnection of ``run``: from the fault its client saw
    (``fault_ns``) to that client's first delivery at or after it."""
    faults = run.connections.loc[run.connections.fault_ns > 0, ["client_id", "fault_ns"]]
    if faults.empty:
        return np.array([])
    got = run.messages[["client_id", "received_ns"]].astype(np.int64).sort_values("received_ns")
    faults = faults.astype(np.int64).sort_values("fault_ns")
    back = pd.merge_asof(faults, got, left_on="fault_ns", right_on="received_ns",
                         by="client_id", direction="forward").dropna()
    return (back.received_ns - back.fault_ns).to_numpy(float) / 1e9


def loss_row(kind: str, transport: str, repeat: int, run: Run, history: int) -> dict[str, Any]:
    """What a run lost and duplicated, and whether the history covered its outages."""
    s = run.summary
    restarts = run.manifest.get("server_restarts") or []
    outage = max([(r["restarted_ns"] - r["killed_ns"]) / 1e9 for r in restarts], default=0.0)
    rec = s.get("recovery_ms") or {}
    return {"kind": kind, "transport": transport, "repeat": repeat, "history": history,
            "published": s["published"], "clients": s["clients"], "lost": s["lost"],
            "duplicated": s["duplicated"], "reconnects": s["reconnects"],
            "failed_attempts": s["failed_attempts"], "server_down_s": outage,
            "recovery_p50_ms": rec.get("p50", math.nan),
            "lost_ranges": s.get("lost_ranges", []), "lost_range_count": s.get(
                "lost_range_count", 0), "transit_ms": (s.get("latency_us") or {}).get(
                "p50", math.nan) / 1e3}


def _resets(transport: str, plan: ResumePlan, seed: int) -> list[tuple[Run, int]]:
    out = []
    with Lab() as lab:
        for k in range(plan.repeats):
            out.append((lab.run(transport, clients=plan.clients, rate=plan.rate,
                                duration=plan.reset_duration, schedule="fixed", seed=seed + k,
                                faults=[f"reset_peer:timeout={plan.reset_after_s:g}s"],
                                progress=False, out=run_out("resume", f"reset-{transport}-rep{k}")),
                        k))
    return out


def measure_resume(plan: ResumePlan, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, list[Run]]:
    """Run section 2. Returns (losses: one row per run, recovery samples of the reset runs:
    one row per reconnection, every run)."""
    with ThreadPoolExecutor(len(RESUMING)) as pool:
        resets = dict(zip(RESUMING, pool.map(lambda t: _resets(t, plan, seed), RESUMING),
                          strict=True))
    losses, samples, runs = [], [], []
    for transport, done in resets.items():
        for run, k in done:
            losses.append(loss_row("reset", transport, k, run, 1_000_000))
            rec = recoveries(run)
            samples.append(pd.DataFrame({"transport": transport, "repeat": k,
                                         "recovery_s": rec,
                                         "transit_ms": losses[-1]["transit_ms"]}))
            runs.append(run)
    with Lab() as lab:
        for k in range(plan.repeats):
            run = lab.run("websocket", clients=5, rate=20, duration=6, schedule="fixed",
                          seed=seed + k, faults=[f"server_restart:at={plan.restart_at_s:g}s,"
                                                 f"down={plan.restart_down_s:g}s"],
                          progress=False, out=run_out("resume", f"restart-rep{k}"))
            losses.append(loss_row("restart", "websocket", k, run, 1_000_000))
            runs.append(run)
    with Lab(history=HISTORY) as small:  # the outage holds ~30 events; the history 5
        run = small.run("websocket", clients=2, rate=20, duration=3, schedule="fixed",
                        seed=seed, faults=["outage:at=1s,duration=1.5s,mode=reset"],
                        progress=False, out=run_out("resume", "history"))
        losses.append(loss_row("history", "websocket", 0, run, HISTORY))
        runs.append(run)
    return pd.DataFrame(losses), pd.concat(samples, ignore_index=True), runs
