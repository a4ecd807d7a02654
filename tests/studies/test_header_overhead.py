"""wslab.studies.header_overhead: header and frame anatomy from real runs, and the Kaazing table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import wslab
from wslab import models
from wslab.core.errors import ConfigError
from wslab.core.events import encode
from wslab.core.profiles import PROFILES
from wslab.studies import header_overhead

CLIENTS, RATE, INTERVAL = 3, 5.0, 0.2
SHORT, LONG = 0.6, 1.2  # seconds: 3 and 6 events per client


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Short and long runs of short-poll, long-poll and websocket, made once (payload 0)."""
    out = tmp_path_factory.mktemp("overhead-runs")
    common = dict(clients=CLIENTS, rate=RATE, payload=0, schedule="fixed", seed=5,
                  progress=False)
    configs = {
        "sp": ("short-poll", {"interval": INTERVAL}),
        "sp-browser": ("short-poll", {"interval": INTERVAL, "headers": "browser"}),
        "lp": ("long-poll", {}),
        "ws": ("websocket", {}),
    }
    got = {}
    with wslab.Lab() as lab:
        for name, (transport, options) in configs.items():
            for d in (SHORT, LONG):
                if name == "sp-browser" and d == SHORT:
                    continue
                got[name, d] = lab.run(transport, duration=d, options=options,
                                       out=str(out / f"{name}-{d}"), **common)
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


def test_browser_profile_adds_its_header_lines(runs):
    lean = header_overhead.http_anatomy(runs["sp", LONG])["request_header_bytes"]
    browser = header_overhead.http_anatomy(runs["sp-browser", LONG])["request_header_bytes"]
    lines = {k: len(f"{k}: {v}\r\n") for k, v in PROFILES["browser"].items()}
    # headers aiohttp never sends by itself are pure additions; the profile is the upper bound
    new = [k for k in lines if k.lower().startswith(("sec-", "cookie", "referer", "accept-l"))]
    assert browser - lean >= sum(lines[k] for k in new)
    assert browser - lean <= sum(lines.values()) + len("http://127.0.0.1:65535")


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


def test_anatomy_table_and_figures(runs, tmp_path):
    import matplotlib.pyplot as plt

    table = header_overhead.anatomy_table({"sp": (runs["sp", SHORT], runs["sp", LONG])},
                                   [runs["ws", SHORT], runs["ws", LONG]])
    assert list(table.index) == ["sp", "websocket (per frame)"]
    assert table.loc["websocket (per frame)", "header_bytes"] == pytest.approx(2)
    assert table.loc["sp", "header_bytes"] > 100 * table.loc["websocket (per frame)",
                                                             "header_bytes"] / 2
    fig, (ax1, ax2) = plt.subplots(1, 2)
    header_overhead.plot_anatomy(ax1, table)
    header_overhead.plot_kaazing(ax2, header_overhead.kaazing_three_way({"sp": 282.0}, {}))
    assert ax2.get_yscale() == "log" and "Mbit/s" in ax2.get_ylabel()
    assert "(B)" in ax1.get_ylabel() and len(ax1.patches) == 4 * len(table)
    plt.close(fig)
