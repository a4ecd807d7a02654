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

__all__ = ["data_dir", "figures_dir", "project_root", "runs_dir"]


def project_root() -> Path:
    """The folder that holds ``data/`` and ``figures/``."""
    env = os.environ.get("WSLAB_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file():
        return here
    return Path.cwd()


def data_dir() -> Path:
    """``<root>/data``."""
    return project_root() / "data"


def runs_dir() -> Path:
    """``<root>/data/runs``: one directory per run."""
    return data_dir() / "runs"


def figures_dir() -> Path:
    """``<root>/figures``: figures exported by the notebooks."""
    return project_root() / "figures"
