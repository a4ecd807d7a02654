"""Timed faults (outage toxics) through the real proxy: reset, stall, blackhole, every,
arming; and reset_peer on a re-opened connection. Lower bounds on time only."""

from __future__ import annotations

import asyncio
import time

import pytest

from wslab.core.errors import RunError
from wslab.net.proxy import Proxy

from ..conftest import TIMEOUT_FACTOR
from .test_proxy import run, tcp_server, until


async def _echo_once(proxy: Proxy, data: bytes = b"ping"):
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(data)
    assert await reader.readexactly(len(data)) == data
    return reader, writer


async def _reset_or_eof(reader: asyncio.StreamReader) -> str:
    try:
        data = await asyncio.wait_for(reader.read(), 5 * TIMEOUT_FACTOR)
    except ConnectionResetError:
        return "reset"
    return "eof" if data == b"" else f"data {data!r}"


def test_outage_reset_resets_live_connections_and_refuses_during_the_window():
    async def body():
        async with tcp_server() as port, Proxy(
                ("127.0.0.1", port), ["outage:at=100ms,mode=reset,duration=600ms"]) as proxy:
            live = [await _echo_once(proxy) for _ in range(2)]
            proxy.arm()
            seen = [await _reset_or_eof(r) for r, _ in live]
            reader, _ = await asyncio.open_connection("127.0.0.1", proxy.port)  # in the window
            refused = await _reset_or_eof(reader)
            await until(lambda: "ended_ns" in proxy.stats()["faults"][0])
            after = await _echo_once(proxy)  # the server is "back"
            after[1].close()
            return seen, refused, proxy.stats()

    seen, refused, stats = run(body())
    assert seen == ["reset", "reset"]
    assert refused == "reset"
    [fault] = stats["faults"]
    assert fault["kind"] == "outage" and fault["mode"] == "reset"
    assert fault["connections"] == [0, 1] and fault["accepted"] == [2]
    assert fault["at_ns"] >= fault["planned_at_ns"] == stats["armed_at_ns"] + 100_000_000
    assert fault["until_ns"] == fault["planned_at_ns"] + 600_000_000


def test_outage_stall_holds_bytes_both_ways_then_releases_them_in_order():
    async def echo_or_later(reader, writer):
        while data := await reader.read(65536):
            if data == b"later":  # answer after the stall began: the downstream is held
                await asyncio.sleep(0.1)
                data = b"pong"
            writer.write(data)
        writer.close()

    async def body():
        async with tcp_server(echo_or_later) as port, Proxy(
                ("127.0.0.1", port), ["outage:at=0,mode=stall,duration=1200ms"]) as proxy:
            reader, writer = await _echo_once(proxy)
            writer.write(b"later")
            await until(lambda: proxy.stats()["forwarded_upstream"] == 4 + 5)
            proxy.arm()
            await until(lambda: proxy.stats()["faults"])
            for i in range(5):
                writer.write(b"%d," % i)
                await asyncio.sleep(0.01)
            await until(lambda: proxy.stats()["received_downstream"] == 4 + 4)
            with pytest.raises(TimeoutError):  # stalled: nothing comes back
                await asyncio.wait_for(reader.read(1), 0.2)
            during = proxy.stats()
            got = await asyncio.wait_for(reader.readexactly(14), 5 * TIMEOUT_FACTOR)
            writer.close()
            return got, during, proxy.stats()

    got, during, stats = run(body())
    assert got == b"pong0,1,2,3,4,"  # every byte, in order
    assert during["received_upstream"] - during["forwarded_upstream"] == 10  # held upstream
    assert during["received_downstream"] - during["forwarded_downstream"] == 4  # and downstream
    assert stats["dropped_upstream"] == stats["dropped_downstream"] == 0
    assert stats["faults"][0]["mode"] == "stall" and stats["faults"][0]["connections"] == [0]


def test_outage_blackhole_discards_bytes_and_fin_silently():
    server_got = bytearray()

    async def count(reader, writer):
        while data := await reader.read(65536):
            server_got.extend(data)
            writer.write(data)
        writer.close()

    async def body():
        async with tcp_server(count) as port, Proxy(
                ("127.0.0.1", port), ["outage:at=0,mode=blackhole"]) as proxy:
            reader, writer = await _echo_once(proxy, b"before")
            proxy.arm()
            await until(lambda: proxy.stats()["faults"])
            writer.write(b"into the void")
            writer.write_eof()  # the FIN vanishes too
            await until(lambda: proxy.stats()["dropped_upstream"] == 13)
            with pytest.raises(TimeoutError):  # no data, no FIN, no RST
                await asyncio.wait_for(reader.read(1), 0.3)
            stats = proxy.stats()
            writer.close()
            return stats

    stats = run(body())
    assert bytes(server_got) == b"before"
    assert stats["faults"][0]["until_ns"] is None  # for ever
    assert stats["connections_open"] == 1


def test_outage_repeats_every_period_and_never_fires_unarmed():
    async def body():
        spec = "outage:at=50ms,mode=reset,every=150ms"
        async with tcp_server() as port, Proxy(("127.0.0.1", port), [spec]) as proxy:
            reader, writer = await _echo_once(proxy)
            await asyncio.sleep(0.3)  # unarmed: nothing fires
            unarmed = proxy.stats()["faults"]
            writer.write(b"still")
            assert await reader.readexactly(5) == b"still"
            proxy.arm(time.monotonic_ns() - 10**9)  # armed a second ago: 7 windows are past
            await until(lambda: len(proxy.stats()["faults"]) >= 8)
            with pytest.raises(RunError, match="already armed"):
                proxy.arm()
            return unarmed, proxy.stats()["faults"]

    unarmed, faults = run(body())
    assert unarmed == []
    planned = [f["planned_at_ns"] for f in faults]
    assert all(b - a == 150_000_000 for a, b in zip(planned, planned[1:], strict=False))


def test_reset_peer_resets_a_reopened_connection_again_after_its_own_set_up():
    async def body():
        async with tcp_server() as port, \
                Proxy(("127.0.0.1", port), ["reset_peer:timeout=2s"]) as proxy:
            lifetimes = []
            for _ in range(2):  # the second is the client reconnecting after the reset
                reader, _ = await _echo_once(proxy)
                conn = proxy.connections[-1]
                assert await _reset_or_eof(reader) == "reset"
                await until(lambda c=conn: c.closed is not None)
                lifetimes.append(conn.closed - conn.opened)
            return lifetimes, proxy.stats()["faults"]

    lifetimes, faults = run(body(), timeout=15)
    assert all(t >= 1.99 for t in lifetimes)  # lower bound only
    assert [(f["kind"], f["connections"]) for f in faults] == [("reset_peer", [0]),
                                                               ("reset_peer", [1])]
