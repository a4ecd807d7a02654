"""Server side of the HTTP/2 transports: an ASGI app served by hypercorn (the
client side, which imports httpx, is `wslab.transports._h2client`, imported only
by the processes that run clients).

Server. One raw ASGI app (no framework, so its bytes are hypercorn's own)
answers ``/poll``, ``/long-poll`` and ``/sse`` from the run's `Hub`, with the
resume rules of the HTTP/1.1 transports (``since``, ``Last-Event-ID``).
hypercorn serves it on a socket bound here (port 0, SO_REUSEPORT for several
workers): in clear it speaks h2c with prior knowledge (RFC 9113 §3.3: the
client opens with the connection preface, no Upgrade), over TLS it offers
ALPN ``h2`` only (RFC 9113 §3.2) from a context of its own, since the run's
shared context offers ``http/1.1`` to every other transport.

The listening socket gets TCP_NODELAY before hypercorn accepts on it: without
it every response's DATA frame waited ~40 ms behind its HEADERS frame
(Nagle's algorithm against the client's delayed ACK), measured on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from ..core import wire
from ..core.hub import Hub
from ..core.profiles import headers_for
from ..core.tls import server_context
from ..core.wire import encode_batch
from .base import Bind, Endpoint

__all__ = ["H2App", "HOP_BY_HOP", "MAX_HOLD_S", "h2_headers", "serve"]

MAX_HOLD_S = 300.0
#: connection-specific fields, forbidden in HTTP/2 (RFC 9113 §8.2.2): a browser
#: drops them from an h2 request, so the replayed profiles do too
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                        "upgrade", "host"})
_JSON = [(b"content-type", b"application/json")]


def h2_headers(profile: str | None, url: str) -> dict[str, str]:
    """The request headers of ``profile`` (`wslab.core.profiles`) fit for HTTP/2.

    The lean default is httpx's own (accept, accept-encoding, user-agent);
    hop-by-hop fields are dropped (`HOP_BY_HOP`), as a browser does over h2.
    """
    return {k: v for k, v in headers_for(profile, url).items() if k.lower() not in HOP_BY_HOP}


class H2App:
    """The ASGI app: ``/poll``, ``/long-poll?timeout=s``, ``/sse?ping=s``.

    ``held`` counts held long polls and ``streams`` open event streams (the
    endpoint's live connections). A request whose client goes away (RST_STREAM
    or the connection's end: ASGI ``http.disconnect``) is cancelled at once.
    """

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.held = 0
        self.streams = 0

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                kind = msg["type"].rsplit(".", 1)[-1]
                await send({"type": f"{msg['type']}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}
        headers = dict(scope["headers"])
        try:
            last_id = headers.get(b"last-event-id", b"").decode()
            since = int(last_id) if last_id.isdigit() else int(query.get("since", "0"))
            if since < 0:
                raise ValueError
            hold = min(max(float(query.get("timeout", "30")), 0.0), MAX_HOLD_S)
            ping = max(float(query.get("ping", "15")), 0.1)
        except ValueError:
            await _answer(send, 400, b"since, timeout and ping must be non-negative numbers")
            return
        path = scope["path"]
        if path == "/poll":
            await _answer(send, 200, _batch(self.hub.events_after(since)), _JSON)
        elif path == "/long-poll":
            self.held += 1
            try:
                events = await _until_gone(self.hub.wait_after(since, hold), receive)
            finally:
                self.held -= 1
            if events is not None:  # an empty array on timeout, as the HTTP/1.1 server
                await _answer(send, 200, _batch(events), _JSON)
        elif path == "/sse":
            self.streams += 1
            try:
                await _until_gone(self._stream(send, since, ping), receive)
            finally:
                self.streams -= 1
        else:
            await _answer(send, 404, b"not found")

    async def _stream(self, send: Callable, since: int, ping: float) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"),
                                (b"cache-control", b"no-cache")]})
        while True:
            events = await self.hub.wait_after(since, ping)
            if not events:  # keep-alive comment, counted like any byte
                await send({"type": "http.response.body", "body": b": ping\r\n\r\n",
                            "more_body": True})
            for event in events:  # one DATA frame per event
                await send({"type": "http.response.body",
                            "body": wire.encode_sse(event.body, event.seq), "more_body": True})
                since = event.seq


def _batch(events) -> bytes:
    return encode_batch([e.body for e in events])


async def _answer(send: Callable, status: int, body: bytes,
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*(headers or []), (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


async def _until_gone(work: Awaitable[Any], receive: Callable) -> Any:
    """``work``'s result, or None once the client has gone (``http.disconnect``)."""
    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    task, watch = asyncio.ensure_future(work), asyncio.ensure_future(gone())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (task, watch):
            t.cancel()
    return task.result() if task.done() and not task.cancelled() else None


async def serve(app: H2App, bind: Bind, path: str,
                live: Callable[[], int] | None) -> Endpoint:
    """Serve ``app`` with hypercorn on ``bind``; the endpoint's url ends with ``path``."""
    from hypercorn.asyncio.run import worker_serve
    from hypercorn.config import Config, Sockets
    from hypercorn.utils import wrap_app

    tls = server_context(bind.tls_config, alpn=("h2",)) if bind.tls_config else None

    class _Config(Config):  # hypercorn builds TLS from files; ours is made in memory
        @property
        def ssl_enabled(self) -> bool:
            return tls is not None

        def create_ssl_context(self) -> ssl.SSLContext | None:
            return tls

    config = _Config()
    config.accesslog = config.errorlog = None
    config.graceful_timeout = 1.0
    config.backlog = 4096
    config.keep_alive_timeout = MAX_HOLD_S * 2  # a quiet poller's connection stays up
    sock = socket.socket(socket.AF_INET6 if ":" in bind.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted ones
    if bind.reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((bind.host, bind.port))
    sock.setblocking(False)
    port = sock.getsockname()[1]
    sockets = Sockets([sock] if tls else [], [] if tls else [sock], [])
    stop = asyncio.Event()
    asgi: Any = app  # a raw ASGI callable (hypercorn's types want its TypedDicts)
    task = asyncio.ensure_future(worker_serve(wrap_app(asgi, 0, "asgi"), config,
                                              sockets=sockets, shutdown_trigger=stop.wait))
    await asyncio.sleep(0)
    while not task.done() and not _listening(sock):
        await asyncio.sleep(0.005)
    if task.done():
        task.result()  # raises why hypercorn could not start

    async def close() -> None:
        stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 5.0)
        sock.close()

    return Endpoint(f"{bind.scheme('http', 'https')}://{bind.host}:{port}{path}", close, live)


def _listening(sock: socket.socket) -> bool:
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
