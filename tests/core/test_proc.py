"""The process protocol: readiness, commands, errors, and death with the parent."""

import subprocess
import sys
import textwrap

import psutil
import pytest

from wslab import transports
from wslab.core.errors import RunError
from wslab.core.proc import ChildProcess, timeout_factor

from ..conftest import TIMEOUT_FACTOR, wait_until


def test_server_child_reports_ready_and_stops():
    server = ChildProcess("server", "wslab.runner.server", {"host": "127.0.0.1"})
    ready = server.start()
    try:
        assert set(ready["endpoints"]) == set(transports.names())
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


# -- the pieces shared with other supervisors (wslab.net.capture) -------------


def test_read_until_marker_eof_and_deadline():
    from wslab.core.proc import read_until

    proc = subprocess.Popen([sys.executable, "-c", "print('a'); print('ready', flush=True)"],
                            stdout=subprocess.PIPE)
    try:
        buf = bytearray()
        assert read_until(proc.stdout.fileno(), buf, b"ready", 10 * TIMEOUT_FACTOR)
        assert buf.startswith(b"a\n")
        assert not read_until(proc.stdout.fileno(), buf, b"never", 10 * TIMEOUT_FACTOR)  # EOF
    finally:
        proc.wait()
        proc.stdout.close()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                               stdout=subprocess.PIPE)
    try:
        with pytest.raises(TimeoutError):
            read_until(sleeper.stdout.fileno(), bytearray(), b"x", 0.2)
    finally:
        sleeper.kill()
        sleeper.wait()
        sleeper.stdout.close()


def test_end_process_escalates_to_sigkill():
    from wslab.core.proc import end_process

    # ignores SIGTERM, says so once that is set up
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " \
           "print('set', flush=True); time.sleep(60)"
    stubborn = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    with stubborn:
        stubborn.stdout.readline()
        assert end_process(stubborn, grace=0.2) is False
        assert stubborn.returncode == -9
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert end_process(polite, grace=10 * TIMEOUT_FACTOR) is True
    assert polite.returncode == -15
    assert end_process(polite) is True  # already reaped: nothing to do


def test_pdeathsig_preexec_kills_an_orphan():
    # A middle process starts `sleep` with the preexec, reports its pid, and is
    # SIGKILLed: the kernel must take the sleeper down with it.
    script = textwrap.dedent("""
        import subprocess, time
        from wslab.core.proc import pdeathsig_preexec
        child = subprocess.Popen(["sleep", "60"], preexec_fn=pdeathsig_preexec())
        print(child.pid, flush=True)
        time.sleep(60)
    """)
    middle = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(middle.stdout.readline())
        sleeper = psutil.Process(pid)
        middle.kill()
        middle.wait()
        assert wait_until(lambda: not psutil.pid_exists(pid)
                          or sleeper.status() == psutil.STATUS_ZOMBIE, 10)
    finally:
        if middle.poll() is None:
            middle.kill()
        middle.stdout.close()
