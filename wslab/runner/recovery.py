"""What faults cost a run: reconnections, recovery time, delayed and lost events.

Computed from a run's tables alone (no extra instrument on the hot path):

- a connection row with ``fault_ns > 0`` is a *reconnection*: its client saw
  the previous connection fail at ``fault_ns`` and made ``failed_attempts``
  attempts before this one worked; its ``setup_bytes`` (handshake bytes
  both ways, before any event) are the bytes spent reconnecting;
- *recovery time*: from the fault to the client's first delivery after it
  (resumed events from the history count: the client is back in the stream);
  ``recovered_last_ns`` is when the last of them was back;
- *delayed events*: the events published between a client's fault and its
  recovery, with their latency beyond the run's median (the outage's cost
  in latency);
- *lost ranges*: the seq ranges some client never received, with how many
  clients missed each, so a gap that the server's history could not cover
  is reported as a range, never silently skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["lost_ranges", "recovery_summary"]

#: at most this many lost ranges are listed in a summary (the count is always given)
MAX_RANGES = 20


def lost_ranges(first: pd.DataFrame, published: int, clients: int,
                limit: int = MAX_RANGES) -> tuple[list[list[int]], int]:
    """Seq ranges ``[first, last, clients_missing]`` some client never got.

    ``first`` holds the first delivery of each (client, seq). Consecutive
    seqs missed by the same number of clients form one range. Returns the
    first ``limit`` ranges and the number of ranges in all.
    """
    if published <= 0:
        return [], 0
    seq = first.seq.to_numpy()
    seq = seq[(seq >= 1) & (seq <= published)]
    got = np.bincount(seq, minlength=published + 1)[1:]
    missing = clients - got
    if not missing.any():
        return [], 0
    # a new range starts wherever the number of clients missing changes
    change = np.flatnonzero(np.diff(missing, prepend=-1, append=-1))
    ranges = [[int(a + 1), int(b), int(missing[a])]
              for a, b in zip(change[:-1], change[1:], strict=True) if missing[a] > 0]
    return ranges[:limit], len(ranges)


def recovery_summary(first: pd.DataFrame, connections: pd.DataFrame,
                     median_latency_ns: float) -> dict[str, Any]:
    """Reconnection figures of a run (see the module docstring for each)."""
    empty = {"reconnects": 0, "failed_attempts": 0, "reconnect_bytes": 0,
             "recovery_ms": {}, "recovered_last_ns": 0, "fault_delayed_events": 0,
             "fault_extra_latency_ms_mean": float("nan")}
    if "fault_ns" not in connections or connections.empty:
        return empty
    faults = connections.loc[connections.fault_ns > 0, ["client_id", "fault_ns"]]
    out = {**empty, "reconnects": len(faults),
           "failed_attempts": int(connections.failed_attempts.sum()),
           "reconnect_bytes": int(connections.loc[connections.fault_ns > 0,
                                                  "setup_bytes"].sum())}
    if faults.empty or first.empty:
        return out
    faults = faults.astype({"client_id": np.int64, "fault_ns": np.int64}).sort_values("fault_ns")
    got = first[["client_id", "received_ns"]].astype(np.int64).sort_values("received_ns")
    # each fault's recovery: the client's first delivery at or after it
    back = pd.merge_asof(faults, got, left_on="fault_ns", right_on="received_ns",
                         by="client_id", direction="forward")
    recovered = back.dropna(subset=["received_ns"])
    rec_ms = (recovered.received_ns - recovered.fault_ns).to_numpy(float) / 1e6
    if len(rec_ms):
        out["recovery_ms"] = {"p50": float(np.percentile(rec_ms, 50)),
                              "p99": float(np.percentile(rec_ms, 99)),
                              "max": float(rec_ms.max()), "n": int(len(rec_ms))}
        # when the last client was back (CLOCK_MONOTONIC): a run that keeps no
        # per-delivery table still tells when a herd of clients had all resumed
        out["recovered_last_ns"] = int(recovered.received_ns.max())
    # events published inside a client's outage window [fault, recovery]
    windows = recovered.rename(columns={"received_ns": "recovered_ns"})
    windows = windows.astype({"recovered_ns": np.int64}).sort_values("fault_ns")
    events = first[["client_id", "published_ns", "received_ns"]].astype(np.int64)
    events = events.sort_values("published_ns")
    hit = pd.merge_asof(events, windows, left_on="published_ns", right_on="fault_ns",
                        by="client_id", direction="backward")
    inside = hit[hit.published_ns <= hit.recovered_ns]
    out["fault_delayed_events"] = len(inside)
    if len(inside):
        extra = (inside.received_ns - inside.published_ns).to_numpy(float) - median_latency_ns
        out["fault_extra_latency_ms_mean"] = float(extra.mean() / 1e6)
    return out
