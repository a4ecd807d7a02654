"""TLS session resumption: a full handshake, then one that resumes its session.

asyncio's streams expose no session to reuse, so the client here is the
blocking `ssl` module: ``SSLContext.wrap_socket(sock, session=...)`` offers a
saved `ssl.SSLSession` and ``SSLSocket.session_reused`` says whether the
server took it. The server is the kit's own (`wslab.runner.server`, the raw
``tcp`` transport over TLS: asyncio's ``start_server`` with the kit's
server context, whose session cache and tickets are OpenSSL's defaults),
reached through the delay proxy like the other probes.

TLS 1.2 (RFC 5246 §7.3, RFC 5077): the session (ID or ticket) is known when
the handshake ends; the resumed handshake is abbreviated, one round trip
instead of two, with no certificate. TLS 1.3 (RFC 8446 §4.6.1): the tickets
come *after* the handshake, in ``NewSessionTicket`` messages that the client
reads with the first application data, so the probe reads the first event
before it saves the session; a resumed handshake (PSK with (EC)DHE, no early
data) still takes one round trip but sends no certificate.

Per pair: the full handshake's and the resumed one's duration (``connect()``
returned to ``do_handshake()`` returned), bytes each way until the first
event is in (kernel counters: TLS records, tickets, the 8-byte ``since`` and
one event frame included; the last two are the same for both kinds), and
``session_reused``.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ...core import wire
from ...core.errors import ConfigError, RunError
from ...core.meter import tcp_info
from .runs import proxied, served

__all__ = ["handshake_once", "measure_resumption"]


def handshake_once(host: str, port: int, ctx: ssl.SSLContext,
                   session: ssl.SSLSession | None = None,
                   timeout: float = 10.0) -> tuple[dict[str, Any], ssl.SSLSession | None]:
    """One TLS connection to the kit's raw ``tcp`` server: handshake (offering
    ``session``), then read the first event (so TLS 1.3 tickets are in).
    Returns the row and the session to resume next time."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.monotonic_ns()
        tls = ctx.wrap_socket(sock, server_hostname=host, session=session)
        t1 = time.monotonic_ns()
        tls.sendall(wire.encode_since(0))
        frame = b""
        while len(frame) < 4 or len(frame) < 4 + int.from_bytes(frame[:4], "big"):
            data = tls.recv(65536)
            if not data:
                raise RunError("resumption probe: the server closed before the first event")
            frame += data
        # bytes up to the first event, not at the handshake's end: TLS 1.3 tickets come
        # after the handshake, and on a fast path race the counters read there
        counters = tcp_info(tls)
        row = {"handshake_ms": (t1 - t0) / 1e6, "up": counters.bytes_up,
               "down": counters.bytes_down, "reused": tls.session_reused,
               "tls_version": tls.version()}
        saved = tls.session
        tls.close()
        return row, saved
    finally:
        sock.close()


def measure_resumption(versions: Sequence[str] = ("1.2", "1.3"),
                       delays_ms: Sequence[float] = (0.0, 25.0), samples: int = 10,
                       seed: int = 1) -> pd.DataFrame:
    """One row per handshake: ``tls``, ``delay_ms``, ``sample``, ``kind`` ("full" or
    "resumed", in pairs: the resumed one offers the session the full one got),
    ``handshake_ms``, ``up``, ``down`` (bytes until the first event), ``reused``."""
    if not versions or any(v not in ("1.2", "1.3") for v in versions):
        raise ConfigError(f"versions must be among '1.2', '1.3', not {list(versions)}")
    if not (isinstance(samples, int) and 1 <= samples <= 1000):
        raise ConfigError(f"samples must be an integer in [1, 1000], not {samples!r}")
    rows: list[dict[str, Any]] = []
    for version in versions:
        with served(["tcp"], version) as server:
            assert server.tls is not None
            for delay in delays_ms:
                with proxied(server.urls, float(delay), seed) as proxy:
                    host, port = proxy.addresses["tcp"]
                    for sample in range(samples):
                        # the full handshake must come first: it yields the session
                        full, session = handshake_once(host, port, server.tls)
                        resumed, _ = handshake_once(host, port, server.tls, session)
                        for kind, row in (("full", full), ("resumed", resumed)):
                            rows.append({"tls": version, "delay_ms": float(delay),
                                         "sample": sample, "kind": kind, **row})
    return pd.DataFrame(rows)
