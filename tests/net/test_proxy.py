"""The impairment proxy in-process: integrity, ordering, delays (lower bounds only),
toxics, errors, half-close, addresses. Everything binds port 0 on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import time

import pytest

from wslab.net.proxy import Proxy
from wslab.net.toxics import Bandwidth, Blackhole, IdleCut, Latency, LimitData, toxics_from_args

from ..conftest import TIMEOUT_FACTOR


def run(coro, timeout: float = 10.0):
    """Run one async test body, bounded by a (scaled) timeout."""

    async def bounded():
        return await asyncio.wait_for(coro, timeout * TIMEOUT_FACTOR)

    return asyncio.run(bounded())


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def tcp_server(handler=_echo):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def until(predicate, timeout: float = 5.0) -> None:
    """Wait for an observable condition (polled; never a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout * TIMEOUT_FACTOR
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.001)


# ---------------------------------------------------------------------------
# Pass-through
# ---------------------------------------------------------------------------


def test_passthrough_integrity_1mb_and_byte_counts():
    async def body():
        data = os.urandom(1 << 20)
        async with tcp_server() as port, Proxy(("127.0.0.1", port)) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(data)
            echoed = await reader.readexactly(len(data))
            writer.close()
            await proxy.wait_idle(5 * TIMEOUT_FACTOR)
            conn = proxy.connections[0]
            # no toxic: the plain pass-through, with no schedule and no timer
            assert all(p.feed.__func__.__name__ == "_feed_plain" for p in conn.pipes.values())
            assert all(p.timer is None for p in conn.pipes.values())
            return echoed == data, conn.bytes_upstream, conn.bytes_downstream, proxy.stats()

    same, up, down, stats = run(body())
    assert same
    assert up == down == 1 << 20
    assert stats["connections_total"] == 1 and stats["connections_open"] == 0
    assert stats["bytes_upstream"] == stats["bytes_downstream"] == 1 << 20


def test_nodelay_on_both_sockets():
    async def body():
        async with tcp_server() as port, Proxy(("127.0.0.1", port)) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"x")
            await reader.readexactly(1)
            conn = proxy.connections[0]
            flags = [side.transport.get_extra_info("socket").getsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY) for side in (conn.client, conn.upstream)]
            writer.close()
            return flags

    assert all(flag != 0 for flag in run(body()))


# ---------------------------------------------------------------------------
# Latency, jitter, bandwidth
# ---------------------------------------------------------------------------


def test_no_reordering_under_jitter_end_to_end():
    async def body():
        toxics = toxics_from_args(delay="2ms", jitter="2ms", seed=7)
        async with tcp_server() as port, Proxy(("127.0.0.1", port), toxics) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            n = 400
            for seq in range(n):
                writer.write(struct.pack(">I", seq))
                await asyncio.sleep(0)  # let the proxy see separate chunks
            data = await reader.readexactly(4 * n)
            writer.close()
            return [s for (s,) in struct.iter_unpack(">I", data)], n

    got, n = run(body())
    assert got == list(range(n))


def test_latency_toxic_adds_the_delay_each_way():
    async def body():
        toxics = toxics_from_args(delay="50ms")  # one way, each direction: RTT >= 100 ms
        async with tcp_server() as port, Proxy(("127.0.0.1", port), toxics) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            rtts = []
            for _ in range(2):
                t0 = time.perf_counter()
                writer.write(b"ping")
                assert await reader.readexactly(4) == b"ping"
                rtts.append(time.perf_counter() - t0)
            writer.close()
            return rtts

    for rtt in run(body()):
        assert rtt >= 0.099  # lower bound only: timers may fire late, never early


def test_bandwidth_toxic_limits_the_rate():
    size = 200_000

    async def send_on_request(reader, writer):
        await reader.readexactly(1)
        writer.write(os.urandom(size))
        await writer.drain()
        writer.close()

    async def body():
        toxics = [Bandwidth(100, stream="downstream")]  # 100 KB/s
        async with tcp_server(send_on_request) as port, \
                Proxy(("127.0.0.1", port), toxics) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            t0 = time.perf_counter()
            writer.write(b"?")
            data = await reader.readexactly(size)
            elapsed = time.perf_counter() - t0
            writer.close()
            return len(data), elapsed

    n, elapsed = run(body())
    assert n == size
    assert elapsed >= 1.8  # 200 KB at 100 KB/s = 2.0 s; lower bound only


