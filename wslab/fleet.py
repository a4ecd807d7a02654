"""The client fleet process: N instrumented clients of one transport.

Run as ``python -m wslab.fleet`` by `wslab.Lab` (protocol in `wslab.child`).
The fleet connects its clients (at most ``ramp_concurrency`` connection
attempts at a time, optionally paced to ``ramp_rate`` per second) and answers
``ready`` when every client is connected. Commands: ``start`` (open the
CPU/memory window), ``drain`` (publishing ended at ``last_seq``: wait until
every client has it or the timeout passes, stop the clients, write the
per-delivery and per-connection tables) and ``stop``.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import transports
from .child import Channel, run_child
from .meter import ProcessMeter
from .transports.base import ClientContext

__all__ = ["raise_nofile_limit"]


def raise_nofile_limit() -> int:
    """Raise this process's open-file soft limit to the hard limit (never above)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _messages_table(ctxs: list[ClientContext]) -> pa.Table:
    counts = [len(c.seqs) for c in ctxs]
    return pa.table(
        {
            "client_id": np.repeat([c.client_id for c in ctxs], counts).astype(np.int32),
            "seq": np.concatenate([np.frombuffer(c.seqs, np.int64) for c in ctxs] or [[]]),
            "published_ns": np.concatenate(
                [np.frombuffer(c.published, np.int64) for c in ctxs] or [[]]
            ),
            "received_ns": np.concatenate(
                [np.frombuffer(c.received, np.int64) for c in ctxs] or [[]]
            ),
        }
    )


def _connections_table(ctxs: list[ClientContext]) -> pa.Table:
    rows = []
    for c in ctxs:
        for r in c.conn.rows:
            rows.append(
                {
                    "client_id": c.client_id,
                    "conn_index": r.conn_index,
                    **r.counters.as_dict(),
                    "requests": r.requests,
                    "empty_responses": r.empty_responses,
                    "opened_ns": r.opened_ns,
                    "closed_ns": r.closed_ns,
                }
            )
    if not rows:
        names = ["client_id", "conn_index", "bytes_up", "bytes_down", "segs_up", "segs_down",
                 "requests", "empty_responses", "opened_ns", "closed_ns"]
        return pa.table({n: pa.array([], pa.int64()) for n in names})
    return pa.Table.from_pylist(rows)


async def _setup(config: dict[str, Any], channel: Channel):
    raise_nofile_limit()
    transport = transports.get(config["transport"])
    url = config["url"]
    options = config.get("options", {})
    seed = int(config.get("seed", 0))
    first = int(config.get("first_client", 0))
    ctxs = [
        ClientContext(i, url, options, seed * 1_000_003 + i)
        for i in range(first, first + int(config["clients"]))
    ]
    slots = asyncio.Semaphore(int(config.get("ramp_concurrency", 256)))
    ramp_rate = config.get("ramp_rate")  # connections per second, None: as fast as possible
    t_ramp = time.monotonic()

    async def one(k: int, ctx: ClientContext) -> None:
        if ramp_rate:
            await asyncio.sleep(k / ramp_rate)
        async with slots:  # held until connected: bounds the connection burst
            task = asyncio.ensure_future(transport.run_client(ctx))
            ready = asyncio.ensure_future(ctx.is_ready.wait())
            await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
        await task

    tasks = [asyncio.create_task(one(k, c)) for k, c in enumerate(ctxs)]
    all_ready = asyncio.ensure_future(asyncio.gather(*(c.is_ready.wait() for c in ctxs)))
    first_failure = asyncio.ensure_future(_first_failure(tasks))
    await asyncio.wait([all_ready, first_failure], return_when=asyncio.FIRST_COMPLETED)
    if not all_ready.done():
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise RuntimeError(f"a client could not connect: {first_failure.result()!r}")
    first_failure.cancel()
    ramp_s = time.monotonic() - t_ramp
    meter = ProcessMeter()
    channel.send({"ok": True, "pid": os.getpid(), "connected": len(ctxs), "ramp_s": ramp_s})

    async def start() -> dict:
        meter.start()
        return {}

    async def drain(last_seq: int, timeout: float, messages: str, connections: str) -> dict:
        for c in ctxs:
            c.set_target(last_seq)
        waits = [asyncio.ensure_future(c.finished.wait()) for c in ctxs]
        await asyncio.wait(waits, timeout=timeout)
        stalled = sum(not c.finished.is_set() for c in ctxs)
        for w in waits:
            w.cancel()
        for t in tasks:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)
                  and not isinstance(r, asyncio.CancelledError)]
        snap = meter.stop()
        pq.write_table(_messages_table(ctxs), messages)
        pq.write_table(_connections_table(ctxs), connections)
        return {
            **snap,
            "stalled_clients": stalled,
            "client_errors": len(errors),
            "first_error": repr(errors[0]) if errors else None,
        }

    async def stop() -> dict:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {}

    return {"start": start, "drain": drain, "stop": stop, "close": stop}


async def _first_failure(tasks: list[asyncio.Task]) -> BaseException | None:
    for fut in asyncio.as_completed(tasks):
        try:
            await fut
        except Exception as exc:  # a client that fails before it is ready
            return exc
    return None


def main() -> None:
    run_child(_setup)


if __name__ == "__main__":
    main()
