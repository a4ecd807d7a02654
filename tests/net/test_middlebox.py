"""The HTTP-aware toxics through the real proxy against real servers (websockets, aiohttp).

No timing assertions beyond generous bounds on "did it stall" / "did it pass"."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiohttp import web
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import InvalidStatus

from wslab.net.proxy import Proxy

from ..conftest import TIMEOUT_FACTOR
from .test_proxy import run


@contextlib.asynccontextmanager
async def ws_echo_server():
    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0) as server:
        yield server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def aiohttp_server(routes):
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def test_strip_upgrade_makes_a_websockets_server_answer_426():
    async def body():
        async with ws_echo_server() as port:
            async with Proxy(("127.0.0.1", port)) as plain:  # control: the handshake works
                async with connect(f"ws://127.0.0.1:{plain.port}/") as ws:
                    await ws.send("hi")
                    assert await ws.recv() == "hi"
            async with Proxy(("127.0.0.1", port), ["strip_upgrade"]) as proxy:
                with pytest.raises(InvalidStatus) as caught:
                    async with connect(f"ws://127.0.0.1:{proxy.port}/", open_timeout=5):
                        pass
                conn = proxy.connections[0]
                stripper = conn.pipes["upstream"].http
                return caught.value, stripper.stripped, conn.pipes["downstream"].http

    exc, stripped, down_filter = run(body())
    assert exc.response.status_code == 426  # Upgrade Required (RFC 9110 §15.5.22)
    assert exc.response.headers["Upgrade"] == "websocket"
    assert "server rejected WebSocket connection: HTTP 426" in str(exc)
    assert stripped == 1 and down_filter is None


async def _raw_get(port: int, path: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return reader, writer


def test_buffer_passes_a_long_poll_response_whole():
    payload = b'{"events": [' + b",".join(b'"e%d"' % i for i in range(200)) + b"]}"

    async def long_poll(request):
        await asyncio.sleep(0.05)  # the held request
        return web.Response(body=payload, content_type="application/json")

    async def body():
        async with aiohttp_server({"/poll": long_poll}) as port, \
                Proxy(("127.0.0.1", port), ["buffer:size=64KiB"]) as proxy:
            reader, writer = await _raw_get(proxy.port, "/poll")
            got = b""
            while not got.endswith(payload):  # promptly: as soon as the response ends
                got += await asyncio.wait_for(reader.read(1 << 20), 5 * TIMEOUT_FACTOR)
            writer.close()
            return got, proxy.connections[0].pipes["downstream"].http.flushes

    got, flushes = run(body())
    assert got.startswith(b"HTTP/1.1 200 OK")
    assert flushes == 1  # the proxy released the response whole, in one piece


def test_buffer_stalls_an_sse_stream_until_size_bytes():
    size = 1024
    event = b"data: " + b"x" * 57 + b"\n\n"  # 65 bytes; aiohttp frames each write as a chunk
    send = asyncio.Queue()

    async def sse(request):
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        while (n := await send.get()) is not None:
            for _ in range(n):
                await response.write(event)
        return response

    async def body():
        async with aiohttp_server({"/sse": sse}) as port, \
                Proxy(("127.0.0.1", port), [f"buffer:size={size}"]) as proxy:
            reader, writer = await _raw_get(proxy.port, "/sse")
            send.put_nowait(2)
            buffer = None
            while buffer is None or buffer.held < 2 * len(event):
                await asyncio.sleep(0.01)  # wait until the proxy holds both events
                pipes = proxy.connections[0].pipes if proxy.connections else {}
                buffer = pipes["downstream"].http if pipes else None
            with pytest.raises(TimeoutError):  # stalled: nothing reaches the client
                await asyncio.wait_for(reader.read(65536), 0.3)
            send.put_nowait(size // len(event))  # now past size: the proxy releases what it holds
            got = b""
            while len(got) < size:  # a flush is at least size bytes
                got += await asyncio.wait_for(reader.read(65536), 5 * TIMEOUT_FACTOR)
            send.put_nowait(None)
            writer.close()
            return got, buffer.flushes

    got, flushes = run(body())
    assert got.startswith(b"HTTP/1.1 200 OK") and b"text/event-stream" in got
    assert flushes >= 1 and got.count(event) >= 2


def test_buffer_passes_an_upgraded_websocket_unbuffered():
    async def body():
        async with ws_echo_server() as port, \
                Proxy(("127.0.0.1", port), ["buffer"]) as proxy:
            async with connect(f"ws://127.0.0.1:{proxy.port}/", open_timeout=5) as ws:
                replies = []
                for i in range(3):  # tiny frames: a buffered proxy would hold them
                    await ws.send(f"m{i}")
                    replies.append(await asyncio.wait_for(ws.recv(), 5 * TIMEOUT_FACTOR))
            return replies, proxy.connections[0].pipes["downstream"].http.framer.tunnel

    replies, tunnel = run(body())
    assert replies == ["m0", "m1", "m2"]
    assert tunnel
