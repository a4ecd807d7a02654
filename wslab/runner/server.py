"""The server process: one event stream, mounted on every transport.

Run as ``python -m wslab.runner.server`` by `wslab.Lab` (protocol in `wslab.core.child`).
Commands: ``reset`` (forget the stream: a new run starts at seq 1),
``publish`` (emit an open-loop schedule; answers when the last event is out),
``stats`` (CPU and memory over the window that ``publish`` opened, live
connections per transport), ``stop``, and for ``wslab serve``'s live page
``live_start``, ``live_stop``, ``live_status`` (`wslab.runner.live.LivePublisher`).
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from typing import Any

from .. import transports
from ..core.child import Channel, run_child
from ..core.events import Event, PayloadPool, schedule_offsets
from ..core.hub import Hub
from ..core.meter import ProcessMeter
from ..core.tls import server_context
from ..transports import Bind
from .live import LivePublisher

__all__ = ["publish_schedule"]



#: how long a restarted worker retries a port another socket holds
REBIND_S = 10.0


async def _start_server(name: str, hub: Hub, bind: Bind, options: dict) -> Any:
    """Start transport ``name``'s server; on a given port, retry while it is taken.

    A restarted worker (``server_restart``) binds the ports its predecessor
    had. Those lie in the ephemeral range, so while it was down any process on
    the machine may have been given one as the local port of a client socket
    (seen with parallel test workers). Such sockets are mostly short-lived:
    retrying for `REBIND_S` beats failing the run. Port 0 never retries."""
    deadline = time.monotonic() + (REBIND_S if bind.port else 0.0)
    while True:
        try:
            return await transports.get(name).start_server(hub, bind, options)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.05)

async def publish_schedule(hub: Hub, offsets, payload: int, seed: int,
                           start_at_ns: int | None = None,
                           replay: bool = False, payload_kind: str = "random",
                           ) -> tuple[int, int, int]:
    """Publish one event at each offset (seconds from now, or from
    ``start_at_ns`` on CLOCK_MONOTONIC); open loop.

    Returns ``(count, start_ns, end_ns)``. When the loop falls behind, the
    late events go out at once, stamped with the time they actually left:
    the delay the publisher itself adds is never hidden in a client's
    latency, and the schedule is never slowed to suit the clients.

    ``replay``: a server restarted mid-run (`wslab.runner.lab`'s
    ``server_restart`` fault) rebuilds the stream as a server backed by a
    durable log would: every event due before it started is published at
    once, stamped with the time it was *due*, so clients that resume get
    them from the history and their latency includes the outage. The
    events the server rebuilt before it listened (`replay_due`) are not
    published again. ``payload_kind``: what the payloads hold
    (`wslab.core.events.PAYLOAD_KINDS`).
    """
    pool = PayloadPool(payload, seed, kind=payload_kind)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    if start_at_ns is not None:
        # asyncio's clock is CLOCK_MONOTONIC too: the instant itself, not an
        # offset from two clock reads that a preemption could pull apart
        t0 = start_at_ns / 1e9
        await asyncio.sleep(t0 - loop.time())
    start_ns = time.monotonic_ns()
    seq = 0
    if replay:
        seq = replay_due(hub, offsets, pool, t0, start_ns)
        offsets = offsets[seq:]
        start_ns = round(t0 * 1e9)  # the run's schedule started then, not this process
    for offset in offsets.tolist():
        delay = t0 + offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.001:
            # Behind schedule: still let the loop flush writes and read
            # requests between events (a burst, due at one instant, is not
            # split: its events are late by microseconds only).
            await asyncio.sleep(0)
        seq += 1
        hub.publish(Event.make(seq, time.monotonic_ns(), pool.payload(seq)))
    return seq, start_ns, time.monotonic_ns()


def replay_due(hub: Hub, offsets, pool: PayloadPool, t0: float, until_ns: int) -> int:
    """Publish the events of a schedule that began at ``t0`` (s, CLOCK_MONOTONIC)
    and were due before ``until_ns`` and are not in ``hub`` yet, each stamped
    with the time it was due; returns how many were due (the last seq)."""
    due = (t0 + offsets) * 1e9
    past = int((due < until_ns).sum())
    for k in range(hub.last_seq, past):
        hub.publish(Event.make(k + 1, int(due[k]), pool.payload(k + 1)))
    return past


async def _setup(config: dict[str, Any], channel: Channel):
    host = config.get("host", "127.0.0.1")
    hub = Hub(int(config.get("history", 1_000_000)))
    replay = config.get("replay")
    if replay:
        # A restart mid-run: the history is rebuilt *before* any listener
        # exists, so a client that reconnects at once resumes from it; were
        # it rebuilt after, a push connection registered in between would get
        # the rebuilt events it already has (duplicates).
        offsets = schedule_offsets(replay["schedule"], replay["rate"], replay["duration"],
                                   replay["seed"], replay.get("burst", 10))
        pool = PayloadPool(replay["payload"], replay["seed"],
                           kind=replay.get("payload_kind", "random"))
        replay_due(hub, offsets, pool,
                   replay["start_at_ns"] / 1e9, time.monotonic_ns())
    # Worker k of a multi-worker server binds the ports worker 0 got, with
    # SO_REUSEPORT; each worker publishes the same seeded schedule from a
    # common start instant (see wslab.runner.lab.Lab).
    ports = config.get("ports") or {}
    reuse_port = bool(config.get("reuse_port", False))
    tls = server_context(config["tls"]) if config.get("tls") else None  # wss, https, tls
    # When the first listener opens: clients waiting for a restarted server
    # connect from then on, while the others start (the ready reply below can
    # be late by seconds under a reconnecting herd).
    listen_ns = time.monotonic_ns()
    endpoints = {}
    for name in config.get("transports") or transports.names():
        options = config.get("options", {}).get(name, {})
        bind = Bind(host, int(ports.get(name, 0)), reuse_port, tls, config.get("tls") or None)
        endpoints[name] = await _start_server(name, hub, bind, options)
    meter = ProcessMeter()
    rss_before_clients = meter.rss()
    loop_module = type(asyncio.get_running_loop()).__module__.split(".")[0]  # asyncio|uvloop
    channel.send({"ok": True, "pid": os.getpid(), "event_loop": loop_module,
                  "listen_ns": listen_ns,
                  "endpoints": {n: e.url for n, e in endpoints.items()}})

    async def reset() -> dict:
        nonlocal rss_before_clients
        hub.reset()
        rss_before_clients = meter.rss()  # baseline for memory per connection
        return {"rss_before_clients": rss_before_clients}

    async def publish(schedule: str, rate: float, duration: float, payload: int, seed: int,
                      burst: int = 10, start_at_ns: int | None = None,
                      replay: bool = False, payload_kind: str = "random") -> dict:
        offsets = schedule_offsets(schedule, rate, duration, seed, burst)
        live = {n: e.connections() for n, e in endpoints.items() if e.connections}
        meter.start()
        count, start_ns, end_ns = await publish_schedule(hub, offsets, payload, seed,
                                                         start_at_ns, replay, payload_kind)
        return {"published": count, "start_ns": start_ns, "end_ns": end_ns,
                "live_connections": live}

    async def stats() -> dict:
        snap = meter.stop() if meter.rss_start else meter.snapshot()
        return {**snap, "rss_before_clients": rss_before_clients}

    async def close() -> dict:
        for endpoint in endpoints.values():
            await endpoint.close()
        return {}

    # `wslab serve`'s live page starts and stops a background stream (wslab.runner.live)
    live_page = LivePublisher(hub).handlers()
    return {"reset": reset, "publish": publish, "stats": stats, "stop": close, "close": close,
            **live_page}


def main() -> None:
    run_child(_setup)


if __name__ == "__main__":
    main()