# ---------------------------------------------------------------------------
# Connection toxics
# ---------------------------------------------------------------------------


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while chunk := await reader.read(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_limit_data_closes_after_n_bytes():
    async def send_then_hold(reader, writer):
        writer.write(b"x" * 5000)
        await reader.read()  # until the proxy closes us
        writer.close()

    async def body():
        async with tcp_server(send_then_hold) as port, \
                Proxy(("127.0.0.1", port), [LimitData(1000)]) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            data = await _read_all(reader)
            writer.close()
            await proxy.wait_idle(5 * TIMEOUT_FACTOR)
            return data, proxy.connections[0].close_reason

    data, reason = run(body())
    assert data == b"x" * 1000
    assert reason == "limit_data"


def test_reset_peer_resets_both_sides():
    server_saw: list[BaseException] = []

    async def hold(reader, writer):
        try:
            await reader.read()
        except ConnectionError as exc:
            server_saw.append(exc)

    async def body():
        async with tcp_server(hold) as port, \
                Proxy(("127.0.0.1", port), ["reset_peer:timeout=50ms"]) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            with pytest.raises(ConnectionResetError):
                await reader.read()
            await proxy.wait_idle(5 * TIMEOUT_FACTOR)
            await until(lambda: server_saw)
            return proxy.connections[0].close_reason

    assert run(body()) == "reset_peer"
    assert isinstance(server_saw[0], ConnectionResetError)


def test_idle_cut_closes_an_idle_connection():
    async def body():
        async with tcp_server() as port, \
                Proxy(("127.0.0.1", port), [IdleCut(100)]) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"hi")
            assert await reader.readexactly(2) == b"hi"
            t_last = time.perf_counter()
            rest = await reader.read()  # EOF when the proxy cuts the idle connection
            idle = time.perf_counter() - t_last
            writer.close()
            await proxy.wait_idle(5 * TIMEOUT_FACTOR)
            return rest, idle, proxy.connections[0].close_reason

    rest, idle, reason = run(body())
    assert rest == b""
    assert reason == "idle_cut"
    assert idle >= 0.099


def test_blackhole_drops_one_direction():
    server_got = bytearray()

    async def count(reader, writer):
        while data := await reader.read(65536):
            server_got.extend(data)
        writer.close()

    async def body():
        async with tcp_server(count) as port, \
                Proxy(("127.0.0.1", port), [Blackhole(stream="upstream")]) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"y" * 100)
            await until(lambda: proxy.stats()["dropped_upstream"] == 100)
            stats = proxy.stats()
            writer.close()
            return stats

    stats = run(body())
    assert stats["received_upstream"] == 100 and stats["forwarded_upstream"] == 0
    assert bytes(server_got) == b""


def test_toxicity_is_drawn_per_connection_and_seeded():
    async def pattern(seed):
        toxic = Latency(1, toxicity=0.5)
        async with tcp_server() as port, \
                Proxy(("127.0.0.1", port), [toxic], seed=seed) as proxy:
            for _ in range(20):
                reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
                writer.write(b"z")
                await reader.readexactly(1)
                writer.close()
            return [bool(c.toxics) for c in proxy.connections]

    async def body():
        return await pattern(1), await pattern(1), await pattern(2)

    a, b, c = run(body())
    assert a == b  # reproducible
    assert 0 < sum(a) < 20  # some connections get it, some do not
    assert a != c


def test_upstream_refused_closes_the_client():
    async def body():
        with socket.socket() as s:  # a port with nothing listening
            s.bind(("127.0.0.1", 0))
            dead_port = s.getsockname()[1]
        async with Proxy(("127.0.0.1", dead_port)) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            try:
                data = await reader.read()
            except ConnectionResetError:
                data = b""
            writer.close()
            await proxy.wait_idle(5 * TIMEOUT_FACTOR)
            return data, proxy.connections[0].close_reason

    data, reason = run(body())
    assert data == b""
    assert reason.startswith("upstream connect failed")


