"""What a transport is: a server side and an instrumented client side.

A transport module defines one `Transport` subclass and decorates it with
`register`. The server process calls `start_server` once per transport (each
gets its own loopback port); the fleet process runs `run_client` once per
simulated client, as a task that runs until the fleet cancels it. Clients
record every delivery with `ClientContext.record` and account for every TCP
connection they used with `ClientContext.conn` (a `ConnTracker`), whose kernel
counters the client reads last thing before the connection closes.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import time
from array import array
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..core.errors import ConfigError
from ..core.hub import Hub
from ..core.meter import ConnCounters, tcp_info
from ..core.wire import decode_header
from .reconnect import OPTIONS as RECONNECT_OPTIONS
from .reconnect import backoff_from_options, validate_reconnect_options

_IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # linux/in.h

__all__ = ["DELIVERIES", "Bind", "ClientContext", "ConnTracker", "Delivery", "Endpoint",
           "Transport", "positive_option"]

#: How a transport delivers events; the one definition of "push" in wslab.
#:
#: ``"push"``: the client opens one connection (and makes at most one request
#: on it: the WebSocket Upgrade, the SSE ``GET``; raw TCP makes none), then the
#: server sends each event as soon as it is published, on its own initiative.
#: ``"pull"``: the client asks for events, one request per response, and the
#: server can only answer a request: short polling (answered at once) and long
#: polling (held until an event exists). RFC 6202 calls long polling a way to
#: *emulate* push; its events still wait for a request whenever none is held
#: (up to three transits, RFC 6202 §2.2), so here it is pull.
Delivery = Literal["push", "pull"]
DELIVERIES: tuple[Delivery, ...] = ("push", "pull")


@dataclass(frozen=True)
class Bind:
    """Where a transport's server listens. Several server workers share one
    port with SO_REUSEPORT (the kernel spreads connections across them)."""

    host: str = "127.0.0.1"
    port: int = 0
    reuse_port: bool = False
    #: TLS (`wslab.core.tls.server_context`), or None for clear text
    ssl: ssl.SSLContext | None = None
    #: the material ``ssl`` was made from (`wslab.core.tls.TlsMaterial.server_config`),
    #: for a transport that needs a context of its own (HTTP/2 offers ALPN ``h2``)
    tls_config: dict[str, str] | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for asyncio/websockets/aiohttp listeners (not TLS:
        each library names it differently)."""
        return {"reuse_port": True} if self.reuse_port else {}

    def scheme(self, clear: str, secure: str) -> str:
        """``clear`` (e.g. ``ws``) in clear text, ``secure`` (``wss``) over TLS."""
        return secure if self.ssl is not None else clear


@dataclass
class Endpoint:
    """A running server side: where clients connect, and how to close it.

    ``close`` is a coroutine function that stops the listener; ``connections``,
    if given, returns the number of live client connections (held requests for
    long polling), which the server reports when publishing starts.
    """

    url: str
    close: Callable[[], Awaitable[None]]
    connections: Callable[[], int] | None = None


