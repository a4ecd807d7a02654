"""Notebook 07's study: tables and verdicts from synthetic frames, and one tiny real storm."""

import math

import numpy as np
import pandas as pd
import pytest

from wslab.core.errors import RunError
from wslab.runner.lab import Lab
from wslab.studies import faults as st
from wslab.studies.faults import checks, storm


def _summary(published=10, clients=3, lost=0, dup=0, reconnects=0, p50=500.0):
    return {"published": published, "clients": clients, "lost": lost, "duplicated": dup,
            "reconnects": reconnects, "latency_us": {"p50": p50, "mean": p50}, "ramp_s": 0.1}


def _mb_frame():
    rows = []
    for p in st.PROFILES:
        for t in st.TRANSPORTS:
            for k in range(2):
                if t == "websocket" and p.name == "strip_upgrade":
                    rows.append(st.row_of(p, t, k, None, reason="HTTP 426"))
                    continue
                cut = p.name.startswith("idle_cut") and not st.heartbeat_s(
                    t, p.options.get(t, {})) or p.name == "idle_cut, heartbeat > cut"
                p50 = 180e3 + 2e3 * k if (t, p.name) == ("sse", "buffer") else 500.0 + k
                rows.append(st.row_of(p, t, k, _summary(
                    reconnects=3 * cut, p50=p50, lost=30 * (t == "tcp" and p.name == "buffer")),
                    frame_bytes=134.0))
    return pd.DataFrame(rows)


def test_middlebox_table_names_failures_and_losses():
    table = checks.middlebox_table(_mb_frame())
    ws = table[(table.transport == "websocket") & (table.profile == "strip_upgrade")].iloc[0]
    assert ws.runs_ok == "0/2" and ws.reason == "HTTP 426"
    tcp = table[(table.transport == "tcp") & (table.profile == "buffer")].iloc[0]
    assert tcp.delivered == pytest.approx(0.0) and tcp.lost == 60
    sse = table[(table.transport == "sse") & (table.profile == "none")].iloc[0]
    assert sse.p50_ms == pytest.approx(0.5005) and sse.p50_ms_n == 2
    lines = checks.conclusions(table, checks.check_idle_cut(_mb_frame()),
                               pd.DataFrame({"verdict": ["as expected"]}),
                               checks.storm_table(_storm_rows()))
    assert "websocket behind strip_upgrade (HTTP 426)" in lines[0]
    assert "tcp behind buffer (delivered 0%)" in lines[1]


def test_idle_cut_model_agrees_with_a_frame_built_from_it():
    idle = checks.check_idle_cut(_mb_frame())
    assert len(idle) == 2 * len(st.TRANSPORTS) and (idle.verdict == "agrees").all()
    fast = idle[idle.profile == "idle_cut, heartbeat < cut"].set_index("transport")
    assert fast.loc["sse", "model"] == "survives" and fast.loc["websocket", "model"] == "cut"


def test_buffer_check_uses_half_the_flush_interval():
    row = checks.check_buffer(_mb_frame()).iloc[0]
    # 1 KiB at 20 events/s x 134 B plus 15 B per 0.1 s comment: 0.358 s windows
    assert row.flush_interval_ms == pytest.approx(1024 / (20 * 134 + 150) * 1e3)
    assert row.model == pytest.approx(row.flush_interval_ms / 2 + 0.5005)
    assert row.n == 2 and row.measured == pytest.approx(181.0)


def test_recovery_check_and_loss_verdicts():
    rng = np.random.default_rng(1)
    samples = pd.DataFrame({"transport": "sse", "recovery_s": rng.uniform(0, 0.05, 40),
                            "transit_ms": 0.3})
    row = checks.check_recovery(samples, 100.0).iloc[0]
    # backoff U[0, 50 ms] + 2 round trips and a transit (5 x 0.3 ms), or the next event
    # (U[0, 10 ms]) when later: E[max(W + h, V)] ~ 26.7 ms (Monte Carlo below)
    w, v = rng.uniform(0, 50, 200_000) + 1.5, rng.uniform(0, 10, 200_000)
    assert row.n == 40 and row.model == pytest.approx(np.maximum(w, v).mean(), rel=0.01)
    losses = pd.DataFrame({"kind": ["reset", "history", "restart"], "transport": "websocket",
                           "repeat": 0, "history": [10**6, 5, 10**6], "published": 60,
                           "reconnects": 2, "lost": [0, 63, 0], "duplicated": [0, 0, 3],
                           "lost_range_count": [0, 2, 0]})
    v = checks.loss_check(losses).verdict.tolist()
    assert v == ["as expected", "as expected", "NOT as expected"]


def _storm_rows():
    rows = []
    for k in range(3):
        for policy in st.POLICIES:
            rows.append({"policy": policy, "repeat": k, "peak_per_s_10ms": 1000.0 + k,
                         "peak_per_s_100ms": 500.0, "all_resumed_s": 1.0 + 0.1 * k,
                         "failed_attempts": 10, "listen_overflows": 0, "listen_drops": 0,
                         "server_cpu_s": 0.2, "server_rss_mb": 60.0, "lost": 0,
                         "duplicated": 0})
    return pd.DataFrame(rows)


def test_storm_table_means_with_t_intervals_and_connect_rate_bins():
    table = checks.storm_table(_storm_rows())
    row = table[(table.policy == "no jitter")
                & (table.quantity == "all resumed after restart (s)")].iloc[0]
    assert row["mean"] == pytest.approx(1.1) and row.n == 3 and row.low < 1.1 < row.high
    rate = storm.connect_rate(np.array([0.001, 0.002, 0.015, 0.5]), 0.01, 0.0, 0.03)
    assert rate.rate_per_s.tolist() == [200.0, 100.0, 0.0]


def test_failure_reason_keeps_the_status_line():
    exc = RunError("fleet failed: InvalidStatus(Response(status_code=426, "
                   "reason_phrase='Upgrade Required', headers=Headers([('Date', 'x')])))")
    assert st.failure_reason(exc) == "handshake answered HTTP 426 Upgrade Required"
    assert st.failure_reason(RunError("x" * 200)).endswith("...")


def test_a_tiny_real_storm_resumes_every_client(tmp_path):
    # 20 websocket clients, the server killed at 1 s and back 0.3 s later, no jitter:
    # every client reconnects once, resumes and the storm row accounts for each.
    with Lab() as lab:
        run = lab.run("websocket", clients=20, rate=10, duration=2.5, schedule="fixed",
                      options=st.POLICIES["no jitter"], out=str(tmp_path / "run"),
                      faults=["server_restart:at=1s,down=0.3s"], progress=False)
    row = st.storm_row("no jitter", 0, run, {"TcpExt.ListenOverflows": 0})
    assert row["reconnects"] >= 20 and row["lost"] == 0
    assert len(st.connect_times(run)) == row["reconnects"]
    assert 0 < row["all_resumed_s"] < 2.5 and row["peak_per_s_10ms"] >= row["peak_per_s_100ms"]
    assert row["down_s"] >= 0.3 and not math.isnan(row["server_rss_mb"])
