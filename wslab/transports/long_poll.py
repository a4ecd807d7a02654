"""``long-poll``: ``GET /long-poll?since=<seq>&timeout=<s>`` is held until at
least one event exists after ``since`` or the timeout passes, then answers the
whole batch; the client asks again at once (RFC 6202 §2.1).

The default timeout is 30 s, the value RFC 6202 §5.5 calls safe against
proxies that cut idle requests; the server caps it at 300 s.
"""

from __future__ import annotations

from aiohttp import web

from ..core.hub import Hub
from . import register
from ._http import batch_body, close_session, get_events, new_session, parse_since, start_app
from .base import Bind, ClientContext, Endpoint, Transport

MAX_HOLD_S = 300.0


@register
class LongPollTransport(Transport):
    name = "long-poll"
    description = "HTTP long polling (request held until an event or a timeout)"
    client_options = {"timeout": 30.0, "headers": "aiohttp"}

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        held = 0

        async def long_poll(request: web.Request) -> web.Response:
            nonlocal held
            since = parse_since(request)
            try:
                timeout = min(float(request.query.get("timeout", "30")), MAX_HOLD_S)
            except ValueError:
                raise web.HTTPBadRequest(text="timeout must be a number of seconds") from None
            held += 1
            try:
                events = await hub.wait_after(since, max(timeout, 0.0))
            finally:
                held -= 1
            # An empty array on timeout (not 204): the client's loop is the same.
            return web.Response(body=batch_body(events), content_type="application/json")

        app = web.Application()
        app.router.add_get("/long-poll", long_poll)
        return await start_app(app, bind, "/long-poll", lambda: held)

    async def run_client(self, ctx: ClientContext) -> None:
        timeout = float(ctx.options.get("timeout", 30.0))
        session = new_session(ctx)
        try:
            ctx.ready()
            while True:
                await get_events(ctx, session, f"{ctx.url}?since={ctx.last_seq}&timeout={timeout}")
        finally:
            await close_session(ctx, session)
