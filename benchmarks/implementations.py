"""WebSocket implementations against the TCP floor: protocol cost vs library cost.

Three WebSocket libraries put the same frames on the wire (RFC 6455: a
2-byte header per event of this size, unmasked server to client; checked by
``tests/transports/test_transports.py``): websockets (``websocket``), aiohttp
(``aiohttp-ws``) and picows (``picows``). Whatever separates them is the
library, not the protocol. Each runs on asyncio's event loop and on uvloop
(``WSLAB_LOOP``), beside the ``tcp`` floor on the same loop, all in one run:

- one-way latency p50 and p99, one client, a fixed-rate stream;
- broadcast to ``--clients`` (1,000) clients, each run on a fresh server:
  the server's CPU per delivery, deliveries per server CPU-second, and
  server memory per connection (RSS growth from before the clients
  connected to the start of publishing, divided by N).

Ratios are taken within a round (same machine state), rounds interleave every
variant in a rotated order, and each figure is the median over rounds with a
95 % bootstrap interval over rounds (`wslab.stats`). The server runs on CPU 0
and the clients on CPU 1 (``os.sched_setaffinity``, inherited by children),
as ``benchmarks/overhead.py`` does, and for the same reason (a shared core
changes the latency's level). Every process binds 127.0.0.1.

    .venv/bin/python benchmarks/implementations.py            # about 9 minutes
    .venv/bin/python benchmarks/implementations.py --quick    # smoke run: about 2 minutes
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

IMPLEMENTATIONS = ("websocket", "aiohttp-ws", "picows")
FLOOR = "tcp"
LOOPS = ("asyncio", "uvloop")


@contextlib.contextmanager
def affinity(cores: set[int] | None) -> Iterator[None]:
    """Run the block on ``cores``: processes started inside inherit them."""
    if not cores:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--clients", type=int, default=1000, help="broadcast clients (default 1000)")
    p.add_argument("--rate", type=float, default=500.0, help="latency runs: events/s")
    p.add_argument("--broadcast-rate", type=float, default=50.0, help="broadcast: events/s")
    p.add_argument("--duration", type=float, default=3.0, help="seconds per run")
    p.add_argument("--pin", choices=("on", "off"), default="on")
    p.add_argument("--quick", action="store_true", help="2 rounds, 200 clients, 2 s runs")
    a = p.parse_args(argv)
    if a.quick:
        a.rounds, a.clients, a.duration = 2, 200, 2.0
    if not (1 <= a.rounds <= 50 and 1 <= a.clients <= 5000 and 0 < a.duration <= 60
            and 0 < a.rate <= 5000 and 0 < a.broadcast_rate <= 500):
        p.error("rounds 1-50, clients 1-5000, duration (0, 60] s, rate (0, 5000], "
                "broadcast-rate (0, 500]")
    if a.pin == "on" and (os.cpu_count() or 1) < 2:
        p.error("--pin on needs two CPUs; use --pin off")
    return a


class Labs:
    """One Lab per event loop, each server pinned to CPU 0, started once."""

    def __init__(self, pin: bool) -> None:
        self.pin = pin
        self.labs: dict[str, object] = {}

    def __enter__(self) -> Labs:
        import wslab

        for loop in LOOPS:
            os.environ["WSLAB_LOOP"] = loop  # the Lab's server inherits it
            with affinity({0} if self.pin else None):
                self.labs[loop] = wslab.Lab().start()
        return self

    def __exit__(self, *exc: object) -> None:
        for lab in self.labs.values():
            lab.close()  # type: ignore[attr-defined]

    def run(self, loop: str, transport: str, out: Path, fresh: bool = False,
            **params: object) -> dict:
        """One run on ``loop``'s Lab, or (``fresh``) on a new server, whose RSS
        growth is then this run's clients' alone: a server that served earlier
        runs keeps their memory, so its growth says nothing per connection."""
        import wslab

        os.environ["WSLAB_LOOP"] = loop  # the server and the fleets inherit it
        try:
            if fresh:
                with affinity({0} if self.pin else None):
                    lab = wslab.Lab().start()
            else:
                lab = self.labs[loop]
            try:
                with affinity({1} if self.pin else None):
                    run = lab.run(transport, out=str(out), progress=False,  # type: ignore[attr-defined]
                                  schedule="fixed", **params)
                return run.summary
            finally:
                if fresh:
                    lab.close()  # type: ignore[attr-defined]
        finally:
            shutil.rmtree(out, ignore_errors=True)


def one_round(labs: Labs, r: int, a: argparse.Namespace, tmp: Path) -> dict[tuple, dict]:
    """Every variant once, in an order rotated by round: {(kind, loop, transport): summary}."""
    variants = [(loop, t) for loop in LOOPS for t in (FLOOR, *IMPLEMENTATIONS)]
    k = r % len(variants)
    variants = variants[k:] + variants[:k]
    out: dict[tuple, dict] = {}
    for loop, t in variants:
        out[("latency", loop, t)] = labs.run(loop, t, tmp / f"l{r}{loop}{t}", clients=1,
                                             rate=a.rate, duration=a.duration, seed=r)
    for loop, t in variants:
        out[("broadcast", loop, t)] = labs.run(loop, t, tmp / f"b{r}{loop}{t}", fresh=True,
                                               clients=a.clients, rate=a.broadcast_rate,
                                               duration=a.duration, seed=r)
    return out


def fmt(e, digits: int = 2) -> str:
    if not (np.isfinite(e.low) and np.isfinite(e.high)):
        return f"{e.value:.{digits}f} (n = {e.n})"
    return f"{e.value:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def report(rounds: list[dict[tuple, dict]], a: argparse.Namespace) -> None:
    from wslab.stats import bootstrap_ci, ratio_ci

    def series(kind: str, loop: str, t: str, f) -> list[float]:
        return [f(r[(kind, loop, t)]) for r in rounds]

    p50 = lambda s: s["latency_us"]["p50"]  # noqa: E731
    p99 = lambda s: s["latency_us"]["p99"]  # noqa: E731
    cpu = lambda s: s["server_cpu_us_per_event"]  # noqa: E731
    per_cpu_s = lambda s: s["delivered"] / max(s["server_cpu_s"], 1e-9)  # noqa: E731
    kib = lambda s: s["server_rss_per_client_bytes"] / 1024  # noqa: E731
    losses = sum(s["lost"] + s["duplicated"] for r in rounds for s in r.values())
    print(f"\n{len(rounds)} rounds; every run lost 0 and duplicated 0: {losses == 0}")
    print(f"latency: 1 client, {a.rate:g} events/s (fixed), {a.duration:g} s per run; "
          f"broadcast: {a.clients:,} clients, {a.broadcast_rate:g} events/s")
    print("medians over rounds [95 % bootstrap interval over rounds]\n")
    head = (f"{'loop':<8} {'transport':<11} {'p50 µs':>24} {'p50 / tcp':>22} {'p99 / tcp':>22}"
            f" {'server CPU µs/delivery':>26} {'deliveries per CPU-s / websockets':>36}"
            f" {'KiB per connection':>22}")
    print(head)
    base_ws = series("broadcast", "asyncio", "websocket", per_cpu_s)
    for loop in LOOPS:
        for t in (FLOOR, *IMPLEMENTATIONS):
            lat = bootstrap_ci(series("latency", loop, t, p50), np.median, unit="rounds")
            r50 = ratio_ci(series("latency", loop, t, p50), series("latency", loop, FLOOR, p50),
                           unit="rounds")
            r99 = ratio_ci(series("latency", loop, t, p99), series("latency", loop, FLOOR, p99),
                           unit="rounds")
            c = bootstrap_ci(series("broadcast", loop, t, cpu), np.median, unit="rounds")
            eff = ratio_ci(series("broadcast", loop, t, per_cpu_s), base_ws, unit="rounds")
            mem = bootstrap_ci(series("broadcast", loop, t, kib), np.median, unit="rounds")
            print(f"{loop:<8} {t:<11} {fmt(lat, 0):>24} {fmt(r50):>22} {fmt(r99):>22}"
                  f" {fmt(c, 1):>26} {fmt(eff):>36} {fmt(mem, 1):>22}")
    best = min(((loop, t) for loop in LOOPS for t in IMPLEMENTATIONS),
               key=lambda v: np.median(series("latency", v[0], v[1], p50)))
    r50 = ratio_ci(series("latency", *best, p50), series("latency", best[0], FLOOR, p50),
                   unit="rounds")
    fastest = max(((loop, t) for loop in LOOPS for t in IMPLEMENTATIONS),
                  key=lambda v: np.median(series("broadcast", v[0], v[1], per_cpu_s)))
    eff = ratio_ci(series("broadcast", *fastest, per_cpu_s), base_ws, unit="rounds")
    print(f"\ntarget: one-way p50 within 1.15x of the tcp floor -> {best[1]} on {best[0]}: "
          f"{fmt(r50)}: {verdict(r50, 1.15, below=True)}")
    print(f"target: broadcast deliveries per CPU-second >= 1.5x websockets' -> {fastest[1]} on "
          f"{fastest[0]}: {fmt(eff)}: {verdict(eff, 1.5, below=False)}")


def verdict(e, target: float, below: bool) -> str:
    """Met (the whole interval on the right side), met at the median only, or missed."""
    whole = e.high <= target if below else e.low >= target
    median = e.value <= target if below else e.value >= target
    return "met" if whole else "met at the median, not by the whole interval" if median else "missed"


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    t0 = time.monotonic()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="wslab-impl-") as tmp, Labs(a.pin == "on") as labs:
        for r in range(a.rounds):
            rounds.append(one_round(labs, r, a, Path(tmp)))
            load = os.getloadavg()[0]
            print(f"round {r + 1}/{a.rounds} done ({time.monotonic() - t0:.0f} s, "
                  f"load average {load:.2f})", flush=True)
    report(rounds, a)
    print(f"\n{time.monotonic() - t0:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
