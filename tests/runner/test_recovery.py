"""Reconnection figures and lost ranges from synthetic tables (`wslab.runner.recovery`);
real faulty runs are in tests/runner/test_faults.py."""

import pandas as pd

from wslab.runner.recovery import lost_ranges, recovery_summary

MS = 1_000_000


def test_lost_ranges_group_consecutive_seqs_by_clients_missing():
    first = pd.DataFrame({"client_id": [0] * 7 + [1] * 10,
                          "seq": [1, 2, 3, 7, 8, 9, 10, *range(1, 11)]})
    assert lost_ranges(first, published=10, clients=2) == ([[4, 6, 1]], 1)
    assert lost_ranges(first, published=12, clients=2) == ([[4, 6, 1], [11, 12, 2]], 2)
    assert lost_ranges(first, published=12, clients=2, limit=1) == ([[4, 6, 1]], 2)
    assert lost_ranges(first[first.client_id == 1], published=10, clients=1) == ([], 0)


def test_recovery_counts_faults_windows_and_delayed_events():
    # client 0: connection lost at 100 ms, back at 150 ms (a second row);
    # events published at 110 and 140 ms arrive at 150 ms, the others at +1 ms
    connections = pd.DataFrame({
        "client_id": [0, 0, 1], "fault_ns": [0, 100 * MS, 0], "failed_attempts": [0, 2, 0],
        "setup_bytes": [300, 310, 300]})
    pub = [50, 110, 140, 200]
    recv = [51, 150, 150, 201]
    first = pd.DataFrame({"client_id": [0] * 4 + [1] * 4, "seq": [1, 2, 3, 4] * 2,
                          "published_ns": [p * MS for p in pub * 2],
                          "received_ns": [r * MS for r in recv] + [(p + 1) * MS for p in pub]})
    s = recovery_summary(first, connections, median_latency_ns=1 * MS)
    assert (s["reconnects"], s["failed_attempts"], s["reconnect_bytes"]) == (1, 2, 310)
    assert s["recovery_ms"] == {"p50": 50.0, "p99": 50.0, "max": 50.0, "n": 1}
    assert s["recovered_last_ns"] == 150 * MS
    assert s["fault_delayed_events"] == 2  # published at 110 and 140 ms, inside [100, 150]
    assert s["fault_extra_latency_ms_mean"] == ((40 - 1) + (10 - 1)) / 2


def test_no_fault_no_figures():
    connections = pd.DataFrame({"client_id": [0], "fault_ns": [0], "failed_attempts": [0],
                                "setup_bytes": [300]})
    first = pd.DataFrame({"client_id": [0], "seq": [1], "published_ns": [0],
                          "received_ns": [MS]})
    s = recovery_summary(first, connections, median_latency_ns=MS)
    assert (s["reconnects"], s["recovery_ms"], s["fault_delayed_events"]) == (0, {}, 0)
