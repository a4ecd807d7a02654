"""Shared test helpers: one timeout factor, run directories in tmp_path."""

from __future__ import annotations

import os
import time

import psutil
import pytest

#: Scale every wait in the tests (slow or loaded machines): WSLAB_TIMEOUT_FACTOR=3
TIMEOUT_FACTOR = float(os.environ.get("WSLAB_TIMEOUT_FACTOR", "1"))


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (scaled) passes."""
    deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def wslab_processes(exclude: set[int] | None = None) -> list[psutil.Process]:
    """Live processes running a wslab child module (server, fleet, proxy)."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "-m wslab." in cmd and p.info["pid"] not in (exclude or set()):
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    found.append(p)
            except psutil.NoSuchProcess:
                pass
    return found


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Runs and figures made by tests never land in the repository."""
    home = tmp_path_factory.mktemp("wslab-home")
    monkeypatch.setenv("WSLAB_HOME", str(home))
    return home
