"""``tcp``: raw length-prefixed TCP push, the floor every figure can show.

Wire format (`wslab.core.wire`): the client sends the last seq it has as 8
bytes (big endian); the server answers with every later event from the
history and then pushes each new event as a 4-byte big-endian length followed
by the event body. No headers, no framing beyond the length: what is left is
TCP itself.
"""

from __future__ import annotations

import asyncio
import time

from ..core import wire
from ..core.hub import Hub
from . import register
from .base import Bind, ClientContext, Endpoint, Transport

__all__ = ["TcpTransport"]

#: bytes asked of the socket per read (asyncio's own read size)
_READ = 1 << 18


@register
class TcpTransport(Transport):
    name = "tcp"
    description = "raw length-prefixed TCP push (the floor)"
    delivery = "push"

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        writers: set[asyncio.StreamWriter] = set()

        def on_publish(event) -> None:
            if not writers:  # runs on every publish, whichever transport is measured
                return
            frame = wire.encode_frame(event.body)  # once per event, for every client
            for w in writers:
                w.write(frame)  # no await: open loop, the kernel buffers

        hub.subscribe(on_publish)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                since = wire.decode_since(await reader.readexactly(wire.SINCE.size))
                # Backlog and registration happen without an await in between,
                # so no event can fall between the two.
                backlog = hub.events_after(since)
                if backlog:
                    writer.write(wire.encode_frames(e.body for e in backlog))
                writers.add(writer)
                await reader.read()  # returns b"" when the client closes
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writers.discard(writer)
                writer.close()

        server = await asyncio.start_server(handle, bind.host, bind.port, backlog=4096,
                                            ssl=bind.ssl, **bind.kwargs())
        port = server.sockets[0].getsockname()[1]

        async def close() -> None:
            server.close()
            for w in list(writers):
                w.close()
            await server.wait_closed()

        return Endpoint(f"{bind.scheme('tcp', 'tls')}://{bind.host}:{port}", close,
                        lambda: len(writers))

    async def connect_once(self, ctx: ClientContext) -> None:
        host, port = ctx.url.split("://", 1)[1].rsplit(":", 1)
        # connect_socket sets TCP_NODELAY: the floor must not pay Nagle +
        # delayed-ACK stalls.
        sock = await ctx.connect_socket(host, int(port))
        reader, writer = await asyncio.open_connection(
            sock=sock, ssl=ctx.tls, server_hostname=host if ctx.tls else None)
        ctx.conn.open(writer, sock)
        try:
            writer.write(wire.encode_since(ctx.last_seq))  # resume after last_seq
            ctx.ready()
            # One read per wake-up, however many frames it holds (or parts of
            # frames): the decoder keeps what is incomplete.
            read, feed = reader.read, wire.FrameDecoder().feed
            record_body, clock = ctx.body_recorder(), time.monotonic_ns
            while data := await read(_READ):
                now = clock()
                for body in feed(data):
                    record_body(body, now)
            raise ConnectionResetError("tcp: the server closed the stream")
        finally:
            ctx.conn.finish(writer)
            ctx.conn.close()
            writer.close()
