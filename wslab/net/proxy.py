"""The impairment proxy: a TCP proxy on loopback that applies toxics (`wslab.net.toxics`).

A `Proxy` listens on loopback; for every client it accepts it opens one
`Connection` to its *upstream* (the real server) and forwards bytes both
ways, through the two directions of `wslab.net.pipe`. Toxics are drawn per
connection (``toxicity``, seeded); the timing toxics act through
`wslab.net.schedule`, the connection toxics (``idle_cut``, ``reset_peer``)
through the connection's timers. The HTTP-aware toxics (``strip_upgrade``,
``buffer``) give the connection's pipes a filter (`wslab.net.middlebox`);
the timed faults (``outage``) fire from `Proxy.arm` on (`wslab.net.outage`).

A connection closes when both directions have seen EOF, or at once when
either side fails, a reset (RST) being passed on as a reset.
There is no ``tc netem`` on these machines; this proxy stands in for it.
The process form and command line are in `wslab.net.proxy_process`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..core.addresses import check_loopback, netloc, parse_address, same_host
from ..core.errors import ConfigError, RunError
from .middlebox import Chain, RequestWatch, ResponseBuffer, UpgradeStripper
from .outage import FaultClock
from .pipe import Pipe, Side
from .toxics import STREAMS, Buffer, IdleCut, Outage, ResetPeer, StripUpgrade, Toxic, load_toxics

__all__ = ["Connection", "Proxy"]


def _set_linger0(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Connection:
    """One proxied connection, and its byte counts (for checking and for stats)."""

    def __init__(self, proxy: Proxy, cid: int) -> None:
        self.proxy = proxy
        self.id = cid
        self.loop = proxy._loop
        self.opened = self.loop.time()
        self.closed: float | None = None
        self.close_reason = ""
        self.client_address: tuple[Any, ...] | None = None
        self.closing = False
        self.client = Side(self, "client")
        self.upstream: Side | None = None
        self.pipes: dict[str, Pipe] = {}
        self._connect_task: asyncio.Task | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self.last_activity = self.opened
        self.toxics = proxy._draw_toxics(cid)
        self.idle_timeout = min((t.timeout / 1e3 for t in self.toxics if isinstance(t, IdleCut)),
                                default=None)
        self.watch_idle = self.idle_timeout is not None
        # timed faults (wslab.net.outage) act through these two instants (loop clock)
        self.watch_faults = any(isinstance(t, Outage) for t in self.toxics)
        self.stall_until = 0.0
        self.dark_until = 0.0
        self.finished = self.loop.create_future()

    # -- counts ---------------------------------------------------------------
    def _count(self, stream: str, what: str) -> int:
        pipe = self.pipes.get(stream)
        return getattr(pipe, what) if pipe is not None else 0

    @property
    def bytes_upstream(self) -> int:
        """Bytes forwarded client → server."""
        return self._count("upstream", "forwarded")

    @property
    def bytes_downstream(self) -> int:
        """Bytes forwarded server → client."""
        return self._count("downstream", "forwarded")

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.id,
            "client": list(self.client_address or ()),
            "opened": self.opened,
            "closed": self.closed,
            "close_reason": self.close_reason,
            "toxics": [str(t) for t in self.toxics],
        }
        for stream in STREAMS:
            for what in ("received", "forwarded", "dropped"):
                row[f"{what}_{stream}"] = self._count(stream, what)
        return row

    # -- life cycle -----------------------------------------------------------
    def _side_made(self, side: Side) -> None:
        if side is self.client:
            self.client_address = side.transport.get_extra_info("peername")
            side.transport.pause_reading()  # until the upstream connection is up
            if self.watch_faults and self.proxy.faults.on_accept(self):
                self.close("outage reset", reset=True)  # the server is "down": refuse at once
                return
            self._connect_task = self.loop.create_task(self._connect())
            return
        # the upstream socket: wire both directions before either can read
        if self.closing:
            side.transport.abort()
            return
        client, limit = self.client, self.proxy.buffer_limit
        by_stream = {s: [t for t in self.toxics if t.stream == s and not t.connection_level]
                     for s in STREAMS}
        up_http, down_http = self._http_filters()
        up = Pipe(self, "upstream", client, side, by_stream["upstream"], limit, up_http)
        down = Pipe(self, "downstream", side, client, by_stream["downstream"], limit, down_http)
        self.pipes = {"upstream": up, "downstream": down}
        client.out, side.into, side.out, client.into = up, up, down, down
        for t in self.toxics:
            if isinstance(t, ResetPeer):
                self._timers.append(self.loop.call_later(t.timeout / 1e3, self._reset_peer, t))
        if self.watch_idle:
            self.last_activity = self.loop.time()
            self._timers.append(self.loop.call_at(
                self.last_activity + self.idle_timeout, self._check_idle))
        client.transport.resume_reading()

    def _http_filters(self) -> tuple[Any, Any]:
        """The HTTP-aware toxics' filters for (upstream, downstream); None where none applies."""
        up: Any = None
        down: Any = None
        buffer = next((t for t in self.toxics if isinstance(t, Buffer)), None)
        if buffer is not None:
            down = ResponseBuffer(buffer.size, pass_head=buffer.head == "pass")
            up = RequestWatch(down)  # a response's framing needs its request's method
        if any(isinstance(t, StripUpgrade) for t in self.toxics):
            strip = UpgradeStripper()
            up = strip if up is None else Chain(strip, up)
        return up, down

    def _reset_peer(self, toxic: Toxic) -> None:
        if not self.closing:
            self.proxy.faults.record("reset_peer", toxic, self)
            self.close("reset_peer", True)

    async def _connect(self) -> None:
        host, port = self.proxy.upstream
        try:
            await asyncio.wait_for(
                self.loop.create_connection(self._make_upstream, host, port),
                self.proxy.connect_timeout)
        except (TimeoutError, OSError) as exc:
            self.close(f"upstream connect failed: {exc!r}", reset=True)
        finally:  # also when close() cancelled us
            self._maybe_finished()

    def _make_upstream(self) -> Side:
        self.upstream = Side(self, "upstream")
        return self.upstream

    def _check_idle(self) -> None:
        deadline = self.last_activity + self.idle_timeout
        if self.loop.time() >= deadline:
            self.close("idle_cut")
        else:
            self._timers.append(self.loop.call_at(deadline, self._check_idle))

    def _direction_done(self) -> None:
        if all(p.eof_out for p in self.pipes.values()):
            self.close("eof")

    def close(self, reason: str, reset: bool = False) -> None:
        """Close both sides (flushing what was written), or reset both (RST) when ``reset``."""
        if self.closing:
            return
        self.closing = True
        self.close_reason = reason
        self.closed = self.loop.time()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for pipe in self.pipes.values():
            pipe.stop()
        if self._connect_task is not None and not self._connect_task.done() \
                and self._connect_task is not asyncio.current_task():
            self._connect_task.cancel()
        for side in (self.client, self.upstream):
            if side is not None and side.transport is not None and not side.gone:
                if reset:
                    _set_linger0(side.transport)
                    side.transport.abort()
                else:
                    side.transport.close()
        self._maybe_finished()

    def _side_lost(self, side: Side, exc: Exception | None) -> None:
        side.gone = True
        if not self.closing:
            what = "reset" if exc is not None else "closed"
            self.close(f"{side.role} {what}", reset=exc is not None)
        self._maybe_finished()

    def _maybe_finished(self) -> None:
        if not self.closing or self.finished.done():
            return
        if self._connect_task is not None and not self._connect_task.done() \
                and self._connect_task is not asyncio.current_task():
            return  # _connect ends with another call
        sides = [s for s in (self.client, self.upstream) if s is not None and s.transport]
        if all(s.gone for s in sides):
            self.finished.set_result(None)
            self.proxy._finished(self)


