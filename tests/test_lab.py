import os

import pytest

import wslab
from wslab.errors import ConfigError, RunError

from .conftest import wslab_processes


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
    assert r.path.parent == (_isolated_home / "data" / "runs").resolve()
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
