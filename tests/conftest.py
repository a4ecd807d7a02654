"""Shared test helpers: one timeout factor, run directories in tmp_path."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

#: Scale every wait in the tests (slow or loaded machines): WSLAB_TIMEOUT_FACTOR=3
TIMEOUT_FACTOR = float(os.environ.get("WSLAB_TIMEOUT_FACTOR", "1"))
# pytest-xdist workers ignore SIGINT, and an ignored signal stays ignored
# across exec: the children these tests stop with SIGINT (as Ctrl-C would)
# would never see it. A handler here is reset to the default in each child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

#: set by .ci/run: a test that needs a system part (root, tcpdump, ip, papermill)
#: fails instead of skipping, so CI never passes by silently skipping it
STRICT = os.environ.get("WSLAB_CI", "") not in ("", "0")


def needs(available: bool, reason: str):
    """``skipif(not available)`` on a developer's machine, nothing under CI
    (where the test then runs and fails loudly if the part is missing)."""
    import pytest

    return pytest.mark.skipif(not available and not STRICT, reason=reason)


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (scaled) passes."""
    deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def wslab_processes(parent: int | None = None) -> list[psutil.Process]:
    """Live wslab child processes (server, fleet, proxy), optionally only those
    started by process ``parent`` (children carry ``WSLAB_PARENT_PID``), so
    that other wslab work on the machine does not confuse a test."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "-m wslab." not in cmd:
            continue
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            if parent is not None and p.environ().get("WSLAB_PARENT_PID") != str(parent):
                continue
            found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Runs and figures made by tests never land in the repository."""
    home = tmp_path_factory.mktemp("wslab-home")
    monkeypatch.setenv("WSLAB_HOME", str(home))
    return home
