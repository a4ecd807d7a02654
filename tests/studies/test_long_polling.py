"""Long-poll analysis (wslab.studies.long_polling): synthetic tables, then real small runs."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import wslab.core.paths
from wslab.core.errors import ConfigError
from wslab.experiment import Experiment
from wslab.models import long_poll_mean_latency
from wslab.studies import long_polling


def _row(transport, delay, rate, **kw):
    row = {"transport": transport, "delay": delay, "rate": rate, "clients": 2, "repeat": 0,
           "schedule": "poisson", "payload": 64, "duration": 2.0, "warmup_s": 0.2,
           "delivered": 100, "requests": 100, "empty_responses": 0,
           "latency_p50_us": 1_000.0, "latency_mean_us": 1_000.0, "latency_max_us": 2_000.0,
           "bytes_up_per_event": 10.0, "bytes_down_per_event": 100.0}
    row.update(kw)
    return row


@pytest.fixture
def synthetic():
    """Two delays, two rates; push runs give transits of 1 ms and 26 ms."""
    rows = []
    for d, transit_us in ((0.0, 1_000.0), (0.025, 26_000.0)):
        for r in (5.0, 100.0):
            rows.append(_row("websocket", d, r, latency_p50_us=transit_us,
                             latency_max_us=transit_us + 3_000, bytes_down_per_event=40.0))
            rows.append(_row("sse", d, r, latency_p50_us=transit_us + 200,
                             latency_max_us=transit_us + 1_000, bytes_down_per_event=60.0))
            rows.append(_row("long-poll", d, r, delivered=200, requests=60, empty_responses=10,
                             latency_p50_us=transit_us * 1.5, latency_mean_us=transit_us * 1.6,
                             latency_max_us=transit_us * 2.9 + r, bytes_down_per_event=300.0))
    return pd.DataFrame(rows)


# -- synthetic tables -------------------------------------------------------------
def test_sweep_trials_covers_the_product_with_per_rate_durations():
    trials = long_polling.sweep_trials(["long-poll", "sse"], [0, 0.1], [1, 500],
                                   duration={1: 10.0, 500: 3.0}.get)
    assert len(trials) == 8
    assert {(t["transport"], t["delay"], t["rate"]) for t in trials} == {
        (t, d, r) for t in ("long-poll", "sse") for d in (0.0, 0.1) for r in (1.0, 500.0)}
    assert all(t["duration"] == (10.0 if t["rate"] == 1 else 3.0) for t in trials)
    assert all(t["duration"] == 2.0
               for t in long_polling.sweep_trials(["sse"], [0], [1, 2], duration=2))


def test_events_per_response_counts_only_responses_that_carried_events():
    t = pd.DataFrame({"delivered": [10, 30, 5], "requests": [10, 15, 4],
                      "empty_responses": [0, 5, 4]})
    out = long_polling.events_per_response(t)
    assert out.iloc[0] == 1.0
    assert out.iloc[1] == 3.0  # 30 events over 10 non-empty responses
    assert math.isnan(out.iloc[2])  # no response carried an event


def test_events_per_response_leaves_out_a_request_held_at_stop():
    # 8 requests sent, the last still held when the run stopped: 7 responses,
    # 7 events delivered, one per response (not 7/8 = 0.875, which is impossible)
    t = pd.DataFrame({"delivered": [7], "requests": [8], "responses": [7],
                      "empty_responses": [0]})
    assert long_polling.events_per_response(t).iloc[0] == 1.0


def test_transit_is_the_median_of_push_medians_per_delay(synthetic):
    b = long_polling.batching_table(synthetic)
    transit = b.groupby("delay")["transit_s"].first()
    assert list(transit.index) == [0.0, 0.025]
    # websocket 1,000 µs and sse 1,200 µs at every rate: median of four is 1,100 µs
    assert transit[0.0] == pytest.approx(1.1e-3)
    assert transit[0.025] == pytest.approx(26.1e-3)
    with pytest.raises(ConfigError, match="no push run"):
        long_polling.batching_table(synthetic[synthetic.transport == "long-poll"])


def test_batching_table_uses_measured_round_trip_and_model(synthetic):
    b = long_polling.batching_table(synthetic)
    assert len(b) == 4 and set(b.columns) >= {"x", "events_per_response", "model_exact", "model"}
    row = b[(b.delay == 0.025) & (b.rate == 100.0)].iloc[0]
    assert row.round_trip_s == pytest.approx(2 * 26.1e-3)
    assert row.x == pytest.approx(100 * 2 * 26.1e-3)
    assert row.events_per_response == pytest.approx(200 / 50)
    assert row.model_exact == pytest.approx(row.x + math.exp(-row.x))
    assert row.model == pytest.approx(max(1.0, row.x))
    assert (b.model_exact >= b.model).all() and (b.model >= 1).all()


def test_bounds_table_is_rfc6202_one_and_three_transits():
    t = long_polling.bounds_table([0.0, 0.025, 0.1], rates=[1, 100])
    assert list(t["one-way delay (ms)"]) == [0.0, 25.0, 100.0]
    assert list(t["min = 1 transit (ms)"]) == [0.0, 25.0, 100.0]
    assert list(t["max = 3 transits (ms)"]) == [0.0, 75.0, 300.0]
    assert list(t["mean, rate → ∞ (ms)"]) == [0.0, 50.0, 200.0]
    assert t["mean @ 1/s (ms)"].iloc[2] == pytest.approx(
        long_poll_mean_latency(1, 0.1) * 1e3, abs=0.01)
    # the mean grows with rate and stays between one and two transits
    lo, hi = t["mean @ 1/s (ms)"], t["mean @ 100/s (ms)"]
    assert (lo <= hi).all() and (lo >= t["min = 1 transit (ms)"]).all()
    assert (hi <= t["mean, rate → ∞ (ms)"]).all()


def test_max_latency_table_picks_worst_rate_and_compares_to_bounds(synthetic):
    m = long_polling.max_latency_table(synthetic)
    assert list(m.delay_ms) == [0.0, 25.0]
    row = m.iloc[1]
    assert row.at_rate == 100.0  # the largest long-poll maximum at this delay
    assert row.lp_max_ms == pytest.approx((26_000 * 2.9 + 100) / 1e3, abs=1e-3)
    assert row.bound_3d_ms == 75.0
    assert row.bound_3t_ms == pytest.approx(3 * 26.1, abs=1e-3)
    assert row.ratio_3t == pytest.approx(row.lp_max_ms / row.bound_3t_ms, abs=1e-3)
    assert row.push_max_ms == pytest.approx(29.0)  # websocket 26 + 3 ms
    assert row.push_excess_ms == pytest.approx(29.0 - 26.1, abs=1e-3)


def test_bytes_table_sums_up_and_down_per_transport(synthetic):
    w = long_polling.bytes_table(synthetic)
    assert set(w.columns) == {"long-poll", "sse", "websocket"}
    assert len(w) == 4
    assert (w["long-poll"] == 310.0).all() and (w["websocket"] == 50.0).all()


def test_held_request_memory_is_the_slope_of_rss_against_clients():
    t = pd.DataFrame({"clients": [10, 100, 1000],
                      "server_rss_peak_bytes": [50_000_000 + n * 6 * 1024 for n in (10, 100, 1000)]})
    mem = long_polling.held_request_memory(t)
    assert mem["kib_per_request"] == pytest.approx(6.0)
    assert mem["intercept_mib"] == pytest.approx(50_000_000 / 2**20)
    assert (mem["clients_min"], mem["clients_max"]) == (10, 1000)
    with pytest.raises(ConfigError, match="two different"):
        long_polling.held_request_memory(t.iloc[:1])


def test_timeout_table_per_event_costs():
    t = pd.DataFrame([
        {"option_timeout": 30.0, "rate": 0.2, "duration": 10.0, "clients": 2, "delivered": 4,
         "requests": 4, "empty_responses": 0, "empty_fraction": 0.0,
         "bytes_up_per_event": 100.0, "bytes_down_per_event": 200.0},
        {"option_timeout": 1.0, "rate": 0.2, "duration": 10.0, "clients": 2, "delivered": 4,
         "requests": 20, "empty_responses": 16, "empty_fraction": 0.8,
         "bytes_up_per_event": 500.0, "bytes_down_per_event": 700.0}])
    out = long_polling.timeout_table(t)
    assert list(out.timeout_s) == [1.0, 30.0]  # sorted by timeout
    assert list(out.requests_per_event) == [5.0, 1.0]
    assert list(out.empty_per_event) == [4.0, 0.0]
    assert list(out.bytes_per_event) == [1200.0, 300.0]


def test_figures_and_findings_draw_every_series(synthetic):
    fig, ax = plt.subplots()
    long_polling.plot_batching(ax, long_polling.batching_table(synthetic))
    assert ax.get_xscale() == "log" and "events per" in ax.get_ylabel()
    assert len(ax.get_lines()) == 2 + 2  # one marker series per delay, two model lines
    fig2, axes = plt.subplots(1, 2)
    long_polling.plot_latency_vs_rate(axes, synthetic)
    for a in axes:
        assert "(ms)" in a.get_ylabel()
        labels = [ln.get_label() for ln in a.get_lines()]
        assert "long-poll max" in labels and any(s.startswith("3 transits") for s in labels)
    fig3, axes3 = plt.subplots(1, 2)
    long_polling.plot_bytes(axes3, synthetic, body=90.0)
    assert all(len(a.get_lines()) == 3 + 1 for a in axes3)  # three transports, the body line
    assert axes3[0].get_lines()[-1].get_ydata()[0] == 90.0
    lines = long_polling.findings(synthetic)
    assert lines[0].startswith("batching:") and any("25 ms" in s for s in lines)
    assert any("excess over the bound" in s for s in lines)
    plt.close("all")


# -- real small runs -----------------------------------------------------------------
def test_real_long_poll_behind_delay_batches_and_respects_one_transit(tmp_path):
    """Long-poll and websocket behind a 20 ms one-way delay: every delivery takes
    at least one transit, long-poll batches at 200 events/s (a round trip holds
    several events) and the tables are consistent with the runs."""
    delay = 0.02
    exp = Experiment("lp", root=tmp_path / "lp", seed=1,
                     trials=long_polling.sweep_trials(["long-poll", "websocket"], [delay], [200.0],
                                                  duration=1.0),
                     base={"clients": 2, "schedule": "poisson"})
    table = exp.run(progress=False)
    assert (table["lost"] == 0).all() and (table["duplicated"] == 0).all()
    lat = exp.latencies()
    assert lat["latency_us"].min() >= delay * 1e6  # the proxy delays every event downstream
    b = long_polling.batching_table(table)
    assert b.events_per_response.iloc[0] > 1.5  # 200/s × ≥ 40 ms round trip ≈ 8 per cycle
    lp = table[table.transport == "long-poll"].iloc[0]
    assert lp.requests < lp.delivered  # fewer requests than events: batching
    m = long_polling.max_latency_table(table).iloc[0]
    assert m.transit_ms >= delay * 1e3 and m.lp_max_ms >= m.transit_ms
    cap = long_polling.delay_sweep_caption(exp.runs, table)
    assert "20 ms" in cap and "long-poll" in cap


def test_real_short_timeout_gives_empty_responses_and_fresh_servers_for_idle_runs(tmp_path,
                                                                                  monkeypatch):
    """Timeout 0.2 s against events 1 s apart (fixed schedule, 1/s for 2 s): the
    request held between them times out empty several times; a 30 s timeout
    gives none. idle_runs runs one experiment per count."""
    monkeypatch.setenv("WSLAB_HOME", str(tmp_path))
    exp = Experiment("to", root=tmp_path / "to", seed=1,
                     grid={"options": [{"timeout": 0.2}, {"timeout": 30.0}]},
                     base={"transport": "long-poll", "clients": 1, "rate": 1.0,
                           "schedule": "fixed", "duration": 2.0})
    out = long_polling.timeout_table(exp.run(progress=False))
    short, long = out.iloc[0], out.iloc[1]
    assert (short.timeout_s, long.timeout_s) == (0.2, 30.0)
    assert short.delivered == long.delivered == 2
    assert short.empty_responses >= 2 and long.empty_responses == 0
    assert short.requests_per_event > long.requests_per_event
    idle = long_polling.idle_runs([1, 3], name="idle", seed=1, rate=0.5, schedule="fixed",
                              duration=1.0)
    assert list(idle.clients) == [1, 3]
    assert (idle.transport == "long-poll").all() and np.isfinite(idle.server_rss_peak_bytes).all()
    assert sorted(p.name for p in wslab.core.paths.runs_dir().iterdir()) == ["idle_n1", "idle_n3"]
    assert math.isfinite(long_polling.held_request_memory(idle)["kib_per_request"])
