"""wslab.studies.header_overhead: header and frame anatomy from real runs, and the Kaazing table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wslab import models, stats
from wslab.core.errors import ConfigError
from wslab.core.events import encode
from wslab.core.profiles import PROFILES, headers_for
from wslab.studies import header_overhead

CLIENTS, RATE, INTERVAL = 3, 5.0, 0.2
SHORT, LONG = 0.6, 1.2  # seconds: 3 and 6 events per client
NAMES = {"short-poll (aiohttp)": "sp", "short-poll (browser)": "sp-browser",
         "long-poll (aiohttp)": "lp", "websocket": "ws"}


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """Notebook 04's sweep, small: short and long runs of four configurations (payload 0)."""
    configs = {k: v for k, v in header_overhead.CONFIGS.items() if k in NAMES}
    exp = header_overhead.experiment(
        "overhead-test", clients=CLIENTS, durations=(SHORT, LONG), rate=RATE,
        interval=INTERVAL, payload=0, repeats=1, seed=5, configs=configs,
        root=tmp_path_factory.mktemp("overhead-runs"))
    exp.run(progress=False)
    return exp


@pytest.fixture(scope="module")
def runs(experiment):
    """(short name, duration) -> Run, from `run_pairs`."""
    got = {}
    for (label, rep), (short, long) in header_overhead.run_pairs(experiment).items():
        assert rep == 0
        got[NAMES[label], SHORT], got[NAMES[label], LONG] = short, long
    return got


def test_event_body_bytes_is_the_encoded_size():
    m = pd.DataFrame({"seq": [1, 9, 10, 12345],
                      "published_ns": [5, 1234567890123, 10**18, 42]})
    sizes = header_overhead.event_body_bytes(m, payload=7)
    assert list(sizes) == [len(encode(s, t, b"x" * 7)) for s, t in zip(m.seq, m.published_ns,
                                                                       strict=True)]


def test_connection_bytes_sums_match_the_summary(runs):
    run = runs["sp", LONG]
    c = header_overhead.connection_bytes(run)
    assert len(c) == CLIENTS
    for col in ("bytes_up", "bytes_down", "segs_up", "segs_down", "requests"):
        assert c[col].sum() == run.summary[col]
    assert c.messages.sum() == len(run.messages)


def test_short_poll_request_bytes_are_all_headers(runs):
    a = header_overhead.http_anatomy(runs["sp", LONG], runs["sp", SHORT])
    single = header_overhead.http_anatomy(runs["sp", LONG])
    # a GET has no body: bytes up per request are request line + headers, a few hundred B
    assert 60 < a["request_header_bytes"] < 400
    assert single["request_header_bytes"] == pytest.approx(a["request_header_bytes"], abs=5)
    # response = headers + "[...]": the JSON array is at least "[]"
    assert a["response_body_bytes"] >= 2
    assert a["response_header_bytes"] > 50
    assert a["header_bytes"] == pytest.approx(
        a["request_header_bytes"] + a["response_header_bytes"])
    # at least one segment each way per poll, 52 B each
    assert a["tcpip_bytes_per_request"] >= 2 * models.TCPIP_HEADER_BYTES_IPV4_TS


def test_browser_profile_adds_exactly_its_modelled_bytes(runs):
    lean = header_overhead.http_anatomy(runs["sp", LONG], runs["sp", SHORT])
    browser = header_overhead.http_anatomy(runs["sp-browser", LONG], runs["sp-browser", SHORT])
    url = runs["sp-browser", LONG].manifest["endpoint"]
    model = header_overhead.profile_extra_bytes("browser", url)
    # the profile's lines less the aiohttp defaults they replace, to the byte
    assert browser["request_header_bytes"] - lean["request_header_bytes"] == pytest.approx(model)
    lines = {k: len(f"{k}: {v}\r\n") for k, v in PROFILES["browser"].items()}
    assert 0 < model < sum(lines.values()) + len(url)
    assert header_overhead.profile_extra_bytes("aiohttp", url) == 0


def test_long_poll_baseline_cancels_the_held_request(runs):
    exact = header_overhead.http_anatomy(runs["lp", LONG], runs["lp", SHORT])
    single = header_overhead.http_anatomy(runs["lp", LONG])
    # every long-poll client holds one request (sent, never answered) when the run
    # stops; the fleet counts it with its bytes, so one run's ratio already agrees
    assert single["request_header_bytes"] == pytest.approx(exact["request_header_bytes"],
                                                           rel=0.05)
    assert 60 < exact["request_header_bytes"] < 400
    assert exact["events_per_response"] == pytest.approx(1, abs=0.5)


