"""wslab.studies.scalability: slope fits with intervals, point tables, tails, verdicts and
plots on synthetic frames; one small real sweep in fresh servers."""

from __future__ import annotations

import math
import resource

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from wslab.core.errors import ConfigError  # noqa: E402
from wslab.experiment import Experiment  # noqa: E402
from wslab.studies import scalability  # noqa: E402

OPTS = {"websocket": (False, "broadcast"), "websocket+deflate": (True, "broadcast"),
        "websocket queue": (False, "queue"), "sse": (None, None), "long-poll": (None, None)}


def synthetic_table(kib: dict[str, float], ns=(1_000, 2_500, 5_000, 10_000), base=30e6,
                    noise=0.0, repeats=1, events=10, seed=0) -> pd.DataFrame:
    """Experiment.table-like rows whose RSS grows by exactly ``kib`` per client
    (plus Gaussian ``noise`` bytes per run)."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, k in kib.items():
        for n in ns:
            for rep in range(repeats):
                comp, fan = OPTS[name]
                before = base + rng.normal(0, 1e5)
                cpu_us = 20.0 + n / 1000 + rep  # per delivery: 1 µs between repeats
                rows.append({
                    "transport": name.split()[0].split("+")[0], "option_compression": comp,
                    "option_fanout": fan, "clients": n, "repeat": rep,
                    "server_rss_before_clients_bytes": before,
                    "server_rss_start_bytes": before + 2e6 + k * 1024 * n
                    + rng.normal(0, noise),
                    "server_cpu_us_per_event": cpu_us, "published": events + 1,
                    "server_cpu_s": cpu_us * n * (events + 1) / 1e6,
                    "latency_p99_us": 10.0 * n, "latency_max_us": 12.0 * n,
                    "latency_count": events * n, "fanout_spread_p50_us": 4.0 * n + 100 * rep,
                    "fanout_spread_p99_us": 8.0 * n, "fanout_spread_max_us": 8.5 * n,
                    "lost": 0, "duplicated": 0, "connections": n, "ramp_s": n / 1000,
                    "delivered": (events + 1) * n, "expected": (events + 1) * n,
                })
    return pd.DataFrame(rows)


def test_fit_slope_recovers_line_with_a_zero_width_interval():
    x = np.array([1_000, 2_000, 5_000, 10_000])
    fit = scalability.fit_slope(x, 13.3 * 1024 * x + 3e6)
    assert fit["slope"] == pytest.approx(13.3 * 1024)
    assert fit["intercept"] == pytest.approx(3e6)
    assert fit["r2"] == pytest.approx(1.0)
    assert fit["points"] == 4
    assert fit["slope_high"] - fit["slope_low"] == pytest.approx(0, abs=1e-6)


def test_fit_slope_interval_covers_the_true_slope_about_95_percent():
    """Seeded simulation: the t interval on an OLS slope through 9 noisy points."""
    rng = np.random.default_rng(7)
    x = np.repeat([1_000.0, 3_000.0, 10_000.0], 3)
    hits = 0
    for _ in range(400):
        fit = scalability.fit_slope(x, 6 * 1024 * x + 2e6 + rng.normal(0, 3e6, len(x)))
        hits += fit["slope_low"] <= 6 * 1024 <= fit["slope_high"]
    assert 0.91 <= hits / 400 <= 0.99


def test_fit_slope_drops_nan_and_needs_three_points_for_an_interval():
    fit = scalability.fit_slope([1_000, 5_000, np.nan], [1e7, 5e7, 1.0])
    assert fit["points"] == 2 and fit["slope"] == pytest.approx(1e4)
    assert math.isnan(fit["slope_low"]) and math.isnan(fit["slope_high"])
    same = scalability.fit_slope([5_000, 5_000], [1e8, 1.1e8])
    assert math.isnan(same["slope"]) and same["points"] == 2


def test_slope_table_separates_intercept_from_per_connection_cost():
    table = synthetic_table({"websocket": 13.3, "websocket+deflate": 64.0, "long-poll": 6.0},
                            noise=2e5, repeats=3)
    frame = scalability.scale_frame(table)
    assert list(frame.variant.unique()) == ["websocket", "websocket+deflate", "long-poll"]
    slopes = scalability.slope_table(frame).set_index("variant")
    for name, kib in {"websocket": 13.3, "websocket+deflate": 64.0, "long-poll": 6.0}.items():
        row = slopes.loc[name]
        assert row.kib_per_connection == pytest.approx(kib, rel=0.02)
        assert row.kib_per_connection_low < row.kib_per_connection < row.kib_per_connection_high
        assert row.kib_per_connection_n == row.points == 12
    # the fixed 2 MB comes out as the intercept, not as per-connection memory
    assert (slopes.intercept_mib * 1024**2).to_numpy() == pytest.approx(2e6, abs=3e5)
    # a naive ratio at the smallest N overstates the cost; the slope does not
    small = frame[frame.clients == 1_000].groupby("variant").rss_per_client_kib.mean()
    assert (small > slopes.kib_per_connection.reindex(small.index)).all()
    assert slopes.loc["websocket", "anchor_kib"] == 14.0
    assert (slopes.max_clients == 10_000).all()


def test_anchor_checks_give_computed_reference_verdicts():
    frame = scalability.scale_frame(synthetic_table({"websocket": 14.0, "long-poll": 12.0},
                                                    noise=5e5, repeats=3, seed=2))
    checks = scalability.anchor_checks(scalability.slope_table(frame))
    # websocket has two references, long-poll one, deflate none (not measured)
    assert list(checks.variant) == ["websocket", "websocket", "long-poll"]
    ws_docs = checks.iloc[0]
    assert ws_docs.reference == 14.0 and ws_docs.low <= 14.0 <= ws_docs.high
    assert ws_docs.verdict == "reference inside 95 % CI"
    lp = checks.iloc[2]
    assert lp.reference == 6.0 and lp.verdict.startswith("reference below CI by")
    assert (checks.n == 12).all() and checks.method.str.contains("t interval").all()
    empty = scalability.anchor_checks(scalability.slope_table(
        scalability.scale_frame(synthetic_table({"sse": 10.0}))))
    assert empty.empty and "verdict" in empty.columns


def test_cpu_slopes_are_the_cost_of_one_more_connection_per_event():
    frame = scalability.scale_frame(synthetic_table({"websocket": 13.3}, repeats=3))
    cpu = scalability.cpu_slopes(frame).set_index("variant")
    # cpu per event = (20 + N/1000 + rep) * N: the line through it has a slope above 20 µs
    x = frame.clients.to_numpy(dtype=float)
    expected = np.polyfit(x, frame.cpu_us_per_event, 1)[0]
    assert cpu.loc["websocket", "us_per_connection"] == pytest.approx(expected)
    assert cpu.loc["websocket", "us_per_connection_n"] == 12
    assert "anchor_kib" not in cpu.columns and "intercept_us" in cpu.columns


def test_point_table_means_and_intervals_over_repeats():
    frame = scalability.scale_frame(synthetic_table({"sse": 10.0}, repeats=3, events=9))
    points = scalability.point_table(frame).set_index("clients")
    row = points.loc[1_000]
    assert row.runs == 3 and row.spread_p50_ms_n == 3
    # spreads 4.0, 4.1, 4.2 ms over the repeats: mean 4.1 with a t interval around it
    assert row.spread_p50_ms == pytest.approx(4.1)
    assert row.spread_p50_ms_low < 4.1 < row.spread_p50_ms_high
    assert row.deliveries_measured == 9_000 and row.events_measured == 9
    single = scalability.point_table(scalability.scale_frame(synthetic_table({"sse": 10.0})))
    assert single.cpu_us_per_delivery_low.isna().all() and (single.runs == 1).all()


def test_tail_choice_calls_a_tail_p99_only_over_enough_values():
    frame = scalability.scale_frame(synthetic_table({"sse": 10.0}, events=9))
    assert scalability.tail_choice(frame, "deliveries_measured", "latency_p99_ms",
                                   "latency_max_ms") == ("latency_p99_ms", "p99")
    # nine events per run: the spread's "p99" over events is a maximum
    assert scalability.tail_choice(frame, "events_measured", "spread_p99_ms",
                                   "spread_max_ms") == ("spread_max_ms", "max")
    small = scalability.scale_frame(synthetic_table({"sse": 10.0}, ns=(10, 50), events=9))
    assert scalability.tail_choice(small, "deliveries_measured", "latency_p99_ms",
                                   "latency_max_ms")[1] == "max"


def test_capacity_table_inverts_cost_and_its_interval():
    frame = scalability.scale_frame(synthetic_table({"websocket": 13.3, "sse": 10.0},
                                                    repeats=3))
    cap = scalability.capacity_table(frame).set_index("variant")
    assert (cap.clients == 10_000).all() and (cap.runs == 3).all()
    ws = cap.loc["websocket"]
    assert ws.cpu_us_per_delivery == pytest.approx(31.0)  # 30, 31, 32 over the repeats
    assert ws.saturating_rate_per_s == pytest.approx(1e6 / 31 / 10_000)
    # a higher cost bound is a lower capacity bound
    assert ws.deliveries_per_s_per_core_low == pytest.approx(1e6 / ws.cpu_us_per_delivery_high)
    assert (ws.saturating_rate_per_s_low < ws.saturating_rate_per_s
            < ws.saturating_rate_per_s_high)


def test_findings_print_intervals_and_verdicts():
    frame = scalability.scale_frame(synthetic_table({"websocket": 14.0, "long-poll": 6.0},
                                                    noise=2e5, repeats=3))
    slopes = scalability.slope_table(frame)
    lines = scalability.findings(slopes, scalability.anchor_checks(slopes),
                                 scalability.cpu_slopes(frame),
                                 scalability.capacity_table(frame),
                                 scalability.point_table(frame))
    text = "\n".join(lines)
    assert "websocket vs websockets docs, compression off (14 KiB): reference" in text
    assert "least memory per connection: long-poll, most: websocket (intervals apart)" in text
    assert "median fan-out spread" in text and "grows with N (intervals apart)" in text
    assert all("[" in line or "verdict" in line or "reference" in line or "least" in line
               for line in lines)


def test_variant_names_and_trials():
    assert scalability.variant_name("websocket", {"compression": True}) == "websocket+deflate"
    assert scalability.variant_name("websocket", {"fanout": "queue"}) == "websocket queue"
    assert scalability.variant_name("websocket", None) == "websocket"
    assert scalability.variant_name("sse", {"ping": 15}) == "sse"
    plan = scalability.trials([10, 20], rate=2)
    assert len(plan) == 2 * len(scalability.VARIANTS)
    assert {(t["transport"], t["clients"]) for t in plan} >= {("long-poll", 20), ("sse", 10)}
    assert all(t["rate"] == 2 for t in plan)
    # every planned trial is a valid, distinct Experiment trial; repeats get distinct seeds
    exp = Experiment("scale-plan", trials=plan, repeats=3, root="/nonexistent/never-created")
    assert len({t.id for t in exp.trials}) == 3 * len(plan)
    assert len({t.seed for t in exp.trials}) == 3


def test_anchors_table_units_and_machine_limits():
    df = scalability.anchors_table()
    assert set(df.variant) == {"websocket", "websocket+deflate", "long-poll"}
    row = df[df.kib_per_connection == 64.0].iloc[0]
    assert row.bytes_per_connection == 65_536 and row.mib_per_10k == pytest.approx(625.0)
    limits = scalability.machine_limits()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert (limits["open_files_soft"], limits["open_files_hard"]) == (soft, hard)
    assert 0 < limits["clients_per_server_process"] < hard
    assert limits["ephemeral_ports"] is None or limits["ephemeral_ports"] > 0
    assert limits["cores"] >= 1 and limits["memory_gib"] > 0


def _tick_texts(axis) -> list[str]:
    fmt = axis.get_major_formatter()
    return [fmt(v) for v in axis.get_majorticklocs()]


def test_plots_draw_error_bars_bands_anchors_and_plain_ticks():
    frame = scalability.scale_frame(synthetic_table({"websocket": 13.3, "long-poll": 6.0},
                                                    noise=2e5, repeats=3))
    slopes = scalability.slope_table(frame)
    points = scalability.point_table(frame)
    fig, (a1, a2, a3) = plt.subplots(1, 3)
    scalability.plot_rss(a1, points, slopes)
    legend = " ".join(t.get_text() for t in a1.get_legend().get_texts())
    assert "KiB/conn (n = 12 runs)" in legend and "reference 14 KiB/conn" in legend
    assert len(a1.containers) == 2  # one error-bar set per variant
    assert len(a1.collections) >= 2  # confidence bands of the fitted lines
    assert "MiB" in a1.get_ylabel()
    scalability.plot_metric(a2, points, "cpu_us_per_delivery", "CPU (µs)")
    assert a2.get_xscale() == "log" and len(a2.containers) == 2
    assert "n = 3 runs per point" in a2.get_legend().get_texts()[0].get_text()
    scalability.plot_spread(a3, points, "spread_max_ms", "max")
    assert "max" in a3.get_ylabel() and len(a3.containers) == 4
    labels = [t.get_text() for t in a3.get_legend().get_texts()]
    assert "max over events" in labels and "median over events" in labels
    fig.canvas.draw()
    for ax in (a1, a2, a3):
        texts = _tick_texts(ax.xaxis) + _tick_texts(ax.yaxis)
        assert texts and not any("times" in t or "^" in t or "×" in t for t in texts)
    assert "10,000" in _tick_texts(a2.xaxis)
    plt.close(fig)


def test_small_real_sweep_in_fresh_servers(tmp_path):
    """Two N on websocket, each in its own server: lossless, RSS grows with N, tables fill."""
    plan = scalability.trials([4, 16], variants=scalability.VARIANTS[:1], rate=4,
                              duration=0.5, schedule="fixed")
    table = scalability.measure("scale-test", plan, root=tmp_path, seed=3)
    frame = scalability.scale_frame(table)
    assert list(frame.clients) == [4, 16] and not table.reused.any()
    assert (frame.lost == 0).all() and (frame.duplicates == 0).all()
    assert (frame.connections == frame.clients).all()
    assert (frame.delivered == frame.expected).all() and (frame.expected > 0).all()
    assert frame.rss_growth_bytes.iloc[1] > frame.rss_growth_bytes.iloc[0]
    # a fresh server per run: different server processes
    pids = {tuple(wslab_manifest["processes"]["servers"]) for wslab_manifest in
            (pd.read_json(f"{p}/manifest.json", typ="series") for p in table.path)}
    assert len(pids) == 2
    lat, runs = scalability.latencies_at(frame, 16)
    assert runs == {"websocket": 1} and len(lat["websocket"]) == frame.deliveries_measured.iloc[1]
    # a second measure reuses the stored runs instead of measuring again
    again = scalability.measure("scale-test", plan, root=tmp_path, seed=3)
    assert again.reused.all() and list(again.path) == list(table.path)
    # another seed is refused before any server starts
    with pytest.raises(ConfigError, match="seed"):
        scalability.measure("scale-test", plan, root=tmp_path, seed=4)
