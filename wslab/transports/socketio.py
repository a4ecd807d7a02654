"""``socketio``: Socket.IO (python-socketio on aiohttp) at both ends.

The server is `socketio.AsyncServer` attached to an aiohttp application; the
client is `socketio.AsyncClient`. Each Hub event goes out as one Socket.IO
EVENT named ``"e"`` whose argument is the kit's JSON body, so the Engine.IO
message carries ``42["e",<body>]`` (Engine.IO packet type ``4`` MESSAGE,
Socket.IO packet type ``2`` EVENT, then the JSON array; the Socket.IO
protocol v5 and Engine.IO protocol v4 specifications). The body is parsed
once per event and re-encoded by Socket.IO with compact separators, which
gives back the kit's body byte for byte.

Client option ``mode`` picks Engine.IO's transports (``transports=[...]``):

- ``websocket``: a WebSocket from the start (``/socket.io/?EIO=4&transport=websocket``);
- ``polling``: HTTP long polling only (a held ``GET`` per batch, a ``POST``
  per client packet such as the heartbeat's pong);
- ``upgrade`` (Socket.IO's default): the polling handshake, then the upgrade
  to a WebSocket (``2probe`` / ``3probe`` / ``5``) on the same session.

The server emits each event to rooms (server option ``rooms``, default 1;
clients are spread over them round robin) through one sender task, so joins
and events keep one order. Socket.IO has no resume: a client that
reconnects (with Socket.IO's own reconnection, enabled by the kit's
``reconnect`` option) gets only what is published after it rejoins, and the
rest is lost -- which is what a run measures. The client option ``resume``
(not Socket.IO's) sends the last seq in the CONNECT auth payload and the
server replays its history after it, the kit's resume beside Socket.IO's none.

Bytes are counted at the client, by the kernel, over every TCP connection an
Engine.IO session used (the aiohttp connector's socket factory keeps a
duplicate of each socket): polling uses two (the held ``GET`` and the
``POST``), the upgrade one or two. One connection row is one Engine.IO
session; a row's bytes include the failed attempts before it.

Heartbeat: the server pings every ``ping_interval`` s and expects the pong
within ``ping_timeout`` s (server options; Socket.IO's defaults 25 s / 20 s).
HTTP compression of polling responses is off unless the server option
``http_compression`` is true, as WebSocket compression is off by default in
the kit: bytes then compare framing with framing.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import socketio
from aiohttp import web

from ..core.errors import ConfigError
from ..core.events import Event
from ..core.hub import Hub
from ..core.meter import ConnCounters, tcp_info
from . import register
from ._http import start_app
from .base import Bind, ClientContext, Endpoint, Transport
from .reconnect import backoff_from_options

__all__ = ["DEFAULT_PING_INTERVAL", "DEFAULT_PING_TIMEOUT", "EVENT", "MODES", "SocketIoTransport",
           "connect_timed"]

#: client option ``mode`` -> Engine.IO's ``transports`` list
MODES: dict[str, list[str]] = {"websocket": ["websocket"], "polling": ["polling"],
                               "upgrade": ["polling", "websocket"]}
EVENT = "e"  # one letter, as the kit's JSON keys: the name is sent with every event
DEFAULT_PING_INTERVAL = 25.0  # Socket.IO's pingInterval, s
DEFAULT_PING_TIMEOUT = 20.0  # Socket.IO's pingTimeout, s
_CONNECT_TIMEOUT = 60.0  # handshakes under a 10,000-client herd take seconds


def _server_options(options: Mapping[str, Any]) -> dict[str, Any]:
    allowed = ("ping_interval", "ping_timeout", "rooms", "http_compression")
    unknown = set(options) - set(allowed)
    if unknown:
        raise ConfigError(f"unknown socketio server option(s) {', '.join(sorted(unknown))}; "
                          f"allowed: {', '.join(allowed)}")
    out = {"ping_interval": DEFAULT_PING_INTERVAL, "ping_timeout": DEFAULT_PING_TIMEOUT,
           "rooms": 1, "http_compression": False, **options}
    for name in ("ping_interval", "ping_timeout"):
        v = out[name]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 3600:
            raise ConfigError(f"{name} must be a number of seconds in (0, 3600], not {v!r}")
    rooms = out["rooms"]
    if isinstance(rooms, bool) or not isinstance(rooms, int) or not 1 <= rooms <= 10_000:
        raise ConfigError(f"rooms must be an integer from 1 to 10000, not {rooms!r}")
    if not isinstance(out["http_compression"], bool):
        raise ConfigError(f"http_compression must be true or false, "
                          f"not {out['http_compression']!r}")
    return out


class _Fanout:
    """The server's sender: events and joins, one at a time, in publish order.

    A join is queued behind the events published before it; when the sender
    reaches it, every earlier event has been emitted without the new member,
    so replaying the history after ``since`` up to `dispatched` and then
    entering the room leaves no gap and repeats nothing.
    """

    def __init__(self, sio: socketio.AsyncServer, hub: Hub, rooms: int) -> None:
        self.sio, self.hub = sio, hub
        self.rooms = [f"r{k}" for k in range(rooms)]
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.members: set[str] = set()
        self.pending = 0  # joins queued, not yet served
        self.dispatched = 0  # the last seq emitted (to nobody, if no member)
        self._next_room = 0
        self.task: asyncio.Task | None = None

    def on_publish(self, event: Event) -> None:
        # Runs on every publish whichever transport is measured: nothing to
        # do when nobody listens (the seq is then dispatched to nobody).
        if self.members or self.pending:
            self.queue.put_nowait(event)
        else:
            self.dispatched = max(self.dispatched, event.seq)

    def join(self, sid: str, since: int | None) -> None:
        self.pending += 1
        self.queue.put_nowait((sid, since))

    async def run(self) -> None:
        sio, to = self.sio, (self.rooms[0] if len(self.rooms) == 1 else self.rooms)
        while True:
            item = await self.queue.get()
            if isinstance(item, Event):
                self.dispatched = max(self.dispatched, item.seq)
                if self.members:
                    await sio.emit(EVENT, json.loads(item.body), to=to)
                continue
            sid, since = item
            if sio.manager.is_pre_connected(sid, "/"):
                # The connect handler queued this join before the server sent
                # the CONNECT packet: anything emitted to the sid now could
                # reach the client ahead of it. Serve the join again behind
                # later events; the replay up to `dispatched` covers them.
                await asyncio.sleep(0.001)
                self.queue.put_nowait(item)
                continue
            # The join stays pending until the sid is in its room: each emit of
            # the replay yields, and an event published meanwhile must queue
            # behind this join (and reach the room) rather than be dispatched
            # to nobody, as it was when this sid was the only client (lost).
            if since is not None:  # the kit's resume, not Socket.IO's
                for event in self.hub.events_after(since):
                    if event.seq > self.dispatched:
                        break
                    await sio.emit(EVENT, json.loads(event.body), to=sid)
            if sid in sio.manager.rooms.get("/", {}).get(None, {}):  # still connected
                room = self.rooms[self._next_room % len(self.rooms)]
                self._next_room += 1
                await sio.enter_room(sid, room)
                self.members.add(sid)
            self.pending -= 1


class _Meter:
    """The client session's socket factory: keeps a duplicate descriptor of
    every socket the connector opens, and sums their kernel counters."""

    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self.socks: list[tuple[socket.socket, socket.socket]] = []
        self.banked = ConnCounters()  # sockets already closed and read
        self.requests = self.responses = 0

    def __call__(self, addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, _ = addr_info
        sock = self.ctx.new_socket(family, type_, proto)
        self.socks.append((sock, sock.dup()))
        return sock

    def total(self, release: bool = False) -> ConnCounters:
        """Counters summed over every socket so far; a socket the library has
        closed (or all, with ``release``) is read a last time and let go."""
        total, keep = self.banked, []
        for sock, held in self.socks:
            try:
                c = tcp_info(held)
            except OSError:
                c = ConnCounters()
            if release or sock.fileno() == -1:
                self.banked = _add(self.banked, c)
                held.close()
            else:
                keep.append((sock, held))
            total = _add(total, c)
        self.socks = keep
        return total


def _add(a: ConnCounters, b: ConnCounters, sign: int = 1) -> ConnCounters:
    return ConnCounters(a.bytes_up + sign * b.bytes_up, a.bytes_down + sign * b.bytes_down,
                        a.segs_up + sign * b.segs_up, a.segs_down + sign * b.segs_down)


def _session(meter: _Meter, tls: ssl.SSLContext | None) -> aiohttp.ClientSession:
    """One session per client; two connections at most (a held polling GET and a
    POST); ``tls``: the run's client context (https and wss), or None."""
    trace = aiohttp.TraceConfig()

    async def started(*_: Any) -> None:
        meter.requests += 1

    async def ended(*_: Any) -> None:
        meter.responses += 1

    trace.on_request_start.append(started)
    trace.on_request_end.append(ended)
    connector = aiohttp.TCPConnector(limit=2, socket_factory=meter,
                                     ssl=tls if tls is not None else True)
    return aiohttp.ClientSession(connector=connector, trace_configs=[trace],
                                 timeout=aiohttp.ClientTimeout(total=None, sock_connect=60))


