"""Where notebook 10's runs go: ``data/runs/10_security/<name>`` (quick mode:
``data/quick-runs``, `wslab.core.paths`); a run of the same name is replaced."""

from __future__ import annotations

import re
import shutil

from ...core.paths import runs_dir

__all__ = ["run_out"]


def run_out(name: str) -> str:
    """A fresh run directory for run ``name`` (made path-safe)."""
    path = runs_dir() / "10_security" / re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_")
    if path.exists():
        shutil.rmtree(path)
    return str(path)
