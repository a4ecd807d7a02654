"""studies.compression: the zlib model against websockets' own extension, the
tables on synthetic run tables, and one tiny real sweep against the model."""

from __future__ import annotations

import zlib

import pandas as pd
import pytest
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode

from wslab.studies import compression as cs


@pytest.fixture(scope="module")
def bodies():
    return cs.bodies(range(1, 40), [10**15 + k for k in range(39)], 700, 5, "json")


@pytest.mark.parametrize("takeover", [True, False])
@pytest.mark.parametrize("bits", [9, 12, 15])
def test_the_model_compresses_as_websockets_does(bodies, takeover, bits):
    """The offline sizes equal what websockets' permessage-deflate encoder
    sends (sans-I/O, the code the server runs) for the same bodies."""
    ext = PerMessageDeflate(False, not takeover, 15, bits, {"memLevel": 5})
    sent = [len(ext.encode(Frame(Opcode.TEXT, b)).data) for b in bodies]
    options = {"server_max_window_bits": bits, "server_no_context_takeover": not takeover}
    per_event = sum(cs.ws_frame(n) - cs.ws_frame(len(b)) for n, b in zip(sent, bodies,
                                                                          strict=True))
    header = cs.extension_header({**options, "compression": True})
    assert cs.ws_delta(bodies, options, len(bodies)) == pytest.approx(
        (per_event + header) / len(bodies))


def test_frame_headers_and_gzip_deltas():
    assert [cs.ws_frame(n) for n in (0, 125, 126, 65_535, 65_536)] == [2, 127, 130, 65_539,
                                                                       65_546]
    assert cs.extension_header({"compression": True}) == len(
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; "
        "client_max_window_bits=12\r\n")
    json_bodies = cs.bodies(range(1, 20), [10**15] * 19, 2000, 1, "json")
    tiny = cs.bodies(range(1, 20), [10**15] * 19, 4, 1, "random")
    assert cs.gzip_delta(json_bodies) < -1000 < 0 < cs.gzip_delta(tiny)
    assert len(zlib.compress(json_bodies[0])) < 0.5 * len(json_bodies[0])


def _runs():
    rows = []
    for rep in (0, 1):
        for setting, down, gz in (("ws off", 1000.0, None), ("ws deflate", 250.0, None),
                                  ("long-poll off", 1200.0, False),
                                  ("long-poll gzip", 600.0, True)):
            transport, options = cs.SETTINGS[setting]
            rows.append({"transport": transport, "repeat": rep, "payload_kind": "json",
                         "payload": 1024, "clients": 10, "delivered": 400,
                         "option_compression": options.get("compression", False)
                         if transport == "websocket" else None,
                         "option_gzip": gz, "option_server_no_context_takeover": False,
                         "option_server_max_window_bits": None,
                         "bytes_down_per_event": down * (1 + rep / 100),
                         "server_cpu_s": 0.01, "client_cpu_s": 0.02,
                         "latency_p50_us": 500.0 + rep,
                         "server_rss_before_clients_bytes": 1e6,
                         "server_rss_peak_bytes": 1e6 + 10 * 64 * 1024})
    return pd.DataFrame(rows)


def test_settings_are_named_from_their_option_columns():
    row = {"transport": "websocket", "option_compression": True,
           "option_server_no_context_takeover": False, "option_server_max_window_bits": 15.0}
    assert cs.setting_of(row) == "ws 15 bits"
    assert cs.setting_of({**row, "option_server_max_window_bits": float("nan")}) == "ws deflate"
    assert cs.setting_of({**row, "option_server_no_context_takeover": True}) == "ws no takeover"
    assert cs.setting_of({"transport": "long-poll", "option_gzip": True}) == "long-poll gzip"


def test_cost_table_pairs_each_setting_with_its_baseline_by_repeat():
    table = cs.cost_table(_runs()).set_index("setting")
    assert table.loc["ws deflate", "wire_ratio"] == pytest.approx(0.25)
    assert table.loc["long-poll gzip", "wire_ratio"] == pytest.approx(0.5)
    assert table.loc["ws off", "server_cpu_us"] == pytest.approx(25.0)
    assert table.loc["ws off", "n"] == 2
    assert list(table.index) == ["ws off", "ws deflate", "long-poll off", "long-poll gzip"]


def test_plan_sizes():
    quick, full = cs.plan(True), cs.plan(False)
    assert quick.runs == 8 and not quick.memory_ns
    assert full.memory_settings == ("ws off", "ws deflate", "ws no takeover", "ws 15 bits")
    assert full.runs == (6 * 3 * 2 + 4 * 2) * 2 and full.wall_s() > quick.wall_s()


def test_memory_per_connection_is_the_slope_over_n():
    rows = []
    for setting, kib in (("ws off", 14.0), ("ws deflate", 78.0)):
        for rep in (0, 1):
            for n in (5, 50):
                rows.append({"transport": "websocket", "repeat": rep, "clients": n,
                             "option_compression": setting != "ws off", "delivered": 100,
                             "bytes_down_per_event": 1.0, "server_cpu_s": 0.0,
                             "client_cpu_s": 0.0, "latency_p50_us": 1.0,
                             "server_rss_before_clients_bytes": 5e7,
                             "server_rss_peak_bytes": 5e7 + 1024 * (900 + kib * n + rep)})
    table = cs.memory_table(pd.DataFrame(rows)).set_index("setting")
    assert table.loc["ws off", "kib_per_connection"] == pytest.approx(14.0)
    assert table.loc["ws deflate", "minus_off"] == pytest.approx(64.0)
    assert table.loc["ws deflate", "n"] == 4
    assert list(cs.memory_table(pd.DataFrame()).columns)[:2] == ["setting", "kib_per_connection"]


def test_a_real_sweep_matches_the_model_to_the_byte(tmp_path):
    """websocket with and without deflate on JSON payloads: the measured bytes
    per event down equal the uncompressed run's less zlib's offline savings."""
    p = cs.Plan(("ws off", "ws deflate"), ("json",), (512,), clients=1, rate=40.0,
                duration=0.3, repeats=1)
    runs = cs.experiment(p, root=str(tmp_path)).run(progress=False)
    assert (runs.lost == 0).all()
    check = cs.check_model(runs).iloc[0]
    assert check.setting == "ws deflate" and check.zlib_ratio < 0.6
    assert check.measured == pytest.approx(check.model, abs=0.5)


def test_ratio_figure_has_a_bar_and_a_model_marker_per_setting():
    import matplotlib

    matplotlib.use("Agg")
    costs = cs.cost_table(_runs())
    checks = pd.DataFrame({"setting": ["ws deflate", "long-poll gzip"],
                           "payload_kind": ["json"] * 2, "payload": [1024] * 2,
                           "zlib_ratio": [0.25, 0.5]})
    ax = cs.ratio_figure(costs, checks).axes[0]
    assert len(ax.patches) == 2 and ax.get_ylabel() == "bytes per event down / uncompressed"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "model: zlib offline, same bodies" in labels
