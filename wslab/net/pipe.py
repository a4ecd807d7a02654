"""The data path of the impairment proxy: the two sockets and two directions of a connection.

A proxied `wslab.net.proxy.Connection` has two `Side` objects (asyncio
protocols: the client's socket and the upstream's) and two `Pipe` objects
(``upstream``: client → server, ``downstream``: server → client), each of
which reads one side and writes the other.

When no toxic applies to a connection, a pipe is a plain pass-through:
``data_received`` writes the chunk into the other side's transport at once
(asyncio sends it in the same call when its buffer is empty), with no timer
and no clock read. Otherwise a pipe holds one FIFO queue of ``(release time,
bytes)`` from its `wslab.net.schedule.Schedule` and at most one timer, for
the head of the queue. asyncio timers wake up to ~1 ms late (epoll's timeout
is in ms): a delay is never shorter than configured, and may be up to ~1 ms
longer.

An HTTP-aware toxic gives a pipe a *filter* (`wslab.net.middlebox`) that
rewrites or holds bytes before the timing toxics; only such connections parse
HTTP. A timed fault (``outage``, `wslab.net.outage`) sets the connection's
``stall_until`` (bytes wait in the queue, in order, until then) or
``dark_until`` (bytes and FIN are discarded until then).

Backpressure: when a side's write buffer passes its high-water mark, reading
from the other side pauses; a pipe's toxic queue also pauses its reader above
the proxy's ``buffer_limit`` bytes. Half-close: EOF is forwarded
(``shutdown(SHUT_WR)``) after the bytes before it. Every socket has
``TCP_NODELAY`` set (Nagle plus delayed ACK would add tens of ms; see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
from typing import TYPE_CHECKING, Any

from .schedule import Schedule
from .toxics import Blackhole, LimitData, Toxic

if TYPE_CHECKING:
    from .proxy import Connection

__all__ = ["Pipe", "Side"]

# queue markers: the FIN (after the bytes before it), and the close after limit_data
_EOF = object()
_CLOSE = object()


class Side(asyncio.Protocol):
    """One socket of a proxied connection: the client's or the upstream's."""

    def __init__(self, conn: Connection, role: str) -> None:
        self.conn = conn
        self.role = role
        self.transport: asyncio.Transport | None = None
        self.out: Pipe | None = None  # the direction that reads from this socket
        self.into: Pipe | None = None  # the direction that writes to this socket
        self.gone = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:  # asyncio sets it too; the proxy must not pay Nagle
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn._side_made(self)

    def data_received(self, data: bytes) -> None:
        self.out.feed(data)

    def eof_received(self) -> bool:
        if self.out is not None:
            self.out.eof()
        return True  # keep the socket open: the other direction may still flow

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn._side_lost(self, exc)

    def pause_writing(self) -> None:
        if self.into is not None:
            self.into.hold("dst", True)

    def resume_writing(self) -> None:
        if self.into is not None:
            self.into.hold("dst", False)


class Pipe:
    """One direction of one connection: reads ``src``, writes ``dst``."""

    def __init__(self, conn: Connection, stream: str, src: Side, dst: Side,
                 toxics: list[Toxic], limit: int, http: Any = None) -> None:
        self.conn = conn
        self.stream = stream
        self.src = src
        self.dst = dst
        self.received = 0  # bytes read from src
        self.forwarded = 0  # bytes written to dst
        self.dropped = 0  # bytes discarded (blackhole, after limit_data)
        self.eof_in = False
        self.eof_out = False
        self._holds: set[str] = set()
        self._limit_hi = limit
        self._limit_lo = limit // 4
        self.toxics = toxics
        self.schedule = Schedule(toxics, f"{conn.proxy.name}|{conn.id}|{stream}")
        self.blackhole_at: float | None = None
        self.byte_limit: int | None = None
        self._cut = False
        wired = conn.loop.time()  # "set-up": both sockets connected, as for reset_peer
        for t in toxics:
            if isinstance(t, Blackhole):
                at = wired + t.after / 1e3
                self.blackhole_at = at if self.blackhole_at is None else min(at, self.blackhole_at)
            elif isinstance(t, LimitData):
                self.byte_limit = t.bytes if self.byte_limit is None else min(t.bytes,
                                                                             self.byte_limit)
        self.queue: collections.deque[tuple[float, Any]] = collections.deque()
        self.queued = 0
        self.timer: asyncio.TimerHandle | None = None
        self._loop = conn.loop
        self.http = http  # a wslab.net.middlebox filter: feed(bytes) -> bytes, eof() -> bytes
        # the plain pass-through when nothing applies to this direction
        plain = not toxics and not conn.watch_idle and not conn.watch_faults and http is None
        self.feed = self._feed_plain if plain else self._feed_toxic

    # -- plain path: no clock, no timer ---------------------------------------
    def _feed_plain(self, data: bytes) -> None:
        n = len(data)
        self.received += n
        self.dst.transport.write(data)
        self.forwarded += n

    # -- impaired path ----------------------------------------------------------
    def _feed_toxic(self, data: bytes) -> None:
        now = self._loop.time()
        n = len(data)
        self.received += n
        conn = self.conn
        conn.last_activity = now
        if self._cut or self._dark(now):
            self.dropped += n
            return
        if self.http is not None:
            data = self.http.feed(data)
            n = len(data)
            if not n:
                return  # held by the filter
        self._forward(data, now)

    def _dark(self, now: float) -> bool:
        return (self.blackhole_at is not None and now >= self.blackhole_at) \
            or now < self.conn.dark_until

    def _forward(self, data: bytes, now: float) -> None:
        n = len(data)
        conn = self.conn
        if self.byte_limit is not None:
            room = self.byte_limit - self.forwarded - self.queued
            if n >= room:
                self.dropped += n - room
                data, n = data[:room], room
                self._cut = True
        # held bytes go first, and none leaves before a stall ends
        floor = max(conn.stall_until, self.queue[-1][0] if self.queue else now)
        if not self.schedule and not self.queue and floor <= now:
            if n:
                self._write(data)
            if self._cut:
                conn.close("limit_data")
            return
        piece = self.schedule.piece or n or 1
        view = memoryview(data) if n > piece else data
        release = floor
        for i in range(0, n, piece):
            chunk = view[i:i + piece]
            if self.schedule:
                release = max(self.schedule.release(now, len(chunk)), floor)
            self.queue.append((release, chunk))
            self.queued += len(chunk)
        if self._cut:
            self.queue.append((release, _CLOSE))
        self._arm()
        if self.queued > self._limit_hi:
            self.hold("queue", True)

    def eof(self) -> None:
        self.eof_in = True
        now = self._loop.time()
        if self._dark(now):
            return  # a black hole swallows the FIN too
        if self.http is not None:
            rest = self.http.eof()  # what the filter held goes before the FIN
            if rest and not self._cut:
                self._forward(rest, now)
        if self.queue or self.schedule or now < self.conn.stall_until:
            # the FIN travels the same path as the bytes before it
            release = self.schedule.release(now, 0) if self.schedule else 0.0
            self.queue.append((max(release, self.conn.stall_until,
                                   self.queue[-1][0] if self.queue else 0.0), _EOF))
            self._arm()
        else:
            self._write_eof()

    def _arm(self) -> None:
        if self.timer is None and self.queue:
            self.timer = self._loop.call_at(max(self.queue[0][0], self.conn.stall_until),
                                            self._flush)

    def _flush(self) -> None:
        self.timer = None
        now = self._loop.time()
        if now < self.conn.stall_until:  # a stall began after this timer was set
            self._arm()
            return
        queue = self.queue
        ready: list[Any] = []
        marker = None
        while queue and queue[0][0] <= now:
            _, item = queue.popleft()
            if item is _EOF or item is _CLOSE:
                marker = item
                break
            ready.append(item)
        if ready:
            data = b"".join(ready) if len(ready) > 1 else ready[0]
            self.queued -= len(data)
            self._write(data)
        if marker is _CLOSE:
            self.conn.close("limit_data")
            return
        if marker is _EOF:
            self._write_eof()
        self._arm()
        if self.queued <= self._limit_lo and "queue" in self._holds:
            self.hold("queue", False)

    def _write(self, data: bytes | memoryview) -> None:
        transport = self.dst.transport
        if self.eof_out or transport.is_closing():
            self.dropped += len(data)
            return
        transport.write(data)
        self.forwarded += len(data)

    def _write_eof(self) -> None:
        if self.eof_out:
            return
        self.eof_out = True
        transport = self.dst.transport
        if not transport.is_closing() and transport.can_write_eof():
            transport.write_eof()
        self.conn._direction_done()

    def hold(self, reason: str, on: bool) -> None:
        """Pause reading ``src`` while any reason holds (dst buffer full, queue full)."""
        was = bool(self._holds)
        if on:
            self._holds.add(reason)
        else:
            self._holds.discard(reason)
        now = bool(self._holds)
        transport = self.src.transport
        if was == now or self.eof_in or transport is None or transport.is_closing():
            return
        if now:
            transport.pause_reading()
        else:
            transport.resume_reading()

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        self.queued = 0

    def discard_queue(self) -> None:
        """Drop what is queued (a network that vanished loses its bytes in flight)."""
        self.dropped += self.queued
        self.stop()
        if "queue" in self._holds:
            self.hold("queue", False)
