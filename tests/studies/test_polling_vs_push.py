"""wslab.studies.polling_vs_push: the plan, intervals over runs, paired ratios, the
model check and the figures on synthetic tables; one tiny real run for the client's cost."""

from __future__ import annotations

import json
import math
import shutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import wslab  # noqa: E402
from wslab import stats  # noqa: E402
from wslab.core.errors import ConfigError  # noqa: E402
from wslab.studies import polling_vs_push as study  # noqa: E402

TRANSPORTS = ["tcp", "websocket", "sse", "long-poll", "short-poll"]
T = 0.1
TRANSIT_US = 500.0
#: each transport's p50 (µs) as a multiple of tcp's, for the synthetic runs
FACTOR = {"tcp": 1.0, "websocket": 1.5, "sse": 2.0, "long-poll": 4.0, "short-poll": 100.0}


def _per_run(repeats: int = 5, sp_shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """An Experiment.run-like table after per_run_table: every transport in every
    repeat; a repeat's machine state scales every transport's latency alike."""
    rng = np.random.default_rng(seed)
    rows = []
    for rep in range(repeats):
        machine = rng.uniform(0.8, 1.2)  # shared by the repeat: cancels in paired ratios
        for t in TRANSPORTS:
            p50 = 400.0 * FACTOR[t] * machine
            row = {"transport": t, "repeat": rep, "label": t, "interval": math.nan,
                   "latency_p50_us": p50, "latency_mean_us": p50 * 1.1,
                   "latency_p99_us": p50 * 3, "bytes_up_per_event": 2.0,
                   "bytes_down_per_event": 100.0, "requests_per_event": 0.01,
                   "server_cpu_us_per_event": 300.0 + rep, "client_cpu_us_per_event": 200.0 + rep,
                   "requests_per_s_per_client": 0.1, "body_bytes_per_event": 99.0,
                   "bytes_per_event": 102.0}
            if t == "short-poll":
                mean = (T / 2 * 1e6 + TRANSIT_US) * (1 + sp_shift) + rng.normal(0, 300)
                row.update(label="short-poll (T = 100 ms)", interval=T, latency_mean_us=mean,
                           latency_p50_us=mean, latency_p99_us=(0.99 * T * 1e6 + TRANSIT_US)
                           * (1 + sp_shift) + rng.normal(0, 300),
                           bytes_up_per_event=200.0, bytes_down_per_event=300.0,
                           bytes_per_event=500.0, requests_per_event=1.4,
                           client_cpu_us_per_event=600.0 + 3 * rep,
                           requests_per_s_per_client=10.0 - 0.01 * rep)
            rows.append(row)
    return pd.DataFrame(rows)


# -- plan -------------------------------------------------------------------------------------
def test_plan_splits_the_events_the_model_check_needs_over_the_repeats():
    p = study.plan(7.0, T, clients=20, repeats=5, rel_half_width=0.05, transit=0.001)
    z = 1.959963984540054
    t4 = stats.t_quantile(0.975, 4)
    per_event = 0.05 / 2 * z / t4
    assert p.duration == stats.short_poll_duration(7.0 * 5, T, per_event, 20, transit=0.001,
                                                   phases="random")
    # the events pin the mean: sd of a client-averaged Uniform(0, T) wait over sqrt(events)
    cv = math.sqrt(T**2 / 12 / 20) / (T / 2 + 0.001)
    assert z * cv / math.sqrt(p.events) <= per_event * 1.01
    # the runs' measured windows (after the default 10 % warm-up) hold those events
    assert 0.9 * p.duration * 7.0 * 5 >= p.events
    assert p.runs == 25 and p.wall_s == pytest.approx(25 * (p.duration + p.overhead_s))
    text = "\n".join(p.describe())
    assert f"{p.duration:g} s" in text and "±5 %" in text and "25 runs" in text
    assert "min" in text
    # more clients average the wait: shorter runs; a looser target: shorter runs
    assert study.plan(7.0, T, 40, 5).duration < p.duration
    assert study.plan(7.0, T, 20, 5, rel_half_width=0.1).duration < p.duration
    with pytest.raises(ConfigError, match="repeats must be an integer >= 2"):
        study.plan(7.0, T, 20, 1)
    with pytest.raises(ConfigError, match="safety"):
        study.plan(7.0, T, 20, 5, safety=0.5)


# -- client cost per run -------------------------------------------------------------------------
def test_client_request_rate_is_requests_over_each_clients_open_time():
    s = 1_000_000_000
    conns = pd.DataFrame({
        "client_id": [0, 1, 1],
        "requests": [10, 3, 1],
        "opened_ns": [0, 0, 1 * s],  # client 1 reconnected: its span is first open to last close
        "closed_ns": [1 * s, 1 * s, 2 * s],
    })
    assert study.client_request_rate(conns) == pytest.approx((10 / 1 + 4 / 2) / 2)
    assert math.isnan(study.client_request_rate(conns.iloc[:0]))
    with pytest.raises(ConfigError, match="opened_ns"):
        study.client_request_rate(conns.drop(columns="opened_ns"))


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """One short-poll trial of a real Experiment (about two seconds)."""
    root = tmp_path_factory.mktemp("polling-vs-push")
    exp = wslab.Experiment("01_test", trials=[{"transport": "short-poll", "interval": T}],
                           base={"clients": 2, "rate": 20, "duration": 1,
                                 "schedule": "poisson"}, root=root / "exp", seed=1)
    table = exp.run(progress=False)
    return exp, table, root


def test_per_run_table_adds_what_the_run_cost_the_client(real):
    exp, table, _ = real
    per_run = study.per_run_table(table, exp.runs)
    row, run = per_run.iloc[0], exp.runs[0]
    s = run.summary
    assert row.label == "short-poll (T = 100 ms)"
    assert row.client_cpu_us_per_event == pytest.approx(s["client_cpu_s"] * 1e6 / s["delivered"])
    assert row.bytes_per_event == pytest.approx(row.bytes_up_per_event + row.bytes_down_per_event)
    assert row.body_bytes_per_event == pytest.approx(wslab.analysis.body_bytes_per_event(run))
    c = run.connections
    spans = (c.groupby("client_id").closed_ns.max() - c.groupby("client_id").opened_ns.min())
    assert row.requests_per_s_per_client == pytest.approx(
        (c.groupby("client_id").requests.sum() / (spans / 1e9)).mean())
    # a fixed poll grid: about 1/T requests per second while connected (not a timing claim:
    # the open time includes connecting and closing, so allow a wide margin)
    assert 0.3 / T < row.requests_per_s_per_client < 1.5 / T
    with pytest.raises(ConfigError, match="one run per row"):
        study.per_run_table(table, [])
    with pytest.raises(ConfigError, match="order"):
        study.per_run_table(table.assign(path="elsewhere"), exp.runs)


def test_loss_summary_is_per_transport_and_says_no_when_a_run_lost(real, tmp_path):
    exp, _, _ = real
    run = exp.runs[0]
    ok = study.loss_summary([run, run])
    assert ok.loc["short-poll"].tolist() == ["yes", "yes", 0, 0]
    assert list(ok.columns) == ["all published", "all delivered", "lost", "duplicated"]
    broken = tmp_path / "broken"
    shutil.copytree(run.path, broken)
    summary = json.loads((broken / "summary.json").read_text())
    summary.update(delivered=summary["delivered"] - 3, lost=3)
    (broken / "summary.json").write_text(json.dumps(summary))
    bad = study.loss_summary([run, wslab.load(broken)])
    assert bad.loc["short-poll"].tolist() == ["yes", "NO", 3, 0]


# -- intervals over runs and paired ratios ---------------------------------------------------------
def test_over_runs_is_the_t_interval_of_each_transports_runs():
    per_run = _per_run()
    agg = study.over_runs(per_run, ["latency_p50_us", "client_cpu_us_per_event"])
    assert list(agg.transport) == TRANSPORTS and (agg.runs == 5).all()
    ws = per_run[per_run.transport == "websocket"]
    est = stats.mean_ci(ws.latency_p50_us, unit="runs")
    row = agg.set_index("transport").loc["websocket"]
    assert (row.latency_p50_us, row.latency_p50_us_low, row.latency_p50_us_high) == (
        pytest.approx(est.value), pytest.approx(est.low), pytest.approx(est.high))
    assert row.latency_p50_us_n == 5
    # NaN values are left out; a metric without values gives NaN bounds and n 0
    holes = per_run.assign(client_cpu_us_per_event=np.nan)
    holes.loc[0, "latency_p50_us"] = np.nan
    agg = study.over_runs(holes, ["latency_p50_us", "client_cpu_us_per_event"]).set_index(
        "transport")
    assert agg.loc["tcp", "latency_p50_us_n"] == 4
    assert agg.loc["tcp", "client_cpu_us_per_event_n"] == 0
    with pytest.raises(ConfigError, match="not in the table"):
        study.over_runs(per_run, ["nothing"])


def test_printable_shows_each_metric_as_value_and_interval_with_n():
    per_run = _per_run()
    agg = study.over_runs(per_run, study.LATENCY_METRICS)
    shown = study.printable(agg, study.LATENCY_COLUMNS).set_index("transport")
    assert list(shown.columns) == ["p50 (ms)", "mean (ms)", "p99 (ms)", "n runs"]
    row = agg.set_index("label").loc["short-poll (T = 100 ms)"]
    want = (f"{row.latency_mean_us / 1e3:.3f} [{row.latency_mean_us_low / 1e3:.3f}, "
            f"{row.latency_mean_us_high / 1e3:.3f}]")
    assert shown.loc["short-poll (T = 100 ms)", "mean (ms)"] == want
    assert (shown["n runs"] == 5).all()
    # fewer finite runs than the group: said; one run: the value alone
    holes = per_run.copy()
    holes.loc[holes.transport == "tcp", "latency_p50_us"] = [np.nan] * 4 + [400.0]
    shown = study.printable(study.over_runs(holes, study.LATENCY_METRICS),
                            study.LATENCY_COLUMNS).set_index("transport")
    assert shown.loc["tcp", "p50 (ms)"] == "0.400 (n=1)"
    with pytest.raises(ConfigError, match="metric bytes_up_per_event not in the table"):
        study.printable(agg, study.WIRE_COLUMNS)


def test_ratio_table_pairs_repeats_so_the_shared_machine_state_cancels():
    per_run = _per_run()
    r = study.ratio_table(per_run, "latency_p50_us", "tcp").set_index("transport")
    assert "tcp" not in r.index
    for t in ("websocket", "sse", "long-poll"):
        # the same factor in every repeat: the paired ratio has no spread at all
        assert r.loc[t, "ratio"] == pytest.approx(FACTOR[t])
        assert (r.loc[t, "low"], r.loc[t, "high"]) == (pytest.approx(FACTOR[t]),
                                                       pytest.approx(FACTOR[t]))
        assert r.loc[t, "n"] == 5 and "paired" in r.loc[t, "method"]
    # unpaired, the machine's spread would widen it: the pairing is what makes it exact
    ws = per_run[per_run.transport == "websocket"].latency_p50_us
    tcp = per_run[per_run.transport == "tcp"].latency_p50_us
    loose = stats.ratio_ci(ws, tcp, np.mean, paired=False)
    assert loose.high - loose.low > 0.05
    zero = per_run.assign(client_cpu_us_per_event=np.where(per_run.transport == "tcp", 0.0,
                                                           per_run.client_cpu_us_per_event))
    z = study.ratio_table(zero, "client_cpu_us_per_event", "tcp")
    assert z.ratio.isna().all() and (z.method == "undefined").all()
    with pytest.raises(ConfigError, match="reference 'quic' has no run"):
        study.ratio_table(per_run, "latency_p50_us", "quic")


# -- model check ---------------------------------------------------------------------------------
def test_model_check_gives_verdicts_against_half_t_plus_one_transit():
    check = study.model_check(_per_run(), TRANSIT_US)
    assert list(check.quantity) == ["mean latency (ms)", "p99 latency (ms)"]
    assert check.transport.iloc[0] == "short-poll (T = 100 ms)"
    assert check.model.tolist() == pytest.approx([50.5, 99.5])
    assert (check.n == 5).all()
    assert check.verdict.tolist() == ["model inside 95 % CI"] * 2
    # 10 % slower than the model: the verdict says the model lies below the interval
    slow = study.model_check(_per_run(sp_shift=0.10), TRANSIT_US)
    assert slow.verdict.iloc[0].startswith("model below CI by")
    with pytest.raises(ConfigError, match="no short-poll run"):
        study.model_check(_per_run().query("transport != 'short-poll'"), TRANSIT_US)
    two = _per_run()
    two.loc[two.index[-1], "interval"] = 0.2
    with pytest.raises(ConfigError, match="one polling interval"):
        study.model_check(two, TRANSIT_US)


def test_precision_line_compares_the_half_width_with_the_target():
    check = study.model_check(_per_run(), TRANSIT_US)
    half = (check.high.iloc[0] - check.low.iloc[0]) / 2 / check.model.iloc[0]
    assert half < 0.05
    line = study.precision_line(check, 0.05, quick=False)
    assert line.endswith(": met") and f"±{half * 100:.1f} %" in line and "n=5 runs" in line
    assert study.precision_line(check, half / 2, quick=False).endswith("NOT met")
    assert "indicative only" in study.precision_line(check, 0.05, quick=True)
    one = check.assign(low=np.nan, high=np.nan, n=1)
    assert "no interval" in study.precision_line(one, 0.05, quick=False)


# -- figures and findings ---------------------------------------------------------------------------
def _latencies(per_run: pd.DataFrame, per: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    parts = []
    for row in per_run.itertuples():
        parts.append(pd.DataFrame({"transport": row.transport, "label": row.label,
                                   "latency_us": row.latency_p50_us * rng.uniform(0.5, 1.5, per)}))
    frame = pd.concat(parts, ignore_index=True)
    frame["transport"] = pd.Categorical(frame.transport, categories=TRANSPORTS, ordered=True)
    return frame


def test_plot_latency_draws_ecdf_and_ccdf_with_marked_quantiles_and_the_model():
    per_run = _per_run(repeats=3)
    fig, (a1, a2) = plt.subplots(1, 2, layout="constrained")
    study.plot_latency(fig, a1, a2, _latencies(per_run), per_run, TRANSIT_US, T)
    assert a2.get_xscale() == "log" and a2.get_yscale() == "log"
    assert a1.get_xlabel() == a2.get_xlabel() == "one-way latency (µs)"
    # five transports and the model on each panel; p50 and p99 of each marked on each
    assert len(a1.get_lines()) >= 6 and len(a2.get_lines()) >= 6
    assert len(a1.containers) == len(a2.containers) == 2 * len(TRANSPORTS)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == "tcp, 3 runs pooled (n = 600)"
    assert any(s.startswith("model: short-poll T = 100 ms") for s in legend)
    assert any(s.startswith("p99, mean over runs") for s in legend)
    assert a1.get_legend() is None and a2.get_legend() is None
    # the p99 marker of short polling sits at 0.01 on the tail view
    sp = study.over_runs(per_run, ["latency_p99_us"]).set_index("transport").loc["short-poll"]
    xs = [c.lines[0].get_xydata()[0] for c in a2.containers]
    assert any(x == pytest.approx(sp.latency_p99_us) and y == pytest.approx(0.01) for x, y in xs)
    # readable ticks: plain numbers, not powers of ten
    assert a2.xaxis.get_major_formatter()(1000, 0) == "1,000"
    assert a2.yaxis.get_major_formatter()(0.01, 0) == "0.01"
    plt.close(fig)


def test_plot_client_cost_bars_with_intervals_and_the_poll_rate_model():
    costs = study.cost_table(_per_run())
    fig, (a1, a2) = plt.subplots(1, 2)
    study.plot_client_cost(a1, a2, costs, interval=T)
    heights = sorted(p.get_height() for p in a1.patches)
    assert heights == pytest.approx(sorted([*costs.client_cpu_us_per_event,
                                            *costs.server_cpu_us_per_event]))
    assert [p.get_height() for p in a2.patches] == pytest.approx(
        list(costs.requests_per_s_per_client))
    legend = [t.get_text() for t in a2.get_legend().get_texts()]
    assert "model: 1/T = 10 per second" in legend
    assert "µs" in a1.get_ylabel() and "1/s" in a2.get_ylabel()
    assert [t.get_text() for t in a2.get_xticklabels()][-1] == "short-poll\n(T = 100 ms)"
    plt.close(fig)


def test_findings_state_ratios_verdicts_and_costs_from_the_tables():
    per_run = _per_run()
    check = study.model_check(per_run, TRANSIT_US)
    lines = study.findings(per_run, check, study.precision_line(check, 0.05, quick=False))
    text = "\n".join(lines)
    assert lines[0].startswith("p50 latency over the tcp floor (mean over 5 repeats")
    assert "websocket 1.5x [1.5, 1.5] (above)" in lines[0]
    assert lines[2].startswith("p50 interval entirely above the tcp floor: websocket, sse, "
                               "long-poll, short-poll (T = 100 ms)")
    assert "model inside 95 % CI" in text and "precision:" in text
    assert "client CPU per delivered event over websocket's (paired): tcp" in text
    # client CPU: 600 + 3 rep against 200 + rep; tcp the same as websocket (200 + rep)
    assert "short-poll (T = 100 ms) 3x [" in text
    assert "tcp 1x [1, 1] (not distinguishable)" in text
    assert any(s.startswith("requests per second per client") for s in lines)
