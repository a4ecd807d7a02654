"""``h2-short-poll``, ``h2-long-poll``, ``h2-sse``: the HTTP/1.1 polling and
streaming transports over HTTP/2 (RFC 9113), hypercorn serving, httpx asking.

Three transports, not one with a ``mode`` option: short and long polling are
pull and SSE is push (`wslab.transports.base.Delivery`), a class property
every figure and transit estimate goes by; and each name lines up with its
HTTP/1.1 twin (``short-poll`` / ``h2-short-poll``) in tables. The wire
protocol and the resume rules are the HTTP/1.1 ones: ``GET /poll?since=N``,
``GET /long-poll?since=N&timeout=s``, ``GET /sse`` with ``Last-Event-ID``;
the bodies are the same bytes (a JSON array of event bodies; the SSE
frames of `wslab.core.wire.encode_sse`). What changes is the framing:
binary frames, HPACK-compressed headers (RFC 7541; a repeated header costs
an index of about one byte), and streams multiplexed over one connection.

In clear the client uses prior knowledge (h2c, RFC 9113 §3.3); over TLS it
negotiates ``h2`` with ALPN (RFC 7301). Bytes are the kernel's, read at the
client's end of each TCP connection (`wslab.transports._h2.Backend`).

Client options: ``headers`` (a profile of `wslab.core.profiles`, its
hop-by-hop fields dropped as RFC 9113 §8.2.2 requires), ``multiplex`` (k
simulated clients share one connection, as k subscriptions of one page
would; default 1: one connection each), and the HTTP/1.1 twin's own option
(``interval``, ``timeout`` or ``ping``). None of the three is a baseline
transport (`Transport.baseline`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core import wire
from ..core.errors import ConfigError, RunError
from ..core.hub import Hub
from ..core.wire import decode_batch
from . import register
from ._h2 import MAX_HOLD_S, H2App, serve
from ._http import check_headers
from .base import Bind, ClientContext, Endpoint, Transport, positive_option

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._h2client import Group

__all__ = ["MAX_MULTIPLEX", "H2LongPollTransport", "H2ShortPollTransport", "H2SseTransport"]

#: streams per connection: hypercorn's default SETTINGS_MAX_CONCURRENT_STREAMS
MAX_MULTIPLEX = 100
_MAX_S = 3_600.0


class _H2Transport(Transport):
    baseline = False
    path = ""
    knob = ""  # the twin's own option

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        upper = MAX_HOLD_S if cls.knob == "timeout" else _MAX_S
        merged[cls.knob] = positive_option(cls.name, cls.knob, merged[cls.knob], upper)
        check_headers(cls.name, merged)
        k = merged["multiplex"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_MULTIPLEX:
            raise ConfigError(f"multiplex must be an integer from 1 to {MAX_MULTIPLEX} "
                              f"for {cls.name}, not {k!r}")
        return merged

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        app = H2App(hub)
        live = (lambda: app.held) if self.path == "/long-poll" else (lambda: app.streams)
        return await serve(app, bind, self.path, live if self.path != "/poll" else None)

    async def connect_once(self, ctx: ClientContext) -> None:
        # httpx is imported by client processes only (not by every server child)
        from ._h2client import join_group

        async with join_group(ctx, int(ctx.options.get("multiplex", 1))) as group:
            await self.consume(ctx, group)

    async def consume(self, ctx: ClientContext, group: Group) -> None:
        raise NotImplementedError


async def poll(ctx: ClientContext, group: Group, url: str) -> int:
    """One polling request on the group's connection: record its events and
    account it (a request cancelled at stop counts as sent, not answered)."""
    try:
        resp = await group.client.get(url)
    except asyncio.CancelledError:
        group.backend.account(completed=False)
        raise
    now = time.monotonic_ns()
    body = resp.content
    if resp.status_code != 200:
        raise RunError(f"GET {url} answered {resp.status_code}: {body[:200]!r}")
    group.backend.account(empty=body == b"[]")
    events = decode_batch(body)
    for seq, published_ns in events:
        ctx.record(seq, published_ns, now)
    return len(events)


@register
class H2ShortPollTransport(_H2Transport):
    name = "h2-short-poll"
    description = "HTTP/2 short polling every `interval` seconds (hypercorn, httpx)"
    delivery = "pull"
    path, knob = "/poll", "interval"
    client_options = {"interval": 1.0, "headers": "aiohttp", "multiplex": 1}

    async def consume(self, ctx: ClientContext, group: Group) -> None:
        interval = float(ctx.options.get("interval", 1.0))
        loop = asyncio.get_running_loop()
        ctx.ready()
        next_poll = loop.time() + random.Random(ctx.seed).uniform(0, interval)
        while True:  # a fixed grid, as short-poll's
            await asyncio.sleep(next_poll - loop.time())
            next_poll = max(next_poll + interval, loop.time())
            await poll(ctx, group, f"{ctx.url}?since={ctx.last_seq}")


@register
class H2LongPollTransport(_H2Transport):
    name = "h2-long-poll"
    description = "HTTP/2 long polling (hypercorn, httpx)"
    delivery = "pull"  # as long-poll: an event that finds no request held waits for one
    path, knob = "/long-poll", "timeout"
    client_options = {"timeout": 30.0, "headers": "aiohttp", "multiplex": 1}

    async def consume(self, ctx: ClientContext, group: Group) -> None:
        timeout = float(ctx.options.get("timeout", 30.0))
        ctx.ready()
        while True:
            await poll(ctx, group, f"{ctx.url}?since={ctx.last_seq}&timeout={timeout}")


@register
class H2SseTransport(_H2Transport):
    name = "h2-sse"
    description = "Server-Sent Events over HTTP/2 (hypercorn, httpx)"
    delivery = "push"
    path, knob = "/sse", "ping"
    client_options = {"ping": 15.0, "headers": "aiohttp", "multiplex": 1}

    async def consume(self, ctx: ClientContext, group: Group) -> None:
        ping = float(ctx.options.get("ping", 15.0))
        headers = {"accept": "text/event-stream"}
        if ctx.last_seq:  # resume: the standard's own means
            headers["last-event-id"] = str(ctx.last_seq)
        record_body, clock = ctx.body_recorder(), time.monotonic_ns
        parser = wire.SseParser()
        async with group.client.stream("GET", f"{ctx.url}?ping={ping}",
                                       headers=headers) as resp:
            if resp.status_code != 200:
                raise RunError(f"GET {ctx.url} answered {resp.status_code}, not 200")
            group.backend.account()
            ctx.ready()
            try:
                async for chunk in resp.aiter_raw():
                    now = clock()
                    for event in parser.feed(chunk):
                        record_body(event.data, now)
            finally:
                group.backend.conn.observe(group.backend.current,
                                           group.backend.current and group.backend.current.sock)
        if parser.retry is not None:
            ctx.retry_s = parser.retry / 1e3