class _Session:
    """A client's accounting between two rows: totals at the last row's end, the current row."""

    def __init__(self) -> None:
        self.base = ConnCounters()
        self.requests = self.responses = 0
        self.key: object | None = None  # the current row's (one per Engine.IO session)
        self.stopping = False


class _Client(socketio.AsyncClient):
    """Socket.IO's client, counting the reconnection attempts that fail."""

    def __init__(self, ctx: ClientContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wslab_ctx = ctx

    async def connect(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().connect(*args, **kwargs)
        except socketio.exceptions.ConnectionError:
            if self.wslab_ctx.is_ready.is_set():  # a reconnection attempt, not the first
                self.wslab_ctx.conn.attempt_failed()
            raise


def _reconnection(options: Mapping[str, Any]) -> dict[str, Any]:
    """The kit's reconnect options as Socket.IO's: waits doubling from
    ``backoff_base`` up to ``backoff_cap``. python-socketio adds a random
    ``±randomization_factor`` *seconds* (the JavaScript client multiplies by
    1 ± factor): jitter ``none`` gives 0, any other ± half the first wait."""
    backoff = backoff_from_options(options)
    if backoff is None:
        return {"reconnection": False}
    return {"reconnection": True, "reconnection_delay": backoff.base,
            "reconnection_delay_max": backoff.cap,
            "randomization_factor": 0.0 if backoff.jitter == "none" else backoff.base / 2}


async def _close(sio: socketio.AsyncClient, within: float = 0.5) -> None:
    """Disconnect (a ``41`` and an Engine.IO ``1`` CLOSE), or stop reconnecting.

    In polling mode python-engineio 4.15's disconnect waits for its held
    ``GET``, which the server answers only at the next ping (25 s by
    default; seen here: no answer within 5 s); after ``within`` s its tasks
    are cancelled instead (the sockets are closed with the session)."""
    try:
        async with asyncio.timeout(within):
            await sio.shutdown()
    except TimeoutError:
        for task in (sio.eio.read_loop_task, sio.eio.write_loop_task):
            if task is not None:
                task.cancel()


@register
class SocketIoTransport(Transport):
    name = "socketio"
    description = "Socket.IO (python-socketio on aiohttp): websocket, polling or upgrade"
    delivery = "push"  # in polling mode it is long polling underneath (see the docstring)
    baseline = False  # not one of the five every comparison measures
    client_options = {"mode": "upgrade", "resume": False}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        if merged["mode"] not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {merged['mode']!r}")
        if not isinstance(merged["resume"], bool):
            raise ConfigError(f"resume must be true or false, not {merged['resume']!r}")
        return merged

    async def start_server(self, hub: Hub, bind: Bind, options: dict) -> Endpoint:
        opts = _server_options(options)
        sio = socketio.AsyncServer(async_mode="aiohttp", ping_interval=opts["ping_interval"],
                                   ping_timeout=opts["ping_timeout"],
                                   http_compression=opts["http_compression"],
                                   max_http_buffer_size=2**21)
        fanout = _Fanout(sio, hub, opts["rooms"])
        hub.subscribe(fanout.on_publish)

        async def connect(sid: str, environ: dict, auth: Any = None) -> None:
            since = auth.get("since") if isinstance(auth, dict) else None
            if since is not None and (isinstance(since, bool) or not isinstance(since, int)
                                      or since < 0):
                raise socketio.exceptions.ConnectionRefusedError(
                    "since must be a non-negative integer")
            fanout.join(sid, since)

        async def disconnect(sid: str, *_: Any) -> None:
            fanout.members.discard(sid)

        sio.on("connect", connect)
        sio.on("disconnect", disconnect)
        app = web.Application()
        sio.attach(app)
        fanout.task = asyncio.ensure_future(fanout.run())
        endpoint = await start_app(app, bind, "/", lambda: len(sio.eio.sockets))
        close_app = endpoint.close

        async def close() -> None:
            if fanout.task is not None:
                fanout.task.cancel()
            await close_app()

        endpoint.close = close
        return endpoint

    async def connect_once(self, ctx: ClientContext) -> None:
        meter = _Meter(ctx)
        http = _session(meter, ctx.tls)
        sio = _Client(ctx, http_session=http, handle_sigint=False,
                      request_timeout=_CONNECT_TIMEOUT, **_reconnection(ctx.options))
        state = _Session()
        done = asyncio.Event()
        clock = time.monotonic_ns

        def settle(setup: bool = False) -> None:
            """The current row's bytes and requests: what the session used since the last row."""
            total = meter.total()
            ctx.conn.set_totals(state.key, _add(total, state.base, -1),
                                meter.requests - state.requests,
                                meter.responses - state.responses, setup=setup)

        async def on_event(data: dict) -> None:
            ctx.record(data["seq"], data["t"], clock())

        async def on_connect() -> None:
            state.key = object()  # one row per Engine.IO session
            ctx.conn.open(state.key, None)
            settle(setup=True)

        async def on_disconnect(*_: Any) -> None:
            if state.key is None:
                return
            settle()
            state.base = meter.total()
            state.requests, state.responses = meter.requests, meter.responses
            state.key = None
            if not state.stopping:
                ctx.conn.fault(clock())
                if not sio.reconnection:
                    done.set()

        sio.on(EVENT, on_event)
        sio.on("connect", on_connect)
        sio.on("disconnect", on_disconnect)
        auth = (lambda: {"since": ctx.last_seq}) if ctx.options.get("resume") else None
        mode = ctx.options.get("mode", "upgrade")
        try:
            await sio.connect(ctx.url, auth=auth, transports=MODES[mode],
                              wait_timeout=_CONNECT_TIMEOUT)
            ctx.ready()
            await done.wait()
        finally:
            state.stopping = True
            try:
                await _close(sio)
            finally:
                await http.close()
                if state.key is not None:  # the last row, read after the close
                    ctx.conn.set_totals(state.key,
                                        _add(meter.total(release=True), state.base, -1),
                                        meter.requests - state.requests,
                                        meter.responses - state.responses)
                meter.total(release=True)
                ctx.conn.close()


async def connect_timed(url: str, mode: str, ctx: ClientContext) -> dict[str, Any]:
    """One Socket.IO connection set up and closed: seconds from the first byte
    to the namespace's CONNECT (the polling handshake, the upgrade's
    ``2probe``/``3probe``/``5`` in ``upgrade`` mode), and the bytes both ways
    until then, counted by the kernel over every socket it used."""
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    meter = _Meter(ctx)
    http = _session(meter, ctx.tls)
    sio = socketio.AsyncClient(http_session=http, handle_sigint=False, reconnection=False,
                               request_timeout=_CONNECT_TIMEOUT)
    try:
        t0 = time.monotonic_ns()
        await sio.connect(url, transports=MODES[mode], wait_timeout=_CONNECT_TIMEOUT)
        seconds = (time.monotonic_ns() - t0) / 1e9
        c = meter.total()
        transport = sio.transport()
    finally:
        await _close(sio)
        await http.close()
        meter.total(release=True)
    return {"mode": mode, "transport": transport, "seconds": seconds, "bytes_up": c.bytes_up,
            "bytes_down": c.bytes_down, "requests": meter.requests}
