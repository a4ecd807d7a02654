"""The impairment proxy: integrity, ordering, delays (lower bounds only), toxics, errors,
half-close, and the process form. Everything binds port 0 on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import socketserver
import struct
import threading
import time

import psutil
import pytest

from wslab.core.errors import RunError
from wslab.core.proc import ChildProcess
from wslab.net.netem import (
    Bandwidth,
    Blackhole,
    IdleCut,
    Latency,
    LimitData,
    Proxy,
    ResetPeer,
    Schedule,
    load_toxics,
    parse_delay,
    parse_rate,
    parse_toxics,
    toxic_from_dict,
    toxics_from_args,
)

TIMEOUT_FACTOR = float(os.environ.get("WSLAB_TIMEOUT_FACTOR", "1"))


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


@pytest.mark.parametrize("distribution", ["uniform", "normal"])
def test_schedule_never_reorders_under_jitter(distribution):
    # jitter as large as the delay: unclamped, many chunks would overtake each other
    schedule = Schedule([Latency(5, jitter=5, distribution=distribution, seed=3)], key="k")
    arrivals = [i * 1e-4 for i in range(5000)]
    releases = [schedule.release(t, 100) for t in arrivals]
    assert all(b >= a for a, b in zip(releases, releases[1:], strict=False))
    assert all(r >= t for r, t in zip(releases, arrivals, strict=True))
    assert max(r - t for r, t in zip(releases, arrivals, strict=True)) > 0.005  # jitter is there
    # seeded: the same key and seed give the same draws, another seed others
    again = Schedule([Latency(5, jitter=5, distribution=distribution, seed=3)], key="k")
    other = Schedule([Latency(5, jitter=5, distribution=distribution, seed=4)], key="k")
    assert [again.release(t, 100) for t in arrivals] == releases
    assert [other.release(t, 100) for t in arrivals] != releases


def test_schedule_bandwidth_is_serialization_delay():
    schedule = Schedule([Bandwidth(100)])  # 100 KB/s = 100,000 B/s
    last = 0.0
    for _ in range(200):  # 200 chunks of 1,000 B, all arriving at t = 0
        last = schedule.release(0.0, 1000)
    assert last == pytest.approx(2.0)
    assert schedule.piece == 1024


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
# Parsing and bad input
# ---------------------------------------------------------------------------


def test_parse_delay_and_rate():
    assert parse_delay("25ms") == pytest.approx(0.025)
    assert parse_delay("1.5s") == pytest.approx(1.5)
    assert parse_delay("250us") == pytest.approx(250e-6)
    assert parse_delay(0.01) == pytest.approx(0.01)
    assert parse_delay("0") == 0
    assert parse_rate("100KB/s") == pytest.approx(100_000)
    assert parse_rate("8Mbit/s") == pytest.approx(1_000_000)
    assert parse_rate("1MiB/s") == pytest.approx(2**20)


def test_toxics_from_args_builds_one_toxic_per_direction():
    toxics = toxics_from_args(delay="25ms", jitter="5ms", bandwidth="1MB/s", seed=9)
    latency = [t for t in toxics if isinstance(t, Latency)]
    assert sorted(t.stream for t in latency) == ["downstream", "upstream"]
    assert all(t.latency == pytest.approx(25) and t.jitter == pytest.approx(5) and t.seed == 9
               for t in latency)
    assert [t.rate for t in toxics if isinstance(t, Bandwidth)] == [1000, 1000]  # KB/s
    one_way = toxics_from_args(delay="25ms", direction="upstream")
    assert [(type(t), t.stream) for t in one_way] == [(Latency, "upstream")]
    assert toxics_from_args() == []


def test_toxic_strings_and_dicts_round_trip():
    toxics = parse_toxics("latency@both:latency=25ms,jitter=5ms,distribution=normal",
                          "bandwidth:rate=1MB/s", "drop@upstream:after=1s",
                          "limit_data:bytes=64KiB", "timeout:timeout=30s", "reset_peer")
    assert [t.type for t in toxics] == ["latency", "latency", "bandwidth", "blackhole",
                                        "limit_data", "idle_cut", "reset_peer"]
    assert toxics[3] == Blackhole(after=1000, stream="upstream")
    assert toxics[4] == LimitData(65536)
    assert toxics[6] == ResetPeer()
    assert parse_toxics(*map(str, toxics)) == toxics
    assert [toxic_from_dict(t.to_dict()) for t in toxics] == toxics
    toxiproxy_style = {"name": "lag", "type": "latency", "stream": "upstream", "toxicity": 1.0,
                       "attributes": {"latency": 50, "jitter": 0}}
    assert toxic_from_dict(toxiproxy_style) == Latency(50, stream="upstream")
    assert load_toxics([{"type": "latency", "latency": 5, "stream": "both"}], seed=4) == [
        Latency(5, stream="upstream", seed=4), Latency(5, stream="downstream", seed=4)]


@pytest.mark.parametrize("make, message", [
    (lambda: parse_toxics("latncy:latency=5"),
     r"unknown toxic type 'latncy'; allowed: latency, bandwidth, idle_cut, reset_peer, "
     r"blackhole, limit_data"),
    (lambda: toxic_from_dict({"type": "latency", "latency": 5, "jiter": 1}),
     r"unknown attribute 'jiter'; allowed: latency, jitter, distribution, stream"),
    (lambda: toxic_from_dict({"type": "latency"}), r"missing attribute 'latency'"),
    (lambda: Latency(-5), r"must not be negative"),
    (lambda: toxics_from_args(delay="-5ms"), r"must not be negative"),
    (lambda: parse_delay("25"), r"needs a unit; allowed: us, µs, μs, ms, s"),
    (lambda: parse_delay("25 parsecs"), r"unknown unit 'parsecs'"),
    (lambda: Latency(5, stream="sideways"), r"allowed: upstream, downstream"),
    (lambda: Latency(5, distribution="cauchy"), r"allowed: uniform, normal"),
    (lambda: Latency(5, toxicity=2), r"between 0 and 1"),
    (lambda: Bandwidth(0), r"rate must be positive"),
    (lambda: toxics_from_args(jitter="5ms"), r"jitter needs a delay"),
    (lambda: toxics_from_args(delay="5ms", direction="left"), r"allowed: upstream, downstream, both"),
    (lambda: Proxy(("127.0.0.1", 1), listen=("0.0.0.0", 0)), r"loopback only"),
    (lambda: Proxy(("127.0.0.1", 1), listen=("192.168.1.10", 0)), r"loopback only"),
    (lambda: Proxy(("127.0.0.1", 1), listen=("example.com", 0)), r"loopback IP address"),
    (lambda: Proxy("127.0.0.1:99999"), r"Port out of range 0-65535"),
    (lambda: Proxy(("127.0.0.1", 70000)), r"port must be an integer in 0..65535"),
])
def test_bad_input_is_refused_with_a_clear_message(make, message):
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


# ---------------------------------------------------------------------------
# Process form
# ---------------------------------------------------------------------------


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_port():
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EchoHandler) as server:
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        yield server.server_address[1]
        server.shutdown()


def test_process_form_relays_reports_and_stops(echo_port):
    config = {"upstreams": {"echo": f"127.0.0.1:{echo_port}",
                            "web": f"ws://127.0.0.1:{echo_port}/ws"},
              "toxics": [], "seed": 1}
    proxy = ChildProcess("proxy", "wslab.net.netem", config)
    try:
        ready = proxy.start()
        assert ready["ok"] is True and ready["pid"] == proxy.pid
        assert ready["endpoints"]["echo"].startswith("tcp://127.0.0.1:")
        assert ready["endpoints"]["web"].startswith("ws://127.0.0.1:")
        assert ready["endpoints"]["web"].endswith("/ws")
        port = int(ready["endpoints"]["echo"].rsplit(":", 1)[1])
        assert port != echo_port
        with socket.create_connection(("127.0.0.1", port), timeout=5 * TIMEOUT_FACTOR) as s:
            s.sendall(b"through the proxy")
            got = b""
            while len(got) < 17:
                got += s.recv(64)
        assert got == b"through the proxy"
        stats = proxy.request("stats", connections=True)
        echo = stats["proxies"]["echo"]
        assert echo["bytes_upstream"] == 17 and echo["connections_total"] == 1
        assert echo["connections"][0]["forwarded_upstream"] == 17
        pid = proxy.pid
    finally:
        proxy.stop()
    assert not proxy.alive()
    assert not psutil.pid_exists(pid)


def test_process_form_reports_bad_config(echo_port):
    proxy = ChildProcess("proxy", "wslab.net.netem", {
        "upstreams": {"echo": f"127.0.0.1:{echo_port}"}, "toxics": [{"type": "lag"}]})
    try:
        with pytest.raises(RunError, match="unknown toxic type 'lag'"):
            proxy.start()
    finally:
        proxy.stop()
    assert not proxy.alive()
