"""wslab.core.paths: the mode decides where runs and figures go."""

from __future__ import annotations

import os

from wslab.core import paths


def test_set_quick_switches_runs_and_figures_and_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WSLAB_HOME", str(tmp_path))
    monkeypatch.setenv("WSLAB_QUICK", "0")
    assert paths.set_quick(None) is False
    assert paths.runs_dir() == tmp_path / "data" / "runs"
    assert paths.figures_dir() == tmp_path / "figures"
    assert paths.set_quick(True) is True
    assert os.environ["WSLAB_QUICK"] == "1"  # children started from here follow
    assert paths.runs_dir() == tmp_path / "data" / "quick-runs"
    assert paths.figures_dir() == tmp_path / "figures" / "quick"
    assert paths.set_quick("False") is False
    assert paths.runs_dir() == tmp_path / "data" / "runs"
