"""``aiohttp-ws``: WebSocket with aiohttp at both ends.

The same protocol and wire bytes as ``websocket`` and ``picows`` (RFC 6455,
one text frame per event), served the way aiohttp applications usually
serve it: one handler per connection that waits for the stream and awaits
``send_str`` per event (aiohttp has no synchronous broadcast), and a client
from ``ClientSession.ws_connect``. Beside the other two it shows what a
library's design costs (claim C5). The fallback transport serves its
``/ws`` with the same handler (`WsHandler`).
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web

from ..core.hub import Hub
from . import register
from ._http import new_session, parse_since, sockets_of, start_app
from .base import Bind, ClientContext, Endpoint, Transport
from .websocket import MAX_MESSAGE, origin_allowed, origins_option

__all__ = ["AiohttpWsTransport", "WsHandler"]


class WsHandler:
    """The aiohttp handler of a WebSocket endpoint; ``live`` counts open sockets
    (as `wslab.transports.sse.StreamHandler` and `LongPollHandler` count theirs)."""

    def __init__(self, hub: Hub, origins: tuple[str | None, ...] | None = None) -> None:
        self.hub = hub
        self.live = 0
        self.origins = origins  # the allow-list (`origins_option`); None: any Origin

    async def __call__(self, request: web.Request) -> web.WebSocketResponse:
        if not origin_allowed(self.origins, request.headers.get("Origin")):
            # refused before the upgrade, as websockets does (RFC 6455 §4.2.2 item 4:
            # "an appropriate HTTP error code (such as 403 Forbidden)")
            raise web.HTTPForbidden(text="Origin not allowed")
        self.live += 1
        try:
            return await _serve(self.hub, request)
        finally:
            self.live -= 1


async def _serve(hub: Hub, request: web.Request) -> web.WebSocketResponse:
    """A WebSocket: history after ``since``, then every new event as a text frame."""
    since = parse_since(request)
    ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)  # 400 without a valid Upgrade (RFC 6455 §4.2.1)
    reader = asyncio.ensure_future(ws.receive())  # notices the client closing
    try:
        while not ws.closed:
            waiter = asyncio.ensure_future(hub.wait_after(since, None))
            await asyncio.wait([waiter, reader], return_when=asyncio.FIRST_COMPLETED)
            if not waiter.done():
                waiter.cancel()
                break
            for event in waiter.result():
                await ws.send_str(event.body.decode("ascii"))
                since = event.seq
    except (ConnectionResetError, RuntimeError):
        pass  # the client went away
    finally:
        reader.cancel()
    return ws


@register
class AiohttpWsTransport(Transport):
    name = "aiohttp-ws"
    description = "WebSocket push (aiohttp at both ends)"
    delivery = "push"
    baseline = False  # not one of the five every comparison measures

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        handler = WsHandler(hub, origins_option(options))
        app = web.Application()
        app.router.add_get("/ws", handler)
        return await start_app(app, bind, "/ws", lambda: handler.live, options)

    async def connect_once(self, ctx: ClientContext) -> None:
        session = new_session(ctx)
        try:
            async with session.ws_connect(f"{ctx.url}?since={ctx.last_seq}",
                                          max_msg_size=MAX_MESSAGE, autoping=True) as ws:
                sock = sockets_of(session).current
                ctx.conn.open(sock, sock)  # the opening handshake is one HTTP request
                ctx.conn.request(sock)
                try:
                    ctx.ready()
                    record_body, clock = ctx.body_recorder(), time.monotonic_ns
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            record_body(msg.data.encode("ascii"), clock())
                finally:
                    await ws.close()
                    ctx.conn.finish(sock)
        finally:
            ctx.conn.close()
            await session.close()
