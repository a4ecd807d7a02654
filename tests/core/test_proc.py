"""The process protocol: readiness, commands, errors, and death with the parent."""

import subprocess
import sys
import textwrap

import psutil
import pytest

from wslab.core.errors import RunError
from wslab.core.proc import ChildProcess, timeout_factor

from ..conftest import TIMEOUT_FACTOR, wait_until


def test_server_child_reports_ready_and_stops():
    server = ChildProcess("server", "wslab.runner.server", {"host": "127.0.0.1"})
    ready = server.start()
    try:
        assert set(ready["endpoints"]) == {"tcp", "websocket", "sse", "long-poll", "short-poll"}
        assert all("127.0.0.1:" in url for url in ready["endpoints"].values())
        assert psutil.Process(ready["pid"]).is_running()
        assert server.request("reset")["rss_before_clients"] > 0
        with pytest.raises(RunError, match="unknown command 'dance'"):
            server.request("dance")
    finally:
        server.stop()
    assert not server.alive()


def test_child_error_at_setup_is_reported_with_stderr():
    bad = ChildProcess("server", "wslab.runner.server", {"transports": ["pigeon"]})
    with pytest.raises(RunError, match="unknown transport 'pigeon'"):
        bad.start()
    bad.stop()


def test_children_die_when_parent_is_sigkilled(tmp_path):
    # A parent that starts a Lab, prints its server pid, then waits forever.
    script = textwrap.dedent("""
        import sys, time, wslab
        lab = wslab.Lab().start()
        print(lab.server.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(parent.stdout.readline())
        server = psutil.Process(server_pid)
        assert server.is_running()
        parent.kill()
        parent.wait()
        assert wait_until(lambda: not psutil.pid_exists(server_pid)
                          or server.status() == psutil.STATUS_ZOMBIE, 10)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_timeout_factor_reads_environment(monkeypatch):
    monkeypatch.setenv("WSLAB_TIMEOUT_FACTOR", "3")
    assert timeout_factor() == 3.0
    monkeypatch.setenv("WSLAB_TIMEOUT_FACTOR", "nonsense")
    assert timeout_factor() == 1.0
    assert TIMEOUT_FACTOR > 0
