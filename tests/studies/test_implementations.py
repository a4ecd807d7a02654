"""wslab.studies.implementations on synthetic run tables (the real runs are the
transports' own tests and notebook 09's)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from wslab.studies import implementations as im


def _runs(repeats: int = 4) -> pd.DataFrame:
    # per transport: p50, p99 (µs), server CPU µs per event, bytes down per event
    base = {"tcp": (100, 200, 50, 104.0), "websocket": (150, 300, 100, 106.0),
            "aiohttp-ws": (200, 400, 180, 106.1), "picows": (90, 180, 80, 104.6)}
    rows = []
    for r in range(repeats):
        jitter = 1 + 0.01 * r
        for t, (p50, p99, cpu, b) in base.items():
            rows.append({"transport": t, "repeat": r, "clients": 10,
                         "latency_p50_us": p50 * jitter, "latency_p99_us": p99 * jitter,
                         "server_cpu_us_per_event": cpu * jitter, "bytes_down_per_event": b})
    return pd.DataFrame(rows)


def test_plan_sizes_and_description():
    q, f = im.plan(True), im.plan(False)
    assert q.runs == 2 * 4 and f.runs == f.repeats * 4
    assert im.body_bytes(q) == len(b"{\"seq\":1000,\"t\":1000000000000,\"p\":\"\"}") + 64
    assert f.clients > q.clients and "runs" in f.describe()


def test_ratio_table_pairs_repeats_and_references_itself():
    tab = im.ratio_table(_runs())
    ws = tab.set_index("transport")
    # the jitter is shared by every transport of a repeat: paired ratios are exact
    assert ws.loc["websocket", "p50 / tcp"] == pytest.approx(1.5)
    assert ws.loc["websocket", "p50 / tcp low"] == pytest.approx(1.5)
    assert ws.loc["picows", "p99 / tcp"] == pytest.approx(0.9)
    assert ws.loc["aiohttp-ws", "server CPU / websockets"] == pytest.approx(1.8)
    assert ws.loc["websocket", "server CPU / websockets"] == 1.0
    # the summary's server_cpu_us_per_event is already per delivery: mean over the 4 runs
    assert ws.loc["picows", "server CPU µs per delivery"] == pytest.approx(
        np.mean([80 * (1 + 0.01 * r) for r in range(4)]))
    assert set(im.printable(tab)["n (repeats)"]) == {4}


def test_findings_compute_each_verdict():
    lines = im.findings(im.ratio_table(_runs()))
    assert lines[0] == "websocket: p50 1.50× tcp (misses ≤ 1.15×)"  # no CPU verdict on itself
    assert "picows: p50 0.90× tcp (meets ≤ 1.15×)" in lines[2]
    assert "server CPU 0.80× websockets' (misses" in lines[2]


def test_protocol_bytes_and_same_bytes_verdict():
    pb = im.protocol_bytes(_runs(), body_bytes=100)
    assert list(pb.framing_bytes_model) == [4, 2, 2, 2]
    assert pb.loc[pb.transport == "websocket", "over_tcp"].iloc[0] == pytest.approx(2.0)
    assert "agree" in im.same_bytes_check(pb)
    assert "differ" in im.same_bytes_check(pb, tolerance=0.001)


def test_plot_has_both_panels():
    fig = im.plot_ratios(im.ratio_table(_runs()))
    assert [a.get_ylabel() for a in fig.axes] == ["ratio (median over repeats, 95 % CI)"] * 2
