"""Two Linux network namespaces joined by a veth pair, for a *silent* vanish.

A peer whose network disappears sends nothing: no FIN, no RST. On loopback
that cannot be staged (the kernel answers for every address), and a proxy
would keep ACKing on the peer's behalf. Two network namespaces joined by a
virtual Ethernet pair can: setting the client end of the pair down
(`NetnsPair.vanish`) makes every packet to and from the client namespace
disappear, while the processes and sockets inside it live on, silent.

The addresses stay inside 127.0.0.0/8 (wslab sends no traffic anywhere
else): each end of the pair gets a loopback-range address, e.g.
``127.100.0.1/24`` (server) and ``127.100.0.2/24`` (client). Linux treats
127/8 as martian on a real interface unless ``route_localnet`` is 1, which
is set in both namespaces, for ``all`` and for the veth device.

Child processes run inside a namespace through ``ip netns exec NS`` in front
of the usual ``python -m`` (`NetnsChildProcess`); ``ip`` execs the program,
so the child keeps its pid and its parent-death signal works as usual.

Names are unique per process and call (parallel runs and CI do not clash),
and everything made is deleted on exit, also on an exception or Ctrl-C.
Needs root and iproute2's ``ip``; without them `require` raises `RunError`
naming what is missing.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from types import TracebackType

from ..core.addresses import check_loopback
from ..core.errors import ConfigError, RunError
from ..core.proc import ChildProcess

__all__ = ["NetnsChildProcess", "NetnsPair", "list_namespaces", "require"]

_counter = itertools.count()
_IP_TIMEOUT = 10.0  # seconds for one `ip` command: they take milliseconds


def require() -> str:
    """The path of ``ip``; `RunError` naming what is missing when this process
    is not root or iproute2's ``ip`` is not installed (network namespaces need both)."""
    missing = []
    if not sys.platform.startswith("linux"):
        missing.append("Linux (network namespaces)")
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        missing.append("root (creating network namespaces needs CAP_SYS_ADMIN and CAP_NET_ADMIN)")
    ip = shutil.which("ip") or next(
        (p for p in ("/usr/sbin/ip", "/sbin/ip") if os.access(p, os.X_OK)), None)
    if ip is None:
        missing.append("iproute2's `ip` command (apt-get install iproute2)")
    if missing:
        raise RunError("a silent vanish needs network namespaces, which need: " + "; ".join(missing))
    assert ip is not None
    return ip


