import json
import os

import pandas as pd
import pytest

from wslab.core.errors import IncompleteRunError
from wslab.runner.store import RunWriter, list_runs, load


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