class Proxy:
    """A TCP proxy from ``listen`` (loopback only) to ``upstream``, applying ``toxics``.

    >>> from wslab.net.toxics import toxics_from_args
    >>> proxy = await Proxy(("127.0.0.1", 8080), toxics_from_args(delay="25ms")).start()
    >>> proxy.url_for("ws://127.0.0.1:8080/ws")     # -> 'ws://127.0.0.1:<proxy port>/ws'
    >>> proxy.stats()["bytes_downstream"]
    >>> await proxy.close()

    ``toxics``: `Toxic` objects, dicts or CLI strings (see `load_toxics`).
    ``buffer_limit``: bytes a direction may hold in its toxic queue before it
    stops reading. ``name`` and ``seed`` key the per-connection random draws.
    """

    def __init__(self, upstream: str | Sequence[Any],
                 toxics: Iterable[Toxic | dict[str, Any] | str] = (),
                 listen: str | Sequence[Any] = ("127.0.0.1", 0), *, seed: int = 0,
                 name: str = "proxy", buffer_limit: int = 1 << 20,
                 connect_timeout: float = 10.0, backlog: int = 4096) -> None:
        up_host, up_port = parse_address(upstream)
        # the proxy connects only to loopback servers, as it listens only there
        self.upstream = (check_loopback(up_host, "upstream host"), up_port)
        host, port = parse_address(listen)
        self.listen = (check_loopback(host, "listen host"), port)
        self.toxics = load_toxics(toxics, seed=seed)
        self.seed = seed
        self.name = name
        if buffer_limit <= 0:
            raise ConfigError(f"buffer_limit must be positive, got {buffer_limit!r}")
        self.buffer_limit = int(buffer_limit)
        self.connect_timeout = connect_timeout
        self.backlog = backlog
        self.connections: list[Connection] = []
        self._open: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Event | None = None
        self.port: int | None = None
        self.faults = FaultClock(self)

    async def start(self) -> Proxy:
        """Bind and start accepting; returns the proxy (``.port`` is the bound port)."""
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Event()
        self._idle.set()
        self._server = await self._loop.create_server(
            self._accept, self.listen[0], self.listen[1], backlog=self.backlog,
            reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def arm(self, start_at_ns: int | None = None) -> int:
        """Fix the instant the ``outage`` toxics count from: ``start_at_ns`` on
        CLOCK_MONOTONIC (``time.monotonic_ns()``), or now; returns it. Once only;
        unarmed, timed faults never fire."""
        if self._server is None:
            raise RunError("start the proxy before arming it")
        return self.faults.arm(start_at_ns)

    async def __aenter__(self) -> Proxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def address(self) -> tuple[str, int]:
        if self.port is None:
            raise RuntimeError("the proxy is not started")
        return self.listen[0], self.port

    def url_for(self, url: str) -> str:
        """``url`` (``tcp://``, ``ws://``, ``http://``, ... or ``host:port``) with its
        host:port replaced by the proxy's; refused if it does not point at the upstream."""
        host, port = parse_address(url)
        up_host, up_port = self.upstream
        if port != up_port or not same_host(host, up_host):
            raise ConfigError(f"{url!r} does not point at this proxy's upstream "
                              f"{netloc(up_host, up_port)}")
        here = netloc(*self.address)
        if "://" not in url:
            return here
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{here}" if userinfo else here))

    def _accept(self) -> Side:
        conn = Connection(self, len(self.connections))
        self.connections.append(conn)
        self._open.add(conn)
        self._idle.clear()
        return conn.client

    def _draw_toxics(self, cid: int) -> list[Toxic]:
        active = []
        for i, toxic in enumerate(self.toxics):
            if toxic.toxicity >= 1.0:
                active.append(toxic)
            elif toxic.toxicity > 0.0:
                # the module's former name stays in the seed string: same draws as before
                rng = random.Random(f"wslab.netem|{self.name}|{self.seed}|{cid}|{i}|{toxic.seed}")
                if rng.random() < toxic.toxicity:
                    active.append(toxic)
        return active

    def _finished(self, conn: Connection) -> None:
        self._open.discard(conn)
        if not self._open:
            self._idle.set()

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def stats(self, connections: bool = False) -> dict[str, Any]:
        """Totals over every connection so far (and one row per connection if asked),
        ``armed_at_ns`` and ``faults``: every fault fired (`wslab.net.outage.FaultClock`:
        ``kind``, ``mode``, ``at_ns`` on CLOCK_MONOTONIC, the ``connections`` hit)."""
        out: dict[str, Any] = {
            "listen": netloc(*self.address) if self.port is not None else None,
            "upstream": netloc(*self.upstream),
            "toxics": [str(t) for t in self.toxics],
            "connections_total": len(self.connections),
            "connections_open": len(self._open),
        }
        for stream in STREAMS:
            for what in ("received", "forwarded", "dropped"):
                out[f"{what}_{stream}"] = sum(c._count(stream, what) for c in self.connections)
        out["bytes_upstream"] = out["forwarded_upstream"]
        out["bytes_downstream"] = out["forwarded_downstream"]
        out["armed_at_ns"] = self.faults.armed_at_ns
        out["faults"] = [dict(r) for r in self.faults.records]
        if connections:
            out["connections"] = [c.to_dict() for c in self.connections]
        return out

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until no connection is open."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self, timeout: float = 2.0) -> None:
        """Stop accepting, close every connection (flushing what was written; reset
        after ``timeout`` s if a peer does not read) and wait for them to finish."""
        if self._server is None:
            return
        self._server.close()
        self.faults.stop()
        for conn in list(self._open):
            conn.close("proxy closed")
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            for conn in list(self._open):
                for side in (conn.client, conn.upstream):
                    if side is not None and side.transport is not None and not side.gone:
                        side.transport.abort()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), timeout)
        self._server = None
