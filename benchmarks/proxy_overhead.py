"""What the impairment proxy (`wslab.net.proxy`) adds to a round trip when no toxic is set.

Setup, as runs use it: an echo server in its own process; the proxy in its
own process (``python -m wslab.net.proxy_process`` through `wslab.core.proc.ChildProcess`);
this process is the client, with blocking sockets and TCP_NODELAY. Two
connections, one direct to the echo server and one through the proxy, are
measured in alternating blocks (so drift on a shared machine hits both),
after a warm-up that is discarded. Each sample is the round trip of one
small message (send, then read the echo back), on CLOCK_MONOTONIC.

The proxy adds two forwarding hops to a round trip (one each way), so the
added one-way latency is half the difference of the round-trip medians.
Target: added one-way p50 < 100 µs.

    .venv/bin/python benchmarks/proxy_overhead.py [--count 2000] [--size 64]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wslab.core.proc import ChildProcess  # noqa: E402

TARGET_US = 100.0


def _echo_server(conn) -> None:
    """A blocking echo server, one thread per connection (runs in its own process)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    conn.send(listener.getsockname()[1])

    def serve(sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with sock:
            while data := sock.recv(65536):
                sock.sendall(data)

    while True:
        sock, _ = listener.accept()
        threading.Thread(target=serve, args=(sock,), daemon=True).start()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _ping(sock: socket.socket, message: bytes, n: int, out: list[int] | None) -> None:
    size = len(message)
    for _ in range(n):
        t0 = time.perf_counter_ns()
        sock.sendall(message)
        got = 0
        while got < size:
            chunk = sock.recv(size - got)
            if not chunk:
                raise ConnectionError("echo connection closed")
            got += len(chunk)
        t1 = time.perf_counter_ns()
        if out is not None:
            out.append(t1 - t0)


def _pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e3  # µs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="measured round trips per path")
    parser.add_argument("--warmup", type=int, default=300, help="discarded round trips per path")
    parser.add_argument("--size", type=int, default=64, help="message size in bytes")
    parser.add_argument("--blocks", type=int, default=10, help="alternating blocks per path")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    echo = ctx.Process(target=_echo_server, args=(child_end,), daemon=True)
    echo.start()
    proxy = None
    try:
        if not parent_end.poll(30):
            raise RuntimeError("echo server did not report its port")
        port = parent_end.recv()
        proxy = ChildProcess("proxy", "wslab.net.proxy_process",
                             {"upstreams": {"echo": f"tcp://127.0.0.1:{port}"}, "toxics": [],
                              "seed": 0})
        ready = proxy.start()
        proxied_port = int(ready["endpoints"]["echo"].rsplit(":", 1)[1])

        message = os.urandom(args.size)
        direct, proxied = _connect(port), _connect(proxied_port)
        for sock in (direct, proxied):
            _ping(sock, message, args.warmup, None)
        rtt = {"direct": [], "proxied": []}
        per_block = max(1, args.count // args.blocks)
        for _ in range(args.blocks):
            _ping(direct, message, per_block, rtt["direct"])
            _ping(proxied, message, per_block, rtt["proxied"])
        direct.close()
        proxied.close()
        stats = proxy.request("stats")
    finally:
        if proxy is not None:
            proxy.stop()
        echo.kill()
        echo.join()

    n = len(rtt["direct"])
    print(f"proxy overhead: {n} round trips of {args.size} B per path "
          f"({args.warmup} warm-up discarded), {args.blocks} alternating blocks")
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print(f"{'path':<9}{'p50 µs':>10}{'p90 µs':>10}{'p99 µs':>10}{'mean µs':>10}")
    for name, values in rtt.items():
        print(f"{name:<9}{_pct(values, .5):>10.1f}{_pct(values, .9):>10.1f}"
              f"{_pct(values, .99):>10.1f}{statistics.fmean(values) / 1e3:>10.1f}  (round trip)")
    d50, p50 = _pct(rtt["direct"], .5), _pct(rtt["proxied"], .5)
    added = (p50 - d50) / 2
    print(f"direct p50 RTT      {d50:8.1f} µs  (one-way {d50 / 2:.1f} µs)")
    print(f"proxied p50 RTT     {p50:8.1f} µs  (one-way {p50 / 2:.1f} µs)")
    print(f"added one-way p50   {added:8.1f} µs  (half the RTT difference)")
    print(f"ratio proxied/direct p50: {p50 / d50:.2f}x")
    expected = (args.warmup + n) * args.size
    print(f"proxy forwarded {stats['bytes_upstream']} B up, {stats['bytes_downstream']} B down "
          f"(expected {expected} each way)")
    verdict = "PASS" if added < TARGET_US else "FAIL"
    print(f"RESULT: proxy adds {added:.1f} µs one-way at p50 (target < {TARGET_US:.0f} µs): "
          f"{verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