def test_ws_anatomy_finds_the_rfc6455_frame_header(runs):
    ws = header_overhead.ws_anatomy([runs["ws", SHORT], runs["ws", LONG]])
    # server -> client text frame under 126 B: 2-byte header, unmasked (RFC 6455 §5.1-5.2)
    assert ws["body_bytes"] < 126
    assert ws["frame_header_bytes"] == pytest.approx(
        models.ws_frame_header_bytes(round(ws["body_bytes"]), masked=False), abs=1e-6)
    assert ws["fit_max_residual_bytes"] < 1e-6
    assert ws["handshake_up_bytes"] == runs["ws", LONG].summary["bytes_up"] / CLIENTS
    assert 100 < ws["handshake_down_bytes"] < 400  # "HTTP/1.1 101 Switching Protocols" ...


def test_ws_anatomy_needs_different_event_counts(runs):
    with pytest.raises(ConfigError, match="different event counts"):
        header_overhead.ws_anatomy([runs["ws", LONG]])
    with pytest.raises(ConfigError, match="websocket"):
        header_overhead.ws_anatomy([runs["sp", LONG]])


def test_marginal_cost_websocket_is_frame_header_plus_segments(runs):
    m = header_overhead.marginal_cost(runs["ws", SHORT], runs["ws", LONG])
    assert m["overhead_bytes"] == pytest.approx(2, abs=1e-6)
    assert m["bytes"] == pytest.approx(m["body_bytes"] + 2)
    assert 1 <= m["segments"] <= 2  # the frame, at most one ACK
    assert m["tcpip_bytes"] == pytest.approx(m["segments"] * 52)
    assert m["overhead_tcpip_bytes"] == pytest.approx(2 + m["tcpip_bytes"])


def test_marginal_cost_short_poll_pays_headers_per_message(runs):
    m = header_overhead.marginal_cost(runs["sp", SHORT], runs["sp", LONG])
    a = header_overhead.http_anatomy(runs["sp", LONG], runs["sp", SHORT])
    per_message = 1 / a["events_per_response"]  # requests per delivered message
    assert m["overhead_bytes"] == pytest.approx(a["header_bytes"] * per_message, rel=0.1)
    assert m["overhead_bytes"] > 50 * header_overhead.marginal_cost(
        runs["ws", SHORT], runs["ws", LONG])["overhead_bytes"]
    with pytest.raises(ConfigError, match="different transports"):
        header_overhead.marginal_cost(runs["sp", SHORT], runs["ws", LONG])
    with pytest.raises(ConfigError, match="more messages"):
        header_overhead.marginal_cost(runs["sp", LONG], runs["sp", SHORT])


def test_kaazing_model_gives_the_paper_table():
    t = header_overhead.kaazing_model()
    assert list(t.clients) == list(models.KAAZING_CLIENTS)
    assert list(t.polling_mbps) == list(models.KAAZING_PAPER_POLLING_MBPS)
    assert list(t.websocket_mbps) == list(models.KAAZING_PAPER_WS_MBPS)


def test_kaazing_three_way_scales_measurements_linearly():
    measured = {"ws": {"clients": 1_000, "overhead_bytes": 2.0, "overhead_tcpip_bytes": 106.0}}
    t = header_overhead.kaazing_three_way({"sp": 282.0}, measured)
    assert list(t.columns) == header_overhead.KAAZING_COLUMNS
    paper = t[(t.method == "paper") & (t.transport == "polling")]
    assert list(paper.paper_mbps) == list(models.KAAZING_PAPER_POLLING_MBPS)
    model = t[t.method == "model"]
    assert np.allclose(model.mbit_s, [n * 282 * 8 / 1e6 for n in models.KAAZING_CLIENTS])
    wire = t[t.method == "measured + TCP/IP"].set_index("clients")
    assert wire.loc[100_000, "mbit_s"] == pytest.approx(100 * wire.loc[1_000, "mbit_s"])
    assert wire.loc[1_000, "basis"] == "measured at N = 1,000"
    assert wire.loc[10_000, "basis"] == "extrapolated from N = 1,000"
    assert np.allclose(t.paper_mbps[t.method != "paper"], t.mbit_s[t.method != "paper"] * 1e6
                       / 2**20)