def positive_option(transport: str, name: str, value: Any, upper: float) -> float:
    """``value`` as a float in ``(0, upper]``, or `ConfigError` naming what is allowed."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}") from None
    if not (0 < v <= upper):  # also refuses NaN
        raise ConfigError(f"{name} must be > 0 and <= {upper:g} for {transport}, not {value!r}")
    return v


class Transport:
    """Base class of transports; subclasses set ``name`` and ``delivery`` and
    implement `start_server` and `connect_once` (one connection's life).

    `run_client` (here) runs `connect_once` again whenever a connection
    fails after the client was first ready, with the client's backoff
    (`wslab.transports.reconnect`); each attempt resumes from
    ``ctx.last_seq``. A failure before the client was ever ready is raised,
    so a run that cannot connect stops at once with the reason.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: "push" or "pull" (see `Delivery`), set by every transport: `register`
    #: refuses a class without it. Figures and transit estimates go by it.
    delivery: ClassVar[Delivery]
    #: one of the five transports every comparison measures (one per mechanism:
    #: raw TCP, WebSocket, SSE, long and short polling); further implementations
    #: of one mechanism and the negotiating client set it False
    baseline: ClassVar[bool] = True
    #: options a client understands, with defaults (checked by `validate_options`)
    client_options: ClassVar[dict[str, Any]] = {}
    #: further options with no default, kept in a run's options only when given
    #: (so runs without them record the options they always did); the
    #: subclass's `validate_options` checks their values
    optional_options: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` checked and merged over `client_options`' defaults.

        Raises `ConfigError` naming what is allowed; called by
        `wslab.runner.config.RunConfig.validate` before any process starts.
        This base version refuses unknown names; a transport with options
        overrides it, calls it first and then checks each value.
        """
        known = {**cls.client_options, **RECONNECT_OPTIONS, **dict.fromkeys(cls.optional_options)}
        unknown = set(options) - set(known)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {', '.join(sorted(unknown))} for {cls.name}; "
                f"allowed: {', '.join(known) or 'none'}"
            )
        # The reconnect options keep their defaults out of the merged table
        # (they are documented in wslab.transports.reconnect), so a run's
        # recorded options show what was asked for.
        validate_reconnect_options({**RECONNECT_OPTIONS, **options})
        return {**cls.client_options, **options}

    async def start_server(self, hub: Hub, bind: Bind, options: dict[str, Any]) -> Endpoint:
        """Expose ``hub`` on ``bind`` (host, port, SO_REUSEPORT) and return the endpoint."""
        raise NotImplementedError

    async def connect_once(self, ctx: ClientContext) -> None:
        """One connection: connect, resume after ``ctx.last_seq``, record every
        delivery; return or raise when the connection ends."""
        raise NotImplementedError

    async def run_client(self, ctx: ClientContext) -> None:
        """Consume the stream until cancelled, recording into ``ctx`` and
        reconnecting after failures (see the class docstring)."""
        backoff = backoff_from_options(ctx.options)
        rng = random.Random(ctx.seed)  # seeded jitter: a storm replays the same way
        attempt = 0
        while True:
            rows = len(ctx.conn.rows)
            try:
                await self.connect_once(ctx)
                error: BaseException | None = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection failed: reconnect, or give up
                if backoff is None or not ctx.is_ready.is_set():
                    raise
                error = exc
            if backoff is None:  # the server ended the stream and we may not come back
                raise ConnectionResetError(f"{self.name}: the connection ended ({error!r})")
            if ctx.conn.connected_since(rows):
                attempt = 0  # that attempt worked: the next wait starts small again
            else:
                ctx.conn.attempt_failed()
            ctx.conn.fault(time.monotonic_ns())
            await asyncio.sleep(ctx.retry_s if ctx.retry_s is not None
                                else backoff.delay(attempt, rng))
            attempt += 1


@dataclass
class _ConnRow:
    conn_index: int
    opened_ns: int
    counters: ConnCounters = field(default_factory=ConnCounters)
    requests: int = 0  # sent, including one still in flight at stop
    responses: int = 0  # completed (a request held at stop is not a response)
    empty_responses: int = 0
    closed_ns: int = 0
    fault_ns: int = 0  # when the previous connection failed (0: the first connection)
    failed_attempts: int = 0  # attempts that failed between that fault and this connection
    setup_bytes: int = 0  # bytes both ways once established (handshake), before any event
    kind: str = ""  # the transport the connection served (a fallback client tries several)
    held: socket.socket | None = None  # a duplicate descriptor, for the last reading


class ConnTracker:
    """Per-client accounting of TCP connections, requests and empty responses.

    ``observe(key, sock)`` reads the socket's kernel counters (call it after
    each response and last thing before close); a new ``key`` (a transport
    object, say) starts a new connection row, so a client that reconnects or
    polls without keep-alive gets one row per connection.
    """

    def __init__(self) -> None:
        self.rows: list[_ConnRow] = []
        self._key: Any = None
        self._fault_ns = 0  # a failure not yet followed by a connection
        self._failed = 0
        #: the transport new rows are for (set by the fleet; a fallback client changes it)
        self.kind = ""

    def _row(self, key: Any) -> _ConnRow:
        if key is not self._key or not self.rows:
            if self.rows:
                self.rows[-1].closed_ns = self.rows[-1].closed_ns or time.monotonic_ns()
            self.rows.append(_ConnRow(len(self.rows), time.monotonic_ns(),
                                      fault_ns=self._fault_ns, failed_attempts=self._failed,
                                      kind=self.kind))
            self._key = key
            self._fault_ns = self._failed = 0
        return self.rows[-1]

    # -- failures (driven by Transport.run_client) -----------------------------
    def fault(self, now_ns: int) -> None:
        """The connection failed at ``now_ns`` (kept for the next row; the
        first failure of an outage counts, retries do not move it)."""
        if not self._fault_ns:
            self._fault_ns = now_ns
        if self.rows and not self.rows[-1].closed_ns:
            self.rows[-1].closed_ns = now_ns

    def attempt_failed(self) -> None:
        """A reconnection attempt failed before any connection was made."""
        self._failed += 1

    def connected_since(self, rows: int) -> bool:
        """Was a connection row opened since there were ``rows`` rows?"""
        return len(self.rows) > rows

    def open(self, key: Any, sock: socket.socket | None) -> None:
        """A connection is established (handshake done, no event yet): start its
        row and keep a duplicate descriptor, so its counters can still be read
        after the library has closed the socket, a reset included."""
        row = self._row(key)
        if sock is None:
            return
        try:
            row.held = sock.dup()
            row.counters = tcp_info(row.held)
        except OSError:  # reset before we could look: no reading
            return
        row.setup_bytes = row.counters.bytes_up + row.counters.bytes_down

    def finish(self, key: Any, peer_fin: bool | None = None, closed_first: bool = False) -> None:
        """Last reading of the connection opened with `open`, then release it
        (``peer_fin`` and ``closed_first`` as in `wslab.core.meter.tcp_info`)."""
        row = self._row(key)
        held, row.held = row.held, None
        if held is None:
            return
        try:
            row.counters = tcp_info(held, peer_fin=peer_fin, closed_first=closed_first)
        except OSError:
            pass
        finally:
            held.close()

    def observe(self, key: Any, sock, peer_fin: bool | None = None) -> None:
        row = self._row(key)
        if sock is None:
            return
        try:
            row.counters = tcp_info(sock, peer_fin=peer_fin)
        except OSError:  # already closed: keep the last reading
            pass

    def set_totals(self, key: Any, counters: ConnCounters, requests: int, responses: int,
                   setup: bool = False) -> None:
        """Set the row's counters and requests from totals the transport summed
        itself (one row over several TCP connections: an Engine.IO session's
        polling ``GET`` and ``POST`` and its WebSocket); ``setup``: these are
        also its set-up bytes."""
        row = self._row(key)
        row.counters, row.requests, row.responses = counters, requests, responses
        if setup:
            row.setup_bytes = counters.bytes_up + counters.bytes_down

    def request(self, key: Any, empty: bool = False, completed: bool = True) -> None:
        """Count one request; ``completed=False`` for one still in flight at stop.

        Its bytes were spent (so it is a request), but it was never answered
        (so it is not a response): per-response figures count responses only.
        """
        row = self._row(key)
        row.requests += 1
        row.responses += int(completed)
        row.empty_responses += int(empty and completed)

    def close(self) -> None:
        if self.rows and not self.rows[-1].closed_ns:
            self.rows[-1].closed_ns = time.monotonic_ns()


class ClientContext:
    """Everything one simulated client records; owned by the fleet."""

    def __init__(self, client_id: int, url: str, options: dict[str, Any], seed: int,
                 source: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.client_id = client_id
        self.url = url
        #: TLS (`wslab.core.tls.client_context`, trusting the run's CA), or None
        self.tls = tls
        #: loopback source address to bind (None: the kernel's choice), so that
        #: more clients than one address pair's ephemeral ports can connect
        self.source = source
        self.options = options
        self.seed = seed
        self.seqs = array("q")
        self.published = array("q")
        self.received = array("q")
        self.last_seq = 0
        self.target: int | None = None  # set by the fleet when publishing has ended
        self.conn = ConnTracker()
        #: the server's reconnection time (SSE ``retry:``), used instead of the backoff
        self.retry_s: float | None = None
        self.is_ready = asyncio.Event()
        self.finished = asyncio.Event()

    def new_socket(self, family: int = socket.AF_INET, type_: int = socket.SOCK_STREAM,
                   proto: int = 0) -> socket.socket:
        """A client socket, bound to this client's source address if it has one.

        The bind uses ``IP_BIND_ADDRESS_NO_PORT`` (Linux 4.2+): the port is
        then chosen at ``connect()`` for the whole (source, destination) pair.
        A plain ``bind((source, 0))`` would reserve the port outright, so
        clients on 127.0.0.2 would draw on the same 28,232 ports as those on
        127.0.0.1 (measured: 28,000 clients held, 30,000 failed with
        EADDRNOTAVAIL).
        """
        sock = socket.socket(family, type_, proto)
        if self.source:
            try:
                sock.setsockopt(socket.IPPROTO_IP, _IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((self.source, 0))
            except OSError:
                sock.close()
                raise
        return sock

    async def connect_socket(self, host: str, port: int) -> socket.socket:
        """A connected non-blocking TCP socket to ``host:port`` (TCP_NODELAY set)."""
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = self.new_socket(info[0], info[1], info[2])
        try:
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, info[4])
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        return sock

    def ready(self) -> None:
        """The client is connected (or, for pollers, has started polling)."""
        self.is_ready.set()

    def record(self, seq: int, published_ns: int, received_ns: int) -> None:
        """One delivery. On the hot path: appends only."""
        self.seqs.append(seq)
        self.published.append(published_ns)
        self.received.append(received_ns)
        if seq > self.last_seq:
            self._advance(seq)

    def _advance(self, seq: int) -> None:
        self.last_seq = seq
        if self.target is not None and seq >= self.target:
            self.finished.set()

    def body_recorder(self) -> Callable[[bytes, int], None]:
        """``record_body(body, received_ns)`` for push clients: one delivery from
        an event body (bytes, `wslab.core.events.encode`'s layout, read by
        `wslab.core.wire.decode_header`), with the appends bound, since it runs
        once per delivery."""
        seqs, published, received = self.seqs.append, self.published.append, self.received.append
        advance = self._advance
        ctx = self

        def record_body(body: bytes, received_ns: int) -> None:
            seq, published_ns = decode_header(body)
            seqs(seq)
            published(published_ns)
            received(received_ns)
            if seq > ctx.last_seq:
                advance(seq)

        return record_body

    def set_target(self, seq: int) -> None:
        """Publishing ended at ``seq``: the client is finished once it has it."""
        self.target = seq
        if self.last_seq >= seq:
            self.finished.set()
