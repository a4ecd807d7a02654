"""Notebooks driven by papermill: the QUICK parameter alone decides where results go."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from .conftest import needs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_first_code_cell_is_a_papermill_parameters_cell_without_functions(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = code[0]
    assert "parameters" in first["metadata"].get("tags", [])
    source = "".join(first["source"])
    assert "QUICK" in source and "def " not in source and "lambda" not in source
    # the cell after it hands QUICK to the kit, so an injected value is obeyed
    assert "set_quick(QUICK)" in "".join(code[1]["source"])


@needs(shutil.which("papermill", path=str(ROOT / ".venv" / "bin")) is not None
       or shutil.which("papermill") is not None, reason="papermill not installed")
def test_papermill_quick_writes_only_to_the_quick_folders(tmp_path, monkeypatch):
    # The environment says full mode; the injected parameter says quick. The
    # committed folders (data/runs, figures/*.png) must stay untouched.
    pm = pytest.importorskip("papermill")
    home = Path(os.environ["WSLAB_HOME"])  # a fresh folder per test (conftest)
    monkeypatch.setenv("WSLAB_QUICK", "0")
    pm.execute_notebook(str(ROOT / "notebooks" / "02_short_polling.ipynb"),
                        str(tmp_path / "out.ipynb"), parameters={"QUICK": True},
                        cwd=str(ROOT / "notebooks"), progress_bar=False, kernel_name="python3")
    assert not (home / "data" / "runs").exists()
    assert any((home / "data" / "quick-runs").iterdir())
    assert list((home / "figures").glob("*.png")) == []
    assert list((home / "figures" / "quick").glob("*.png"))