def test_anatomy_table_counts_and_figures(runs, tmp_path):
    import matplotlib.pyplot as plt

    table = header_overhead.anatomy_table({"sp": (runs["sp", SHORT], runs["sp", LONG])},
                                          [runs["ws", SHORT], runs["ws", LONG]])
    assert list(table.index) == ["sp", "websocket (per frame)"]
    assert table.loc["websocket (per frame)", "header_bytes"] == 2
    assert table.loc["sp", "header_bytes"] > 100 * table.loc["websocket (per frame)",
                                                             "header_bytes"] / 2
    assert table.loc["sp", "counted"] == (runs["sp", SHORT].summary["requests"]
                                          + runs["sp", LONG].summary["requests"])
    assert table.loc["websocket (per frame)", "unit"] == "frames"
    assert table.total.to_numpy() == pytest.approx(
        table[["request_headers", "response_headers", "body", "tcpip"]].sum(axis=1))
    fig, (ax1, ax2) = plt.subplots(1, 2)
    header_overhead.plot_anatomy(ax1, table)
    header_overhead.plot_kaazing(ax2, header_overhead.kaazing_three_way({"sp": 282.0}, {}))
    assert ax2.get_yscale() == "log" and "Mbit/s" in ax2.get_ylabel()
    assert "(B)" in ax1.get_ylabel() and len(ax1.patches) == 4 * len(table)
    assert "n = " in ax1.get_xticklabels()[0].get_text()
    plt.close(fig)


def test_repeats_give_intervals_and_model_checks(experiment):
    pairs = header_overhead.run_pairs(experiment)
    by_rep = header_overhead.anatomy_repeats(pairs)
    assert list(by_rep.label) == ["short-poll (aiohttp)", "short-poll (browser)",
                                  "long-poll (aiohttp)", "websocket (per frame)"]
    anatomy = header_overhead.with_intervals(by_rep)
    marginal = header_overhead.with_intervals(header_overhead.marginal_repeats(pairs))
    # one repeat: a value, no interval, n = 1
    assert anatomy.header_bytes_n.eq(1).all() and anatomy.header_bytes_low.isna().all()
    assert marginal.loc["websocket", "counted"] == (
        len(pairs["websocket", 0][0].messages) + len(pairs["websocket", 0][1].messages))
    url = pairs["short-poll (browser)", 0][1].manifest["endpoint"]
    checks = header_overhead.model_checks(anatomy, marginal, by_rep, rate=RATE,
                                          interval=INTERVAL, url=url)
    assert list(checks.quantity) == [
        "websocket frame header (B), fit over connections",
        "websocket overhead per message (B), marginal",
        "short-poll (aiohttp) overhead per message (B), marginal",
        "short-poll (browser) overhead per message (B), marginal",
        "browser profile: extra request bytes per poll (B)",
        "short-poll (aiohttp) headers per poll (B) vs the paper's",
        "short-poll (browser) headers per poll (B) vs the paper's"]
    assert checks.verdict.eq("no interval (n=1)").all()
    assert checks.model.iloc[0] == 2 and checks.model.iloc[-1] == models.KAAZING_HEADER_BYTES
    assert checks.measured.iloc[4] == pytest.approx(checks.model.iloc[4], abs=1e-6)  # to the byte
    cpu = header_overhead.with_intervals(header_overhead.run_metrics_repeats(pairs))
    assert (cpu.server_cpu_us_per_event > 0).all() and cpu.loc["websocket", "unit"] == (
        "deliveries")


def test_trials_and_experiment_plan():
    plan = header_overhead.trials((1.0, 2.0), interval=0.5)
    assert len(plan) == 2 * len(header_overhead.CONFIGS)
    sp = [t for t in plan if t["transport"] == "short-poll"]
    assert all(t["interval"] == 0.5 for t in sp)
    assert not any("interval" in t for t in plan if t["transport"] != "short-poll")
    assert {t.get("options", {}).get("headers") for t in plan} == {None, "browser"}
    exp = header_overhead.experiment("plan", clients=2, durations=(1.0, 2.0), rate=1.0,
                                     interval=1.0, payload=0, repeats=3, seed=1,
                                     root="/nonexistent/never-created")
    assert len(exp.trials) == 3 * len(plan)
    # one seed per repeat and duration, shared by every configuration
    assert len({(t.repeat, t.config.duration, t.seed) for t in exp.trials}) == 6
    assert header_overhead.config_label("long-poll", {"headers": "browser"}) == (
        "long-poll (browser)")
    assert header_overhead.config_label("short-poll", {}) == "short-poll (aiohttp)"
    with pytest.raises(ConfigError, match="short < long"):
        header_overhead.experiment("plan", clients=2, durations=(2.0, 1.0), rate=1.0,
                                   interval=1.0, payload=0, repeats=1, seed=1)


def _synthetic_repeats():
    rows = []
    for rep, (sp, ws) in enumerate([(440.0, 106.0), (444.0, 104.0), (436.0, 108.0)]):
        rows.append({"label": "short-poll (aiohttp)", "repeat": rep, "overhead_bytes": 284.0,
                     "overhead_tcpip_bytes": sp, "segments": 3.0, "counted": 3000,
                     "unit": "messages"})
        rows.append({"label": "websocket", "repeat": rep, "overhead_bytes": 2.0,
                     "overhead_tcpip_bytes": ws, "segments": 2.0, "counted": 3000,
                     "unit": "messages"})
    return pd.DataFrame(rows)


