"""Network namespace pairs: a real TCP connection across the veth pair, a
silent vanish, and nothing left behind (also after an error or Ctrl-C)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from wslab.core.errors import ConfigError, RunError
from wslab.net import netns
from wslab.net.netns import NetnsPair

from ..conftest import TIMEOUT_FACTOR, needs

needs_root = needs(
    os.geteuid() == 0 and (shutil.which("ip") is not None or os.path.exists("/usr/sbin/ip")),
    reason="network namespaces need root and iproute2")

_ECHO = textwrap.dedent("""
    import socket, sys
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    s.sendall(b"ping"); print(s.recv(4).decode())
""")


def _exec(pair, ns, *argv, timeout=10):
    return subprocess.run([*pair.exec_prefix(ns), *argv], capture_output=True, text=True,
                          timeout=timeout * TIMEOUT_FACTOR, check=False)


@needs_root
def test_a_connection_crosses_the_pair_and_the_vanish_is_silent():
    with NetnsPair() as pair:
        assert {pair.server_ns, pair.client_ns} <= set(netns.list_namespaces())
        server = subprocess.Popen(
            [*pair.exec_prefix(pair.server_ns), sys.executable, "-c", textwrap.dedent(f"""
                import socket
                s = socket.create_server(({pair.server_host!r}, 0)); print(s.getsockname()[1], flush=True)
                c, _ = s.accept(); c.sendall(c.recv(4)); c.settimeout(2)
                try:
                    print("got", c.recv(1) or b"FIN", flush=True)   # a vanished peer sends nothing
                except TimeoutError:
                    print("silent", flush=True)
            """)], stdout=subprocess.PIPE, text=True)
        try:
            port = server.stdout.readline().strip()
            client = subprocess.Popen(
                [*pair.exec_prefix(pair.client_ns), sys.executable, "-c",
                 _ECHO + "import time; sys.stdout.flush(); time.sleep(30)",
                 pair.server_host, port], stdout=subprocess.PIPE, text=True)
            try:
                assert client.stdout.readline().strip() == "ping"
                pair.vanish()
                client.kill()  # its kernel would send a FIN: the vanish swallows it
                assert server.stdout.readline().strip() == "silent"
            finally:
                client.kill()
                client.wait()
        finally:
            server.kill()
            server.wait()
    assert not {pair.server_ns, pair.client_ns} & set(netns.list_namespaces())


@needs_root
def test_nothing_is_left_behind_after_an_exception_or_ctrl_c():
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), NetnsPair() as pair:
            raise exc
        assert not {pair.server_ns, pair.client_ns} & set(netns.list_namespaces())


@needs_root
def test_sigint_to_a_process_holding_a_pair_deletes_it():
    code = textwrap.dedent("""
        import time
        from wslab.net.netns import NetnsPair
        with NetnsPair() as pair:
            print(pair.server_ns, pair.client_ns, flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        names = set(proc.stdout.readline().split())
        assert len(names) == 2 and names <= set(netns.list_namespaces())
        proc.send_signal(signal.SIGINT)
        proc.wait(10 * TIMEOUT_FACTOR)
    finally:
        proc.kill()
    assert not names & set(netns.list_namespaces())


def test_names_are_unique_and_fit_an_interface_name():
    a, b = NetnsPair(), NetnsPair()
    assert len({a.server_ns, a.client_ns, b.server_ns, b.client_ns}) == 4
    assert all(len(n) <= 15 for n in (a.server_if, a.client_if, b.server_if, b.client_if))


@pytest.mark.parametrize(("server", "client", "match"), [
    ("10.0.0.1/24", "10.0.0.2/24", "loopback"),
    ("127.100.0.1/24", "192.168.0.2/24", "loopback"),
    ("::1", "127.0.0.2/24", "IPv4 address in 127.0.0.0/8"),
    ("127.100.0.1/4", "127.100.0.2/4", "leaves 127.0.0.0/8"),
    ("127.100.0.1/24", "127.101.0.2/24", "two addresses of one network"),
])
def test_only_loopback_range_addresses_are_accepted(server, client, match):
    with pytest.raises(ConfigError, match=match):
        NetnsPair(server, client)


def test_a_missing_ip_or_root_is_a_run_error_naming_it(monkeypatch):
    monkeypatch.setattr(netns.shutil, "which", lambda name: None)
    monkeypatch.setattr(netns.os, "access", lambda path, mode: False)
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    with pytest.raises(RunError, match=r"root .*; iproute2's `ip`"):
        netns.require()
