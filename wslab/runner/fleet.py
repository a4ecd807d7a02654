"""The client fleet: N instrumented clients of one transport.

`Fleet` holds the clients and their records; it runs in a child process
(``python -m wslab.runner.fleet``, protocol in `wslab.core.child`) or, for scale-out, as
a task on a Dask worker (`wslab.runner.scaleout`). It connects its clients (at most
``ramp_concurrency`` connection attempts at a time, optionally paced to
``ramp_rate`` per second), reports when every client is connected, opens the
CPU/memory window on ``start``, and on ``drain`` (publishing ended at
``last_seq``) waits until every client has it or a timeout passes, stops the
clients and returns the per-delivery and per-connection tables.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import transports
from ..core.child import Channel, raise_nofile_limit, run_child
from ..core.errors import RunError
from ..core.meter import ProcessMeter
from ..core.tls import client_context
from ..transports.base import ClientContext

__all__ = ["Fleet", "commands", "source_address"]

#: clients per loopback source address: under the 28,232 ephemeral ports
#: (32768-60999) one (source, destination) address pair can use
CLIENTS_PER_SOURCE = 25_000


def source_address(client_id: int, server_host: str) -> str | None:
    """The loopback source address of a client: 127.0.0.1, then .2, ... every 25,000.

    Only for an IPv4 loopback server and only past the first block, so small
    runs look exactly like ordinary clients.
    """
    block = client_id // CLIENTS_PER_SOURCE
    if block == 0 or not server_host.startswith("127."):
        return None
    return f"127.0.0.{1 + block}"


class Fleet:
    """N clients of one transport and what they recorded."""

    def __init__(self, transport: str, url: str, clients: int, first_client: int = 0,
                 options: dict[str, Any] | None = None, seed: int = 0,
                 ramp_concurrency: int = 256, ramp_rate: float | None = None,
                 tls: dict[str, str] | None = None) -> None:
        self.transport = transports.get(transport)
        host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
        context = client_context(tls) if tls else None  # one for every client: trusts the CA
        self.ctxs = [
            ClientContext(i, url, options or {}, seed * 1_000_003 + i,
                          source=source_address(i, host), tls=context)
            for i in range(first_client, first_client + clients)
        ]
        for ctx in self.ctxs:
            ctx.conn.kind = self.transport.name
        self.ramp_concurrency = ramp_concurrency
        self.ramp_rate = ramp_rate
        self.tasks: list[asyncio.Task] = []
        self.meter = ProcessMeter()
        self.ramp_s = 0.0

    async def _one(self, k: int, ctx: ClientContext, slots: asyncio.Semaphore) -> None:
        if self.ramp_rate:
            await asyncio.sleep(k / self.ramp_rate)
        async with slots:  # held until connected: bounds the connection burst
            task = asyncio.ensure_future(self.transport.run_client(ctx))
            ready = asyncio.ensure_future(ctx.is_ready.wait())
            await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
        await task

    async def connect(self) -> float:
        """Start every client; returns once all are connected (ramp time in s)."""
        raise_nofile_limit()
        t0 = time.monotonic()
        slots = asyncio.Semaphore(self.ramp_concurrency)
        self.tasks = [asyncio.create_task(self._one(k, c, slots))
                      for k, c in enumerate(self.ctxs)]
        all_ready: asyncio.Future[Any] = asyncio.ensure_future(
            asyncio.gather(*(c.is_ready.wait() for c in self.ctxs)))
        failure: asyncio.Future[Any] = asyncio.ensure_future(_first_failure(self.tasks))
        await asyncio.wait([all_ready, failure], return_when=asyncio.FIRST_COMPLETED)
        if not all_ready.done():
            await self.stop()
            connected = sum(c.is_ready.is_set() for c in self.ctxs)
            raise RunError(f"client could not connect after {connected} of "
                               f"{len(self.ctxs)} did: {failure.result()!r}")
        failure.cancel()
        self.ramp_s = time.monotonic() - t0
        return self.ramp_s

    def start(self) -> None:
        """Open the measured CPU/memory window (publishing is about to start)."""
        self.meter.start()

    async def drain(self, last_seq: int, timeout: float) -> dict[str, Any]:
        """Wait for every client to have ``last_seq`` (or ``timeout`` s), then stop them."""
        for c in self.ctxs:
            c.set_target(last_seq)
        waits = [asyncio.ensure_future(c.finished.wait()) for c in self.ctxs]
        await asyncio.wait(waits, timeout=timeout)
        stalled = sum(not c.finished.is_set() for c in self.ctxs)
        for w in waits:
            w.cancel()
        errors = await self.stop()
        return {
            **self.meter.stop(),
            "stalled_clients": stalled,
            "client_errors": len(errors),
            "first_error": repr(errors[0]) if errors else None,
        }

    async def stop(self) -> list[BaseException]:
        """Cancel every client (each reads its counters and closes); returns their errors."""
        for t in self.tasks:
            t.cancel()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        return [r for r in results if isinstance(r, BaseException)
                and not isinstance(r, asyncio.CancelledError)]

    def messages_table(self) -> pa.Table:
        """One row per delivery: client_id, seq, published_ns, received_ns."""
        ctxs = self.ctxs
        counts = [len(c.seqs) for c in ctxs]

        def column(name: str) -> np.ndarray:
            parts = [np.frombuffer(getattr(c, name), np.int64) for c in ctxs]
            return np.concatenate(parts) if parts else np.zeros(0, np.int64)

        return pa.table({
            "client_id": np.repeat([c.client_id for c in ctxs], counts).astype(np.int32),
            "seq": column("seqs"),
            "published_ns": column("published"),
            "received_ns": column("received"),
        })

    def connections_table(self) -> pa.Table:
        """One row per TCP connection with the kernel's counters."""
        rows = [
            {"client_id": c.client_id, "conn_index": r.conn_index, **r.counters.as_dict(),
             "requests": r.requests, "responses": r.responses,
             "empty_responses": r.empty_responses,
             "opened_ns": r.opened_ns, "closed_ns": r.closed_ns, "fault_ns": r.fault_ns,
             "failed_attempts": r.failed_attempts, "setup_bytes": r.setup_bytes,
             "kind": r.kind}
            for c in self.ctxs for r in c.conn.rows
        ]
        if not rows:
            return pa.table({n: pa.array([], pa.string() if n == "kind" else pa.int64())
                             for n in CONNECTION_COLUMNS})
        return pa.Table.from_pylist(rows)


