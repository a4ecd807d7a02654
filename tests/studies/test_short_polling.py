"""wslab.studies.short_polling: the precision plan, summaries over repeats, model checks, figures."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import wslab  # noqa: E402
from wslab import stats  # noqa: E402
from wslab.core.errors import ConfigError  # noqa: E402
from wslab.studies import short_polling as sp  # noqa: E402

TRANSIT_US = {10.0: 400.0, 100.0: 500.0}  # websocket median per rate (synthetic)


def _row(transport, rate, interval, repeat, mean_us, p50_us=None, p99_us=None, *, delay=None,
         up=10.0, down=100.0, req=0.0, empty=0.0, clients=4, duration=3.0):
    return {"transport": transport, "rate": rate, "interval": interval, "delay": delay,
            "repeat": repeat, "clients": clients, "duration": duration,
            "delivered": int(rate * duration * clients), "lost": 0,
            "latency_mean_us": mean_us, "latency_p50_us": p50_us or mean_us,
            "latency_p99_us": p99_us or 2 * mean_us, "bytes_up_per_event": up,
            "bytes_down_per_event": down, "requests_per_event": req, "empty_fraction": empty,
            "responses": int(clients * (duration / interval + 1)) if interval else clients}


def _table(bias=1.0, repeats=4, noise=0.02, intervals=(0.01, 0.05, 0.5, 2.0), delay=None,
           transit=None, seed=0):
    """An Experiment.run-like table: websocket + tcp at two rates, and short-poll
    whose run means scatter (± noise, relative) around bias × (T/2 + transit)."""
    rng = np.random.default_rng(seed)
    transit = transit or TRANSIT_US
    rows = []
    for rate, tr in transit.items():
        for rep in range(repeats):
            rows.append(_row("websocket", rate, None, rep, tr * 1.2, tr, tr * 3, delay=delay,
                             up=2 + rep, down=110))
            rows.append(_row("tcp", rate, None, rep, tr * 0.8, tr * 0.7, tr * 2, delay=delay,
                             up=0, down=100))
            for T in intervals:
                mean = ((T / 2) * 1e6 + tr) * bias * (1 + noise * rng.standard_normal())
                p99 = (0.99 * T * 1e6 + tr) * (1 + noise * rng.standard_normal())
                rows.append(_row("short-poll", rate, T, rep, mean, mean, p99, delay=delay,
                                 up=150 / (rate * T), down=250 / (rate * T),
                                 req=1 / (rate * T) * (1 + noise * rng.standard_normal()),
                                 empty=math.exp(-rate * T)))
    return pd.DataFrame(rows)


# -- planning ------------------------------------------------------------------
def test_per_run_half_width_undoes_the_t_interval_over_repeats():
    # h·z·sqrt(R)/t(R-1): 0.05 · 1.959964 · sqrt(5) / 2.776445 = 0.078925
    assert sp.per_run_half_width(0.05, 5) == pytest.approx(0.0789249, rel=1e-5)
    # more repeats: each run may be less precise; R -> ∞ tends to h·sqrt(R)
    widths = [sp.per_run_half_width(0.05, r) for r in (2, 3, 5, 10, 30)]
    assert widths == sorted(widths)
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ConfigError, match="repeats must be an integer >= 2"):
            sp.per_run_half_width(0.05, bad)


def test_plan_windows_are_whole_intervals_and_meet_the_precision():
    p = sp.plan([10, 100], [0.05, 0.2, 2.0], clients=8, repeats=5, warmup=0.5, min_window=1.0)
    assert len(p) == 6 and list(p.columns) == ["rate", "interval", "needed_s", "periods",
                                                "window_s", "events", "duration"]
    assert np.allclose(p.window_s, p.periods * p.interval)  # a whole number of intervals
    assert (p.window_s >= p.needed_s - 1e-9).all() and (p.window_s >= 1.0 - 1e-9).all()
    assert (p.window_s >= p.interval).all()  # at least one full interval
    assert np.allclose(p.duration, p.window_s + 0.5)
    assert np.allclose(p.events, p.rate * p.window_s)
    h = sp.per_run_half_width(0.05, 5)
    row = p[(p.rate == 10) & (p.interval == 0.2)].iloc[0]
    assert row.needed_s == stats.short_poll_duration(10, 0.2, h, 8, transit=0.0005,
                                                     phases="random", warmup=0.0)
    # more clients with independent phases need fewer events
    more = sp.plan([10], [0.2], clients=32, repeats=5)
    assert more.needed_s.iloc[0] < row.needed_s
    with pytest.raises(ConfigError, match="at least one rate"):
        sp.plan([], [0.1], clients=1, repeats=3)


def test_planned_events_give_the_target_interval_in_simulation():
    """Simulated experiments at the planned size: R runs, each with Poisson events
    over whole intervals, C clients with uniform random phases, waits to the next
    poll. The t interval over the runs should be about ±5 % of T/2 and cover it."""
    rate, T, C, R, target = 10.0, 0.2, 8, 5, 0.05
    row = sp.plan([rate], [T], clients=C, repeats=R, transit=0.0).iloc[0]
    rng = np.random.default_rng(7)
    widths, covered = [], 0
    for _ in range(400):
        means = []
        for _r in range(R):
            n = rng.poisson(rate * row.window_s)
            t = rng.uniform(0, row.window_s, n)
            phase = rng.uniform(0, T, C)
            waits = (phase[None, :] - t[:, None]) % T
            means.append(waits.mean())
        est = stats.mean_ci(means, unit="runs")
        widths.append(est.relative_half_width)
        covered += est.contains(T / 2)
    assert 0.6 * target < np.median(widths) < 1.1 * target
    assert 0.90 <= covered / 400 <= 0.99


def test_plan_grid_is_a_valid_experiment_and_the_wall_time_adds_up(tmp_path):
    p = sp.plan([5, 50], [0.1, 2.0], clients=2, repeats=2, min_window=0.5)
    grid = sp.plan_grid(p, compared=["tcp", "websocket"], compared_duration=1.5)
    exp = wslab.Experiment("g", grid=grid, base={"clients": 2, "warmup": 0.5}, repeats=2,
                           root=tmp_path)
    got = {(t.config.transport, t.config.rate, t.config.interval, t.config.duration)
           for t in exp.trials}
    want = {("short-poll", r.rate, r.interval, r.duration) for r in p.itertuples()}
    want |= {(tr, r, None, 1.5) for tr in ("tcp", "websocket") for r in (5.0, 50.0)}
    assert got == want and len(exp.trials) == 2 * len(want)
    assert not any(tmp_path.iterdir())  # planning starts nothing and writes nothing
    wall = sp.expected_wall_s(exp.trials, overhead_s=1.0)
    assert wall == pytest.approx(sum(t.config.duration for t in exp.trials) + len(exp.trials))
    # a shared delay reaches every trial
    delayed = wslab.Experiment("d", grid=sp.plan_grid(p, compared=["websocket"], delay=0.025),
                               base={"clients": 2}, root=tmp_path)
    assert {t.config.delay for t in delayed.trials} == {0.025}
    with pytest.raises(ConfigError, match="no rows"):
        sp.plan_grid(p.iloc[:0])


# -- summaries and checks ------------------------------------------------------------
def test_summarise_gives_t_intervals_over_the_repeats():
    table = _table()
    s = sp.summarise(table)
    assert len(s) == 2 * (2 + 4)  # per rate: websocket, tcp, four intervals
    row = s[(s.transport == "short-poll") & (s.rate == 10) & (s.interval == 0.5)].iloc[0]
    runs = table[(table.transport == "short-poll") & (table.rate == 10) & (table.interval == 0.5)]
    est = stats.mean_ci(runs.latency_mean_us / 1e3, unit="runs")
    assert (row.mean_ms, row.mean_ms_low, row.mean_ms_high, row.mean_ms_n) == pytest.approx(
        (est.value, est.low, est.high, 4))
    assert row.runs == 4 and row.delay == 0.0
    assert row.bytes_per_event == pytest.approx(400 / 5)
    # the transit is the websocket median at that rate; tcp rows have no interval
    assert s.groupby("rate").transit_ms.first().to_dict() == {10.0: 0.4, 100.0: 0.5}
    assert s[s.transport == "tcp"].interval.isna().all()
    # polls per client over the run, and the extra one beyond D/T (the synthetic edge)
    assert row.polls_per_client == pytest.approx(3.0 / 0.5 + 1) and row.extra_polls == 1.0
    assert s[s.transport == "tcp"].polls_per_client.isna().all()
    with pytest.raises(ConfigError, match="unknown metric"):
        sp.summarise(table, metrics=["nope"])


def test_check_finds_the_model_inside_when_it_holds_and_outside_when_biased():
    s = sp.summarise(_table(noise=0.01))
    ok = sp.check(s, "mean_ms", min_interval=0.05)
    assert set(ok["T (ms)"]) == {50.0, 500.0, 2000.0}  # 10 ms left out
    assert list(ok.columns[:3]) == ["rate", "T (ms)", "quantity"]
    assert ok.verdict.str.startswith("model inside").all()
    assert ok["within target"].all() and (ok["±% of model"] < 5).all()
    assert sp.count_inside(ok) == "model inside the 95 % CI in 6 of 6 rows"
    # the model column is T/2 + one transit
    assert np.allclose(ok.model, ok["T (ms)"] / 2 + ok.rate.map({10.0: 0.4, 100.0: 0.5}))
    slow = sp.check(sp.summarise(_table(bias=1.2, noise=0.01)))
    assert slow.verdict.str.startswith("model below CI").all()
    assert sp.count_inside(slow) == "model inside the 95 % CI in 0 of 6 rows"
    p99 = sp.check(s, "p99_ms")
    assert np.allclose(p99.model, 0.99 * p99["T (ms)"] + p99.rate.map({10.0: 0.4, 100.0: 0.5}))
    req = sp.check(s, "requests_per_event", target=None)
    assert np.allclose(req.model, 1 / (req.rate * req["T (ms)"] / 1e3))
    assert "±% of model" not in req.columns
    with pytest.raises(ConfigError, match="metric must be one of"):
        sp.check(s, "bytes_per_event")


def test_edge_table_shows_the_extra_polls_and_their_share():
    e = sp.edge_table(sp.summarise(_table(noise=0.0)))
    assert set(e["T (ms)"]) == {50.0, 500.0, 2000.0}
    assert np.allclose(e["D/T"], 3.0 / (e["T (ms)"] / 1e3))
    assert np.allclose(e.extra, 1.0) and np.allclose(e["extra low"], 1.0)
    assert np.allclose(e["edge share (%)"], 100 / e["D/T"])
    assert np.allclose(e["excess (%)"], 0.0)  # synthetic requests/event = 1/(λT)


def test_conclusions_follow_the_verdicts():
    s = sp.summarise(_table(noise=0.01))
    checks = {"mean_ms": sp.check(s), "p99_ms": sp.check(s, "p99_ms", target=None)}
    slow = _table(noise=0.01)
    slow.loc[(slow.transport == "short-poll") & (slow.interval == 0.5), "latency_mean_us"] *= 1.3
    checks["mean_ms"] = sp.check(sp.summarise(slow))
    transit = {100.0: 25_500.0}
    delay = sp.delay_check(sp.summarise(_table(intervals=(0.1, 0.2), delay=0.025,
                                               transit=transit, noise=0.005)))
    lines = sp.conclusions(checks, delay, s)
    assert lines[0].startswith("mean latency (ms), T >= 50 ms: model inside the 95 % CI in 4 "
                               "of 6 rows; interval within ±5 % of the model in")
    assert "outside: 10/s at T = 500 ms (model below CI by" in lines[0]
    assert lines[1].startswith("p99 latency (ms), T >= 50 ms: model inside the 95 % CI in ")
    assert "interval within" not in lines[1]  # no precision target for the p99 check
    assert lines[2].startswith("25 ms one-way delay: the measured mean is nearer T/2 + one "
                               "transit than T/2 + round trip at 2 of 2 intervals")
    # synthetic push rows: tcp and websocket faster, and cheaper than 10 B + 100 B ... per event
    assert lines[3].startswith("10 events/s: lower mean latency and fewer bytes per delivered "
                               "event than short polling at every interval measured: ")
    assert len(lines) == 5


def test_with_model_columns():
    m = sp.with_model(sp.summarise(_table()))
    T, d = m.interval, m.transit_ms
    assert np.allclose(m.model_mean_ms, T * 500 + d)
    assert np.allclose(m.model_round_trip_ms, T * 500 + 2 * d)
    assert np.allclose(m.model_p99_ms, 0.99 * T * 1e3 + d)
    assert np.allclose(m.model_empty_fraction, np.exp(-m.rate * T))
    assert np.allclose(m.model_requests_per_event, 1 / (m.rate * T))
    with pytest.raises(ConfigError, match="no short-poll rows"):
        sp.with_model(sp.summarise(_table()).query("transport == 'tcp'"))


def test_delay_check_separates_one_transit_from_a_round_trip():
    transit = {100.0: 25_500.0}  # 25 ms of proxy delay + the stacks
    one = sp.delay_check(sp.summarise(_table(intervals=(0.1, 0.2, 0.5), delay=0.025,
                                             transit=transit, noise=0.005)))
    assert one["delay (ms)"].eq(25.0).all() and one["transit (ms)"].eq(25.5).all()
    assert one["verdict (one transit)"].str.startswith("model inside").all()
    assert one["verdict (round trip)"].str.startswith("model above CI").all()
    assert np.allclose(one["T/2 + round trip"] - one["T/2 + transit"], 25.5)
    assert one["nearer model"].eq("one transit").all()
    # a client that paid the round trip: the verdicts swap
    rt = _table(intervals=(0.1, 0.2, 0.5), delay=0.025, transit=transit, noise=0.005)
    sp_rows = rt.transport == "short-poll"
    rt.loc[sp_rows, "latency_mean_us"] += 25_500.0
    two = sp.delay_check(sp.summarise(rt))
    assert two["verdict (one transit)"].str.startswith("model below CI").all()
    assert two["verdict (round trip)"].str.startswith("model inside").all()
    assert two["nearer model"].eq("round trip").all()


def test_model_table_is_the_uniform_wait_and_poisson_emptiness():
    t = sp.model_table([0.1, 1.0], [1, 10])
    assert list(t.columns) == ["T (ms)", "T/2 (ms)", "polls/s", "empty @ 1/s", "empty @ 10/s"]
    assert t["T/2 (ms)"].tolist() == pytest.approx([50.0, 500.0])
    assert t["polls/s"].tolist() == pytest.approx([10.0, 1.0])
    assert t["empty @ 10/s"].tolist() == pytest.approx([math.exp(-1), math.exp(-10)])
    assert (t["empty @ 1/s"] > t["empty @ 10/s"]).all()


def test_tail_latencies_pick_rate_and_intervals():
    lat = pd.DataFrame({"transport": ["short-poll"] * 4 + ["websocket"],
                        "rate": [100.0, 100.0, 100.0, 10.0, 100.0],
                        "interval": [0.05, 0.2, 1.0, 0.05, np.nan], "repeat": [0, 1, 0, 0, 0],
                        "latency_us": [1e3, 2e3, 3e3, 4e3, 5e3]})
    tail = sp.tail_latencies(lat, 100.0, [0.05, 0.2])
    assert tail.latency_ms.tolist() == [1.0, 2.0] and tail.interval.tolist() == [0.05, 0.2]
    with pytest.raises(ConfigError, match="no short-poll deliveries"):
        sp.tail_latencies(lat, 1.0, [0.05])


# -- figures -------------------------------------------------------------------------
def _plain(axis) -> list[str]:
    fmt = axis.get_major_formatter()
    return [fmt(v, 0) for v in (0.02, 4.0, 1000.0)]


def test_figures_draw_every_point_with_its_interval_and_plain_ticks():
    s = sp.summarise(_table())
    fig, axes = plt.subplots(1, 2)
    sp.plot_latency_vs_interval(axes, s)
    for ax in axes:
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert "ms" in ax.get_xlabel() and "ms" in ax.get_ylabel()
        assert len(ax.containers) == 2  # mean and p99, each with error bars
        assert _plain(ax.xaxis) == _plain(ax.yaxis) == ["0.02", "4", "1000"]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any("n = 4 runs per point" in x for x in labels)
        assert any(x.startswith("model mean") for x in labels)
    with pytest.raises(ConfigError, match="one axis per rate"):
        sp.plot_latency_vs_interval(axes[:1], s)
    fig, ax = plt.subplots()
    sp.plot_empty_fraction(ax, s)
    assert len(ax.containers) == 2 and len(ax.get_lines()) >= 2  # measured + model per rate
    assert _plain(ax.xaxis) == ["0.02", "4", "1000"]
    fig, axes = plt.subplots(1, 2)
    sp.plot_overhead(axes, s)
    assert "(B)" in axes[0].get_ylabel()
    # a narrow log axis (under two decades) labels its 2 and 5 minor ticks, plainly
    axes[0].set_ylim(90, 400)
    minor = axes[0].yaxis.get_minor_formatter()
    assert [minor(v, 0) for v in (200.0, 300.0, 500.0)] == ["200", "", "500"]
    axes[0].set_ylim(1, 1e4)
    assert minor(200.0, 0) == ""
    assert any("model 1/(λT)" in t.get_text() for t in axes[1].get_legend().get_texts())
    fig, ax = plt.subplots()
    sp.plot_frontier(ax, s)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("short-poll, 10 events/s" in x for x in labels)
    assert any(x.startswith("websocket") for x in labels) and any(x.startswith("tcp")
                                                                  for x in labels)
    plt.close("all")


def test_ccdf_and_delay_figures():
    rng = np.random.default_rng(1)
    tail = pd.DataFrame({"interval": np.repeat([0.05, 0.2], 500),
                         "repeat": np.tile(np.arange(5), 200),
                         "latency_ms": np.concatenate([rng.uniform(0, 50, 500),
                                                       rng.uniform(0, 200, 500)]) + 0.5})
    fig, ax = plt.subplots()
    sp.plot_ccdf(ax, tail, transit_ms=0.5, rate=100)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("n = 500 deliveries, 5 runs" in x for x in labels)
    assert _plain(ax.yaxis) == ["0.02", "4", "1000"]
    transit = {100.0: 25_500.0}
    s = sp.summarise(_table(intervals=(0.1, 0.2, 0.5), delay=0.025, transit=transit))
    fig, ax = plt.subplots()
    sp.plot_delay(ax, s)
    assert len(ax.containers) == 1
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("one transit" in x for x in texts) and any("round trip" in x for x in texts)
    plt.close("all")


# -- one tiny real sweep ----------------------------------------------------------------
def test_real_tiny_sweep(tmp_path):
    """Short-poll at one interval beside websocket, two repeats: the summary has
    intervals, the checks run, nothing is lost."""
    p = sp.plan([40], [0.05], clients=2, repeats=2, rel_half_width=0.5, warmup=0.2,
                min_window=0.5)
    exp = wslab.Experiment("t", grid=sp.plan_grid(p, compared=["websocket"],
                                                  compared_duration=0.7),
                           base={"clients": 2, "warmup": 0.2}, repeats=2, root=tmp_path,
                           seed=3)
    table = exp.run(progress=False)
    s = sp.summarise(table)
    assert len(s) == 2 and (s.lost == 0).all() and (s.runs == 2).all()
    row = s[s.transport == "short-poll"].iloc[0]
    assert row.mean_ms_low <= row.mean_ms <= row.mean_ms_high
    # nothing waits longer than one interval plus a generous slack
    assert row.p99_ms < 50 + 50
    assert 0 < row.empty_fraction < 1
    c = sp.check(s)
    assert len(c) == 1 and c.verdict.iloc[0].startswith("model ")
    assert c.model.iloc[0] == pytest.approx(25 + row.transit_ms)
    cap = sp.interval_sweep_caption(exp.runs)
    assert "short-poll T = 50 ms" in cap and "2 runs per point" in cap
    tail = sp.tail_latencies(exp.latencies(), 40.0, [0.05])
    assert len(tail) > 0 and tail.repeat.nunique() == 2
