"""The impairment proxy as a wslab child process (python -m wslab.net.proxy_process)."""

from __future__ import annotations

import socket
import socketserver
import threading
import time

import psutil
import pytest

from wslab.core.errors import RunError
from wslab.core.proc import ChildProcess

from ..conftest import TIMEOUT_FACTOR, wait_until


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_port():
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EchoHandler) as server:
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        yield server.server_address[1]
        server.shutdown()


def test_process_form_relays_reports_and_stops(echo_port):
    config = {"upstreams": {"echo": f"127.0.0.1:{echo_port}",
                            "web": f"ws://127.0.0.1:{echo_port}/ws"},
              "toxics": [], "seed": 1}
    proxy = ChildProcess("proxy", "wslab.net.proxy_process", config)
    try:
        ready = proxy.start()
        assert ready["ok"] is True and ready["pid"] == proxy.pid
        assert ready["endpoints"]["echo"].startswith("tcp://127.0.0.1:")
        assert ready["endpoints"]["web"].startswith("ws://127.0.0.1:")
        assert ready["endpoints"]["web"].endswith("/ws")
        port = int(ready["endpoints"]["echo"].rsplit(":", 1)[1])
        assert port != echo_port
        with socket.create_connection(("127.0.0.1", port), timeout=5 * TIMEOUT_FACTOR) as s:
            s.sendall(b"through the proxy")
            got = b""
            while len(got) < 17:
                got += s.recv(64)
        assert got == b"through the proxy"
        stats = proxy.request("stats", connections=True)
        echo = stats["proxies"]["echo"]
        assert echo["bytes_upstream"] == 17 and echo["connections_total"] == 1
        assert echo["connections"][0]["forwarded_upstream"] == 17
        pid = proxy.pid
    finally:
        proxy.stop()
    assert not proxy.alive()
    assert not psutil.pid_exists(pid)


def test_process_form_reports_bad_config(echo_port):
    proxy = ChildProcess("proxy", "wslab.net.proxy_process", {
        "upstreams": {"echo": f"127.0.0.1:{echo_port}"}, "toxics": [{"type": "lag"}]})
    try:
        with pytest.raises(RunError, match="unknown toxic type 'lag'"):
            proxy.start()
    finally:
        proxy.stop()
    assert not proxy.alive()


def test_process_form_arms_outages_and_reports_them(echo_port):
    proxy = ChildProcess("proxy", "wslab.net.proxy_process", {
        "upstreams": {"echo": f"127.0.0.1:{echo_port}"},
        "toxics": ["outage:at=0,mode=reset,duration=10s"], "seed": 1})
    try:
        ready = proxy.start()
        port = int(ready["endpoints"]["echo"].rsplit(":", 1)[1])
        assert proxy.request("stats")["faults"] == []  # unarmed: nothing fires
        start = time.monotonic_ns()
        assert proxy.request("arm", start_at_ns=start)["armed_at_ns"] == start
        assert wait_until(lambda: proxy.request("stats")["faults"], 5)
        # reset on accept: the server is "down" (the RST may even beat connect's return)
        with pytest.raises(ConnectionResetError):
            with socket.create_connection(("127.0.0.1", port), timeout=5 * TIMEOUT_FACTOR) as s:
                s.sendall(b"x")
                s.recv(1)
        faults = proxy.request("stats")["faults"]
    finally:
        proxy.stop()
    assert faults[0]["proxy"] == "echo" and faults[0]["mode"] == "reset"
    assert faults[0]["planned_at_ns"] == start and faults[0]["accepted"] == [0]
