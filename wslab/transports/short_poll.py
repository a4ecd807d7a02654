"""``short-poll``: ``GET /poll?since=<seq>`` answers at once, maybe with nothing.

The client polls on a fixed schedule every ``interval`` seconds, starting at a
seeded random phase so that N clients do not poll in lockstep. An event thus
waits for the next poll to reach the server (uniform on [0, T), mean T/2) plus
one transit, the response's: an event published while a poll travels to the
server is caught by that poll (`wslab.models.short_poll_latency_mean`). Every
poll pays full HTTP request and response headers, even when the answer is the
empty array ``[]``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ..core.hub import Hub
from . import register
from ._gzip import check_gzip, gzip_query, json_response
from ._http import (
    batch_body,
    check_headers,
    close_session,
    get_events,
    new_session,
    parse_since,
    start_app,
)
from .base import Bind, ClientContext, Endpoint, Transport, positive_option

__all__ = ["MAX_INTERVAL_S", "ShortPollTransport"]

MAX_INTERVAL_S = 3_600.0  # a run lasts at most an hour: a longer interval never polls


@register
class ShortPollTransport(Transport):
    name = "short-poll"
    description = "HTTP short polling every `interval` seconds"
    delivery = "pull"
    client_options = {"interval": 1.0, "headers": "aiohttp"}
    optional_options = ("gzip",)  # wslab.transports._gzip

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        merged["interval"] = positive_option(cls.name, "interval", merged["interval"],
                                             MAX_INTERVAL_S)
        check_headers(cls.name, merged)
        check_gzip(cls.name, merged)
        return merged

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        check_gzip(self.name, options)
        always = options.get("gzip", False)  # compress every response (wslab.transports._gzip)

        async def poll(request: web.Request) -> web.Response:
            return json_response(request, batch_body(hub.events_after(parse_since(request))),
                                 always)

        app = web.Application()
        app.router.add_get("/poll", poll)
        return await start_app(app, bind, "/poll", options=options)

    async def connect_once(self, ctx: ClientContext) -> None:
        interval = float(ctx.options.get("interval", 1.0))
        loop = asyncio.get_running_loop()
        session = new_session(ctx)
        try:
            ctx.ready()
            next_poll = loop.time() + random.Random(ctx.seed).uniform(0, interval)
            while True:
                await asyncio.sleep(next_poll - loop.time())
                # A fixed grid, not "sleep T after each answer": the poll rate
                # stays 1/T whatever the round trip. A poll that overruns its
                # slot is followed at once by the next.
                next_poll = max(next_poll + interval, loop.time())
                await get_events(ctx, session,
                                 f"{ctx.url}?since={ctx.last_seq}{gzip_query(ctx.options)}")
        finally:
            await close_session(ctx, session)
