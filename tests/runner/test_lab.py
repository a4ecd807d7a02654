import os

import pytest

import wslab
from wslab.core.errors import ConfigError, RunError

from ..conftest import wslab_processes


def test_lab_runs_several_runs_on_one_server(tmp_path):
    with wslab.Lab() as lab:
        pid = lab.server.pid
        assert set(lab.urls) == set(wslab.transport_names())
        a = lab.run("tcp", clients=2, rate=100, duration=0.5, schedule="fixed",
                    out=str(tmp_path / "a"), progress=False)
        b = lab.run("sse", clients=2, rate=100, duration=0.5, schedule="fixed",
                    out=str(tmp_path / "b"), progress=False)
        assert lab.server.pid == pid
    # each run starts its stream at seq 1
    assert a.messages.seq.min() == b.messages.seq.min() == 1
    assert a.summary["published"] == b.summary["published"] == 50
    assert a.manifest["parameters"]["transport"] == "tcp"
    assert a.manifest["versions"]["websockets"] and a.manifest["machine"]["cores"]
    assert a.manifest["status"] == "complete"
    assert pid not in {p.pid for p in wslab_processes()}


def test_default_out_is_under_runs_dir(_isolated_home):
    r = wslab.run("tcp", clients=1, rate=20, duration=0.5, progress=False)
    assert r.path.parent == wslab.core.paths.runs_dir().resolve()
    assert wslab.core.paths.runs_dir().is_relative_to(_isolated_home)
    assert r.path.name.endswith(r.path.name.split("-")[-1]) and "-tcp-" in r.path.name


def test_bad_input_starts_nothing(tmp_path):
    with pytest.raises(ConfigError):
        wslab.run("tcp", rate=-1, out=str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()
    assert wslab_processes(parent=os.getpid()) == []


def test_exception_inside_lab_stops_server():
    with pytest.raises(RuntimeError, match="boom"):
        with wslab.Lab() as lab:
            pid = lab.server.pid
            raise RuntimeError("boom")
    assert pid not in {p.pid for p in wslab_processes()}


def test_run_outside_started_lab_is_an_error(tmp_path):
    with pytest.raises(RunError, match="not started"):
        wslab.Lab().run("tcp", out=str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()


def test_network_delay_goes_through_the_proxy(tmp_path):
    """25 ms each way: push latency is at least one transit, long-poll's max
    at least one transit too (RFC 6202 §2.2); the proxy loses nothing."""
    with wslab.Lab() as lab:
        ws = lab.run("websocket", clients=2, rate=20, duration=1, delay="25ms", schedule="fixed",
                     out=str(tmp_path / "ws"), progress=False)
        lp = lab.run("long-poll", clients=2, rate=20, duration=1, delay=0.025, jitter="2ms",
                     schedule="fixed", out=str(tmp_path / "lp"), progress=False)
    for r in (ws, lp):
        assert r.summary["lost"] == r.summary["duplicated"] == 0
        assert r.summary["latency_us"]["p50"] >= 25_000
        assert r.manifest["netem"]["toxics"]
    assert "latency" in ws.manifest["netem"]["toxics"][0]
    assert ws.manifest["parameters"]["delay"] == 0.025


def test_bad_delay_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(ConfigError, match="delay"):
        wslab.run("tcp", delay="soon", out=str(tmp_path / "x"))
    with pytest.raises(ConfigError, match="jitter needs a delay"):
        wslab.run("tcp", jitter="5ms", out=str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()


def test_two_server_workers_share_ports_and_one_stream(tmp_path):
    """SO_REUSEPORT workers: clients spread over both, every event still once."""
    with wslab.Lab(workers=2) as lab:
        assert len(lab.servers) == 2 and len({w.pid for w in lab.servers}) == 2
        r = lab.run("websocket", clients=40, rate=50, duration=1, schedule="fixed",
                    out=str(tmp_path / "ws"), progress=False)
    s = r.summary
    assert s["server_workers"] == 2 and s["live_connections_at_start"] == 40
    assert s["lost"] == s["duplicated"] == 0 and s["delivered"] == 40 * 50
    assert s["fanout_spread_us"]["max"] >= s["fanout_spread_us"]["p50"] >= 0
    assert s["server_rss_per_client_bytes"] == pytest.approx(
        (s["server_rss_start_bytes"] - s["server_rss_before_clients_bytes"]) / 40)


def test_worker_count_mismatch_and_limits(tmp_path):
    with pytest.raises(ConfigError, match="workers must be between 1 and 16"):
        wslab.Lab(workers=0)
    with wslab.Lab() as lab, pytest.raises(ConfigError, match="workers must be 1"):
        lab.run("tcp", workers=2, out=str(tmp_path / "x"))
    with pytest.raises(ConfigError, match="add workers"):
        wslab.RunConfig(transport="websocket", clients=10**6, workers=2).validate()
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_every_child_runs_on_the_event_loop_wslab_loop_names(monkeypatch, tmp_path, loop):
    monkeypatch.setenv("WSLAB_LOOP", loop)
    with wslab.Lab() as lab:
        assert lab.server.ready["event_loop"] == loop
        run = lab.run("picows", clients=2, rate=50, duration=1, out=str(tmp_path / "r"),
                      progress=False)
    assert run.manifest["event_loop"] == loop
    assert (run.summary["lost"], run.summary["duplicated"]) == (0, 0)


def test_an_unknown_event_loop_is_refused_before_anything_starts(monkeypatch):
    monkeypatch.setenv("WSLAB_LOOP", "tokio")
    with pytest.raises(ConfigError, match="WSLAB_LOOP must be one of asyncio, uvloop, not 'tokio'"):
        wslab.Lab()
