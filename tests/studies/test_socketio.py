"""Notebook 12's study (`wslab.studies.socketio`): tables on synthetic frames whose
answer is known, and one small real measurement."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from wslab import models, stats
from wslab.studies import socketio as st


def _compare(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for variant, per_repeat in values.items():
        for k, v in enumerate(per_repeat):
            rows.append({"variant": variant, "repeat": k, "bytes_per_event": v,
                         "body_bytes": 100.0, "latency_p50_ms": v / 100,
                         "latency_p99_ms": v / 10, "cpu_us_per_delivery": v * 2,
                         "setup_bytes": 650.0, "requests_per_event": 0.0,
                         "delivered": 10, "lost": 0, "duplicated": 0})
    return pd.DataFrame(rows)


def test_the_plans_reach_10000_connections_in_full_mode_only():
    quick, full = st.plan(True), st.plan(False)
    assert max(full.ns_pair) == 10_000 and full.fresh_servers and full.repeats >= 3
    assert max(quick.ns + quick.ns_pair) < 100 and not quick.fresh_servers
    assert full.runs()["faults"] == len(st.FAULT_CASES) > quick.runs()["faults"]
    assert full.wall_s() > quick.wall_s() > 0


def test_compare_table_is_the_mean_over_repeats_with_its_interval():
    frame = _compare({"websocket": [102.0, 103.0, 104.0], "socketio/websocket": [110.0] * 3})
    table = st.compare_table(frame)
    assert list(table.variant) == ["socketio/websocket", "websocket"]  # the VARIANTS order
    ws = table.set_index("variant").loc["websocket"]
    est = stats.mean_ci([102.0, 103.0, 104.0])
    assert (ws.bytes_per_event, ws.bytes_per_event_low, ws.bytes_per_event_n) == \
        (est.value, est.low, 3)


def test_memory_table_is_kib_per_connection():
    frame = pd.DataFrame({"variant": ["websocket"] * 3, "clients": [10, 20, 40],
                          "rss_growth_bytes": [10 * 4096 + 1e6, 20 * 4096 + 1e6,
                                               40 * 4096 + 1e6]})
    row = st.memory_table(frame).iloc[0]
    assert row.kib_per_conn == pytest.approx(4.0) and row.max_clients == 40
    assert row.kib_per_conn_n == 3 and row.kib_per_conn_low == pytest.approx(4.0)
    two = st.memory_table(frame.iloc[:2]).iloc[0]  # a slope from two runs has no interval
    assert two.kib_per_conn == pytest.approx(4.0) and math.isnan(two.kib_per_conn_low)


def test_framing_checks_compute_their_verdicts():
    exact = models.sio_ws_event_bytes(100)
    frame = _compare({"socketio/websocket": [exact - 0.1, exact + 0.1, exact],
                      "websocket": [150.0, 151.0, 152.0]})
    checks = st.framing_checks(frame).set_index("quantity")
    assert checks.loc["socketio/websocket: bytes per event", "verdict"] == "model inside 95 % CI"
    assert checks.loc["websocket: bytes per event", "verdict"].startswith("model below CI")


def test_heartbeat_exchanges_take_out_the_stream_and_divide_by_the_pings():
    rows = []
    for mode, per in (("websocket", 10), ("polling", 300)):
        for cid in range(3):
            rows.append({"mode": mode, "heartbeat": "default", "ping_interval_s": 25.0,
                         "client_id": cid, "bytes": 500, "connected_s": 2.0})
            rows.append({"mode": mode, "heartbeat": "scaled", "ping_interval_s": 0.2,
                         "client_id": cid, "bytes": 500 + per * (9 + cid),
                         "connected_s": 0.2 * (9 + cid) + 0.05})
    ex = st.heartbeat_exchanges(pd.DataFrame(rows))
    assert ex["websocket"].value == pytest.approx(10) and ex["websocket"].n == 3
    assert ex["polling"].value == pytest.approx(300)
    checks = st.heartbeat_checks(pd.DataFrame(rows)).set_index("quantity")
    assert checks.loc["websocket: B/s per idle client at 25 s", "measured"] == pytest.approx(0.4)


def test_upgrade_table_and_conclusions_are_computed_from_the_rows():
    up = pd.DataFrame([{"sample": i, "mode": m, "transport": "polling" if m == "polling"
                        else "websocket", "seconds": 0.004, "bytes_up": b, "bytes_down": b,
                        "requests": r} for i in range(3)
                       for m, b, r in (("websocket", 300, 1), ("polling", 800, 5),
                                       ("upgrade", 500, 2))])
    table = st.upgrade_table(up).set_index("mode")
    assert table.loc["upgrade", "bytes_beyond_websocket"] == 400
    assert table.loc["upgrade", "ends_on"] == "websocket"
    frame = _compare({"socketio/websocket": [110.0, 110.0], "websocket": [102.0, 102.0]})
    mem = pd.DataFrame({"variant": ["websocket"] * 2 + ["socketio/websocket"] * 2,
                        "clients": [10, 20] * 2, "rss_growth_bytes": [1e5, 2e5, 3e5, 6e5]})
    faults = pd.DataFrame([{"fault": "reset_peer", "variant": "socketio/websocket",
                            "connected": True, "lost": 3, "lost_fraction": 0.05,
                            "duplicated": 0, "reconnects": 2, "reason": ""}])
    lines = st.conclusions(st.summary_table(frame, mem), st.framing_checks(frame),
                           st.fault_table(faults))
    assert any("difference of the means 8.0 B" in line for line in lines)
    assert any(line.startswith("reset_peer, socketio/websocket: 3 deliveries lost")
               for line in lines)


def test_measure_upgrade_sets_up_every_mode_for_real():
    p = st.plan(True)  # (set-ups write no run directory)
    up = st.measure_upgrade(type(p)(**{**p.__dict__, "upgrade_samples": 1}))
    assert list(up["mode"]) == list(st.MODES)
    assert list(up.transport) == ["websocket", "polling", "websocket"]
    assert (up.bytes_up > 0).all() and (up.bytes_down > 0).all()
