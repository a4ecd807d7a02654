"""Shared plumbing of the HTTP transports (aiohttp at both ends)."""

from __future__ import annotations

import socket
import time
import weakref
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from ..core.errors import ConfigError, RunError
from ..core.profiles import PROFILES, headers_for
from ..core.wire import decode_batch, encode_batch
from .base import Bind, ClientContext, Endpoint

__all__ = ["allow_origin", "batch_body", "check_headers", "close_session", "get_events",
           "new_session", "parse_since", "sockets_of", "start_app"]


def check_headers(transport: str, options: dict[str, Any]) -> None:
    """The ``headers`` option names a profile of `wslab.core.profiles`, or `ConfigError`."""
    profile = options.get("headers")
    if profile is not None and profile not in PROFILES:
        raise ConfigError(f"headers must be one of {', '.join(PROFILES)} for {transport}, "
                          f"not {profile!r}")



def parse_since(request: web.Request) -> int:
    """The ``since`` query parameter (last seq the client has), 400 if malformed."""
    raw = request.query.get("since", "0")
    try:
        since = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text="since must be a non-negative integer") from None
    if since < 0:
        raise web.HTTPBadRequest(text="since must be a non-negative integer")
    return since


def batch_body(events) -> bytes:
    """A JSON array of event bodies (`wslab.core.wire.encode_batch`), built from
    the pre-encoded bodies."""
    return encode_batch([e.body for e in events])


def allow_origin(app: web.Application, origin: str | None) -> None:
    """With ``origin`` (the ``cors`` server option, which only ``wslab serve``
    sets, for its live page), a request carrying ``Origin: <origin>`` is
    answered with ``Access-Control-Allow-Origin: <origin>`` (Fetch standard,
    "CORS protocol"), so that page may read the response across origins; any
    other request, and every request of a measured run, gets the same bytes
    as without it."""
    if not origin:
        return

    async def add_header(request: web.Request, response: web.StreamResponse) -> None:
        if request.headers.get("Origin") == origin:
            response.headers["Access-Control-Allow-Origin"] = origin

    app.on_response_prepare.append(add_header)


async def start_app(
    app: web.Application, bind: Bind, path: str, live: Callable[[], int] | None = None,
    options: dict[str, Any] | None = None,
) -> Endpoint:
    """Serve ``app`` on ``bind``; the endpoint's url ends with ``path``.

    Server option ``keepalive_timeout`` (s): aiohttp closes a connection
    idle for that long, including one whose request head never ended (a
    slowloris, C10 in docs/questions.md); unset, aiohttp's own 3,630 s.
    Server option ``cors`` (an origin): see `allow_origin`.
    """
    allow_origin(app, (options or {}).get("cors"))
    extra: dict[str, Any] = {}
    timeout = (options or {}).get("keepalive_timeout")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError(f"keepalive_timeout must be a positive number of seconds, "
                              f"not {timeout!r}")
        extra["keepalive_timeout"] = float(timeout)
    # handler_cancellation: a held long poll or an SSE stream whose client has
    # gone is cancelled at once instead of waiting for its next event.
    runner = web.AppRunner(app, access_log=None, handle_signals=False,
                           handler_cancellation=True, shutdown_timeout=1.0, **extra)
    await runner.setup()
    site = web.TCPSite(runner, bind.host, bind.port, backlog=4096, ssl_context=bind.ssl,
                       **bind.kwargs())
    await site.start()
    port = runner.addresses[0][1]
    return Endpoint(f"{bind.scheme('http', 'https')}://{bind.host}:{port}{path}",
                    runner.cleanup, live)


class _Sockets:
    """Remembers the sockets a client's connector opens (newest last).

    aiohttp releases a connection as soon as a small body is read, so the
    response no longer knows its socket; the connector's socket factory
    does. With ``limit=1`` the newest socket is the one in use.
    """

    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.current: socket.socket | None = None
        self.in_flight = False  # a request sent and not yet answered

    def __call__(self, addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, _ = addr_info
        if self.current is not None:
            # A keep-alive session opens a second connection only when the
            # first was lost (aiohttp retries a request whose pooled
            # connection turned out closed): that is a reconnection.
            self.ctx.conn.fault(time.monotonic_ns())
        self.current = self.ctx.new_socket(family, type_, proto)  # bound to the source
        return self.current


#: each client session's socket tracker (a session has no typed slot of its own)
_SOCKETS: weakref.WeakKeyDictionary[aiohttp.ClientSession, _Sockets] = (
    weakref.WeakKeyDictionary())


def sockets_of(session: aiohttp.ClientSession) -> _Sockets:
    """The socket tracker of a session made by `new_session` (``.current``: in use)."""
    return _SOCKETS[session]


def new_session(ctx: ClientContext) -> aiohttp.ClientSession:
    """One session per simulated client, with its own single keep-alive connection.

    A shared connector would pool connections across clients and blur
    per-client bytes; a browser tab has its own too. ``sockets_of(session).current``
    is the socket in use, for the kernel counters.
    """
    sockets = _Sockets(ctx)
    connector = aiohttp.TCPConnector(limit=1, socket_factory=sockets,
                                     ssl=ctx.tls if ctx.tls is not None else True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=60)
    # The "headers" option replays a header profile (wslab.core.profiles), e.g. a browser's.
    headers = headers_for(ctx.options.get("headers"), ctx.url)
    session = aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers)
    _SOCKETS[session] = sockets
    return session


async def get_events(ctx: ClientContext, session: aiohttp.ClientSession, url: str) -> int:
    """One polling request: GET, record the events, account the connection.

    Returns the number of events in the response.
    """
    sockets = _SOCKETS[session]
    sockets.in_flight = True
    async with session.get(url) as resp:
        body = await resp.read()
        now = time.monotonic_ns()
    sockets.in_flight = False
    if resp.status != 200:
        raise RunError(f"GET {url} answered {resp.status}: {body[:200]!r}")
    sock = sockets.current
    ctx.conn.request(sock, empty=body == b"[]")
    ctx.conn.observe(sock, sock)
    events = decode_batch(body)
    record = ctx.record
    for seq, published_ns in events:
        record(seq, published_ns, now)
    return len(events)


async def close_session(ctx: ClientContext, session: aiohttp.ClientSession) -> None:
    """Last accounting of a polling client, then close its connection.

    A request may be in flight when the fleet stops the client (a held long
    poll always is): its bytes were spent, so the counters are read once more
    and the request is counted, keeping bytes and requests consistent.
    """
    sockets = _SOCKETS[session]
    if sockets.in_flight:
        ctx.conn.request(sockets.current, completed=False)
    ctx.conn.observe(sockets.current, sockets.current)
    ctx.conn.close()
    await session.close()
