"""The server process: one event stream, mounted on every transport.

Run as ``python -m wslab.server`` by `wslab.Lab` (protocol in `wslab.child`).
Commands: ``reset`` (forget the stream: a new run starts at seq 1),
``publish`` (emit an open-loop schedule; answers when the last event is out),
``stats`` (CPU and memory over the window that ``publish`` opened, live
connections per transport) and ``stop``.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from . import transports
from .child import Channel, run_child
from .events import Event, PayloadPool, schedule_offsets
from .hub import Hub
from .meter import ProcessMeter

__all__ = ["publish_schedule"]


async def publish_schedule(hub: Hub, offsets, payload: int, seed: int) -> tuple[int, int, int]:
    """Publish one event at each offset (seconds from now); open loop.

    Returns ``(count, start_ns, end_ns)``. When the loop falls behind, the
    late events go out at once, stamped with the time they actually left:
    the delay the publisher itself adds is never hidden in a client's
    latency, and the schedule is never slowed to suit the clients.
    """
    pool = PayloadPool(payload, seed)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    start_ns = time.monotonic_ns()
    seq = 0
    for offset in offsets.tolist():
        delay = t0 + offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        seq += 1
        hub.publish(Event.make(seq, time.monotonic_ns(), pool.payload(seq)))
    return seq, start_ns, time.monotonic_ns()


async def _setup(config: dict[str, Any], channel: Channel):
    host = config.get("host", "127.0.0.1")
    hub = Hub(int(config.get("history", 1_000_000)))
    endpoints = {}
    for name in config.get("transports") or transports.names():
        options = config.get("options", {}).get(name, {})
        endpoints[name] = await transports.get(name).start_server(hub, host, options)
    meter = ProcessMeter()
    channel.send(
        {"ok": True, "pid": os.getpid(), "endpoints": {n: e.url for n, e in endpoints.items()}}
    )

    async def reset() -> dict:
        hub.reset()
        return {}

    async def publish(schedule: str, rate: float, duration: float, payload: int, seed: int,
                      burst: int = 10) -> dict:
        offsets = schedule_offsets(schedule, rate, duration, seed, burst)
        meter.start()
        count, start_ns, end_ns = await publish_schedule(hub, offsets, payload, seed)
        return {"published": count, "start_ns": start_ns, "end_ns": end_ns}

    async def stats() -> dict:
        snap = meter.stop() if meter.rss_start else meter.snapshot()
        live = {n: e.connections() for n, e in endpoints.items() if e.connections}
        return {**snap, "live_connections": live}

    async def close() -> dict:
        for endpoint in endpoints.values():
            await endpoint.close()
        return {}

    return {"reset": reset, "publish": publish, "stats": stats, "stop": close, "close": close}


def main() -> None:
    run_child(_setup)


if __name__ == "__main__":
    main()
