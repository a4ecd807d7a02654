"""Long-poll analysis (wslab.studies.long_polling): synthetic tables, then one small real sweep."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from wslab import models, stats
from wslab.core.errors import ConfigError
from wslab.experiment import Experiment
from wslab.studies import long_polling as lp

MS = 1_000_000  # ns


# -- planning -------------------------------------------------------------------------
def test_per_run_half_width_makes_the_t_interval_over_repeats_reach_the_target():
    h = lp.per_run_half_width(0.05, 5)
    z = 1.959963984540054
    # a run's standard error is h/z; five of them: h/(z·√5); times t(4) = target
    assert h / (z * math.sqrt(5)) * stats.t_quantile(0.975, 4) == pytest.approx(0.05)
    assert lp.per_run_half_width(0.05, 3) < h  # fewer repeats: each run must be tighter
    with pytest.raises(ConfigError, match="repeats must be an integer >= 2"):
        lp.per_run_half_width(0.05, 1)


def test_sweep_plan_takes_durations_from_the_model_cv_and_the_target():
    transports = ["long-poll", "websocket", "sse"]
    plan = lp.sweep_plan([0.0, 0.1], [20.0, 500.0], repeats=5, transports=transports,
                         floor_s=1.5, cap_s=30.0)
    assert len(plan) == 4 and (plan.runs == 15).all()
    row = plan[(plan.delay_ms == 100.0) & (plan.rate == 20.0)].iloc[0]
    t = 0.1 + lp.STACK_TRANSIT_S
    assert row.model_cv == pytest.approx(models.long_poll_latency_cv(20.0, t))
    assert row.needed_s == stats.long_poll_duration(20.0, row.model_cv,
                                                    lp.per_run_half_width(0.05, 5))
    assert row.duration_s == max(row.needed_s, 1.5)
    # a high rate needs few seconds: the floor decides
    assert plan[plan.rate == 500.0].duration_s.eq(1.5).all()
    assert plan.wall_s.sum() == pytest.approx(
        (15 * (plan.duration_s + lp.RUN_OVERHEAD_S)).sum())
    capped = lp.sweep_plan([0.1], [20.0], repeats=2, transports=transports, floor_s=0.5,
                           cap_s=0.5)
    assert bool(capped.capped.iloc[0]) and capped.duration_s.iloc[0] == 0.5
    with pytest.raises(ConfigError, match="must include 'long-poll'"):
        lp.sweep_plan([0.0], [1.0], repeats=2, transports=["sse"])


def test_plan_trials_share_one_duration_per_point_and_plan_lines_add_up():
    transports = ["long-poll", "websocket"]
    plan = lp.sweep_plan([0.0, 0.025], [20.0], repeats=3, transports=transports)
    trials = lp.plan_trials(plan, transports)
    assert len(trials) == 4
    for d in (0.0, 0.025):
        durs = {t["duration"] for t in trials if t["delay"] == d}
        assert len(durs) == 1  # same schedule parameters: same seed per repeat
    lines = lp.plan_lines(plan, 0.05, 3, idle=(4, 2.0, lp.SERVER_START_S))
    assert lines[0].startswith(f"sweep: {int(plan.runs.sum())} runs")
    expected = plan.wall_s.sum() + 4 * (2.0 + lp.RUN_OVERHEAD_S + lp.SERVER_START_S)
    assert f"≈ {expected:.0f} s" in lines[-1]


def test_seed_check_reads_the_table():
    t = pd.DataFrame({"transport": ["long-poll", "sse"] * 2, "delay": 0.0, "rate": 5.0,
                      "repeat": [0, 0, 1, 1], "seed": [7, 7, 8, 8]})
    assert lp.seed_check(t).endswith("2 transports: True; distinct across the 2 repeats: True")
    t.loc[1, "seed"] = 9
    assert "2 transports: False" in lp.seed_check(t)


# -- completed responses ----------------------------------------------------------------
def test_events_per_response_counts_completed_non_empty_responses_only():
    t = pd.DataFrame({"delivered": [10, 30, 5], "requests": [11, 16, 5],
                      "responses": [10, 15, 4], "empty_responses": [0, 5, 4]})
    out = lp.events_per_response(t)
    assert out.iloc[0] == 1.0
    assert out.iloc[1] == 3.0  # 30 events over 15 - 5 non-empty completed responses
    assert math.isnan(out.iloc[2])  # no response carried an event


def test_events_per_response_leaves_out_a_request_held_at_stop():
    # 8 requests sent, the last still held when the run stopped: 7 responses,
    # 7 events delivered, one per response (not 7/8 = 0.875, which is impossible)
    t = pd.DataFrame({"delivered": [7], "requests": [8], "responses": [7],
                      "empty_responses": [0], "in_flight_at_stop": [1]})
    assert lp.events_per_response(t).iloc[0] == 1.0
    # runs stored before `responses` existed fall back to requests
    old = t.drop(columns=["responses", "in_flight_at_stop"])
    assert lp.events_per_response(old).iloc[0] == 7 / 8


def _messages(clients=(0, 1)):
    """Responses (arrival ms: published ms) of each client: a response held
    from connect, two immediate cycles of 10 ms, three held responses of
    2 ms each, then a last immediate cycle."""
    responses = {10: [8], 20: [9.5, 12], 30: [19, 25], 52: [50], 74: [72], 96: [94],
                 106: [95, 100]}
    rows, seq = [], 0
    for c in clients:
        seq = 0
        for arrive, pubs in responses.items():
            for p in pubs:
                rows.append({"client_id": c, "seq": seq, "published_ns": int(p * MS),
                             "received_ns": int(arrive * MS)})
                seq += 1
    rows.append(dict(rows[1]))  # a duplicated delivery: dropped
    return pd.DataFrame(rows)


def test_response_stats_finds_cycles_held_transits_and_steady_batches():
    st = lp.response_stats(_messages())
    assert st["cycle_ms"] == 10.0 and st["cycles"] == 2 * 3
    assert st["held_transit_ms"] == 2.0 and st["held"] == 2 * 3
    # batches of every response but each client's last: (1+2+2+1+1+1)/6
    assert st["events_per_response"] == pytest.approx(8 / 6) and st["responses"] == 12
    # after a warm-up ending at 9 ms the first response (held from connect) is dropped
    cut = lp.response_stats(_messages(), start_ns=9 * MS)
    assert cut["events_per_response"] == pytest.approx(7 / 5) and cut["responses"] == 10
    # too few immediate cycles: NaN, unless a threshold is given for the held ones
    few = _messages(clients=(0,))
    few = few[few.received_ns <= 96 * MS]
    st = lp.response_stats(few)
    assert st["cycles"] == 2 and math.isnan(st["cycle_ms"]) and math.isnan(st["held_transit_ms"])
    assert lp.response_stats(few, held_after_ms=10.0)["held_transit_ms"] == 2.0


# -- synthetic sweep ---------------------------------------------------------------------
def _row(transport, delay, rate, repeat, **kw):
    row = {"trial": f"{transport}_{delay}_{rate}_{repeat}", "transport": transport,
           "delay": delay, "rate": rate, "clients": 2, "repeat": repeat, "seed": 10 + repeat,
           "schedule": "poisson", "payload": 64, "duration": 2.0, "warmup_s": 0.2,
           "published": int(rate * 2), "delivered": int(rate * 4), "requests": 0,
           "responses": 0, "empty_responses": 0, "in_flight_at_stop": 0,
           "latency_p50_us": 1_000.0, "latency_mean_us": 1_000.0, "latency_max_us": 2_000.0,
           "bytes_up_per_event": 10.0, "bytes_down_per_event": 100.0}
    row.update(kw)
    return row


TRANSIT_US = {0.0: 1_000.0, 0.025: 26_000.0}
JITTER = (-0.01, 0.0, 0.01)  # the three repeats differ by ±1 %


@pytest.fixture
def synthetic():
    """Two delays × two rates × three repeats. Push runs put the transit at
    1 ms and 26 ms; long-poll means sit on the model (±1 %) except at 0 ms
    and 100/s, where they are 1.5× the model; maxima at 3 transits + 2 %."""
    rows = []
    for d, tr in TRANSIT_US.items():
        for r in (5.0, 100.0):
            for k, eps in enumerate(JITTER):
                rows.append(_row("websocket", d, r, k, latency_p50_us=tr,
                                 latency_max_us=tr + 3_000, bytes_down_per_event=40.0 + k))
                rows.append(_row("sse", d, r, k, latency_p50_us=tr,
                                 latency_max_us=tr + 1_000, bytes_down_per_event=60.0))
                mean = models.long_poll_mean_latency(r, tr / 1e6) * 1e6
                mean *= (1.5 if (d, r) == (0.0, 100.0) else 1.0) * (1 + eps)
                batch = float(models.long_poll_batch_size(r, tr / 1e6)) * (1 + eps)
                responses = 40 + k
                rows.append(_row("long-poll", d, r, k, latency_mean_us=mean,
                                 latency_max_us=3 * tr * 1.02 * (1 + eps / 10),
                                 responses=responses, requests=responses + 2,
                                 in_flight_at_stop=2, delivered=batch * responses,
                                 bytes_down_per_event=300.0))
    return pd.DataFrame(rows)


def _diagnostics(table):
    """Per long-poll run: steady batches on the model, cycles at 2 transits
    (+0.5 %), held transits at 1.2 transits."""
    rows = []
    for r in table[table.transport == "long-poll"].itertuples():
        tr = TRANSIT_US[r.delay] / 1e3
        rows.append({"trial": r.trial, "steady_events_per_response": r.delivered / r.responses,
                     "steady_responses": r.responses, "cycle_ms": 2 * tr * (1.005 + r.repeat / 1e3),
                     "cycles": 30, "held_transit_ms": 1.2 * tr * (1 + r.repeat / 1e3),
                     "held": 10})
    return pd.DataFrame(rows)


def test_long_poll_runs_join_transit_realized_rate_and_models(synthetic):
    runs = lp.long_poll_runs(synthetic, _diagnostics(synthetic))
    assert len(runs) == 12 and (runs.in_flight_at_stop == 2).all()
    row = runs[(runs.delay == 0.025) & (runs.rate == 100.0) & (runs.repeat == 1)].iloc[0]
    assert row.transit_ms == 26.0  # median of the push medians at that (delay, rate)
    assert row.realized_rate == 100.0  # published / duration
    assert row.x == pytest.approx(100 * 2 * 0.026)
    assert row.model_mean_ms == pytest.approx(models.long_poll_mean_latency(100, 0.026) * 1e3)
    assert row.bound_ms == pytest.approx(78.0)
    assert row.push_excess_ms == pytest.approx((3.0 + 1.0) / 2)  # websocket 3 ms, sse 1 ms
    assert row.events_per_response == pytest.approx(row.delivered / row.responses)
    assert row.cycle_ms == pytest.approx(2 * 26 * 1.006)
    with pytest.raises(ConfigError, match="no push run"):
        lp.long_poll_runs(synthetic[synthetic.transport == "long-poll"])


def test_mean_latency_checks_compute_the_verdicts(synthetic):
    c = lp.mean_latency_checks(lp.long_poll_runs(synthetic))
    assert list(c.columns[:4]) == ["delay_ms", "rate", "x", "p_gap"]
    assert {"measured", "low", "high", "n", "model", "verdict", "±pct", "target"} <= set(c)
    assert (c.n == 3).all()
    off = c[(c.delay_ms == 0.0) & (c.rate == 100.0)].iloc[0]
    assert off.verdict.startswith("model below CI")
    assert (c.drop(off.name).verdict == "model inside 95 % CI").all()
    # ±1 % over three runs: t(2) · 1 % / √3 ≈ 2.5 % of the model, within ±5 %
    assert (c.drop(off.name).target == "met").all()
    est = stats.mean_ci(synthetic[(synthetic.transport == "long-poll") & (synthetic.delay == 0.025)
                                  & (synthetic.rate == 5.0)].latency_mean_us / 1e3)
    row = c[(c.delay_ms == 25.0) & (c.rate == 5.0)].iloc[0]
    assert (row.measured, row.low, row.high) == pytest.approx((est.value, est.low, est.high))


def test_bound_verdict_says_whether_a_maximum_respects_its_bound():
    e = stats.Estimate(10.0, 9.0, 11.0, 5, "t")
    assert lp.bound_verdict(e, 12.0) == "max ≤ bound (CI below it by 8.3 %)"
    assert lp.bound_verdict(e, 10.5) == "bound inside 95 % CI"
    assert lp.bound_verdict(e, 8.0) == "max above bound by 12.5 %"
    assert lp.bound_verdict(stats.Estimate(1.0, math.nan, math.nan, 1, "t"), 2.0) == (
        "no interval (n=1)")


def test_max_latency_checks_against_three_transits_and_the_measured_cycle(synthetic):
    c = lp.max_latency_checks(lp.long_poll_runs(synthetic, _diagnostics(synthetic)))
    assert set(c.quantity) == {"max ≤ 3 transits", "max ≤ transit + cycle"}
    three = c[c.quantity == "max ≤ 3 transits"]
    assert three.model.tolist() == pytest.approx([3.0, 3.0, 78.0, 78.0])
    # measured 2 % above three transits with a tiny spread: above the bound
    assert three.verdict.str.startswith("max above bound by").all()
    assert three.excess_ms.to_numpy() == pytest.approx(0.02 * three.model.to_numpy(), rel=1e-3)
    cyc = c[c.quantity == "max ≤ transit + cycle"]
    # transit + cycle = 1 + 2.012 = 3.012 transits: still below the measured max
    assert cyc.model.iloc[-1] == pytest.approx(26 + 2 * 26 * 1.006)
    assert (c.push_excess_ms > 0).all()


def test_batching_checks_use_completed_responses_and_the_renewal_model(synthetic):
    runs = lp.long_poll_runs(synthetic, _diagnostics(synthetic))
    c = lp.batching_checks(runs)
    assert set(c.quantity) == {lp.STEADY, lp.WHOLE_RUN}
    whole = c[c.quantity == lp.WHOLE_RUN]
    assert (whole.verdict == "model inside 95 % CI").all()
    row = whole[(whole.delay_ms == 25.0) & (whole.rate == 100.0)].iloc[0]
    assert row.model == pytest.approx(models.long_poll_batch_size(100, 0.026))
    assert row.asymptote == pytest.approx(max(1.0, 100 * 0.052))
    assert row.model >= row.asymptote
    assert lp.batching_checks(lp.long_poll_runs(synthetic)).quantity.eq(lp.WHOLE_RUN).all()


def test_leg_checks_compare_the_premises_with_the_push_transit(synthetic):
    c = lp.leg_checks(lp.long_poll_runs(synthetic, _diagnostics(synthetic)))
    held = c[c.quantity == "held-request transit (ms)"]
    assert held.verdict.str.startswith("model below CI").all()  # 1.2 transits measured
    cycle = c[c.quantity == "response cycle (ms)"]
    assert cycle.model.tolist() == pytest.approx([2.0, 2.0, 52.0, 52.0])
    with pytest.raises(ConfigError, match="run_diagnostics"):
        lp.leg_checks(lp.long_poll_runs(synthetic))


def test_findings_follow_the_verdicts(synthetic):
    runs = lp.long_poll_runs(synthetic, _diagnostics(synthetic))
    checks = (lp.mean_latency_checks(runs), lp.max_latency_checks(runs),
              lp.batching_checks(runs), lp.leg_checks(runs))
    lines = lp.findings(*checks)
    assert "0 ms, mean latency vs model: holds at 5/s; misses at 100/s (model below CI" in (
        lines[0])
    assert any(s.startswith("25 ms, mean latency vs model: holds at 5/s, 100/s") for s in lines)
    assert any(s.startswith("25 ms, premise held-request transit") and "1.20×" in s
               for s in lines)
    assert any(s.startswith("25 ms, max ≤ 3 transits: misses at 5/s (max above bound by")
               for s in lines)
    assert lines[-1].startswith("precision: ")
    # a bound inside the interval of a maximum decides nothing
    wide = checks[1].assign(verdict="bound inside 95 % CI")
    assert "undecided (bound inside CI) at 5/s, 100/s" in lp.findings(
        checks[0], wide, checks[2], checks[3])[1]


def test_check_text_names_the_interval_method_once(synthetic):
    c = lp.mean_latency_checks(lp.long_poll_runs(synthetic))
    text = lp.check_text(c)
    assert "method" not in text.splitlines()[0] and "verdict" in text.splitlines()[0]
    assert text.splitlines()[-1].startswith("intervals: 95 %, t interval over runs")


def test_bounds_table_is_rfc6202_one_and_three_transits():
    t = lp.bounds_table([0.0, 0.025, 0.1], rates=[1, 100])
    assert list(t["one-way delay (ms)"]) == [0.0, 25.0, 100.0]
    assert list(t["min = 1 transit (ms)"]) == [0.0, 25.0, 100.0]
    assert list(t["max = 3 transits (ms)"]) == [0.0, 75.0, 300.0]
    assert list(t["mean, rate → ∞ (ms)"]) == [0.0, 50.0, 200.0]
    assert t["mean @ 1/s (ms)"].iloc[2] == pytest.approx(
        models.long_poll_mean_latency(1, 0.1) * 1e3, abs=0.01)


def test_bytes_table_has_an_interval_over_repeats(synthetic):
    b = lp.bytes_table(synthetic)
    assert len(b) == 3 * 4 and (b.bpe_n == 3).all()
    ws = b[(b.transport == "websocket") & (b.delay == 0.0) & (b.rate == 5.0)].iloc[0]
    est = stats.mean_ci([50.0, 51.0, 52.0])
    assert (ws.bpe, ws.bpe_low, ws.bpe_high) == pytest.approx((est.value, est.low, est.high))
    assert ws.text == f"51 [{est.low:.0f}, {est.high:.0f}] (n=3)"


def test_timeout_table_counts_completed_responses_with_intervals():
    rows = []
    for k in range(3):
        rows.append({"option_timeout": 30.0, "delivered": 4, "requests": 6, "responses": 4,
                     "empty_responses": 0, "empty_fraction": 0.0,
                     "bytes_up_per_event": 100.0 + k, "bytes_down_per_event": 200.0})
        rows.append({"option_timeout": 1.0, "delivered": 4, "requests": 22 + k, "responses": 20 + k,
                     "empty_responses": 16 + k, "empty_fraction": (16 + k) / (20 + k),
                     "bytes_up_per_event": 500.0, "bytes_down_per_event": 700.0})
    out = lp.timeout_table(pd.DataFrame(rows))
    assert list(out.timeout_s) == [1.0, 30.0] and (out.n == 3).all()
    # 30 s: 4 responses for 4 events (the 2 requests held at stop are not responses)
    assert out._responses_per_event.tolist() == pytest.approx([21 / 4, 1.0])
    assert out.responses_per_event.iloc[1] == "1.00 [1.00, 1.00]"
    assert out._empty_per_event.iloc[0] == pytest.approx(17 / 4)
    lines = lp.timeout_lines(out)
    assert lines[0].startswith("timeout 1 s: 5.25 [") and "(n=3 runs)" in lines[0]
    assert lines[-1] == "the 1 s timeout costs 5.2× the responses per delivered event of the 30 s one"


def test_fixed_span_is_first_to_last_event():
    assert lp.fixed_span(0.25, 12.0) == 8.0  # events at 0, 4, 8 s
    assert lp.fixed_span(0.5, 3.0) == 0.0  # a single event


def test_held_request_memory_is_an_ols_slope_with_a_t_interval():
    clients = np.array([10, 10, 500, 500, 1000, 1000])
    noise = np.array([30, -30, -20, 20, 10, -10]) * 1024
    t = pd.DataFrame({"clients": clients,
                      "server_rss_peak_bytes": 50 * 2**20 + clients * 6 * 1024 + noise})
    mem = lp.held_request_memory(t)
    e = mem["slope"]
    slope, intercept = np.polyfit(clients, t.server_rss_peak_bytes / 1024, 1)
    assert e.value == pytest.approx(slope) and mem["intercept_mib"] == pytest.approx(
        intercept / 1024)
    assert e.n == 6 and e.low < 6.0 < e.high and e.contains(e.value)
    resid = t.server_rss_peak_bytes / 1024 - (intercept + slope * clients)
    se = math.sqrt((resid**2).sum() / 4 / ((clients - clients.mean()) ** 2).sum())
    assert e.half_width == pytest.approx(stats.t_quantile(0.975, 4) * se)
    lines = lp.memory_lines(mem)
    assert lines[0].startswith(f"server RSS per held long-poll request: {e.value:.1f} KiB, 95 % CI")
    assert "inside this interval" in lines[1] and "6 KiB" in lines[1]
    with pytest.raises(ConfigError, match="three runs with two different"):
        lp.held_request_memory(t.iloc[:2])


def test_figures_have_error_bars_model_lines_and_legends_per_panel(synthetic):
    runs = lp.long_poll_runs(synthetic, _diagnostics(synthetic))
    fig, ax = plt.subplots()
    lp.plot_batching(ax, lp.batching_checks(runs))
    assert ax.get_xscale() == "log" and "events per" in ax.get_ylabel()
    assert len(ax.containers) == 2  # one error-bar series per delay
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(s.startswith("model: λc") for s in labels) and any("n = 3" in s for s in labels)
    assert "×10" not in "".join(t.get_text() for t in ax.get_xticklabels())
    fig2, axes = plt.subplots(1, 2)
    lp.plot_latency_vs_rate(axes, synthetic, runs)
    for a in axes:
        assert "(ms)" in a.get_ylabel() and a.get_legend() is not None
        labels = [t.get_text() for t in a.get_legend().get_texts()]
        assert {"long-poll mean", "long-poll max", "3 transits"} <= set(labels)
        assert len(a.containers) == 4  # websocket, sse, long-poll mean and max
        assert "n = 3" in a.get_legend().get_title().get_text()
    fig3, axes3 = plt.subplots(1, 2)
    lp.plot_bytes(axes3, synthetic, body=90.0)
    assert all(len(a.containers) == 3 and a.get_legend() is not None for a in axes3)
    plt.close("all")


# -- one small real sweep ---------------------------------------------------------------------
def test_real_long_poll_behind_delay_counts_completed_responses_and_batches(tmp_path):
    """Long-poll and websocket behind a 20 ms one-way delay at 200 events/s:
    the long poll held at stop is counted as a request, not a response; the
    batching, cycle and transit measured from the deliveries are consistent
    with the delay; the tables hold together."""
    delay = 0.02
    exp = Experiment("lp", root=tmp_path / "lp", seed=1,
                     trials=lp.sweep_trials(["long-poll", "websocket"], [delay], [200.0],
                                            duration=1.0),
                     base={"clients": 2, "schedule": "poisson"})
    table = exp.run(progress=False)
    assert (table["lost"] == 0).all() and (table["duplicated"] == 0).all()
    assert table.seed.nunique() == 1  # one stream for both transports
    run = table[table.transport == "long-poll"].iloc[0]
    assert run.in_flight_at_stop == 2  # each client's last request was still held
    assert run.responses == run.requests - run.in_flight_at_stop
    assert run.requests_per_event == pytest.approx(run.responses / run.delivered)
    runs = lp.long_poll_runs(table, lp.run_diagnostics(exp.runs, table))
    row = runs.iloc[0]
    epr = run.delivered / (run.responses - run.empty_responses)
    assert row.events_per_response == pytest.approx(epr) and epr >= 1.0
    assert row.steady_events_per_response > 1.5  # 200/s × ≥ 40 ms round trip: batches
    assert row.cycle_ms >= 2 * delay * 1e3  # response out, request in: two delayed legs
    assert row.transit_ms >= delay * 1e3 and row.latency_max_ms >= row.transit_ms
    assert exp.latencies()["latency_us"].min() >= delay * 1e6
    cap = lp.delay_sweep_caption(exp.runs, table)
    assert "20 ms" in cap and "one seed per repeat" in cap and "wslab.net.proxy" in cap


def test_real_idle_runs_start_a_fresh_server_per_count_and_repeat(monkeypatch, tmp_path):
    """idle_runs: one experiment (hence one server process) per count and
    repeat, seeded per repeat; the memory slope comes with an interval."""
    import wslab.core.paths

    monkeypatch.setenv("WSLAB_HOME", str(tmp_path))
    idle = lp.idle_runs([1, 2, 3], name="idle", seed=1, rate=1.0, schedule="fixed",
                        duration=0.5)
    assert list(idle.clients) == [1, 2, 3] and (idle.transport == "long-poll").all()
    assert idle.path.nunique() == 3 and np.isfinite(idle.server_rss_peak_bytes).all()
    assert sorted(p.name for p in wslab.core.paths.runs_dir().iterdir()) == [
        "idle_n1_r0", "idle_n2_r0", "idle_n3_r0"]
    mem = lp.held_request_memory(idle)
    assert mem["slope"].n == 3 and math.isfinite(mem["slope"].half_width)
