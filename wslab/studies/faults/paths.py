"""Where notebook 07's runs go: ``data/runs/07_faults/<section>/<name>``.

The notebook measures every run afresh (faults are its subject, so nothing
is reused), so a run of the same name from an earlier execution is replaced.
Quick mode writes under ``data/quick-runs`` instead (`wslab.core.paths`).
"""

from __future__ import annotations

import re
import shutil

from ...core.paths import runs_dir

__all__ = ["run_out"]


def run_out(section: str, name: str) -> str:
    """A fresh run directory for run ``name`` of ``section`` (names made path-safe)."""
    # "<" and ">" carry meaning in profile names ("heartbeat < cut"): keep it
    name = name.replace("<", " lt ").replace(">", " gt ")
    safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_")
    path = runs_dir() / "07_faults" / section / safe
    if path.exists():
        shutil.rmtree(path)
    return str(path)