def test_with_intervals_and_paired_ratios_over_repeats():
    frame = _synthetic_repeats()
    ci = header_overhead.with_intervals(frame)
    row = ci.loc["short-poll (aiohttp)"]
    assert row.overhead_tcpip_bytes == pytest.approx(440.0)
    assert row.overhead_tcpip_bytes_low < 440 < row.overhead_tcpip_bytes_high
    assert row.overhead_tcpip_bytes_n == 3 and row.counted == 9000
    assert row.overhead_bytes_low == row.overhead_bytes_high == 284.0  # no spread
    ratios = header_overhead.overhead_ratios(frame)
    assert list(ratios.label) == ["short-poll (aiohttp)"]
    per_repeat = [440 / 106, 444 / 104, 436 / 108]
    assert ratios.ratio.iloc[0] == pytest.approx(np.mean(per_repeat))
    assert ratios.ratio_low.iloc[0] < ratios.ratio.iloc[0] < ratios.ratio_high.iloc[0]


def test_kaazing_three_way_carries_intervals_and_marks_extrapolation(tmp_path):
    import matplotlib.pyplot as plt

    measured = {"ws": {"clients": 1_000, "overhead_bytes": 2.0, "overhead_tcpip_bytes": 106.0,
                       "overhead_tcpip_bytes_low": 100.0, "overhead_tcpip_bytes_high": 112.0}}
    t = header_overhead.kaazing_three_way({"sp": 282.0}, measured)
    wire = t[t.method == "measured + TCP/IP"].set_index("clients")
    assert wire.loc[1_000, "mbit_s_low"] == pytest.approx(1_000 * 100 * 8 / 1e6)
    assert wire.loc[100_000, "mbit_s_high"] == pytest.approx(100 * wire.loc[1_000, "mbit_s_high"])
    assert list(wire.extrapolated) == [False, True, True]
    assert t[t.method == "measured"].mbit_s_low.isna().all()  # no interval given
    assert not t[t.method.isin(["paper", "model"])].extrapolated.any()
    fig, ax = plt.subplots()
    header_overhead.plot_kaazing(ax, t)
    hollow = [p for p in ax.patches if p.get_facecolor()[:3] == (1.0, 1.0, 1.0)]
    assert len(hollow) == 4  # ws measured and measured + TCP/IP at 10,000 and 100,000
    assert all(p.get_linestyle() == "--" for p in hollow)
    legend = " ".join(x.get_text() for x in ax.get_legend().get_texts())
    assert "extrapolated" in legend and "95 % interval" in legend
    fig.canvas.draw()
    fmt = ax.yaxis.get_major_formatter()
    assert not any("10^" in fmt(v) or "×" in fmt(v) for v in ax.yaxis.get_majorticklocs())
    plt.close(fig)


def test_findings_are_computed_sentences():
    frame = _synthetic_repeats()
    marginal = header_overhead.with_intervals(frame)
    anatomy = pd.DataFrame({"header_bytes": [282.0], "header_bytes_low": [282.0],
                            "header_bytes_high": [282.0], "header_bytes_n": [3],
                            "counted": [6000], "unit": ["polls"]},
                           index=pd.Index(["short-poll (aiohttp)"], name="label"))
    checks = stats.check_table([("x (B)", stats.mean_ci([2.0, 2.0, 2.0]), 2.0)])
    cpu = pd.DataFrame({"server_cpu_us_per_event": [200.0], "server_cpu_us_per_event_low": [
        190.0], "server_cpu_us_per_event_high": [210.0], "server_cpu_us_per_event_n": [3]},
        index=pd.Index(["websocket"], name="label"))
    lines = header_overhead.findings(anatomy, marginal, checks,
                                     header_overhead.overhead_ratios(frame), cpu)
    text = "\n".join(lines)
    assert lines[0].endswith("printed table: yes")
    assert "headers 282.0 [282.0, 282.0] B per poll (n = 6,000 polls, 3 repeats)" in text
    assert "x (B): measured 2.0 [2.0, 2.0], model 2.0: model inside 95 % CI" in text
    assert "polling costs more: interval above 1" in text
    assert "server CPU 200 [190, 210] µs per delivered event (n = 3 runs)" in text


def test_profile_bytes_count_the_profile_lines():
    url = "http://127.0.0.1:12345/poll"
    p = header_overhead.profile_bytes("browser", url)
    lines = headers_for("browser", url)
    assert p["lines"] == len(lines) == len(PROFILES["browser"])
    assert p["header_bytes"] == sum(len(f"{k}: {v}\r\n") for k, v in lines.items())
    assert 0 < p["replaced_bytes"] < p["header_bytes"]
    assert p["extra_bytes"] == p["header_bytes"] - p["replaced_bytes"]
    assert header_overhead.profile_extra_bytes("browser", url) == p["extra_bytes"]
