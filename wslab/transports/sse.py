"""``sse``: Server-Sent Events (``text/event-stream``) with aiohttp-sse.

Each event is sent as ``id: <seq>`` and ``data: <body>`` lines (HTML Living
Standard, "Server-sent events"). A client that reconnects sends
``Last-Event-ID`` and the server resumes after it from the history. The
server's keep-alive comment (``: ping``) interval is the ``ping`` option
(aiohttp-sse's default is 15 s); it is counted as overhead like any byte.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp_sse import sse_response

from ..core.hub import Hub
from . import register
from ._http import check_headers, new_session, parse_since, sockets_of, start_app
from .base import Bind, ClientContext, Endpoint, Transport, positive_option

__all__ = ["MAX_PING_S", "SseTransport"]

MAX_PING_S = 3_600.0  # keep-alive comment interval; a run lasts at most an hour


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
        streams = 0

        async def stream(request: web.Request) -> web.StreamResponse:
            nonlocal streams
            last_id = request.headers.get("Last-Event-ID")
            since = int(last_id) if last_id and last_id.isdigit() else parse_since(request)
            try:
                ping = max(float(request.query.get("ping", "15")), 0.1)
            except ValueError:
                raise web.HTTPBadRequest(text="ping must be a number of seconds") from None
            streams += 1
            try:
                async with sse_response(request, ping_interval=ping) as resp:
                    while resp.is_connected():
                        for event in await hub.wait_after(since, None):
                            await resp.send(event.text, id=str(event.seq))
                            since = event.seq
            except (ConnectionResetError, RuntimeError):
                pass  # the client went away
            finally:
                streams -= 1
            return resp

        app = web.Application()
        app.router.add_get("/sse", stream)
        return await start_app(app, bind, "/sse", lambda: streams)

    async def run_client(self, ctx: ClientContext) -> None:
        ping = float(ctx.options.get("ping", 15.0))
        session = new_session(ctx)
        try:
            while True:  # reconnect with Last-Event-ID if the stream ends
                headers = {"Accept": "text/event-stream"}
                if ctx.last_seq:
                    headers["Last-Event-ID"] = str(ctx.last_seq)
                async with session.get(f"{ctx.url}?ping={ping}", headers=headers) as resp:
                    sock = sockets_of(session).current
                    ctx.conn.request(sock)
                    ctx.ready()
                    try:
                        await _read_stream(ctx, resp.content)
                    finally:
                        ctx.conn.observe(sock, sock)
        finally:
            ctx.conn.close()
            await session.close()


async def _read_stream(ctx: ClientContext, content: aiohttp.StreamReader) -> None:
    """Parse ``data:`` lines; a blank line ends an event. Comments are skipped."""
    record_body, clock = ctx.body_recorder(), time.monotonic_ns
    data = None
    async for line in content:
        if line.startswith(b"data: "):
            data = line[6:]
            now = clock()
        elif line in (b"\n", b"\r\n") and data is not None:
            record_body(data, now)
            data = None
