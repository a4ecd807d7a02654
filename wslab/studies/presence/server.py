"""The presence server child: one mechanism, and the instant it declares each client gone.

Run as ``python -m wslab.studies.presence.server`` inside the server network
namespace (`wslab.net.netns`), one process per configuration, so that its
CPU clock is that configuration's cost. Protocol: `wslab.core.child`.

Mechanisms (``mechanism`` in the configuration):

``websocket``
    The kit's own server (`wslab.transports.websocket`, server options
    ``ping_interval`` / ``ping_timeout``). A client is gone when its handler
    returns, i.e. when the server's connection count drops; the count is
    polled every `POLL_S` once ``watch`` was sent (never during the cost
    window).
``sse``
    aiohttp with aiohttp-sse (the library the kit's SSE transport uses): a
    ``: ping`` comment every ``ping`` s and ``TCP_USER_TIMEOUT`` = ``user_timeout``
    (aiohttp-sse's ``send_timeout``, 120 s by default, scaled down here). The
    handler is cancelled when the kernel aborts the connection
    (``handler_cancellation``, as in the kit); that instant is the detection.
``long-poll``
    aiohttp: ``GET /poll?id=K`` is held ``timeout`` s and answered ``[]``. A
    presence tracker declares client K gone when no request from it arrives
    within ``timeout + grace`` s of its last one.
``keepalive``
    A raw TCP server with ``SO_KEEPALIVE`` and ``TCP_KEEPIDLE`` / ``TCP_KEEPINTVL``
    / ``TCP_KEEPCNT`` on every accepted socket; the client is gone when the
    kernel aborts the connection (the pending read fails).

Commands: ``cpu`` (this process's CPU clock and live connections),
``watch`` (start polling the websocket count), ``report`` (detection
instants, CLOCK_MONOTONIC ns), ``stop``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp_sse import sse_response

from ...core.child import Channel, run_child
from ...core.hub import Hub
from ...transports import Bind
from ...transports.websocket import WebSocketTransport

__all__ = ["MECHANISMS", "POLL_S"]

MECHANISMS = ("websocket", "sse", "long-poll", "keepalive")
POLL_S = 0.005  # how often the websocket connection count is read while watching


class _State:
    def __init__(self) -> None:
        self.detections: list[int] = []
        self.live = 0


async def _web(app: web.Application, host: str) -> tuple[int, Callable]:
    # handler_cancellation as in the kit (wslab.transports._http): a handler
    # whose connection the kernel closed is cancelled at once
    runner = web.AppRunner(app, access_log=None, handle_signals=False,
                           handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, 0, backlog=4096)
    await site.start()
    return runner.addresses[0][1], runner.cleanup


async def _sse(state: _State, host: str, p: dict) -> tuple[int, Callable]:
    async def stream(request: web.Request) -> web.StreamResponse:
        state.live += 1
        try:
            async with sse_response(request, ping_interval=float(p["ping"]),
                                    send_timeout=float(p["user_timeout"])) as resp:
                await resp.wait()  # until the ping task ends (a failed write)
        finally:
            state.live -= 1
            state.detections.append(time.monotonic_ns())
        return resp

    app = web.Application()
    app.router.add_get("/sse", stream)
    return await _web(app, host)


async def _long_poll(state: _State, host: str, p: dict) -> tuple[int, Callable]:
    timeout, grace = float(p["timeout"]), float(p["grace"])
    loop = asyncio.get_running_loop()
    deadlines: dict[str, asyncio.TimerHandle] = {}

    def gone(client: str) -> None:
        deadlines.pop(client, None)
        state.live -= 1
        state.detections.append(time.monotonic_ns())

    async def poll(request: web.Request) -> web.Response:
        client = request.query.get("id", "")
        old = deadlines.pop(client, None)
        if old is not None:
            old.cancel()
        else:
            state.live += 1
        # The presence rule: the next request is due when this one is answered
        # (timeout s from now) plus one transit; `grace` covers the transit.
        deadlines[client] = loop.call_later(timeout + grace, gone, client)
        await asyncio.sleep(timeout)  # held: no events in a presence run
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/poll", poll)
    return await _web(app, host)


async def _keepalive(state: _State, host: str, p: dict) -> tuple[int, Callable]:
    opts = ((socket.TCP_KEEPIDLE, p["idle"]), (socket.TCP_KEEPINTVL, p["interval"]),
            (socket.TCP_KEEPCNT, p["count"]))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for opt, value in opts:  # whole seconds: the socket options are ints (tcp(7))
            sock.setsockopt(socket.IPPROTO_TCP, opt, int(value))
        state.live += 1
        try:
            await reader.read()  # the client sends nothing: EOF or the kernel's abort
        except OSError:
            pass  # ETIMEDOUT: keepalive gave up
        finally:
            state.live -= 1
            state.detections.append(time.monotonic_ns())
            writer.close()

    server = await asyncio.start_server(handle, host, 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]

    async def close() -> None:
        server.close()

    return port, close


async def _setup(config: dict[str, Any], channel: Channel):
    mechanism, host, params = config["mechanism"], config["host"], config.get("params", {})
    state = _State()
    watcher: asyncio.Task | None = None
    count: Callable[[], int] = lambda: state.live  # noqa: E731
    if mechanism == "websocket":
        endpoint = await WebSocketTransport().start_server(
            Hub(16), Bind(host, 0),
            {"ping_interval": params["ping_interval"], "ping_timeout": params["ping_timeout"]})
        port, close = int(endpoint.url.rsplit(":", 1)[1].strip("/")), endpoint.close
        assert endpoint.connections is not None
        count = endpoint.connections
    elif mechanism == "sse":
        port, close = await _sse(state, host, params)
    elif mechanism == "long-poll":
        port, close = await _long_poll(state, host, params)
    elif mechanism == "keepalive":
        port, close = await _keepalive(state, host, params)
    else:
        raise ValueError(f"mechanism must be one of {', '.join(MECHANISMS)}, not {mechanism!r}")

    async def watch_count() -> None:
        # the kit's websocket server reports live connections, not departures:
        # each drop of the count is one client declared gone
        last = count()
        while True:
            await asyncio.sleep(POLL_S)
            now, live = time.monotonic_ns(), count()
            state.detections.extend([now] * max(last - live, 0))
            last = live

    async def cpu() -> dict:
        return {"cpu_ns": time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID),
                "t_ns": time.monotonic_ns(), "live": count()}

    async def watch() -> dict:
        nonlocal watcher
        if mechanism == "websocket" and watcher is None:
            watcher = asyncio.create_task(watch_count())
        return {"live": count()}

    async def report() -> dict:
        return {"detections": list(state.detections), "live": count()}

    async def stop() -> dict:
        if watcher is not None:
            watcher.cancel()
        await close()
        return {}

    channel.send({"ok": True, "port": port})
    return {"cpu": cpu, "watch": watch, "report": report, "stop": stop, "close": stop}


if __name__ == "__main__":
    run_child(_setup)
