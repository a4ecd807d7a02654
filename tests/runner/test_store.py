import json
import os

import pandas as pd
import pytest

from wslab.core.errors import IncompleteRunError
from wslab.runner.store import (
    RunWriter,
    list_runs,
    load,
    temporary_dir,
    temporary_dirs,
    temporary_owner,
)


def _tables():
    m = pd.DataFrame({"client_id": [0], "seq": [1], "published_ns": [5], "received_ns": [9]})
    c = pd.DataFrame({"client_id": [0], "bytes_up": [1], "bytes_down": [2]})
    return m, c


def _manifest():
    return {"run_id": "x", "parameters": {"transport": "tcp"}, "publish": {"start_ns": 0}}


def test_commit_is_atomic_and_loadable(tmp_path):
    final = tmp_path / "runs" / "r1"
    w = RunWriter(final)
    assert not final.exists() and w.tmp.exists() and w.tmp.name.startswith(".r1.tmp-")
    w.write_manifest({**_manifest(), "status": "running"})
    w.part("scratch.parquet").write_text("x")
    with pytest.raises(IncompleteRunError, match="no manifest"):
        load(final)
    with pytest.raises(IncompleteRunError, match="incomplete run"):
        load(w.tmp)  # a half-written run never loads
    m, c = _tables()
    path = w.commit(_manifest(), {"published": 1, "warmup_s": 0}, m, c)
    assert path == final.resolve() and not w.tmp.exists()
    assert sorted(os.listdir(final)) == sorted(
        ["manifest.json", "summary.json", "messages.parquet", "connections.parquet"])
    run = load(final)
    assert run.manifest["status"] == "complete" and run.summary["published"] == 1
    assert run.messages.seq.tolist() == [1] and run.transport == "tcp"
    table = list_runs(tmp_path / "runs")
    assert table.run.tolist() == ["r1"]


def test_abort_leaves_nothing(tmp_path):
    w = RunWriter(tmp_path / "r2")
    w.write_manifest({"status": "running"})
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_commit_into_existing_empty_directory(tmp_path):
    (tmp_path / "out").mkdir()
    w = RunWriter(tmp_path / "out")
    m, c = _tables()
    w.commit(_manifest(), {"published": 1}, m, c)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["status"] == "complete"


def test_load_refuses_missing_tables(tmp_path):
    d = tmp_path / "r3"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({"status": "complete"}))
    with pytest.raises(IncompleteRunError, match="missing summary.json"):
        load(d)


def test_temporary_directories_are_named_and_found_by_the_store(tmp_path):
    w = RunWriter(tmp_path / "r4")
    assert w.tmp == temporary_dir(tmp_path.resolve() / "r4")
    assert temporary_owner(w.tmp) == os.getpid()
    leftover = temporary_dir(tmp_path / "r5", pid=999_999_999)
    assert leftover.name == ".r5.tmp-999999999" and temporary_owner(leftover) == 999_999_999
    leftover.mkdir()
    (tmp_path / ".hidden").mkdir()  # hidden but not a run's temporary directory
    (tmp_path / ".r6.tmp-12").write_text("a file, not a directory")
    (tmp_path / "r7.tmp-5").mkdir()  # not hidden: a run called that
    assert temporary_dirs(tmp_path) == sorted([w.tmp, leftover])
    assert temporary_owner(tmp_path / ".hidden") is None
    assert temporary_owner(tmp_path / "r7.tmp-5") is None
    assert temporary_dirs(tmp_path / "missing") == []
    w.abort()
    assert temporary_dirs(tmp_path) == [leftover]


def test_a_run_without_per_delivery_rows_loads_and_says_where_its_distribution_is(tmp_path):
    from wslab.core.errors import WslabError

    m, c = _tables()
    manifest = {**_manifest(), "parameters": {"transport": "tcp", "keep_messages": False}}
    w = RunWriter(tmp_path / "r")
    w.commit(manifest, {"published": 1, "latency_hdr": "x"}, None, c)
    run = load(tmp_path / "r")
    assert not (run.path / "messages.parquet").exists()
    assert len(run.connections) == 1
    with pytest.raises(WslabError, match="keep_messages=False.*latency_hdr"):
        _ = run.messages
    # a run that should have kept them and lacks them is still refused
    (tmp_path / "r2").mkdir()
    w2 = RunWriter(tmp_path / "r2")
    w2.commit(_manifest(), {"published": 1}, m, c)
    (tmp_path / "r2" / "messages.parquet").unlink()
    with pytest.raises(IncompleteRunError, match="messages.parquet"):
        load(tmp_path / "r2")
