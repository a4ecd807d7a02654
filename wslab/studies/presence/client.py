"""The presence client child: N idle clients of one mechanism, in the client namespace.

Run as ``python -m wslab.studies.presence.client`` inside the client network
namespace (`wslab.net.netns`). Client k connects ``offsets[k]`` s after the
start (seeded, uniform over one heartbeat period: each client's heartbeat
phase is its own, so one vanish instant lands at a random phase of every
client) and then only does what the mechanism needs: the WebSocket client
answers pings (websockets does that by itself), the SSE client reads the
stream, the long-poll client re-issues ``GET /poll`` as soon as one is
answered (HTTP/1.1 keep-alive), the keep-alive client reads.

Commands: ``counters`` (each connection's kernel counters, `wslab.core.meter.tcp_info`),
``stop``. After the vanish nothing reaches the clients; the parent stops
this process, it is not asked to notice anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from websockets.asyncio.client import connect

from ...core.child import Channel, run_child
from ...core.meter import tcp_info

__all__: list[str] = []


async def _socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    return sock


async def _websocket(host: str, port: int, ready: asyncio.Future) -> None:
    raw = await _socket(host, port)
    # No client pings (ping_interval=None): only the server's heartbeat is measured.
    ws = await connect(f"ws://{host}:{port}/", sock=raw, ping_interval=None, open_timeout=30)
    ready.set_result(raw)
    with contextlib.suppress(Exception):
        async for _ in ws:
            pass


async def _http(host: str, port: int, ready: asyncio.Future, path: str, repeat: bool) -> None:
    reader, writer = await asyncio.open_connection(sock=await _socket(host, port))
    ready.set_result(writer.get_extra_info("socket"))
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Accept: */*\r\n\r\n").encode()
    with contextlib.suppress(Exception):
        while True:
            writer.write(request)
            if not repeat:  # SSE: one request, then the stream (pings) forever
                while await reader.read(65536):
                    pass
                return
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)


async def _raw(host: str, port: int, ready: asyncio.Future) -> None:
    reader, _writer = await asyncio.open_connection(sock=await _socket(host, port))
    ready.set_result(_writer.get_extra_info("socket"))
    with contextlib.suppress(Exception):
        await reader.read()


async def _client(k: int, config: dict[str, Any], ready: asyncio.Future) -> None:
    await asyncio.sleep(float(config["offsets"][k]))
    host, port, mechanism = config["host"], int(config["port"]), config["mechanism"]
    if mechanism == "websocket":
        await _websocket(host, port, ready)
    elif mechanism == "sse":
        await _http(host, port, ready, "/sse", repeat=False)
    elif mechanism == "long-poll":
        await _http(host, port, ready, f"/poll?id={k}", repeat=True)
    else:
        await _raw(host, port, ready)


async def _setup(config: dict[str, Any], channel: Channel):
    loop = asyncio.get_running_loop()
    n = len(config["offsets"])
    ready = [loop.create_future() for _ in range(n)]
    tasks = [asyncio.create_task(_client(k, config, ready[k])) for k in range(n)]
    done: asyncio.Future = asyncio.gather(*ready)
    # a client that fails before it is connected fails the setup
    failed: asyncio.Future = asyncio.ensure_future(
        asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION))
    await asyncio.wait([done, failed], timeout=float(config.get("timeout", 60)),
                       return_when=asyncio.FIRST_COMPLETED)
    failed.cancel()
    if not done.done():
        errors = [t.exception() for t in tasks if t.done() and t.exception()]
        raise RuntimeError(f"{sum(f.done() for f in ready)} of {n} clients connected"
                           + (f"; first error: {errors[0]!r}" if errors else ""))
    socks = done.result()

    async def counters() -> dict:
        out: list[dict[str, int] | None] = []
        for sock in socks:
            try:
                out.append(tcp_info(sock).as_dict())
            except OSError:
                out.append(None)
        return {"counters": out}

    async def stop() -> dict:
        for task in tasks:
            task.cancel()
        return {}

    channel.send({"ok": True, "clients": n})
    return {"counters": counters, "stop": stop, "close": stop}


if __name__ == "__main__":
    run_child(_setup)
