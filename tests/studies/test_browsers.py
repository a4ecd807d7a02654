"""Browsers study (notebook 11): plan, tables and verdicts on synthetic runs, one tiny real run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import wslab
from wslab.models import faults as fm
from wslab.runner.connlimit import StreamResult
from wslab.studies import browsers as st


def test_the_quick_plan_is_small_and_the_full_plan_fits_its_budget():
    quick, full = st.browser_plan(True), st.browser_plan(False)
    assert quick.runs() <= 6 and quick.wall_s() < 30
    assert full.wall_s() < 6 * 60 and full.repeats >= 3
    assert set(full.transports) == set(full.fault_transports) == set(st.BROWSER_TRANSPORTS)
    groups = [st.label_of(t) for t in full.trials()]
    assert groups.count("compare") == 2 * len(full.transports)
    assert groups.count("headers") == 3 and groups.count("faults") == 4
    # the replayed profile's cookie: "session=" and 32 hex digits
    assert st.SESSION_COOKIE_BYTES == 40


def _runs() -> pd.DataFrame:
    """Synthetic tidy rows: 3 repeats of each group, the numbers chosen so every
    table's result is known."""
    rows = []
    for rep in range(3):
        for client in ("python", "chromium"):
            rows.append({"group": "compare", "transport": "short-poll", "client": client,
                         "cookies": 0, "repeat": rep, "latency_p50_us": 100e3 + rep * 1e3,
                         "latency_p99_us": 200e3, "bytes_down_per_event": 150.0,
                         "bytes_up_per_event": 40.0, "cpu_us_per_delivery": 300.0 + rep,
                         "header_bytes_per_poll": 559.0 + rep if client == "chromium" else 138.0,
                         "clock_alignment_us": 200.0 + rep, "clock_drift_us": 10.0})
        for cookies in (40, 1000):
            rows.append({"group": "headers", "transport": "short-poll", "client": "chromium",
                         "cookies": cookies, "repeat": rep,
                         "header_bytes_per_poll": 560.0 + cookies + st.COOKIE_LINE_BYTES})
        rows.append({"group": "headers", "transport": "short-poll", "client": "python",
                     "cookies": 0, "option_headers": "browser", "repeat": rep,
                     "header_bytes_per_poll": 568.0})
        for transport, rec in (("websocket", 80.0 + rep), ("sse", 3_000.0 + rep)):
            rows.append({"group": "faults", "transport": transport, "client": "chromium",
                         "cookies": 0, "repeat": rep, "published": 80, "lost": 0,
                         "duplicated": 0, "page_reconnects": 4, "kernel_sockets": 8,
                         "clients": 4, "recovery_n": 4, "recovery_ms_mean": rec,
                         "transit_ms": 1.0, "rate": 20.0})
    return pd.DataFrame(rows)


def test_label_of_tells_the_groups_apart():
    assert st.label_of({"faults": ["reset_peer:timeout=1s"]}) == "faults"
    assert st.label_of({"faults": [], "cookies": 1000}) == "headers"
    assert st.label_of({"option_headers": "browser", "cookies": 0}) == "headers"
    assert st.label_of({"faults": [], "cookies": 0}) == "compare"


def test_compare_table_is_a_mean_over_runs_with_its_interval():
    t = st.compare_table(_runs())
    p50 = t[(t.client == "chromium") & (t.quantity == "latency p50 (ms)")].iloc[0]
    assert p50["mean"] == pytest.approx(101.0) and p50.n == 3 and p50.low < 101 < p50.high


def test_header_checks_put_each_jar_beside_the_model_and_the_replay():
    runs = _runs()
    heads = st.header_table(runs).set_index("who")
    assert heads.loc["python (aiohttp)", "mean"] == 138.0
    assert heads.loc["python, replayed Chromium profile", "mean"] == 568.0
    checks = st.header_checks(runs).set_index("quantity")
    # no-cookie head 560 on average; a jar of N adds N + 10
    jar = checks.loc["chromium head with 1000 B of cookies (B)"]
    assert jar.model == pytest.approx(560 + 1000 + 10) and jar.verdict == "model inside 95 % CI"
    replay = checks.loc["chromium head with 40 B vs the replayed profile (B)"]
    assert replay.measured == pytest.approx(610) and replay.model == 568.0
    assert replay.verdict.startswith("model below CI")


def test_fault_table_and_recovery_checks_compute_their_verdicts():
    runs = _runs()
    faults = st.fault_table(runs).set_index("transport")
    assert faults.loc["sse", "runs"] == 3 and faults.loc["sse", "page_reconnects"] == 12
    assert (faults.exact == "lost 0, duplicated 0").all()
    runs.loc[runs.index[-1], "lost"] = 2
    assert st.fault_table(runs).set_index("transport").loc["sse", "exact"] == "LOSS"
    rec = st.recovery_checks(runs).set_index("quantity")
    ws = rec.loc["websocket recovery after a reset (ms)"]
    assert ws.model == pytest.approx(fm.recovery_mean(0.1, "equal", 1 / 20, 0.005) * 1e3)
    sse = rec.loc["sse recovery after a reset (ms)"]
    assert sse.model == pytest.approx(3_000 + 5, abs=1) and "within 5 % tolerance" in sse.verdict


def test_connlimit_frame_and_conclusions_follow_the_tables():
    results = [StreamResult("sse", k, None if k == 7 else 10.0, "http/1.1") for k in range(1, 8)]
    limit = st.connlimit_frame(results, 1.0)
    assert limit.iloc[0].got_events == 6 and limit.iloc[0].first_stalled == 7
    runs = _runs()
    lines = st.conclusions(st.fault_table(runs), st.header_checks(runs), limit,
                           st.recovery_checks(runs))
    assert any("lost 0, duplicated 0 over 3 run(s)" in x for x in lines)
    assert any(x.startswith("sse: 6 of 7 concurrent streams") for x in lines)


def test_run_extras_of_a_real_short_poll_run(tmp_path):
    # Python short polling (no browser): header bytes per poll are bytes up per request
    run = wslab.run("short-poll", clients=2, rate=20, duration=0.5, interval=0.1,
                    progress=False, out=str(tmp_path / "run"))
    x = st.run_extras(run)
    c = run.connections
    per = (c.bytes_up / c.requests).median()
    assert x["header_bytes_per_poll"] == pytest.approx(per) and 100 < per < 300
    assert x["page_reconnects"] == 0 and np.isnan(x["recovery_ms_mean"])
    assert x["kernel_sockets"] == 2 and x["browser"] == "-"


def test_figures_label_their_axes_and_state_n():
    import matplotlib.pyplot as plt

    runs = _runs()
    fig = st.latency_figure(st.compare_table(runs))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and "ms" in ax.get_ylabel()
    assert any("n = 3 runs" in t.get_text() for t in ax.get_legend().get_texts())
    heads = st.header_table(runs)
    fig2 = st.header_figure(heads, 560.0)
    labels = [t.get_text() for t in fig2.axes[0].get_legend().get_texts()]
    assert any(x.startswith("model: ") for x in labels) and "bytes" in fig2.axes[0].get_xlabel()
    plt.close("all")
