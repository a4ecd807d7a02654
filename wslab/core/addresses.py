"""Network addresses: the loopback-only rule, and ``host:port`` / URL parsing.

wslab sends traffic to 127.0.0.0/8 and ::1 only. `check_loopback` is the one
place that rule is checked: run parameters (`wslab.runner.config`), the lab,
the command line and the impairment proxy (`wslab.net.proxy`) all call it
before anything binds or connects.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError

__all__ = ["check_loopback", "netloc", "parse_address", "same_host"]

#: ports a URL implies when it names none
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def check_loopback(host: str, what: str = "host") -> str:
    """``host`` if it is a loopback IP address (127.0.0.0/8 or ::1), in its canonical
    text form; ``"localhost"`` is ``"127.0.0.1"``. Anything else (another address,
    a name) raises `ConfigError` naming ``what``: wslab sends no traffic elsewhere."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"{what} must be a loopback IP address (127.0.0.0/8 or ::1) "
                          f"or 'localhost', not {host!r}") from None
    if not address.is_loopback:
        raise ConfigError(f"{what} must be a loopback address (127.0.0.0/8 or ::1), "
                          f"not {host!r}: wslab binds and connects on loopback only")
    return str(address)


def parse_address(target: str | Sequence[Any]) -> tuple[str, int]:
    """``(host, port)`` from ``"host:port"``, ``"[::1]:port"``, a URL (``tcp://``,
    ``ws://``, ``http://``, ...) or a ``(host, port)`` pair. The host is not
    checked here (see `check_loopback`); the port must be in 0..65535."""
    if isinstance(target, str):
        text = target if "://" in target else f"tcp://{target}"
        try:
            parts = urlsplit(text)
            host, port = parts.hostname, parts.port
        except ValueError as exc:
            raise ConfigError(f"cannot read an address from {target!r}: {exc}") from None
        port = port if port is not None else _DEFAULT_PORTS.get(parts.scheme)
        if not host or port is None:
            raise ConfigError(f"cannot read host:port from {target!r}; "
                              "expected 'host:port' or a URL such as 'ws://127.0.0.1:8080/ws'")
    else:
        try:
            host, port = tuple(target)
        except (TypeError, ValueError):
            raise ConfigError(f"expected (host, port), got {target!r}") from None
    if not isinstance(host, str) or not host:
        raise ConfigError(f"host must be a non-empty string, got {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be an integer in 0..65535, got {port!r}")
    return host, port


def netloc(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets (RFC 3986 §3.2.2)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def same_host(a: str, b: str) -> bool:
    """Do ``a`` and ``b`` name the same host (``localhost`` = 127.0.0.1; IP
    addresses compared as addresses, names case-insensitively)?"""
    a, b = ("127.0.0.1" if h == "localhost" else h for h in (a, b))
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a.lower() == b.lower()
