"""wslab.studies.short_polling: sweep tables, the T/2 + transit comparison and the figures."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import wslab  # noqa: E402
from wslab.core.errors import ConfigError  # noqa: E402
from wslab.models import short_poll_latency_mean  # noqa: E402
from wslab.studies import short_polling  # noqa: E402


def _row(transport, rate, interval, mean_us, p50_us, p99_us, up=10.0, down=100.0, req=0.0,
         empty=0.0, clients=2, duration=10.0, requests=0):
    return {"transport": transport, "rate": rate, "interval": interval, "clients": clients,
            "duration": duration, "delivered": int(rate * duration * clients), "lost": 0,
            "latency_mean_us": mean_us, "latency_p50_us": p50_us, "latency_p99_us": p99_us,
            "bytes_up_per_event": up, "bytes_down_per_event": down, "requests_per_event": req,
            "empty_fraction": empty, "requests": requests}


@pytest.fixture
def synthetic() -> pd.DataFrame:
    """An Experiment.run-like table: websocket + tcp at two rates, short-poll whose
    mean is exactly T/2 + the websocket median (transit)."""
    rows = []
    transit = {1.0: 200.0, 10.0: 300.0}
    for rate, tr in transit.items():
        rows.append(_row("websocket", rate, None, 250.0, tr, 900.0, up=2, down=110))
        rows.append(_row("tcp", rate, None, 120.0, 100.0, 400.0, up=0, down=100))
        for T in (0.01, 0.05, 0.5, 2.0):
            mean = (T / 2) * 1e6 + tr
            polls = 10.0 / T
            rows.append(_row("short-poll", rate, T, mean, mean, 0.99 * T * 1e6 + tr,
                             up=150 / (rate * T), down=250 / (rate * T),
                             req=1 / (rate * T), empty=math.exp(-rate * T),
                             requests=int(polls * 2)))
    return pd.DataFrame(rows)


def test_sweep_grid_is_a_valid_conditional_experiment_grid(tmp_path):
    grid = short_polling.sweep_grid([0.1, 2.0], [5, 50], lambda T: max(3.0, 10 * T),
                                    compared=["tcp", "websocket"], compared_duration=4.0)
    exp = wslab.Experiment("g", grid=grid, base={"clients": 1}, root=tmp_path)
    got = {(t.config.transport, t.config.rate, t.config.interval, t.config.duration)
           for t in exp.trials}
    assert got == {("short-poll", 5, 0.1, 3.0), ("short-poll", 50, 0.1, 3.0),
                   ("short-poll", 5, 2.0, 20.0), ("short-poll", 50, 2.0, 20.0),
                   ("tcp", 5, None, 4.0), ("tcp", 50, None, 4.0),
                   ("websocket", 5, None, 4.0), ("websocket", 50, None, 4.0)}
    assert not any(tmp_path.iterdir())  # planning starts nothing and writes nothing
    # the compared transports' duration defaults to the shortest interval's
    assert short_polling.sweep_grid([0.2, 1], [1], lambda T: 7 * T)[-1]["duration"] == [pytest.approx(1.4)]
    with pytest.raises(ConfigError, match="at least one interval"):
        short_polling.sweep_grid([], [1], lambda T: 1)


def test_sweep_table_units_and_columns(synthetic):
    s = short_polling.sweep_table(synthetic)
    assert list(s.columns) == short_polling.SWEEP_COLUMNS
    assert len(s) == len(synthetic)
    sp = s[s.transport == "short-poll"]
    row = sp[(sp.rate == 10) & (sp.interval == 0.5)].iloc[0]
    assert row.mean_ms == pytest.approx(250 + 0.3)
    assert row.bytes_per_event == pytest.approx(400 / 5)
    assert row.polls_per_client == pytest.approx(20)  # 10 s / 0.5 s
    assert s[s.transport == "tcp"].polls_per_client.isna().all()


def test_sweep_table_averages_repeats(synthetic):
    a, b = synthetic.copy(), synthetic.copy()
    b["latency_mean_us"] = b["latency_mean_us"] + 1000.0
    s = short_polling.sweep_table(pd.concat([a, b], ignore_index=True))
    assert len(s) == len(synthetic)
    ref = short_polling.sweep_table(a)
    assert np.allclose(s.mean_ms, ref.mean_ms + 0.5)


def test_transit_uses_websocket_median_per_rate(synthetic):
    s = short_polling.sweep_table(synthetic)
    tr = short_polling.with_model(s).groupby("rate")["transit_ms"].first()
    assert tr.to_dict() == {1.0: pytest.approx(0.2), 10.0: pytest.approx(0.3)}
    # without websocket: the other push transports' median (tcp here)
    no_ws = short_polling.with_model(s[s.transport != "websocket"])
    assert no_ws.transit_ms.tolist() == pytest.approx([0.1] * len(no_ws))
    with pytest.raises(ConfigError, match="no push run"):
        short_polling.with_model(s[s.transport == "short-poll"])


def test_comparison_is_exact_when_measurement_equals_model(synthetic):
    s = short_polling.sweep_table(synthetic)
    cmp = short_polling.comparison_table(s, min_interval=0.05)
    assert set(cmp["T (ms)"]) == {50.0, 500.0, 2000.0}  # 10 ms left out
    assert (cmp["error (%)"].abs() < 0.01).all()
    assert np.allclose(cmp["empty measured"], cmp["empty model"], atol=1e-3)
    # the model is T/2 + one transit (not a round trip)
    m = short_polling.with_model(s)
    assert np.allclose(m.model_mean_ms,
                       short_poll_latency_mean(m.interval, m.transit_ms / 1e3) * 1e3)
    assert np.allclose(m.model_mean_ms, m.interval * 500 + m.transit_ms)


def test_comparison_reports_a_deviation_with_its_sign(synthetic):
    slow = synthetic.copy()
    sp = slow.transport == "short-poll"
    slow.loc[sp, "latency_mean_us"] = slow.loc[sp, "latency_mean_us"] * 1.2
    cmp = short_polling.comparison_table(short_polling.sweep_table(slow))
    assert np.allclose(cmp["error (%)"], 20.0, atol=0.1)


def test_model_table_is_the_uniform_wait_and_poisson_emptiness():
    t = short_polling.model_table([0.1, 1.0], [1, 10])
    assert list(t.columns) == ["T (ms)", "T/2 (ms)", "polls/s", "empty @ 1/s", "empty @ 10/s"]
    assert t["T/2 (ms)"].tolist() == pytest.approx([50.0, 500.0])
    assert t["polls/s"].tolist() == pytest.approx([10.0, 1.0])
    assert t["empty @ 10/s"].tolist() == pytest.approx([math.exp(-1), math.exp(-10)])
    # emptiness falls with the interval and with the rate
    assert (t["empty @ 1/s"] > t["empty @ 10/s"]).all()
    assert t["empty @ 1/s"].is_monotonic_decreasing


def test_figures_draw_every_series(synthetic):
    s = short_polling.sweep_table(synthetic)
    fig, axes = plt.subplots(1, 2)
    short_polling.plot_latency_vs_interval(axes, s)
    for ax in axes:
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert "ms" in ax.get_xlabel() and "ms" in ax.get_ylabel()
        assert len(ax.get_lines()) >= 6  # 3 measured + 2 model + transit
    fig, ax = plt.subplots()
    short_polling.plot_empty_fraction(ax, s)
    assert len(ax.get_lines()) == 4  # measured + model per rate
    fig, axes = plt.subplots(1, 2)
    short_polling.plot_overhead(axes, s)
    assert "(B)" in axes[0].get_ylabel()
    fig, ax = plt.subplots()
    short_polling.plot_frontier(ax, s)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("short-poll, 1 events/s" in x for x in labels)
    assert any(x.startswith("websocket") for x in labels)
    assert any(x.startswith("tcp") for x in labels)
    plt.close("all")


def test_real_small_sweep(tmp_path):
    """A real (tiny) sweep: short-poll at two intervals and websocket, one rate."""
    grid = short_polling.sweep_grid([0.05, 0.2], [20], lambda T: 1.5, compared=["websocket"])
    exp = wslab.Experiment("t", grid=grid, base={"clients": 1}, root=tmp_path, seed=3)
    s = short_polling.sweep_table(exp.run(progress=False))
    assert len(s) == 3
    assert (s.lost == 0).all()
    sp = s[s.transport == "short-poll"].set_index("interval")
    # polls on a fixed grid: about duration / T requests per client (+ start / drain)
    assert 0.5 * 1.5 / 0.05 <= sp.loc[0.05, "polls_per_client"] <= 2 * 1.5 / 0.05 + 3
    # a longer interval: fewer requests per event, a longer wait
    assert sp.loc[0.2, "requests_per_event"] < sp.loc[0.05, "requests_per_event"]
    assert sp.loc[0.2, "mean_ms"] > sp.loc[0.05, "mean_ms"]
    # nothing waits longer than one interval plus a generous slack
    assert (sp.p99_ms < sp.index * 1e3 + 50).all()
    cmp = short_polling.comparison_table(s)
    assert len(cmp) == 2 and cmp["transit (ms)"].gt(0).all()
    cap = short_polling.interval_sweep_caption(exp.runs)
    assert "short-poll T = 50, 200 ms" in cap and "20 events/s" in cap
