"""``picows``: WebSocket with picows at both ends (a Cython implementation).

The same protocol and wire bytes as ``websocket`` (RFC 6455: an HTTP/1.1
Upgrade, then one unmasked text frame per event down and nothing up), with a
different library: picows parses and frames in C and calls the application
back per frame, with no task and no queue per message. Beside ``websocket``
(the websockets library) it separates what the protocol costs from what a
library costs (claim C5).

The client asks for ``/?since=<seq>``; the server sends the history after it
and then every new event, written synchronously to every connection on
publish (open loop, like `websockets.broadcast`). picows uses aiofastnet's
transports when that package is installed (its default, kept here), on
either event loop.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urlsplit

from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_connect,
    ws_create_server,
)

from ..core.hub import Hub
from . import register
from .base import Bind, ClientContext, Endpoint, Transport
from .websocket import MAX_MESSAGE, origin_allowed, origins_option

__all__ = ["PicowsTransport"]

_TEXT = WSMsgType.TEXT


class _ServerSide(WSListener):
    """One server connection: history on connect, then the live stream."""

    def __init__(self, hub: Hub, since: int, conns: set[WSTransport]) -> None:
        self.hub, self.since, self.conns = hub, since, conns

    def on_ws_connected(self, transport: WSTransport) -> None:
        # History and registration in one callback: no event can fall between.
        for event in self.hub.events_after(self.since):
            transport.send(_TEXT, event.body)
        self.conns.add(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:  # RFC 6455 §5.5.1: answer, then close
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.conns.discard(transport)


class _ClientSide(WSListener):
    """The client's listener: every text frame is one delivery."""

    def __init__(self, ctx: ClientContext) -> None:
        self.record_body = ctx.body_recorder()
        self.clock = time.monotonic_ns

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == _TEXT:
            self.record_body(frame.get_payload_as_bytes(), self.clock())
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.disconnect()


@register
class PicowsTransport(Transport):
    name = "picows"
    description = "WebSocket push (picows at both ends)"
    delivery = "push"
    baseline = False  # not one of the five every comparison measures

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        conns: set[WSTransport] = set()

        def on_publish(event) -> None:
            if conns:  # runs on every publish, whichever transport is measured
                body = event.body
                for t in conns:
                    t.send(_TEXT, body)

        hub.subscribe(on_publish)

        origins = origins_option(options)
        forbidden = WSUpgradeResponse.create_error_response(403, b"Origin not allowed")

        def factory(request: WSUpgradeRequest) -> WSListener | WSUpgradeResponseWithListener:
            if not origin_allowed(origins, request.headers.get("Origin")):
                # RFC 6455 §4.2.2 item 4: refused before the upgrade, as websockets does
                return WSUpgradeResponseWithListener(forbidden, None)
            query = parse_qs(urlsplit(request.path.decode("ascii", "replace")).query)
            try:
                since = int(query.get("since", ["0"])[0])
            except ValueError:
                since = 0
            return _ServerSide(hub, since, conns)

        # A handshake not complete within open_timeout s is dropped (a slowloris
        # holds no slot longer); picows' default, 5 s
        server = await ws_create_server(factory, bind.host, bind.port, backlog=4096,
                                        max_frame_size=MAX_MESSAGE, ssl=bind.ssl,
                                        websocket_handshake_timeout=options.get(
                                            "open_timeout", 5.0),
                                        **bind.kwargs())
        port = server.sockets[0].getsockname()[1]

        async def close() -> None:
            server.close()
            for t in list(conns):
                t.disconnect(graceful=False)
            await server.wait_closed()

        return Endpoint(f"{bind.scheme('ws', 'wss')}://{bind.host}:{port}/", close,
                        lambda: len(conns))

    async def connect_once(self, ctx: ClientContext) -> None:
        host, port = ctx.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
        raw = await ctx.connect_socket(host, int(port))
        try:
            transport, _ = await ws_connect(
                lambda: _ClientSide(ctx), f"{ctx.url}?since={ctx.last_seq}",
                socket_factory=lambda _url: raw, websocket_handshake_timeout=60,
                max_frame_size=MAX_MESSAGE, ssl_context=ctx.tls)
        except BaseException:
            raw.close()
            raise
        ctx.conn.open(raw, raw)  # the opening handshake is one HTTP request
        ctx.conn.request(raw)
        try:
            ctx.ready()
            await transport.wait_disconnected()
        finally:
            if not transport.is_disconnected:
                # RFC 6455 §7.1.2: send our close frame and let the server
                # answer and close TCP first (§7.1.1)
                transport.send_close(WSCloseCode.OK)
                try:
                    await asyncio.wait_for(asyncio.shield(transport.wait_disconnected()), 2)
                except TimeoutError:
                    transport.disconnect()
            ctx.conn.finish(raw)
            ctx.conn.close()
