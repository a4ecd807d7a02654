"""Study for notebook 09 section 3 (HTTP/2): tables on synthetic frames whose
answer is known, and one real probe (a child process, ~1 s)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from wslab.core.errors import ConfigError
from wslab.studies import http2


def _run(requests):
    return SimpleNamespace(summary={"requests": requests})


def _per_poll():
    bytes_ = {"HTTP/1.1 (aiohttp)": (284, 284), "HTTP/2 (aiohttp)": (70, 74),
              "HTTP/1.1 (browser)": (714, 714), "HTTP/2 (browser)": (80, 84)}
    pairs = {(label, rep): (_run(10), _run(30)) for label in bytes_ for rep in (0, 1)}

    def anatomy(long, short):  # stands for notebook 04's http_anatomy
        label, rep = next(k for k, (a, b) in pairs.items() if a is short and b is long)
        b = bytes_[label][rep]
        return {"request_header_bytes": b / 2, "response_header_bytes": b / 2,
                "header_bytes": float(b)}

    return http2.with_intervals(http2.per_poll_repeats(pairs, anatomy))


def test_per_poll_side_by_side_and_kaazing_from_known_bytes():
    pp = _per_poll()
    assert pp.loc["HTTP/2 (aiohttp)", "header_bytes"] == 72
    assert pp.loc["HTTP/2 (aiohttp)", "header_bytes_n"] == 2
    assert pp.loc["HTTP/2 (aiohttp)", "counted"] == 80  # 2 repeats x (10 + 30) requests
    side = http2.side_by_side(pp)
    assert side.loc["browser", "HTTP/1.1"] == 714 and side.loc["browser", "HTTP/2"] == 82
    assert side.loc["aiohttp", "HTTP/2 : HTTP/1.1"] == pytest.approx(72 / 284, abs=0.01)
    k = http2.kaazing_h2(pp)
    # the paper's 871 B x 8 bits x 1,000 clients = 6.968 Mbit/s (SI)
    assert k.loc["paper (871 B)", "1,000 clients Mbit/s"] == pytest.approx(6.968)
    assert k.loc["HTTP/2 (aiohttp)", "100,000 clients Mbit/s"] == pytest.approx(57.6)
    assert (k.loc["HTTP/2 (aiohttp)", "1,000 low"] < 0.576 < k.loc["HTTP/2 (aiohttp)",
                                                                   "1,000 high"])


def test_multiplex_table_means_over_repeats():
    def run(k, conns, rss):
        return SimpleNamespace(
            manifest={"parameters": {"options": {"multiplex": k}}},
            summary={"connections": conns, "bytes_up": 100, "bytes_down": 300, "delivered": 40,
                     "client_rss_peak_bytes": rss * 2**20, "server_rss_peak_bytes": 3072,
                     "server_rss_start_bytes": 1024, "latency_us": {"p50": 2000.0},
                     "clients": 4, "lost": 0, "duplicated": 0})
    t = http2.multiplex_table([run(1, 4, 50), run(4, 1, 40), run(1, 4, 52), run(4, 1, 42)],
                              [0, 0, 1, 1])
    assert list(t.index) == [1, 4]
    assert t.loc[4, "connections"] == 1 and t.loc[1, "client_rss_peak_mib"] == 51
    assert t.loc[1, "bytes_per_event"] == 10 and t.loc[1, "server_rss_growth_kib"] == 2
    assert t.loc[4, "latency_p50_ms"] == 2 and t.loc[4, "lost"] == 0


def test_probe_table_and_request_fields():
    fields = http2.request_fields("browser", "http://127.0.0.1:8080", "/poll?since=3")
    names = [k for k, _ in fields]
    assert names[:4] == [":method", ":authority", ":scheme", ":path"]
    assert "host" not in names and "connection" not in names and "cookie" in names
    record = {"headers": "aiohttp", "tls": None, "origin": "http://127.0.0.1:8080",
              "exchanges": [{"request_header_bytes": b, "response_header_bytes": 14,
                             "data_frames": 2, "data_payload_bytes": 101,
                             "data_frame_bytes": 119, "other_bytes": 13} for b in (58, 27)]}
    t = http2.probe_table([record])
    assert list(t.poll) == [1, 2] and (t.data_framing == 18).all()
    assert t.model_request_headers.iloc[0] > 2 * t.model_request_headers.iloc[1]


def test_bad_plans_are_refused_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError, match="durations must be"):
        http2.poll_experiment("x", clients=1, durations=(2, 1), rate=1, interval=1, payload=8,
                              repeats=1, seed=0, root=str(tmp_path))
    with pytest.raises(ConfigError, match="multiplex must be integers from 1 to clients"):
        http2.multiplex_experiment("x", clients=4, multiplex=[8], rate=1, duration=1,
                                   repeats=1, seed=0, root=str(tmp_path))
    with pytest.raises(ConfigError, match="polls must be from 1 to 1000"):
        http2.probe(0)
    with pytest.raises(ConfigError, match="repeats must be from 1 to 100"):
        http2.probes(2, repeats=0)
    assert http2.config_label("h2-short-poll", {"headers": "browser"}) == "HTTP/2 (browser)"
    assert http2.config_label("short-poll", None) == "HTTP/1.1 (aiohttp)"


def test_a_real_probe_matches_the_hpack_model_byte_for_byte():
    records = http2.probes(3, ("browser",), repeats=2)
    assert [r["headers"] for r in records] == ["browser", "browser"]
    t = http2.probe_table(records)
    checks = http2.probe_checks(t)
    assert (checks.verdict == "model inside 95 % CI").all(), checks
    assert (t.request_headers == t.model_request_headers).all()
    assert isinstance(t, pd.DataFrame) and np.isfinite(checks.measured).all()