# ---------------------------------------------------------------------------
# EOF and half-close
# ---------------------------------------------------------------------------


async def _reply_after_eof(reader, writer):
    data = await reader.read()  # until the client's FIN
    writer.write(b"got %d bytes" % len(data))
    writer.write_eof()
    await reader.read()  # the proxy closes once both directions are done
    writer.close()


@pytest.mark.parametrize("toxics", [[], ["latency@both:latency=5ms"]], ids=["plain", "latency"])
def test_half_close_propagates_eof_each_way(toxics):
    async def body():
        async with tcp_server(_reply_after_eof) as port, \
                Proxy(("127.0.0.1", port), toxics) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"hello")
            writer.write_eof()  # half-close: we can still read
            reply = await _read_all(reader)
            writer.close()
            await proxy.wait_idle(5 * TIMEOUT_FACTOR)
            return reply, proxy.connections[0].close_reason

    reply, reason = run(body())
    assert reply == b"got 5 bytes"
    assert reason == "eof"


def test_server_close_reaches_the_client():
    async def say_and_close(reader, writer):
        writer.write(b"bye")
        writer.close()

    async def body():
        async with tcp_server(say_and_close) as port, \
                Proxy(("127.0.0.1", port)) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            data = await _read_all(reader)
            writer.close()
            await proxy.wait_idle(5 * TIMEOUT_FACTOR)
            return data, proxy.stats()["connections_open"]

    assert run(body()) == (b"bye", 0)


# ---------------------------------------------------------------------------
# Addresses and bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make, message", [
    (lambda: Proxy(("127.0.0.1", 1), listen=("0.0.0.0", 0)), r"loopback only"),
    (lambda: Proxy(("127.0.0.1", 1), listen=("192.168.1.10", 0)), r"loopback only"),
    (lambda: Proxy(("127.0.0.1", 1), listen=("example.com", 0)), r"loopback IP address"),
    (lambda: Proxy("127.0.0.1:99999"), r"Port out of range 0-65535"),
    (lambda: Proxy(("127.0.0.1", 70000)), r"port must be an integer in 0..65535"),
])
def test_bad_proxy_input_is_refused_with_a_clear_message(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_url_for_rewrites_host_and_port():
    async def body():
        async with tcp_server() as port, Proxy(f"127.0.0.1:{port}") as proxy:
            here = f"127.0.0.1:{proxy.port}"
            assert proxy.url_for(f"tcp://127.0.0.1:{port}") == f"tcp://{here}"
            assert proxy.url_for(f"ws://localhost:{port}/ws?x=1") == f"ws://{here}/ws?x=1"
            assert proxy.url_for(f"http://127.0.0.1:{port}/poll") == f"http://{here}/poll"
            assert proxy.url_for(f"127.0.0.1:{port}") == here
            with pytest.raises(ValueError, match="does not point at this proxy's upstream"):
                proxy.url_for(f"ws://127.0.0.1:{port + 1}/ws")
            return True

    assert run(body())


def test_ipv6_loopback_listen():
    async def body():
        async with tcp_server() as port, \
                Proxy(("127.0.0.1", port), listen=("::1", 0)) as proxy:
            reader, writer = await asyncio.open_connection("::1", proxy.port)
            writer.write(b"v6")
            data = await reader.readexactly(2)
            writer.close()
            return data, proxy.url_for(f"ws://127.0.0.1:{port}/ws")

    try:
        data, url = run(body())
    except OSError as exc:  # a machine without IPv6 on lo
        pytest.skip(f"no IPv6 loopback: {exc}")
    assert data == b"v6"
    assert url.startswith("ws://[::1]:")


def test_upstream_must_be_loopback():
    """The proxy connects only to loopback servers (wslab sends no traffic elsewhere)."""
    from wslab.core.errors import ConfigError

    with pytest.raises(ConfigError, match="upstream host must be a loopback address"):
        Proxy("10.0.0.1:80")
    with pytest.raises(ConfigError, match="upstream host must be a loopback IP address"):
        Proxy("http://example.com:80/")
    assert Proxy("localhost:80").upstream == ("127.0.0.1", 80)
