"""``fallback``: one endpoint, several transports, negotiated as production libraries do.

The server is one aiohttp application on one port serving the same stream
three ways: ``/ws`` (a WebSocket, aiohttp's), ``/sse`` and ``/long-poll``
(the handlers of `wslab.transports.sse` and `wslab.transports.long_poll`),
as SignalR and Engine.IO serve theirs from one URL. The client option
``order`` says how the client negotiates:

- *fall back* (SignalR's order, the default ``websocket,sse,long-poll``): try
  each in turn until one works; the first that works carries the stream;
- *upgrade* (Engine.IO's, any order that starts with ``long-poll``, e.g.
  ``long-poll,websocket``): poll at once (events flow from the first
  response), then try to upgrade to the others in order; a failed upgrade
  leaves the client polling.

"Works" is checked the way a middlebox can break it (claim C7): a WebSocket
must complete its opening handshake (``101``; a proxy that strips
``Upgrade`` yields ``400`` instead, RFC 6455 §4.1), an SSE stream must show
its first byte (the server writes a comment at once) within
``probe_timeout`` s (a buffering proxy holds it back), a long poll must be
answered. Every attempt, failed or not, is a connection row whose ``kind``
names the transport tried, so the bytes and requests failed attempts cost
are counted like any others; each switch resumes from ``ctx.last_seq``, so
nothing is lost or repeated while the client falls back or upgrades.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from ..core.errors import ConfigError, RunError
from ..core.hub import Hub
from . import register
from ._http import check_headers, close_session, get_events, new_session, sockets_of, start_app
from .aiohttp_ws import WsHandler
from .base import Bind, ClientContext, Endpoint, Transport, positive_option
from .long_poll import LongPollHandler
from .sse import StreamHandler, read_stream
from .websocket import MAX_MESSAGE, origins_option

__all__ = ["KINDS", "FallbackTransport", "NegotiationFailed"]

#: the transports a fallback client can negotiate, by their kit names
KINDS = ("websocket", "sse", "long-poll")
_PATHS = {"websocket": "/ws", "sse": "/sse", "long-poll": "/long-poll"}


class NegotiationFailed(RunError):
    """A transport could not be established (the client tries the next)."""


@register
class FallbackTransport(Transport):
    name = "fallback"
    description = "WebSocket, SSE or long polling, negotiated (SignalR / Engine.IO style)"
    # what it ends on decides; it starts as push and may end as pull
    delivery = "push"
    baseline = False  # not one of the five every comparison measures
    client_options = {"order": "websocket,sse,long-poll", "probe_timeout": 2.0,
                      "timeout": 30.0, "headers": "aiohttp"}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        order = merged["order"]
        kinds = order.split(",") if isinstance(order, str) else order
        if (not isinstance(kinds, list | tuple) or not kinds
                or any(k not in KINDS for k in kinds) or len(set(kinds)) != len(kinds)):
            raise ConfigError(f"order must list distinct transports out of {', '.join(KINDS)} "
                              f"separated by commas, not {order!r}")
        merged["order"] = ",".join(kinds)
        merged["probe_timeout"] = positive_option(cls.name, "probe_timeout",
                                                  merged["probe_timeout"], 60.0)
        merged["timeout"] = positive_option(cls.name, "timeout", merged["timeout"], 300.0)
        check_headers(cls.name, merged)
        return merged

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        ws, stream, long_poll = (WsHandler(hub, origins_option(options)), StreamHandler(hub),
                                 LongPollHandler(hub))
        app = web.Application()
        app.router.add_get("/ws", ws)
        app.router.add_get("/sse", stream)
        app.router.add_get("/long-poll", long_poll)
        return await start_app(app, bind, "/", lambda: ws.live + stream.live + long_poll.held,
                               options)

    # -- client ---------------------------------------------------------------
    async def connect_once(self, ctx: ClientContext) -> None:
        kinds = ctx.options.get("order", "websocket,sse,long-poll").split(",")
        failures = []
        if kinds[0] == "long-poll" and len(kinds) > 1:  # Engine.IO: poll first, then upgrade
            await self._poll(ctx, hold=0.0, once=True)
            for kind in kinds[1:]:
                try:
                    return await self._attempt(ctx, kind)
                except NegotiationFailed as exc:
                    failures.append(str(exc))
            return await self._poll(ctx, hold=float(ctx.options.get("timeout", 30.0)))
        for kind in kinds:  # SignalR: the first that works
            try:
                return await self._attempt(ctx, kind)
            except NegotiationFailed as exc:
                failures.append(str(exc))
        raise RunError("fallback: every transport failed: " + "; ".join(failures))

    async def _attempt(self, ctx: ClientContext, kind: str) -> None:
        ctx.conn.kind = kind
        if kind == "websocket":
            return await self._websocket(ctx)
        if kind == "sse":
            return await self._sse(ctx)
        return await self._poll(ctx, hold=float(ctx.options.get("timeout", 30.0)))

    def _url(self, ctx: ClientContext, kind: str) -> str:
        base = ctx.url.rstrip("/")
        return base + _PATHS[kind]

    async def _websocket(self, ctx: ClientContext) -> None:
        host, port = ctx.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
        raw = await ctx.connect_socket(host, int(port))
        ctx.conn.open(raw, raw)  # the row exists before the handshake: a refusal's bytes count
        ctx.conn.request(raw)
        url = self._url(ctx, "websocket").replace("http", "ws", 1)  # http->ws, https->wss
        try:
            # compression off, as the websocket transport's default: bytes compare
            ws = await connect(f"{url}?since={ctx.last_seq}", max_size=MAX_MESSAGE,
                               compression=None,
                               ping_interval=None, close_timeout=2, sock=raw, ssl=ctx.tls,
                               server_hostname=host if ctx.tls else None,
                               open_timeout=float(ctx.options.get("probe_timeout", 2.0)))
        except (InvalidHandshake, TimeoutError, OSError) as exc:
            # websockets closed first after the refusal; the server's FIN may
            # have come back already (the socket is then CLOSE)
            ctx.conn.finish(raw, closed_first=True)
            raw.close()
            raise NegotiationFailed(f"websocket: {exc}") from None
        try:
            ctx.ready()
            record_body, clock = ctx.body_recorder(), time.monotonic_ns
            while True:
                record_body(await ws.recv(decode=False), clock())
        except ConnectionClosed:
            pass
        finally:
            try:
                await ws.close()
            finally:
                ctx.conn.finish(raw, peer_fin=ws.protocol.reader.eof)

    async def _sse(self, ctx: ClientContext) -> None:
        session = new_session(ctx)
        sockets = sockets_of(session)
        headers = {"Accept": "text/event-stream"}
        if ctx.last_seq:
            headers["Last-Event-ID"] = str(ctx.last_seq)
        probe = float(ctx.options.get("probe_timeout", 2.0))
        resp: aiohttp.ClientResponse | None = None
        try:
            try:
                # The probe covers the response head and the server's opening
                # comment: a buffering proxy may hold back either.
                async with asyncio.timeout(probe):
                    resp = await session.get(f"{self._url(ctx, 'sse')}?open=1",
                                             headers=headers)
                    if resp.status != 200:
                        raise NegotiationFailed(f"sse: HTTP {resp.status}")
                    first = await resp.content.readany()
            except (TimeoutError, aiohttp.ClientError, NegotiationFailed) as exc:
                if sockets.current is not None:  # the attempt's bytes are counted
                    ctx.conn.open(sockets.current, sockets.current)
                    ctx.conn.request(sockets.current, completed=False)
                    ctx.conn.finish(sockets.current)
                if isinstance(exc, NegotiationFailed):
                    raise
                reason = (f"no byte of the stream within {probe:g} s (held back by a "
                          "buffering proxy?)" if isinstance(exc, TimeoutError) else str(exc))
                raise NegotiationFailed(f"sse: {reason}") from None
            sock = sockets.current
            ctx.conn.open(sock, sock)
            ctx.conn.request(sock)
            try:
                ctx.ready()
                await read_stream(ctx, resp.content, first)
            finally:
                ctx.conn.finish(sock)
        finally:
            if resp is not None:
                resp.close()
            await session.close()

    async def _poll(self, ctx: ClientContext, hold: float, once: bool = False) -> None:
        """Long polling; the first request is answered at once (``timeout=0``):
        it is the probe, as Engine.IO's handshake poll, and no held request
        waits for events that only start once every client is ready."""
        ctx.conn.kind = "long-poll"
        session = new_session(ctx)
        url = self._url(ctx, "long-poll")
        try:
            wait = 0.0
            while True:
                try:
                    await get_events(ctx, session, f"{url}?since={ctx.last_seq}&timeout={wait}")
                except (aiohttp.ClientError, RunError) as exc:
                    if not ctx.is_ready.is_set():
                        raise NegotiationFailed(f"long-poll: {exc}") from None
                    raise
                ctx.ready()
                if once:
                    return
                wait = hold
        finally:
            await close_session(ctx, session)
