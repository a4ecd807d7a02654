"""Where wslab keeps runs and figures.

Notebooks run with their own folder as working directory (nbval, papermill),
so paths are found from the package, never from the working directory: the
repository root is the parent of the ``wslab`` package when it holds
``pyproject.toml`` (an editable install, the normal case); otherwise the
current directory. ``WSLAB_HOME`` overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "figures_dir", "project_root", "quick", "runs_dir", "set_quick"]


def quick() -> bool:
    """Quick mode (``WSLAB_QUICK=1``, set by ``make test``): small, fast runs.

    Quick runs and figures go to ``data/quick-runs`` and ``figures/quick``
    (not committed), so tests never overwrite the reference results.
    """
    return os.environ.get("WSLAB_QUICK", "0") not in ("", "0", "false", "no")


def set_quick(flag: bool | str | None) -> bool:
    """Make ``flag`` the mode of this process and of the children it starts.

    A notebook's ``parameters`` cell holds ``QUICK`` (read from
    ``WSLAB_QUICK``, or injected by papermill: ``-p QUICK True``); the cell
    after it calls ``set_quick(QUICK)`` so that every run and figure goes to
    the folders of that mode, whatever the environment said. ``None`` keeps
    the environment's mode. Returns the mode now in force.
    """
    if flag is not None:
        on = flag if isinstance(flag, bool) else str(flag).lower() not in ("", "0", "false", "no")
        os.environ["WSLAB_QUICK"] = "1" if on else "0"
    return quick()


def project_root() -> Path:
    """The folder that holds ``data/`` and ``figures/``."""
    env = os.environ.get("WSLAB_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").is_file():
        return here
    return Path.cwd()


def data_dir() -> Path:
    """``<root>/data``."""
    return project_root() / "data"


def runs_dir() -> Path:
    """``<root>/data/runs``: one directory per run (``data/quick-runs`` in quick mode)."""
    return data_dir() / ("quick-runs" if quick() else "runs")


def figures_dir() -> Path:
    """``<root>/figures``: figures exported by the notebooks (``figures/quick`` in quick mode)."""
    root = project_root() / "figures"
    return root / "quick" if quick() else root
