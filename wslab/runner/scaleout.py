"""Client fleets as tasks on a Dask cluster (``dask=`` a scheduler address).

Local fleet processes are the default. With a Dask scheduler, each fleet runs
as one task on a worker: it connects its clients, says so on a
`distributed.Queue`, opens its CPU window, waits for the last seq on a
`distributed.Variable`, drains, and returns its tables (Arrow IPC bytes) and
statistics as the task's result. The parent merges them exactly as it merges
local fleets: tables concatenated, latency recomputed from every delivery
(the HdrHistogram of the merged run equals the merge of the fleets').

The servers still bind loopback only, so the Dask workers must run on this
machine (a `distributed.LocalCluster`, as the tests use): wslab sends no
traffic beyond 127.0.0.0/8 and ::1.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import pyarrow as pa

__all__ = ["DaskFleets", "fleet_task"]


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def table_from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def fleet_task(config: dict[str, Any], key: str, index: int, timeout: float) -> dict[str, Any]:
    """Runs on a Dask worker: one fleet, from connect to drained tables."""
    from distributed import Queue, Variable

    from .fleet import Fleet

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        fleet = Fleet(**config)
        ramp_s = await fleet.connect()
        fleet.start()  # the window opens at readiness: publishing follows at once
        await loop.run_in_executor(None, Queue(f"{key}-ready").put,
                                   {"index": index, "connected": len(fleet.ctxs),
                                    "ramp_s": ramp_s})
        plan = await loop.run_in_executor(None, Variable(f"{key}-drain").get, timeout)
        stats = await fleet.drain(plan["last_seq"], plan["timeout"])
        return {"stats": stats, "ramp_s": ramp_s,
                "messages": _ipc(fleet.messages_table()),
                "connections": _ipc(fleet.connections_table())}

    return asyncio.run(main())


class DaskFleets:
    """The parent's side: submit fleet tasks, wait for readiness, drain, gather."""

    def __init__(self, address_or_client: Any) -> None:
        from distributed import Client

        if isinstance(address_or_client, Client):
            self.client, self._own = address_or_client, False
        else:
            self.client, self._own = Client(address_or_client, set_as_default=False), True
        self.key = f"wslab-{secrets.token_hex(6)}"
        self.futures: list = []

    def start(self, configs: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        """Submit one task per fleet; returns their readiness replies."""
        from distributed import Queue

        self.timeout = timeout
        self.futures = [
            self.client.submit(fleet_task, cfg, self.key, k, timeout, pure=False,
                               key=f"{self.key}-fleet-{k}")
            for k, cfg in enumerate(configs)
        ]
        queue = Queue(f"{self.key}-ready", client=self.client)
        deadline = time.monotonic() + timeout
        ready: list[dict[str, Any]] = []
        while len(ready) < len(configs):
            failed = [f for f in self.futures if f.status == "error"]
            if failed:
                failed[0].result()  # raises the task's exception
            try:
                ready.append(queue.get(timeout=max(0.1, min(1.0, deadline - time.monotonic()))))
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        return sorted(ready, key=lambda r: r["index"])

    def drain(self, last_seq: int, timeout: float) -> list[dict[str, Any]]:
        """Tell every fleet the last seq; returns their results (tables as Arrow)."""
        from distributed import Variable

        Variable(f"{self.key}-drain", client=self.client).set(
            {"last_seq": last_seq, "timeout": timeout})
        results = self.client.gather(self.futures)
        for r in results:
            r["messages"] = table_from_ipc(r["messages"])
            r["connections"] = table_from_ipc(r["connections"])
        return results

    def stop(self) -> None:
        """Cancel unfinished tasks and close our client (safe to call twice)."""
        for f in self.futures:
            f.cancel()
        self.futures = []
        if self._own and self.client.status != "closed":
            self.client.close()

    kill = stop  # the Lab stops children and Dask fleets alike
