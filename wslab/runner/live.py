"""The live page of ``wslab serve``: every browser transport side by side, in your browser.

``wslab serve`` starts the server process (`wslab.runner.lab.Lab`) and, in
its own process, a small aiohttp app on another loopback port (`LivePage`):

- ``GET /`` -- the page (``live_page.html``, package data, no build step). It
  subscribes to the running stream over websocket, sse, long-poll and
  short-poll at once and shows, per transport, the events received, the
  seqs lost (gaps) and duplicated, latency quantiles and a histogram, and
  payload bytes per event (message sizes as the page sees them, not wire
  bytes: no frame, HTTP or TCP/IP header is visible to a page).
- ``GET /clock`` -- this process's CLOCK_MONOTONIC in ns (the clock the
  server stamps events with; it is one clock for every process of the
  machine). The page brackets the read between two ``performance.now()``
  reads and keeps the narrowest bracket: its offset to the server's clock
  is then known to within half that round trip (plus the page clock's
  resolution), which the page shows next to the latencies.
- ``GET /status`` and ``POST /control`` -- what the server publishes, and
  start/stop it: the page asks this process, which tells the server child
  (commands ``live_start``, ``live_stop``, ``live_status``, served by
  `LivePublisher` in the child). Bounded by `LIMITS`; loopback only; a
  control request must be JSON from this page's own origin (a page of
  another site cannot send a JSON POST across origins without a preflight,
  which is never granted).

Cross-origin reads. The page's origin differs from each transport's (every
transport has its own port), so the HTTP transports answer it with
``Access-Control-Allow-Origin``: `cors_options` gives them the ``cors``
server option, set by ``wslab serve`` only, and even then the header is
added only to requests that carry this page's ``Origin``
(`wslab.transports._http.allow_origin`): a run's bytes never change.
WebSocket handshakes are not subject to CORS (RFC 6455 §10.2: the server
may check ``Origin``; these do not).
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ..core.addresses import check_loopback
from ..core.errors import ConfigError
from ..core.events import Event, PayloadPool
from ..core.hub import Hub
from .chromium import BROWSER_TRANSPORTS

__all__ = ["LIMITS", "PAGE", "LivePage", "LivePublisher", "check_publish", "cors_options"]

PAGE = Path(__file__).with_name("live_page.html")
#: bounds of what the page (and ``wslab serve``) may ask the server to publish
LIMITS: dict[str, float] = {"rate": 1_000.0, "payload": 65_536, "duration": 3_600.0}
#: Cross-origin isolation (HTML standard, COOP and COEP): Chromium then reads
#: ``performance.now()`` to 5 µs, not 100 µs. Under ``require-corp`` the page may
#: still read the transports' responses: it fetches them in CORS mode and they allow it.
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin",
                     "Cross-Origin-Embedder-Policy": "require-corp",
                     "Cache-Control": "no-store"}
#: the transports whose servers answer the page across origins (WebSocket needs no CORS)
CORS_TRANSPORTS = ("sse", "long-poll", "short-poll")


def check_publish(rate: Any, payload: Any, duration: Any) -> tuple[float, int, float]:
    """``(rate, payload, duration)`` as numbers within `LIMITS`, or `ConfigError`
    naming what is allowed: rate in (0, 1,000] events/s, payload in
    [0, 65,536] bytes, duration in (0, 3,600] s."""
    def number(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{name} must be a number, not {value!r}")
        return float(value)

    rate, duration = number("rate", rate), number("duration", duration)
    if not 0 < rate <= LIMITS["rate"]:
        raise ConfigError(f"rate must be in (0, {LIMITS['rate']:,.0f}] events/s, not {rate:g}")
    if not 0 < duration <= LIMITS["duration"]:
        raise ConfigError(f"duration must be in (0, {LIMITS['duration']:,.0f}] s, "
                          f"not {duration:g}")
    size = number("payload", payload)
    if size != int(size) or not 0 <= size <= LIMITS["payload"]:
        raise ConfigError(f"payload must be a whole number of bytes in [0, "
                          f"{LIMITS['payload']:,.0f}], not {payload!r}")
    return rate, int(size), duration


def cors_options(origin: str) -> dict[str, dict[str, Any]]:
    """Server options (`wslab.runner.lab.Lab`'s ``server_options``) letting the
    page at ``origin`` read the HTTP transports' responses."""
    return {name: {"cors": origin} for name in CORS_TRANSPORTS}


class LivePublisher:
    """In the server child: publishes a fixed-rate stream in the background,
    on request, continuing the hub's seqs (a page already subscribed keeps
    its place: no reset, so nothing looks lost or repeated)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.task: asyncio.Task[None] | None = None
        self.params: dict[str, Any] = {}
        self.published = 0  # by the current (or last) publish
        self.ends_ns = 0

    def handlers(self) -> dict[str, Callable[..., Awaitable[dict[str, Any]]]]:
        """The server child's commands for the live page."""
        return {"live_start": self.start, "live_stop": self.stop, "live_status": self.status}

    async def start(self, rate: float, payload: int, duration: float) -> dict[str, Any]:
        """Stop any stream in progress and publish ``rate`` events/s of
        ``payload`` bytes for ``duration`` s (bounded by `LIMITS`)."""
        rate, payload, duration = check_publish(rate, payload, duration)
        await self.stop()
        self.params = {"rate": rate, "payload": payload, "duration": duration}
        self.published = 0
        self.ends_ns = time.monotonic_ns() + int(duration * 1e9)
        self.task = asyncio.create_task(self._publish(rate, payload, duration))
        return await self.status()

    async def _publish(self, rate: float, payload: int, duration: float) -> None:
        hub, loop = self.hub, asyncio.get_running_loop()
        pool = PayloadPool(payload, seed=hub.last_seq)
        t0 = loop.time()
        for k in range(max(1, math.floor(rate * duration))):
            # open loop on a fixed grid, as wslab.runner.server.publish_schedule
            delay = t0 + k / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.001:
                await asyncio.sleep(0)  # behind: let the loop write between events
            seq = hub.last_seq + 1
            hub.publish(Event.make(seq, time.monotonic_ns(), pool.payload(seq)))
            self.published += 1

    async def stop(self) -> dict[str, Any]:
        """Stop publishing (the events out so far stay in the history)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        self.task = None
        return await self.status()

    async def status(self) -> dict[str, Any]:
        """Whether a stream is being published, its parameters and progress,
        and the last seq (where a new subscriber starts)."""
        running = self.task is not None and not self.task.done()
        return {"publishing": running, **self.params, "published": self.published,
                "last_seq": self.hub.last_seq,
                "ends_in_s": max(0.0, (self.ends_ns - time.monotonic_ns()) / 1e9)
                if running else 0.0}


class LivePage:
    """The page's HTTP server, in the ``wslab serve`` process.

    Its socket is bound at construction (loopback, port 0), so that its
    origin is known before the transport servers start (`cors_options`).
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = check_loopback(host)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, 0))
        port = self._sock.getsockname()[1]
        shown = f"[{self.host}]" if family == socket.AF_INET6 else self.host
        #: what the transports allow to read their responses
        self.origin = f"http://{shown}:{port}"
        self.url = f"{self.origin}/"
        self._request: Callable[..., dict[str, Any]] | None = None
        self._urls: dict[str, str] = {}
        self._lock: asyncio.Lock | None = None

    def close(self) -> None:
        """Close the socket (`serve` closes it when it ends)."""
        self._sock.close()

    async def serve(self, request: Callable[..., dict[str, Any]], urls: dict[str, str],
                    rate: float, payload: int, duration: float) -> None:
        """Serve the page for ``duration`` s while the server publishes ``rate``
        events/s of ``payload`` bytes (the page may stop and restart it).

        ``request(cmd, **args)``: a blocking command to the server child
        (`wslab.core.proc.ChildProcess.request`), run in a thread, one at a time.
        """
        self._request, self._lock = request, asyncio.Lock()
        self._urls = {name: urls[name] for name in BROWSER_TRANSPORTS}
        app = web.Application(client_max_size=4096)
        app.router.add_get("/", self._page)
        app.router.add_get("/clock", self._clock)
        app.router.add_get("/status", self._status)
        app.router.add_post("/control", self._control)
        runner = web.AppRunner(app, access_log=None, handle_signals=False,
                               shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.SockSite(runner, self._sock).start()
            await self._child("live_start", rate=rate, payload=payload, duration=duration)
            await asyncio.sleep(duration)
        finally:
            await runner.cleanup()
            self.close()

    async def _child(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self._request is not None and self._lock is not None  # set by serve
        async with self._lock:  # the child protocol is one request, one reply
            return await asyncio.to_thread(self._request, cmd, **args)

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE.read_text(), content_type="text/html",
                            headers=ISOLATION_HEADERS)

    async def _clock(self, request: web.Request) -> web.Response:
        # a decimal string: CLOCK_MONOTONIC in ns can exceed 2**53, a JS
        # number's exact range; the page reads it as a BigInt
        return web.Response(text=str(time.monotonic_ns()),
                            headers={"Cache-Control": "no-store"})

    async def _status(self, request: web.Request) -> web.Response:
        status = await self._child("live_status")
        return web.json_response({"status": _public(status), "transports": self._urls,
                                  "limits": LIMITS},
                                 headers={"Cache-Control": "no-store"})

    async def _control(self, request: web.Request) -> web.Response:
        origin = request.headers.get("Origin")
        if origin is not None and origin != self.origin:
            raise web.HTTPForbidden(text=f"control is for the page at {self.origin} only")
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="control takes a JSON body")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="control takes a JSON object") from None
        action = body.get("action") if isinstance(body, dict) else None
        if action == "stop":
            status = await self._child("live_stop")
        elif action == "start":
            try:
                rate, payload, duration = check_publish(body.get("rate"), body.get("payload"),
                                                        body.get("duration"))
            except ConfigError as exc:
                raise web.HTTPBadRequest(text=str(exc)) from None
            status = await self._child("live_start", rate=rate, payload=payload,
                                       duration=duration)
        else:
            raise web.HTTPBadRequest(text=f"action must be start or stop, not {action!r}")
        return web.json_response({"status": _public(status)})


def _public(reply: dict[str, Any]) -> dict[str, Any]:
    """A child's reply without the protocol's own keys."""
    return {k: v for k, v in reply.items() if k != "ok"}
