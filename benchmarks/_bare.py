"""Bare reference processes for ``benchmarks/overhead.py`` (no wslab imports).

Each subcommand is one process, started by overhead.py with ``subprocess``:

- ``tcp-pub``: asyncio streams server; once ``--clients`` connections are in,
  pushes a fixed-rate stream of length-prefixed events, then closes them.
- ``tcp-sub``: ``--clients`` asyncio stream clients in one process; each
  records ``time.monotonic_ns() - t`` per event; prints the p50 after warm-up.
- ``ws-pub``: ``websockets.asyncio.server.serve`` + ``websockets.broadcast``
  (compression off); once ``--clients`` connections are in, broadcasts a
  fixed-rate stream.
- ``ws-fleet``: ``--clients`` ``websockets.asyncio.client.connect`` clients
  (compression off) in one process; each counts messages until it has
  ``--events`` and the fleet prints the total and the time of the last
  receive; with ``--record`` each client also records ``monotonic_ns() - t``
  per event and the fleet prints the p50 after warm-up.

The event body is the harness's: ``{"seq":N,"t":MONOTONIC_NS,"p":"..."}`` with
``--payload`` bytes of seeded printable ASCII. Replies are one JSON line each
on stdout. Every process binds or connects to 127.0.0.1 only, exits by itself
after ``--limit`` seconds at the latest, and exits at once if the parent given
by ``--parent`` is already gone (the parent also sets PR_SET_PDEATHSIG).

Run on its own without a subcommand, this module only prints what it is (so
``make benchmarks``, which runs every ``benchmarks/*.py``, is unaffected).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import socket
import string
import struct
import sys
import time
from array import array

HOST = "127.0.0.1"
_ALPHABET = (string.ascii_letters + string.digits).encode()
_LEN = struct.Struct(">I")


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def warm_malloc() -> None:
    """Free one 1 MiB block so that glibc raises its mmap threshold above 256 KiB.

    asyncio's selector transports read with ``sock.recv(256 KiB)`` and shrink
    the result. While glibc's mmap threshold is at its 128 KiB default, each
    such buffer costs mmap + mremap + munmap and a page fault: three extra
    syscalls per read, which roughly doubles the p50 of a minimal subscriber
    on these VMs. Freeing one mmapped block above the threshold makes glibc
    raise it (and the trim threshold) for the rest of the process, and the
    buffers come from the heap. The harness's server and fleet reach that
    state by accident (some import frees a large block: importing
    ``wslab.transports`` or ``pyarrow`` is enough), so the bare floor is put in
    the same state on purpose; ``--malloc naive`` leaves glibc as it starts.
    """
    block = bytes(1 << 20)
    del block


def _guard(limit_s: float, parent: int) -> None:
    """Exit if the parent is gone already; exit by itself after ``limit_s``."""
    if parent and os.getppid() != parent:
        os._exit(1)

    def expire() -> None:
        sys.stderr.write(f"{sys.argv[1]}: time limit of {limit_s:.0f} s reached\n")
        os._exit(3)

    asyncio.get_running_loop().call_later(limit_s, expire)


def _payloads(size: int, seed: int, pool: int = 65_536):
    rng = random.Random(seed)
    data = bytes(rng.choices(_ALPHABET, k=size + pool))
    return lambda seq: data[(seq * 7919) % pool : (seq * 7919) % pool + size]


async def _publish(send, rate: float, duration: float, payload: int, seed: int) -> tuple[int, int]:
    """Fixed-rate open-loop schedule; returns ``(count, t of the first event)``."""
    pay = _payloads(payload, seed)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    first = 0
    n = int(rate * duration)
    for i in range(n):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        seq = i + 1
        t = time.monotonic_ns()
        first = first or t
        send(b'{"seq":%d,"t":%d,"p":"%s"}' % (seq, t, pay(seq)))
    return n, first


def _nodelay(writer: asyncio.StreamWriter) -> None:
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# -- raw TCP ------------------------------------------------------------------
async def tcp_pub(a: argparse.Namespace) -> None:
    _guard(a.limit, a.parent)
    writers: list[asyncio.StreamWriter] = []
    full = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _nodelay(writer)
        writers.append(writer)
        if len(writers) >= a.clients:
            full.set()
        await reader.read()

    server = await asyncio.start_server(handle, HOST, 0, backlog=4096)
    _emit({"port": server.sockets[0].getsockname()[1]})
    await full.wait()

    def send(body: bytes) -> None:
        frame = _LEN.pack(len(body)) + body
        for w in writers:
            w.write(frame)

    n, first = await _publish(send, a.rate, a.duration, a.payload, a.seed)
    for w in writers:
        w.close()  # flushes what is buffered, then FIN: the subscriber sees EOF
    await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
    server.close()
    _emit({"published": n, "first_pub_ns": first})


def _p50_after_warmup(pub: array, recv: array, warmup_s: float) -> int | None:
    """p50 in µs of ``recv - pub`` over events published after the warm-up.

    Same rule as the harness's HdrHistogram summary: latencies are floored to
    whole µs and the p50 is the smallest value with at least round(n/2)
    values at or below it.
    """
    if not pub:
        return None
    cutoff = min(pub) + int(warmup_s * 1e9)
    us = sorted((r - p) // 1000 for p, r in zip(pub, recv, strict=True) if p >= cutoff)
    return us[max(1, int(0.5 * len(us) + 0.5)) - 1] if us else None


def _published_ns(body: str) -> int:
    """``t`` of one text event body, by slicing (as the harness's decode_header)."""
    i = body.index(',"t":')
    return int(body[i + 5 : body.index(",", i + 5)])


async def tcp_sub(a: argparse.Namespace) -> None:
    _guard(a.limit, a.parent)
    pub = array("q")
    recv = array("q")

    async def client() -> None:
        reader, writer = await asyncio.open_connection(HOST, a.port)
        _nodelay(writer)
        readexactly = reader.readexactly
        try:
            while True:
                (size,) = _LEN.unpack(await readexactly(4))
                body = await readexactly(size)
                now = time.monotonic_ns()
                i = body.index(b',"t":')
                pub.append(int(body[i + 5 : body.index(b",", i + 5)]))
                recv.append(now)
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(a.clients)))
    _emit({"delivered": len(pub), "p50_us": _p50_after_warmup(pub, recv, a.warmup)})