def list_namespaces() -> list[str]:
    """The names of the named network namespaces (``ip netns list``)."""
    out = subprocess.run([require(), "netns", "list"], capture_output=True, text=True,
                         timeout=_IP_TIMEOUT, check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _interface(host: str, what: str) -> ipaddress.IPv4Interface:
    """``host`` (``a.b.c.d`` or ``a.b.c.d/len``) as an interface inside 127.0.0.0/8."""
    address, _, prefix = host.partition("/")
    check_loopback(address, what)
    if ":" in address:
        raise ConfigError(f"{what} must be an IPv4 address in 127.0.0.0/8 (route_localnet "
                          f"is IPv4 only), not {host!r}")
    try:
        iface = ipaddress.IPv4Interface(f"{address}/{prefix or 24}")
    except ValueError as exc:
        raise ConfigError(f"{what}: {exc}") from None
    if not iface.network.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")):
        raise ConfigError(f"{what}'s network {iface.network} leaves 127.0.0.0/8")
    return iface


class NetnsPair:
    """A server and a client namespace joined by a veth pair (a context manager).

    >>> with NetnsPair() as pair:               # doctest: +SKIP
    ...     server = NetnsChildProcess(pair.server_ns, "server", "wslab.x", {...})
    ...     pair.vanish()                        # the client is gone, silently

    ``server_host`` / ``client_host``: the loopback-range addresses of the two
    ends (same /prefix network). Nothing is created before ``__enter__``.
    """

    def __init__(self, server_host: str = "127.100.0.1/24",
                 client_host: str = "127.100.0.2/24") -> None:
        server = _interface(server_host, "server_host")
        client = _interface(client_host, "client_host")
        if server.network != client.network or server.ip == client.ip:
            raise ConfigError(f"server_host and client_host must be two addresses of one "
                              f"network, not {server_host!r} and {client_host!r}")
        self._server, self._client = server, client
        # Interface names are at most 15 characters (IFNAMSIZ - 1).
        tag = f"{os.getpid() % 100000:05d}{next(_counter) % 100:02d}{secrets.token_hex(2)}"
        self.server_ns, self.client_ns = f"wslabS{tag}", f"wslabC{tag}"
        self.server_if, self.client_if = f"wsS{tag}", f"wsC{tag}"
        self._made: list[str] = []
        self._ip = ""

    @property
    def server_host(self) -> str:
        return str(self._server.ip)

    @property
    def client_host(self) -> str:
        return str(self._client.ip)

    def _run(self, *args: str) -> None:
        done = subprocess.run([self._ip, *args], capture_output=True, text=True,
                              timeout=_IP_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RunError(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")

    def __enter__(self) -> NetnsPair:
        self._ip = require()
        try:
            for ns in (self.server_ns, self.client_ns):
                self._made.append(ns)  # before creating: a half-made one is deleted too
                self._run("netns", "add", ns)
            self._run("link", "add", self.server_if, "netns", self.server_ns, "type", "veth",
                      "peer", "name", self.client_if, "netns", self.client_ns)
            for ns, dev, iface in ((self.server_ns, self.server_if, self._server),
                                   (self.client_ns, self.client_if, self._client)):
                # 127/8 on a real device is martian unless route_localnet is set
                for key in ("all", dev):
                    self._run("netns", "exec", ns, "sysctl", "-qw",
                              f"net.ipv4.conf.{key}.route_localnet=1")
                self._run("-n", ns, "link", "set", "lo", "up")
                self._run("-n", ns, "addr", "add", str(iface), "dev", dev)
                self._run("-n", ns, "link", "set", dev, "up")
        except BaseException:
            self.close()
            raise
        return self

    def vanish(self) -> None:
        """Set the client end of the pair down: from now on no packet enters or
        leaves the client namespace (no FIN, no RST), while its processes run on."""
        self._run("-n", self.client_ns, "link", "set", self.client_if, "down")

    def exec_prefix(self, ns: str) -> list[str]:
        """The argv prefix that runs a program inside namespace ``ns``."""
        if ns not in (self.server_ns, self.client_ns):
            raise ConfigError(f"namespace must be {self.server_ns!r} or {self.client_ns!r}, "
                              f"not {ns!r}")
        return [self._ip or require(), "netns", "exec", ns]

    def close(self) -> None:
        """Delete what was made (idempotent). Deleting a namespace deletes its
        end of the veth pair, and with it the other end."""
        errors = []
        while self._made:
            ns = self._made.pop()
            done = subprocess.run([self._ip or require(), "netns", "delete", ns],
                                  capture_output=True, text=True, timeout=_IP_TIMEOUT,
                                  check=False)
            if done.returncode != 0 and ns in list_namespaces():
                errors.append(f"{ns}: {done.stderr.strip()}")
        if errors:
            raise RunError("could not delete network namespace(s): " + "; ".join(errors))

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class NetnsChildProcess(ChildProcess):
    """A wslab child process (`wslab.core.proc.ChildProcess`) started inside
    namespace ``ns`` of ``pair`` (``ip netns exec NS python -m module``)."""

    def __init__(self, pair: NetnsPair, ns: str, name: str, module: str,
                 config: dict) -> None:
        super().__init__(name, module, config)
        self.prefix = pair.exec_prefix(ns)

    def start_async(self) -> None:
        # ChildProcess.start_async with the `ip netns exec` prefix; `ip` execs
        # python, so the pid, the pipes and PR_SET_PDEATHSIG are python's.
        env = dict(os.environ, WSLAB_PARENT_PID=str(os.getpid()), PYTHONUNBUFFERED="1")
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", self.module],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=env, close_fds=True,
        )
        self._write(self.config)
