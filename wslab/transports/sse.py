"""``sse``: Server-Sent Events (``text/event-stream``) with aiohttp-sse.

Each event is sent as ``id: <seq>`` and ``data: <body>`` lines (HTML Living
Standard, "Server-sent events"; the bytes are `wslab.core.wire.encode_sse`'s,
the same aiohttp-sse's ``send`` writes). A client that reconnects sends
``Last-Event-ID`` and the server resumes after it from the history. The
server's keep-alive comment (``: ping``) interval is the ``ping`` option
(aiohttp-sse's default is 15 s); it is counted as overhead like any byte.

The server builds each event's frame once, for every stream (`_Frames`);
aiohttp-sse's ``send`` would format and encode it again per client.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp_sse import sse_response

from ..core import wire
from ..core.errors import RunError
from ..core.events import Event
from ..core.hub import Hub
from . import register
from ._http import check_headers, new_session, parse_since, sockets_of, start_app
from .base import Bind, ClientContext, Endpoint, Transport, positive_option

__all__ = ["MAX_PING_S", "SseTransport", "StreamHandler", "read_stream"]

MAX_PING_S = 3_600.0  # keep-alive comment interval; a run lasts at most an hour


class _Frames:
    """The SSE frame of each recent event, built by the first stream that
    sends it and reused by the others (one publish wakes every stream).

    Holds the latest ``limit`` frames (a burst is sent whole by one stream
    before the next runs, so the cache must hold a burst); a stream further
    behind builds its own. Entries are checked by event identity, since seqs
    start again at 1 after every `Hub.reset`.
    """

    __slots__ = ("limit", "_frames")

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._frames: dict[int, tuple[Event, bytes]] = {}

    def __call__(self, event: Event) -> bytes:
        hit = self._frames.get(event.seq)
        if hit is not None and hit[0] is event:
            return hit[1]
        frame = wire.encode_sse(event.body, event.seq)
        frames = self._frames
        frames[event.seq] = (event, frame)
        if len(frames) > self.limit:
            del frames[next(iter(frames))]  # the oldest (dicts keep insertion order)
        return frame


class StreamHandler:
    """The aiohttp handler of ``GET /sse``: the history after ``Last-Event-ID``
    (or ``since``), then every new event; ``live`` counts open streams.

    ``?open=1`` makes the server write a comment (``: open``) at once, so a
    client can tell a stream that works from one a buffering proxy holds
    back (`wslab.transports.fallback` waits for it).
    """

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.live = 0
        self.frame_of = _Frames()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        last_id = request.headers.get("Last-Event-ID")
        since = int(last_id) if last_id and last_id.isdigit() else parse_since(request)
        try:
            ping = max(float(request.query.get("ping", "15")), 0.1)
        except ValueError:
            raise web.HTTPBadRequest(text="ping must be a number of seconds") from None
        hub, frame_of = self.hub, self.frame_of
        self.live += 1
        try:
            async with sse_response(request, ping_interval=ping) as resp:
                # resp.write, not resp.send: the frame is built already, and
                # send's per-write timeout (a timer per event per client) is
                # covered by the TCP_USER_TIMEOUT that sse_response sets on
                # the socket to the same 120 s.
                write = resp.write
                if request.query.get("open") == "1":
                    await write(b": open\r\n\r\n")
                while resp.is_connected():
                    for event in await hub.wait_after(since, None):
                        await write(frame_of(event))  # one chunk per event, as send
                        since = event.seq
        except (ConnectionResetError, RuntimeError):
            pass  # the client went away
        finally:
            self.live -= 1
        return resp


@register
class SseTransport(Transport):
    name = "sse"
    description = "Server-Sent Events (HTTP streaming)"
    delivery = "push"
    client_options = {"ping": 15.0, "headers": "aiohttp"}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        merged["ping"] = positive_option(cls.name, "ping", merged["ping"], MAX_PING_S)
        check_headers(cls.name, merged)
        return merged

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        stream = StreamHandler(hub)
        app = web.Application()
        app.router.add_get("/sse", stream)
        return await start_app(app, bind, "/sse", lambda: stream.live, options)

    async def connect_once(self, ctx: ClientContext) -> None:
        ping = float(ctx.options.get("ping", 15.0))
        session = new_session(ctx)
        try:
            headers = {"Accept": "text/event-stream"}
            if ctx.last_seq:  # resume: the standard's own means
                headers["Last-Event-ID"] = str(ctx.last_seq)
            async with session.get(f"{ctx.url}?ping={ping}", headers=headers) as resp:
                if resp.status != 200:
                    raise RunError(f"GET {ctx.url} answered {resp.status}, not 200")
                sock = sockets_of(session).current
                ctx.conn.open(sock, sock)
                ctx.conn.request(sock)
                ctx.ready()
                try:
                    await read_stream(ctx, resp.content)
                finally:
                    ctx.conn.finish(sock)
        finally:
            ctx.conn.close()
            await session.close()


async def read_stream(ctx: ClientContext, content: aiohttp.StreamReader,
                      first: bytes = b"") -> None:
    """Record every event of the stream (`wslab.core.wire.SseParser`: the
    standard's parsing rules; comments such as the pings are skipped)."""
    record_body, clock = ctx.body_recorder(), time.monotonic_ns
    parser = wire.SseParser()
    feed = parser.feed
    try:
        for event in feed(first):  # bytes the caller read already (a probe)
            record_body(event.data, clock())
        async for chunk in content.iter_any():  # what has arrived, however it is cut
            now = clock()
            for event in feed(chunk):
                record_body(event.data, now)
    finally:
        if parser.retry is not None:  # the server's reconnection time replaces the backoff
            ctx.retry_s = parser.retry / 1e3
