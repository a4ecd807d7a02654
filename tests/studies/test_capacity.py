"""wslab.studies.capacity: the load ladder, the knee and its bracket; one tiny real sweep."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from wslab.studies import capacity  # noqa: E402


def _runs(transport, rates, p99_ms, lost=None, clients=10, repeats=1):
    rows = []
    for i, (r, p) in enumerate(zip(rates, p99_ms, strict=True)):
        for rep in range(repeats):
            rows.append({"transport": transport, "rate": r, "repeat": rep, "clients": clients,
                         "achieved_rate": r, "publish_s": 2.0, "duration": 2.0, "delivered": int(clients * r * 2),
                         "lost": (lost or [0] * len(rates))[i], "stalled_clients": 0,
                         "latency_p99_us": p * 1e3, "latency_p50_us": p * 500,
                         "server_cpu_s": 0.01 * r + 0.001 * rep, "client_cpu_s": 0.02 * r,
                         "requests_per_event": 0.5 / (1 + rep)})
    return pd.DataFrame(rows)


def test_ladder_is_geometric_and_includes_both_ends():
    assert capacity.ladder(10, 1000, per_decade=2) == [10, 31.6, 100, 316, 1000]
    assert capacity.ladder(5, 5) == [5]
    with pytest.raises(ValueError):
        capacity.ladder(0, 10)


def test_holds_names_the_reason():
    assert capacity.holds({"lost": 0, "stalled_clients": 0, "latency_p99_us": 5e3}) == (True, "")
    ok, why = capacity.holds({"lost": 3, "latency_p99_us": 5e3})
    assert not ok and "lost 3" in why
    ok, why = capacity.holds({"lost": 0, "stalled_clients": 0, "latency_p99_us": 250e3})
    assert not ok and "p99 250 ms" in why
    assert capacity.holds({"lost": 0, "latency_p99_us": float("nan")})[0] is False
    # a publisher that overran its 3 s schedule: the server was saturated
    ok, why = capacity.holds({"lost": 0, "stalled_clients": 0, "latency_p99_us": 5e3,
                              "duration": 3.0, "publish_s": 6.8})
    assert not ok and "behind its schedule" in why
    assert capacity.holds({"lost": 0, "stalled_clients": 0, "latency_p99_us": 5e3,
                           "duration": 3.0, "publish_s": 3.1})[0]


def test_knee_is_bracketed_between_last_hold_and_first_failure():
    steps = capacity.step_table(pd.concat([
        _runs("websocket", [10, 100, 1000], [1, 2, 3], repeats=3),  # never breaks
        _runs("short-poll", [10, 100, 1000], [60, 300, 900], repeats=3),  # breaks at 100
        _runs("sse", [10, 100, 1000], [2, 20, 30], lost=[0, 0, 5], repeats=3),  # loses at 1000
    ]))
    k = capacity.knee_table(steps).set_index("transport")
    assert k.loc["websocket", "capacity_low"] == 10 * 1000 and math.isnan(k.loc["websocket", "capacity_high"])
    assert (k.loc["short-poll", "capacity_low"], k.loc["short-poll", "capacity_high"]) == (100, 1000)
    assert (k.loc["sse", "capacity_low"], k.loc["sse", "capacity_high"]) == (1000, 10_000)
    # CPU at the last step that held, with its interval and the number of runs
    row = k.loc["sse"]
    assert row.server_cpu_us_per_delivery_n == 3
    assert row.server_cpu_us_per_delivery_low <= row.server_cpu_us_per_delivery <= row.server_cpu_us_per_delivery_high
    r = capacity.capacity_ratios(k.reset_index()).set_index("transport")
    assert r.loc["sse", "ratio"] == 10 and r.loc["sse", "ratio_low"] == 1 and r.loc["sse", "ratio_high"] == 100


def test_a_step_fails_when_most_repeats_fail():
    steps = capacity.step_table(pd.concat([
        _runs("tcp", [10], [1], repeats=1),
        _runs("tcp", [10], [500], repeats=2).assign(repeat=[1, 2]),
    ]))
    k = capacity.knee_table(steps).set_index("transport")
    assert k.loc["tcp", "capacity_low"] == 0.0 and k.loc["tcp", "capacity_high"] == 100


def test_plots_draw_every_transport():
    steps = capacity.step_table(pd.concat([_runs("websocket", [10, 100], [1, 2]),
                                           _runs("short-poll", [10, 100], [60, 300])]))
    knees = capacity.knee_table(steps)
    fig, (a, b) = plt.subplots(1, 2)
    capacity.plot_load_curves(a, steps, knees)
    capacity.plot_cpu(b, steps)
    labels = [t.get_text() for t in a.get_legend().get_texts()]
    assert any("websocket" in s for s in labels) and any("short-poll" in s for s in labels)
    assert a.get_xlabel().startswith("offered load") and "µs" in b.get_ylabel()
    assert len(b.get_lines()) == 4  # server and client line per transport
    plt.close(fig)


def test_real_sweep_stops_at_the_first_step_past_the_knee():
    # A p99 limit no run can meet: every transport stops after its first step.
    logged = []
    steps = capacity.sweep(["tcp", "websocket"], clients=2, rates=[20, 40, 80],
                           duration=0.6, p99_limit_ms=1e-6, log=logged.append)
    assert list(steps.groupby("transport", sort=False).size()) == [1, 1]
    assert (steps.lost == 0).all() and not steps.ok.any()
    assert all("past the knee" in line for line in logged)
    # and a generous limit lets the ladder run to its end
    steps = capacity.sweep(["tcp"], clients=2, rates=[20, 40], duration=0.6,
                           p99_limit_ms=10_000)
    assert list(steps.rate) == [20, 40] and steps.ok.all()
    assert (steps.carried_per_s > 0).all() and (steps.deliveries_per_cpu_s > 0).all()
    # ladders keep histograms, not every delivery (millions at the knee)
    import wslab

    run = wslab.load(steps.path.iloc[0])
    assert run.manifest["parameters"]["keep_messages"] is False
    assert not (run.path / "messages.parquet").exists() and run.summary["latency_hdr"]


def test_wakeup_probe_reports_every_message_per_gap():
    w = capacity.wakeup_latency([0.0, 0.002], samples=5)
    assert list(w.groupby("gap_s").size()) == [5, 5]
    assert (w.latency_us > 0).all()  # one clock: the receiver never sees the future


def test_wakeup_table_verdict_and_figures():
    rows = [{"gap_s": g, "latency_us": v} for g, base in ((0.001, 30.0), (0.1, 200.0))
            for v in (base + k for k in range(40))]
    table = capacity.wakeup_table(pd.DataFrame(rows))
    assert list(table.gap_ms) == [1.0, 100.0] and (table.p50_us_n == 40).all()
    assert capacity.wakeup_verdict(table).startswith("grows")
    flat = capacity.wakeup_table(pd.DataFrame([{"gap_s": g, "latency_us": 30.0 + k}
                                               for g in (0.001, 0.1) for k in range(40)]))
    assert capacity.wakeup_verdict(flat).startswith("no growth")
    steps = capacity.step_table(pd.concat([_runs("tcp", [10, 100], [1, 2]),
                                           _runs("short-poll", [10, 100], [60, 300])]))
    knees = capacity.knee_table(steps)
    floor = pd.DataFrame({"transport": ["tcp", "tcp"], "rate": [2.0, 500.0], "gap_ms": [500, 2],
                          "latency_p50_us": [150.0, 60.0], "latency_p50_us_low": [140.0, 55.0],
                          "latency_p50_us_high": [160.0, 65.0], "latency_p50_us_n": [3, 3]})
    lines = capacity.findings(knees, capacity.capacity_ratios(knees), table, floor)
    assert any(line.startswith("tcp: held 1,000") for line in lines)
    assert any("wake-up verdict: grows" in line for line in lines)
    assert any("falls with rate beyond the intervals" in line for line in lines)
    fig, (a, b) = plt.subplots(1, 2)
    capacity.plot_wakeup(a, table)
    capacity.plot_p50_vs_gap(b, floor)
    assert "idle gap" in a.get_xlabel() and len(b.get_lines()) >= 1
    plt.close(fig)


def test_real_idle_floor_gives_an_interval_per_rate():
    floor = capacity.idle_floor([20, 80], repeats=2, events=10, min_duration=0.5)
    assert list(floor.rate) == [20, 80] and (floor.latency_p50_us_n == 2).all()
    assert (floor.latency_p50_us_low <= floor.latency_p50_us).all()
    assert list(floor.gap_ms) == [50.0, 12.5]


def test_bisect_narrows_the_bracket_at_geometric_midpoints():
    probed = []

    def holds_at(rate):
        probed.append(rate)
        return rate < 400

    assert capacity.bisect_knee(100, 1000, 2, holds_at) == (316, 562)
    assert probed == [316, 562]
    assert capacity.bisect_knee(100, 101, 3, holds_at) == (100, 101)  # nothing in between


def test_pull_transports_report_batching_at_the_knee():
    steps = capacity.step_table(pd.concat([_runs("short-poll", [10, 100], [60, 300], repeats=2),
                                           _runs("tcp", [10], [1], repeats=2)]))
    k = capacity.knee_table(steps).set_index("transport")
    assert k.loc["short-poll", "events_per_response"] == pytest.approx(3.0)  # 1/0.5 and 1/0.25
    assert k.loc["short-poll", "events_per_response_n"] == 2
    assert "events_per_response" not in k.columns or math.isnan(k.loc["tcp", "events_per_response"])
