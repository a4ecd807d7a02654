"""wslab.studies.scalability: slope fits, tables and plots on synthetic frames; one small real sweep."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from wslab.experiment import Experiment  # noqa: E402
from wslab.studies import scalability  # noqa: E402


def synthetic_table(kib: dict[str, float], ns=(1_000, 2_500, 5_000, 10_000), base=30e6,
                    noise=0.0, seed=0) -> pd.DataFrame:
    """Experiment.table-like rows whose RSS grows by exactly ``kib`` per client."""
    rng = np.random.default_rng(seed)
    opts = {"websocket": (False, "broadcast"), "websocket+deflate": (True, "broadcast"),
            "websocket queue": (False, "queue"), "sse": (None, None), "long-poll": (None, None)}
    rows = []
    for name, k in kib.items():
        for n in ns:
            comp, fan = opts[name]
            before = base + rng.normal(0, 1e5)
            rows.append({
                "transport": name.split()[0].split("+")[0], "option_compression": comp,
                "option_fanout": fan, "clients": n,
                "server_rss_before_clients_bytes": before,
                "server_rss_start_bytes": before + 2e6 + k * 1024 * n + rng.normal(0, noise),
                "server_cpu_us_per_event": 20.0 + n / 1000, "latency_p99_us": 10.0 * n,
                "fanout_spread_p50_us": 4.0 * n, "fanout_spread_p99_us": 8.0 * n,
                "lost": 0, "duplicated": 0, "connections": n, "ramp_s": n / 1000,
                "delivered": 8 * n, "expected": 8 * n,
            })
    return pd.DataFrame(rows)


def test_fit_slope_recovers_line_and_r2():
    x = np.array([1_000, 2_000, 5_000, 10_000])
    fit = scalability.fit_slope(x, 13.3 * 1024 * x + 3e6)
    assert fit["slope"] == pytest.approx(13.3 * 1024)
    assert fit["intercept"] == pytest.approx(3e6)
    assert fit["r2"] == pytest.approx(1.0)
    assert fit["points"] == 4


def test_fit_slope_noise_lowers_r2_and_nan_are_dropped():
    rng = np.random.default_rng(1)
    x = np.repeat([1_000.0, 5_000.0, 10_000.0], 3)
    y = 6 * 1024 * x + rng.normal(0, 3e6, len(x))
    fit = scalability.fit_slope(np.append(x, np.nan), np.append(y, 1.0))
    assert fit["points"] == len(x)
    assert 0 < fit["r2"] < 1
    assert fit["slope"] / 1024 == pytest.approx(6, rel=0.15)


def test_fit_slope_needs_two_distinct_n():
    fit = scalability.fit_slope([5_000, 5_000], [1e8, 1.1e8])
    assert math.isnan(fit["slope"]) and fit["points"] == 2


def test_slope_table_separates_intercept_from_per_connection_cost():
    table = synthetic_table({"websocket": 13.3, "websocket+deflate": 64.0, "long-poll": 6.0})
    frame = scalability.scale_frame(table)
    assert list(frame.variant.unique()) == ["websocket", "websocket+deflate", "long-poll"]
    slopes = scalability.slope_table(frame).set_index("variant")
    assert slopes.kib_per_connection.to_dict() == pytest.approx(
        {"websocket": 13.3, "websocket+deflate": 64.0, "long-poll": 6.0})
    # the fixed 2 MB comes out as the intercept, not as per-connection memory
    assert (slopes.intercept_mib * 1024**2).to_numpy() == pytest.approx(2e6, abs=3e5)
    # a naive ratio at the smallest N overstates the cost; the slope does not
    small = frame[frame.clients == 1_000].set_index("variant").rss_per_client_kib
    assert (small > slopes.kib_per_connection).all()
    assert slopes.loc["websocket", "anchor_kib"] == 14.0
    assert slopes.loc["long-poll", "anchor_kib"] == 6.0
    assert (slopes.max_clients == 10_000).all()


def test_variant_names_and_trials():
    assert scalability.variant_name("websocket", {"compression": True}) == "websocket+deflate"
    assert scalability.variant_name("websocket", {"fanout": "queue"}) == "websocket queue"
    assert scalability.variant_name("websocket", None) == "websocket"
    assert scalability.variant_name("sse", {"ping": 15}) == "sse"
    plan = scalability.trials([10, 20], rate=2)
    assert len(plan) == 2 * len(scalability.VARIANTS)
    assert {(t["transport"], t["clients"]) for t in plan} >= {("long-poll", 20), ("sse", 10)}
    assert all(t["rate"] == 2 for t in plan)
    # every planned trial is a valid, distinct Experiment trial
    exp = Experiment("scale-plan", trials=plan, root="/nonexistent/never-created")
    assert len({t.id for t in exp.trials}) == len(plan)


def test_capacity_table_is_inverse_of_cost_times_n():
    frame = scalability.scale_frame(synthetic_table({"websocket": 13.3, "sse": 10.0}))
    cap = scalability.capacity_table(frame).set_index("variant")
    assert (cap.clients == 10_000).all()
    assert cap.loc["websocket", "cpu_us_per_delivery"] == pytest.approx(30.0)
    assert cap.loc["websocket", "saturating_rate_per_s"] == pytest.approx(1e6 / 30 / 10_000)
    assert cap.loc["sse", "spread_p99_ms"] == pytest.approx(80.0)


def test_anchors_table_units():
    df = scalability.anchors_table()
    assert set(df.variant) == {"websocket", "websocket+deflate", "long-poll"}
    row = df[df.kib_per_connection == 64.0].iloc[0]
    assert row.bytes_per_connection == 65_536 and row.mib_per_10k == pytest.approx(625.0)


def test_plots_draw_points_fits_and_anchors():
    frame = scalability.scale_frame(synthetic_table({"websocket": 13.3, "long-poll": 6.0}))
    slopes = scalability.slope_table(frame)
    fig, (a1, a2) = plt.subplots(1, 2)
    scalability.plot_rss(a1, frame, slopes)
    # 2 variants x (points + fit) + every anchor
    assert len(a1.lines) == 2 * 2 + len(scalability.ANCHORS)
    assert "MiB" in a1.get_ylabel() and "13.3 KiB/conn" in " ".join(
        t.get_text() for t in a1.get_legend().get_texts())
    scalability.plot_metric(a2, frame, "spread_p99_ms", "spread (ms)")
    assert a2.get_xscale() == "log" and len(a2.lines) == 2
    plt.close(fig)


def test_small_real_sweep(tmp_path):
    """Two N on websocket in fresh servers: lossless, RSS grows with N, tables fill."""
    plan = scalability.trials([5, 40], variants=scalability.VARIANTS[:1], rate=4, duration=0.5,
                        schedule="fixed", seed=3)
    table = scalability.measure("scale-test", plan, root=tmp_path)
    frame = scalability.scale_frame(table)
    assert list(frame.clients) == [5, 40]
    assert (frame.lost == 0).all() and (frame.duplicates == 0).all()
    assert (frame.connections == frame.clients).all()
    assert (frame.delivered == frame.expected).all() and (frame.expected > 0).all()
    assert frame.rss_growth_bytes.iloc[1] > frame.rss_growth_bytes.iloc[0]
    slopes = scalability.slope_table(frame)
    assert slopes.kib_per_connection.iloc[0] > 0 and slopes.points.iloc[0] == 2
    # a second measure reuses the stored runs instead of measuring again
    again = scalability.measure("scale-test", plan, root=tmp_path)
    assert again.reused.all() and list(again.path) == list(table.path)