CONNECTION_COLUMNS = ("client_id", "conn_index", "bytes_up", "bytes_down", "segs_up",
                      "segs_down", "requests", "responses", "empty_responses", "opened_ns",
                      "closed_ns", "fault_ns", "failed_attempts", "setup_bytes", "kind")


async def _first_failure(tasks: list[asyncio.Task]) -> BaseException | None:
    for fut in asyncio.as_completed(tasks):
        try:
            await fut
        except Exception as exc:  # a client that fails before it is ready
            return exc
    return None


async def _setup(config: dict[str, Any], channel: Channel):
    fleet = Fleet(config["transport"], config["url"], int(config["clients"]),
                  int(config.get("first_client", 0)), config.get("options"),
                  int(config.get("seed", 0)), int(config.get("ramp_concurrency", 256)),
                  config.get("ramp_rate"), config.get("tls"))
    ramp_s = await fleet.connect()
    channel.send({"ok": True, "pid": os.getpid(), "connected": len(fleet.ctxs),
                  "ramp_s": ramp_s})
    return commands(fleet)


def commands(fleet: Any) -> dict[str, Any]:
    """A fleet child's command handlers (``start``, ``drain``, ``stop``), for any
    fleet with ``start``, ``drain``, ``stop`` and the two tables (this module's
    `Fleet`, or `wslab.runner.browser_fleet`'s)."""

    async def start() -> dict:
        fleet.start()
        return {}

    async def drain(last_seq: int, timeout: float, messages: str, connections: str) -> dict:
        stats = await fleet.drain(last_seq, timeout)
        pq.write_table(fleet.messages_table(), messages)
        pq.write_table(fleet.connections_table(), connections)
        return stats

    async def stop() -> dict:
        await fleet.stop()
        return {}

    return {"start": start, "drain": drain, "stop": stop, "close": stop}


def main() -> None:
    run_child(_setup)


if __name__ == "__main__":
    main()
