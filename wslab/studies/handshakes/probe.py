"""A step-timed client: one connection, from ``connect()`` to the first event, each step stamped.

Blocking sockets on purpose: every step ends in one call that returns when
its bytes are in (``connect``, ``do_handshake``, a ``recv`` loop), so the
stamps are that step's end with no event loop in between. After each step
the kernel's counters of the socket (`wslab.core.meter.tcp_info`: bytes
sent once, bytes received) give the bytes so far, TLS records included.

Steps (`STEPS`; times and bytes are cumulative from the ``connect()`` call):

``tcp``
    ``connect()`` returned (SYN-ACK in).
``tls``
    ``do_handshake()`` returned (clear text: same as ``tcp``).
``head``
    the answer's head is in: the ``101`` of the WebSocket Upgrade, the SSE or
    polling response head; raw TCP has no head: its first byte.
``event``
    the first event is whole (it was in the server's history before the
    client connected: the request asks for everything after seq 0).
``next``
    pull only: a second poll on the kept-alive connection, answered whole
    (the history again, at once).

The requests are minimal (``Host`` and what the protocol requires), so the
bytes are the protocols' floor; notebook 04 dissects real clients' headers.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import time
from typing import Any

from ...core import wire
from ...core.errors import RunError
from ...core.meter import tcp_info

__all__ = ["STEPS", "probe_once", "request_bytes"]

STEPS = ("tcp", "tls", "head", "event", "next")
_PATHS = {"websocket": "/?since=0", "sse": "/sse?since=0&ping=15",
          "long-poll": "/long-poll?since=0&timeout=30", "short-poll": "/poll?since=0"}


def request_bytes(transport: str, host: str, port: int) -> bytes:
    """The probe's request for ``transport`` (raw TCP: the 8-byte ``since``)."""
    if transport == "tcp":
        return wire.encode_since(0)
    if transport not in _PATHS:
        raise RunError(f"no probe for transport {transport!r}")
    lines = [f"GET {_PATHS[transport]} HTTP/1.1", f"Host: {host}:{port}"]
    if transport == "websocket":  # RFC 6455 §4.1: the fields a handshake must carry
        key = base64.b64encode(os.urandom(16)).decode()
        lines += ["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                  "Sec-WebSocket-Version: 13"]
    elif transport == "sse":
        lines += ["Accept: text/event-stream"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Reader:
    """Bytes from the socket, read as they come, with a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline, self.buf = sock, deadline, bytearray()

    def more(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RunError("probe: no answer before the deadline")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise RunError(f"probe: the server closed the connection ({bytes(self.buf[:200])!r})")
        self.buf += data

    def until(self, marker: bytes) -> bytes:
        while (i := self.buf.find(marker)) < 0:
            self.more()
        out = bytes(self.buf[:i + len(marker)])
        del self.buf[:i + len(marker)]
        return out

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.more()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


def _head(reader: _Reader, expect: int) -> dict[str, str]:
    head = reader.until(b"\r\n\r\n").decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    if status != expect:
        raise RunError(f"probe: {head[0]!r}, not {expect}")
    return {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}


def _ws_message(reader: _Reader) -> bytes:
    b0, b1 = reader.exactly(2)  # RFC 6455 §5.2: server frames are not masked
    size = b1 & 0x7F
    if size == 126:
        size = int.from_bytes(reader.exactly(2), "big")
    elif size == 127:
        size = int.from_bytes(reader.exactly(8), "big")
    return reader.exactly(size)


def _sse_event(reader: _Reader) -> bytes:
    parser = wire.SseParser()
    while True:  # chunked transfer coding (RFC 9112 §7.1): size line, data, CRLF
        size = int(reader.until(b"\r\n").split(b";")[0], 16)
        chunk = reader.exactly(size + 2)[:size]
        for event in parser.feed(chunk):
            return event.data


def _batch(body: bytes) -> bytes:
    """The first event of a poll's answer (a JSON array of event bodies)."""
    if not wire.decode_batch(body):
        raise RunError("probe: the poll came back empty; the history should hold an event")
    return body[1:]  # the array's first element starts the body decode_header reads


def _mark(marks: dict[str, Any], step: str, t0: int, sock: socket.socket) -> None:
    c = tcp_info(sock)
    marks[f"{step}_ms"] = (time.monotonic_ns() - t0) / 1e6
    marks[f"{step}_up"], marks[f"{step}_down"] = c.bytes_up, c.bytes_down


def probe_once(transport: str, host: str, port: int, tls: ssl.SSLContext | None = None,
          timeout: float = 10.0) -> dict[str, Any]:
    """One connection to ``host:port`` (the transport's server, or a proxy in front):
    ``<step>_ms``, ``<step>_up`` and ``<step>_down`` for each of `STEPS` that
    applies (cumulative from the ``connect()`` call), and ``tls_version``."""
    deadline = time.monotonic() + timeout
    marks: dict[str, Any] = {}
    t0 = time.monotonic_ns()
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _mark(marks, "tcp", t0, sock)
        marks["tls_version"] = None
        if tls is not None:
            wrapped = tls.wrap_socket(sock, server_hostname=host)  # handshakes here
            marks["tls_version"] = wrapped.version()
            sock = wrapped
        _mark(marks, "tls", t0, sock)
        request = request_bytes(transport, host, port)
        sock.sendall(request)
        reader = _Reader(sock, deadline)
        if transport == "tcp":
            reader.more()  # no head: the first bytes of the history
            _mark(marks, "head", t0, sock)
            body = reader.exactly(int.from_bytes(reader.exactly(4), "big"))
        elif transport == "websocket":
            _head(reader, 101)
            _mark(marks, "head", t0, sock)
            body = _ws_message(reader)
        elif transport == "sse":
            _head(reader, 200)
            _mark(marks, "head", t0, sock)
            body = _sse_event(reader)
        else:  # a poll: the head, then a body of Content-Length bytes
            length = int(_head(reader, 200)["content-length"])
            _mark(marks, "head", t0, sock)
            body = _batch(reader.exactly(length))
        _mark(marks, "event", t0, sock)
        if transport in ("long-poll", "short-poll"):  # once more, on the kept-alive connection
            sock.sendall(request_bytes(transport, host, port))
            _batch(reader.exactly(int(_head(reader, 200)["content-length"])))
            _mark(marks, "next", t0, sock)
        wire.decode_header(body)  # the first event's seq and stamp: a real event
        return marks
    finally:
        sock.close()
