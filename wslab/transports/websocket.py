"""``websocket``: the websockets library at both ends.

The client asks for ``/?since=<seq>`` in the opening handshake (an HTTP/1.1
GET with ``Upgrade: websocket``, RFC 6455 §4.1); the server sends the history
after ``since`` and then every new event as one text frame. Events go out with
`websockets.broadcast`, which writes synchronously to every connection with no
backpressure (open loop). Compression (permessage-deflate, RFC 7692) is off
by default: the client's ``compression`` option turns it on, and the server
accepts it when offered; the client options of `wslab.transports._deflate`
set its RFC 7692 §7.1 parameters (context takeover, window bits). The
client option ``fanout="queue"`` makes the
server feed that connection from a per-client queue and sender task instead.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.client import connect
from websockets.asyncio.server import broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from ..core.errors import ConfigError
from ..core.hub import Hub
from . import register
from ._deflate import DEFLATE_OPTIONS, check_deflate_options, client_extensions, server_factory
from .base import Bind, ClientContext, Endpoint, Transport

__all__ = ["FANOUTS", "MAX_MESSAGE", "WebSocketTransport", "origin_allowed",
           "origins_option", "subprotocols_option"]

#: how the server feeds a connection: one `websockets.broadcast`, or a queue per client
FANOUTS = ("broadcast", "queue")
MAX_MESSAGE = 2**21  # larger messages are refused with close code 1009 (RFC 6455 §7.4.1)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2 tchar


def origins_option(options: Mapping[str, Any]) -> tuple[str | None, ...] | None:
    """The server option ``origins``: ``None`` (any Origin is admitted) or the
    allowed ``Origin`` values, ``None`` among them admitting a handshake that
    sends none (every non-browser client; a browser always sends one, RFC 6455
    §4.1 item 8). Shared by the three WebSocket servers (C10 in docs/questions.md)."""
    origins = options.get("origins")
    if origins is None:
        return None
    if isinstance(origins, str) or not all(o is None or isinstance(o, str) for o in origins):
        raise ConfigError(f"origins must be a list of Origin strings (None: no Origin "
                          f"header), not {origins!r}")
    return tuple(origins)


def origin_allowed(origins: tuple[str | None, ...] | None, origin: str | None) -> bool:
    """Is a handshake with ``Origin`` ``origin`` (``None``: absent) admitted?
    The comparison is exact (RFC 6454 §6.2 serialises an origin one way)."""
    return origins is None or origin in origins


def subprotocols_option(value: Any) -> list[Subprotocol] | None:
    """The ``subprotocols`` option (server: supported, client: offered), a list of
    tokens (RFC 6455 §4.1 item 10: ``Sec-WebSocket-Protocol`` values are HTTP
    tokens, RFC 9110 §5.6.2), or None for no header; `ConfigError` otherwise."""
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) and _TOKEN.fullmatch(v)
                                         for v in value):
        raise ConfigError(f"subprotocols must be a list of tokens such as ['chat.v1'] "
                          f"(or None: no header), not {value!r}")
    return [Subprotocol(v) for v in value]


async def _serve_queue(ws, hub: Hub, since: int, queues: set) -> None:
    """The textbook alternative to `broadcast`: each connection has a queue
    and a task that awaits ``send`` (with backpressure) for every message."""
    queue: asyncio.Queue = asyncio.Queue()
    for event in hub.events_after(since):
        queue.put_nowait(event.body)
    queues.add(queue)
    try:
        while True:
            await ws.send(await queue.get(), text=True)
    except ConnectionClosed:
        pass
    finally:
        queues.discard(queue)


@register
class WebSocketTransport(Transport):
    name = "websocket"
    description = "WebSocket push (websockets library at both ends)"
    delivery = "push"
    client_options = {"compression": False, "fanout": "broadcast"}
    # absent: no Sec-WebSocket-Protocol header, and websockets' default deflate
    optional_options = ("subprotocols", *DEFLATE_OPTIONS)

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        if "subprotocols" in merged:
            merged["subprotocols"] = subprotocols_option(merged["subprotocols"])
        if not isinstance(merged["compression"], bool):
            raise ConfigError(f"compression must be true or false, not {merged['compression']!r}")
        if merged["fanout"] not in FANOUTS:
            raise ConfigError(f"fanout must be {' or '.join(FANOUTS)}, not {merged['fanout']!r}")
        check_deflate_options({**DEFLATE_OPTIONS, **merged})
        return merged

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        conns: set = set()
        queues: set[asyncio.Queue] = set()

        def on_publish(event) -> None:
            # Runs on every publish, whichever transport is measured: skip
            # broadcast's setup when nobody listens. Bytes sent as a text
            # frame: the body is ASCII JSON, so no re-encoding.
            if conns:
                broadcast(conns, event.body, text=True)
            for q in queues:  # fanout=queue: one queue and one sender task per client
                q.put_nowait(event.body)

        hub.subscribe(on_publish)

        async def handler(ws) -> None:
            query = parse_qs(urlsplit(ws.request.path).query)
            try:
                since = int(query.get("since", ["0"])[0])
            except ValueError:
                await ws.close(1008, "since must be an integer")
                return
            if query.get("fanout", ["broadcast"])[0] == "queue":
                await _serve_queue(ws, hub, since, queues)
                return
            # History and registration with no await in between: no gap.
            for event in hub.events_after(since):
                broadcast([ws], event.body, text=True)
            conns.add(ws)
            try:
                await ws.wait_closed()
            finally:
                conns.discard(ws)

        # None: any Origin; set it to check the Origin (C10 in docs/questions.md)
        origins = origins_option(options)
        server = await serve(
            handler,
            bind.host,
            bind.port,
            # accepted only when the client offers it, with websockets' default
            # answer unless the offer names window sizes (wslab.transports._deflate)
            compression=None,
            extensions=[server_factory()],
            max_size=MAX_MESSAGE,
            # the server's preference order (RFC 6455 §4.2.2 item 5.4): it
            # picks the first it supports that the client offers; None: no
            # Sec-WebSocket-Protocol header, whatever the client offers
            subprotocols=subprotocols_option(options.get("subprotocols")),
            origins=None if origins is None else [None if o is None else Origin(o) for o in origins],
            # Heartbeats are off unless the server options set them (presence,
            # C9 in docs/questions.md): a ping every ``ping_interval`` s, the
            # connection failed when no pong came within ``ping_timeout`` s.
            ping_interval=options.get("ping_interval"),
            ping_timeout=options.get("ping_timeout"),
            # A handshake not complete within open_timeout s is dropped (a
            # slowloris holds no slot longer); websockets' default, 10 s.
            open_timeout=options.get("open_timeout", 10),
            backlog=4096,
            ssl=bind.ssl,
            **bind.kwargs(),
        )
        port = next(iter(server.sockets)).getsockname()[1]

        async def close() -> None:
            server.close()
            await server.wait_closed()

        return Endpoint(f"{bind.scheme('ws', 'wss')}://{bind.host}:{port}/", close,
                        lambda: len(conns) + len(queues))

    async def connect_once(self, ctx: ClientContext) -> None:
        extensions = client_extensions(ctx.options)  # RFC 7692 §7.1 parameters, if set
        compression = "deflate" if ctx.options.get("compression") and not extensions else None
        fanout = ctx.options.get("fanout", "broadcast")
        host, port = ctx.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
        raw = await ctx.connect_socket(host, int(port))
        try:
            ws = await connect(
                f"{ctx.url}?since={ctx.last_seq}&fanout={fanout}",  # resume after last_seq
                compression=compression,
                extensions=extensions,
                max_size=MAX_MESSAGE,
                subprotocols=ctx.options.get("subprotocols"),  # offered; None: no header
                ping_interval=None,
                open_timeout=60,
                close_timeout=2,
                sock=raw,
                ssl=ctx.tls,
                server_hostname=host if ctx.tls else None,
            )
        except BaseException:
            raw.close()
            raise
        # The opening handshake is one HTTP request. The tracker keeps a
        # duplicate descriptor: the counters are read after the close
        # handshake (RFC 6455 §5.5.1: a close frame each way, 8 B up and 4 B
        # down with a code only) or a reset, once websockets closed its own.
        # (Hence two descriptors per client: wslab.runner.config budgets for it.)
        ctx.conn.open(raw, raw)
        ctx.conn.request(raw)
        try:
            ctx.ready()
            record_body = ctx.body_recorder()
            recv, clock = ws.recv, time.monotonic_ns
            while True:
                message = await recv(decode=False)  # bytes: skip UTF-8 decoding
                record_body(message, clock())
        except ConnectionClosed:
            pass
        finally:
            try:
                await ws.close()
            finally:
                # the server closes TCP first (RFC 6455 §7.1.1): EOF seen or not
                ctx.conn.finish(raw, peer_fin=ws.protocol.reader.eof)
                ctx.conn.close()
