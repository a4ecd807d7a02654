import os
import signal
import subprocess
import sys

import psutil
import pytest

import wslab
from wslab.cli import main
from wslab.core.errors import IncompleteRunError

from .conftest import TIMEOUT_FACTOR, wait_until, wslab_processes

CLI = [sys.executable, "-m", "wslab"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "pigeon"], "allowed: tcp, websocket, sse, long-poll, short-poll"),
        (["run", "tcp", "--rate", "0"], "rate must be > 0"),
        (["run", "short-poll", "--interval", "-1"], "interval must be > 0"),
        (["run", "tcp", "--duration", "0"], "duration must be > 0"),
        (["run", "tcp", "--payload", "5000000"], "payload must be between 0 and 1,000,000"),
        (["run", "tcp", "--clients", "1000000"], "open-file hard limit"),
        (["run", "tcp", "--schedule", "weekly"], "fixed, poisson, burst"),
        (["run", "tcp", "--tls", "1.1"], "invalid choice: '1.1'"),
        (["run", "websocket", "--fault", "smoke"], "unknown fault 'smoke'; allowed:"),
        (["run", "websocket", "--fault", "outage:at=9s,mode=reset"], "run publishes for 5 s"),
        (["run", "tcp", "--history", "0"], "history must be at least 1 event"),
        (["run", "tcp", "--option", "backoff_jitter"], "--option takes NAME=VALUE"),
        (["run", "tcp", "--option", "backoff_jitter=some"], "backoff_jitter must be one of none"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_left(args, message, tmp_path):
    out = tmp_path / "new-run"
    proc = subprocess.Popen([*CLI, *args, "--out", str(out)] if args[0] == "run" else [*CLI, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, stderr = proc.communicate(timeout=60 * TIMEOUT_FACTOR)
    assert proc.returncode == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wslab: error:") and message in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert wslab_processes(parent=proc.pid) == []


def test_existing_nonempty_out_refused(tmp_path, capsys):
    (tmp_path / "x").write_text("keep")
    assert main(["run", "tcp", "--out", str(tmp_path)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["x"]


def test_run_writes_exactly_out_and_prints_summary(tmp_path):
    out = tmp_path / "ws"
    proc = subprocess.run(
        [*CLI, "run", "websocket", "--clients", "5", "--rate", "200", "--duration", "1",
         "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=120 * TIMEOUT_FACTOR,
    )
    assert proc.returncode == 0, proc.stderr
    run = wslab.load(out)
    s = run.summary
    assert s["lost"] == 0 and s["duplicated"] == 0 and s["delivered"] == 5 * s["published"]
    text = proc.stdout
    for word in ("published", "delivered", "lost 0", "duplicated 0", "p50", "p99",
                 "per event up", "requests"):
        assert word in text
    assert f"published {s['published']:,}" in text
    assert len(text.splitlines()) <= 24  # one screen


def test_transports_lists_every_transport(capsys):
    assert main(["transports"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in wslab.transport_names())


def test_sigkill_mid_run_leaves_no_process_and_no_complete_run(tmp_path):
    out = tmp_path / "killed"
    cli = subprocess.Popen(
        [*CLI, "run", "websocket", "--clients", "5", "--rate", "200", "--duration", "30",
         "--out", str(out), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    parent = psutil.Process(cli.pid)

    def children():
        try:
            return [c for c in parent.children() if "wslab.runner.fleet" in " ".join(c.cmdline())]
        except psutil.NoSuchProcess:
            return []

    try:
        assert wait_until(lambda: children(), 60), "the fleet never started"
        kids = parent.children(recursive=True)
        assert len(kids) >= 2  # server and fleet
        cli.send_signal(signal.SIGKILL)
        cli.wait()
        gone, alive = psutil.wait_procs(kids, timeout=10 * TIMEOUT_FACTOR)
        assert alive == [], f"orphans: {[p.cmdline() for p in alive]}"
    finally:
        if cli.poll() is None:
            cli.kill()
    assert not out.exists()  # the run was never renamed into place
    partial = [p for p in tmp_path.iterdir() if p.name.startswith(".killed.tmp-")]
    assert len(partial) == 1
    with pytest.raises(IncompleteRunError, match="incomplete"):
        wslab.load(partial[0])


def test_sigterm_mid_run_cleans_up(tmp_path):
    out = tmp_path / "terminated"
    cli = subprocess.Popen(
        [*CLI, "run", "tcp", "--clients", "2", "--rate", "50", "--duration", "30",
         "--out", str(out), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    parent = psutil.Process(cli.pid)
    assert wait_until(lambda: any("wslab.runner.fleet" in " ".join(c.cmdline())
                                  for c in parent.children()), 60)
    kids = parent.children(recursive=True)
    os.kill(cli.pid, signal.SIGTERM)
    assert cli.wait(30 * TIMEOUT_FACTOR) == 130
    assert "no run was written" in cli.stderr.read()
    _, alive = psutil.wait_procs(kids, timeout=10 * TIMEOUT_FACTOR)
    assert alive == []
    assert list(tmp_path.iterdir()) == []  # partial run removed


def test_serve_prints_urls_serves_events_and_stops_on_ctrl_c():
    import asyncio

    from websockets.asyncio.client import connect

    proc = subprocess.Popen([*CLI, "serve", "--rate", "20", "--duration", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        urls = {}
        for line in proc.stdout:
            parts = line.split()
            if len(parts) == 2 and "://" in parts[1]:
                urls[parts[0]] = parts[1]
            if line.startswith("publishing"):
                break
        assert set(urls) == set(wslab.transport_names())
        assert all("127.0.0.1" in u for u in urls.values())

        async def first_event():
            async with connect(urls["websocket"] + "?since=0") as ws:
                return await asyncio.wait_for(ws.recv(), 10 * TIMEOUT_FACTOR)

        assert '"seq":' in asyncio.run(first_event())
        kids = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30 * TIMEOUT_FACTOR) == 130
        _, alive = psutil.wait_procs(kids, timeout=10 * TIMEOUT_FACTOR)
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()
