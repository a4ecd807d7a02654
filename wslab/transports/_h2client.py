"""Client side of the HTTP/2 transports: httpx/httpcore on a socket the kit owns.

httpx (``http2=True, http1=False``) runs over an httpcore pool whose network
backend (`Backend`) connects with `ClientContext.connect_socket` (the
client's source address, TCP_NODELAY) and wraps the socket in asyncio
streams, so the kit reads the kernel's counters of that very socket
(`ConnTracker.open`/``observe``/``finish``): bytes are counted at the
client's end, per TCP connection, as for every other transport. The stream
can also copy what it writes and reads into a `wslab.core.h2frames.FrameTally`
(the HPACK anatomy; the probe uses it).

Multiplexing (`Group`): ``multiplex=k`` makes k simulated clients share one
httpx client, hence one TCP connection carrying k concurrent HTTP/2 streams.
The connection's row, bytes and every member's requests are kept by the
member that opened it, so the connection table lists real TCP connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpcore
import httpx

from ..core.h2frames import FrameTally
from ._h2 import h2_headers
from .base import ClientContext

__all__ = ["Backend", "Group", "join_group"]


class _Stream(httpcore.AsyncNetworkStream):
    """An asyncio stream over the kit's socket, copying the bytes into a tally."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 sock: socket.socket, tally: FrameTally | None) -> None:
        self.reader, self.writer, self.sock, self.tally = reader, writer, sock, tally

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            data = await asyncio.wait_for(self.reader.read(max_bytes), timeout)
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise httpcore.ReadError(str(exc)) from exc
        if self.tally is not None:
            self.tally.received(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self.tally is not None:
            self.tally.sent(buffer)
        try:
            self.writer.write(buffer)
            await asyncio.wait_for(self.writer.drain(), timeout)
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            await asyncio.wait_for(self.writer.start_tls(ssl_context,
                                                         server_hostname=server_hostname),
                                   timeout)
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # httpcore's test of an idle connection
            from httpcore._utils import is_socket_readable
            return is_socket_readable(self.sock)
        if info == "socket":
            return self.sock
        return self.writer.get_extra_info(info)


class Backend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend for one client (or one multiplexed group).

    Connects with the owner's `ClientContext.connect_socket` and accounts
    every connection in ``conn`` (its row opens once TLS, if any, is up).
    ``tally``: a `FrameTally` factory, to record the frames of each connection.
    """

    def __init__(self, ctx: ClientContext, tally: Callable[[], FrameTally] | None = None) -> None:
        self.ctx, self.conn = ctx, ctx.conn
        self.current: _Stream | None = None
        self.tallies: list[FrameTally] = []
        self._tally = tally

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options=None
                          ) -> httpcore.AsyncNetworkStream:
        try:
            sock = await asyncio.wait_for(self.ctx.connect_socket(host, port), timeout)
            reader, writer = await asyncio.open_connection(sock=sock)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        if self.current is not None:  # the pool opens another only when one was lost
            self.finish()
            self.conn.fault(time.monotonic_ns())
        tally = self._tally() if self._tally else None
        if tally is not None:
            self.tallies.append(tally)
        self.current = _Stream(reader, writer, sock, tally)
        if not self.ctx.url.startswith("https"):
            self.conn.open(self.current, sock)
        else:  # counted from the TLS handshake's end (setup_bytes = the handshake)
            start_tls = self.current.start_tls

            async def tls_then_open(*args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
                stream = await start_tls(*args, **kwargs)
                self.conn.open(stream, sock)
                return stream

            self.current.start_tls = tls_then_open  # type: ignore[method-assign]
        return self.current

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def account(self, empty: bool = False, completed: bool = True) -> None:
        """One request (answered, or in flight at stop) and a counter reading."""
        if self.current is None:
            return
        self.conn.request(self.current, empty=empty, completed=completed)
        self.conn.observe(self.current, self.current.sock)

    def finish(self) -> None:
        """Last reading of the current connection (through the kept duplicate)."""
        if self.current is not None:
            self.conn.finish(self.current)


def _client(ctx: ClientContext, backend: Backend) -> httpx.AsyncClient:
    verify: ssl.SSLContext | bool = ctx.tls if ctx.tls is not None else True
    transport = httpx.AsyncHTTPTransport(http1=False, http2=True, verify=verify)
    # httpx exposes no network backend: its pool is rebuilt with ours (httpcore's
    # public API). One connection; httpcore sets ALPN (h2) on the context itself.
    ssl_ctx = ctx.tls if ctx.tls is not None else None
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_ctx, max_connections=1, http1=False, http2=True,
        network_backend=backend, keepalive_expiry=None)
    headers = h2_headers(ctx.options.get("headers"), ctx.url)
    limits = httpx.Timeout(None, connect=60)
    return httpx.AsyncClient(transport=transport, headers=headers, timeout=limits,
                             http1=False, http2=True)


class Group:
    """Simulated clients sharing one httpx client (one TCP connection)."""

    def __init__(self, ctx: ClientContext, key: tuple, tally: Callable[[], FrameTally] | None
                 ) -> None:
        self.key = key
        self.backend = Backend(ctx, tally)
        self.client = _client(ctx, self.backend)
        self.members = 0


_GROUPS: dict[tuple, Group] = {}


@contextlib.asynccontextmanager
async def join_group(ctx: ClientContext, multiplex: int,
                     tally: Callable[[], FrameTally] | None = None):
    """The `Group` of ``ctx`` (clients ``k*m .. k*m+m-1`` share one), left on exit;
    the last member out makes the connection's last reading and closes it."""
    key = (ctx.url, ctx.client_id // multiplex if multiplex > 1 else ("solo", ctx.client_id))
    group = _GROUPS.get(key)
    if group is None:
        group = _GROUPS[key] = Group(ctx, key, tally)
    group.members += 1
    try:
        yield group
    finally:
        group.members -= 1
        if group.members == 0:
            _GROUPS.pop(key, None)
            backend = group.backend
            backend.finish()
            backend.conn.close()
            with contextlib.suppress(Exception):
                await group.client.aclose()

