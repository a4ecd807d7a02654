"""``long-poll``: ``GET /long-poll?since=<seq>&timeout=<s>`` is held until at
least one event exists after ``since`` or the timeout passes, then answers the
whole batch; the client asks again at once (RFC 6202 §2.1).

The default timeout is 30 s, the value RFC 6202 §5.5 calls safe against
proxies that cut idle requests; the server caps it at 300 s.
"""

from __future__ import annotations

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

__all__ = ["MAX_HOLD_S", "LongPollHandler", "LongPollTransport"]

MAX_HOLD_S = 300.0


class LongPollHandler:
    """The aiohttp handler of ``GET /long-poll``; ``held`` counts held requests."""

    def __init__(self, hub: Hub, gzip: bool = False) -> None:
        self.hub = hub
        self.held = 0
        self.gzip = gzip  # compress every response (wslab.transports._gzip)

    async def __call__(self, request: web.Request) -> web.Response:
        since = parse_since(request)
        try:
            timeout = min(float(request.query.get("timeout", "30")), MAX_HOLD_S)
        except ValueError:
            raise web.HTTPBadRequest(text="timeout must be a number of seconds") from None
        self.held += 1
        try:
            events = await self.hub.wait_after(since, max(timeout, 0.0))
        finally:
            self.held -= 1
        # An empty array on timeout (not 204): the client's loop is the same.
        return json_response(request, batch_body(events), self.gzip)


@register
class LongPollTransport(Transport):
    name = "long-poll"
    description = "HTTP long polling (request held until an event or a timeout)"
    # pull: each response answers a request; an event that finds none held waits
    # for the next one (RFC 6202 §2.2), so long polling only emulates push
    delivery = "pull"
    client_options = {"timeout": 30.0, "headers": "aiohttp"}
    optional_options = ("gzip",)  # wslab.transports._gzip

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        # the server caps a hold at MAX_HOLD_S: refuse more than it would honour
        merged["timeout"] = positive_option(cls.name, "timeout", merged["timeout"], MAX_HOLD_S)
        check_headers(cls.name, merged)
        check_gzip(cls.name, merged)
        return merged

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        check_gzip(self.name, options)
        long_poll = LongPollHandler(hub, options.get("gzip", False))
        app = web.Application()
        app.router.add_get("/long-poll", long_poll)
        return await start_app(app, bind, "/long-poll", lambda: long_poll.held, options)

    async def connect_once(self, ctx: ClientContext) -> None:
        timeout = float(ctx.options.get("timeout", 30.0))
        session = new_session(ctx)
        try:
            ctx.ready()
            while True:
                await get_events(ctx, session, f"{ctx.url}?since={ctx.last_seq}&timeout={timeout}"
                                 + gzip_query(ctx.options))
        finally:
            await close_session(ctx, session)