# -- websockets ---------------------------------------------------------------
async def ws_pub(a: argparse.Namespace) -> None:
    from websockets.asyncio.server import broadcast, serve

    _guard(a.limit, a.parent)
    conns: set = set()
    full = asyncio.Event()
    gone = asyncio.Event()

    async def handler(ws) -> None:
        conns.add(ws)
        if len(conns) >= a.clients:
            full.set()
        try:
            await ws.wait_closed()
        finally:
            conns.discard(ws)
            if full.is_set() and not conns:
                gone.set()

    async with serve(handler, HOST, 0, compression=None, ping_interval=None,
                     backlog=4096) as server:
        _emit({"port": next(iter(server.sockets)).getsockname()[1]})
        await full.wait()
        cpu0 = _cpu_s()
        n, first = await _publish(lambda body: broadcast(conns, body.decode("ascii")),
                                  a.rate, a.duration, a.payload, a.seed)
        _emit({"published": n, "first_pub_ns": first})
        await gone.wait()  # stay up until every client has what was buffered for it
        _emit({"cpu_s": _cpu_s() - cpu0})


async def ws_fleet(a: argparse.Namespace) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    _guard(a.limit, a.parent)
    url = f"ws://{HOST}:{a.port}/"
    slots = asyncio.Semaphore(256)  # as the harness's fleet: bounded connection burst

    async def open_one():
        async with slots:
            return await connect(url, compression=None, ping_interval=None, open_timeout=60)

    conns = await asyncio.gather(*(open_one() for _ in range(a.clients)))
    counts = [0] * a.clients
    last = [0] * a.clients
    pub = array("q")
    recv = array("q")

    async def count(k: int, ws) -> None:
        n = t = 0
        try:
            async for _ in ws:
                t = time.monotonic_ns()
                n += 1
                if n >= a.events:
                    break
        except ConnectionClosed:
            pass
        finally:
            counts[k], last[k] = n, t

    async def record(k: int, ws) -> None:
        n = now = 0
        try:
            async for message in ws:
                now = time.monotonic_ns()
                pub.append(_published_ns(message))
                recv.append(now)
                n += 1
                if n >= a.events:
                    break
        except ConnectionClosed:
            pass
        finally:
            counts[k], last[k] = n, now

    consume = record if a.record else count
    cpu0 = _cpu_s()
    tasks = [asyncio.create_task(consume(k, ws)) for k, ws in enumerate(conns)]
    _, pending = await asyncio.wait(tasks, timeout=a.drain)
    for t in pending:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    _emit({"delivered": sum(counts), "last_recv_ns": max(last), "cpu_s": _cpu_s() - cpu0,
           "p50_us": _p50_after_warmup(pub, recv, a.warmup) if a.record else None})
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd")
    for name in ("tcp-pub", "tcp-sub", "ws-pub", "ws-fleet"):
        s = sub.add_parser(name)
        s.add_argument("--clients", type=int, required=True)
        s.add_argument("--limit", type=float, default=120.0, help="hard time limit (s)")
        s.add_argument("--parent", type=int, default=0, help="expected parent pid")
        if name.endswith("pub"):
            s.add_argument("--rate", type=float, required=True)
            s.add_argument("--duration", type=float, required=True)
            s.add_argument("--payload", type=int, default=64)
            s.add_argument("--seed", type=int, default=0)
        else:
            s.add_argument("--port", type=int, required=True)
        s.add_argument("--malloc", choices=("warm", "naive"), default="warm",
                       help="warm: raise glibc's mmap threshold first (see warm_malloc)")
    for name in ("tcp-sub", "ws-fleet"):
        sub.choices[name].add_argument("--warmup", type=float, default=0.0,
                                       help="s of events left out of the p50")
    fleet = sub.choices["ws-fleet"]
    fleet.add_argument("--events", type=int, required=True, help="events per client")
    fleet.add_argument("--drain", type=float, default=60.0, help="s to wait for them")
    fleet.add_argument("--record", action="store_true",
                       help="record each latency (else count only) and report the p50")
    a = p.parse_args(argv)
    if a.cmd is None:
        print("benchmarks/_bare.py: helper processes of benchmarks/overhead.py; nothing to run")
        return
    if a.cmd.startswith("ws"):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if a.malloc == "warm":
        warm_malloc()
    coro = {"tcp-pub": tcp_pub, "tcp-sub": tcp_sub, "ws-pub": ws_pub, "ws-fleet": ws_fleet}
    asyncio.run(coro[a.cmd](a))


if __name__ == "__main__":
    main()
