"""Modules stay small enough to read in one sitting: one job each."""

from __future__ import annotations

from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "wslab"
LIMIT = 600  # lines; a module past it has more than one job: split it by job
MODULES = sorted(PKG.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PKG)) for p in MODULES])
def test_module_is_under_the_size_limit(path):
    lines = len(path.read_text().splitlines())
    assert lines <= LIMIT, f"{path.relative_to(PKG.parent)} has {lines} lines (limit {LIMIT})"
