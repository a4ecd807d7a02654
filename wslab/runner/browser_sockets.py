"""The browser's sockets over a run, seen from the kernel (sock_diag), and its reconnections.

A browser's sockets live in its network process: the fleet cannot read their
counters with ``getsockopt`` and cannot close them itself. `SocketWatch`
lists the sockets connected to the server (`wslab.core.sockdiag`) every
`PERIOD` seconds during the run and keeps each one's last reading, so a
connection that a fault resets still counts with the bytes it carried until
its last reading (at most `PERIOD` short), and a reconnection is a socket
the kernel saw appear, whether or not the page noticed (Chromium silently
retries an idempotent GET whose reused keep-alive connection was reset).

`match_reconnects` attributes those later sockets to pages: each page
records its reconnections as (failed, back, failed attempts) on its own
clock, shifted onto CLOCK_MONOTONIC by the fleet; a page's reconnection
takes the first socket not yet attributed that appeared between its failure
and one period after it was back.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ..core.meter import ConnCounters
from ..core.sockdiag import connections_to

__all__ = ["PERIOD", "Reconnect", "SocketWatch", "match_reconnects"]

#: seconds between two listings of the browser's sockets during a run
PERIOD = 0.02

Key = tuple[str, int]  # the socket's local (address, port)


@dataclass
class Reconnect:
    """One reconnection of one page, on CLOCK_MONOTONIC: the instant its
    connection failed, the instant it was back, failed attempts in between,
    and the socket attributed to it (None: none seen, it lived < one period)."""

    client_id: int
    fault_ns: int
    back_ns: int
    failed_attempts: int
    socket: Key | None = None


class SocketWatch:
    """Every socket connected to ``server`` (host, port) while the watch runs:
    its first sighting (ns), its counters then and its last counters."""

    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.first_ns: dict[Key, int] = {}
        self.first: dict[Key, ConnCounters] = {}
        self.last: dict[Key, ConnCounters] = {}
        self._task: asyncio.Task[None] | None = None

    def read(self) -> dict[Key, ConnCounters]:
        """One listing, merged into the record; returns the sockets alive now."""
        now_ns = time.monotonic_ns()
        alive = connections_to(*self.server)
        for key, counters in alive.items():
            if key not in self.first_ns:
                self.first_ns[key], self.first[key] = now_ns, counters
            self.last[key] = counters
        return alive

    def start(self) -> None:
        """List the sockets every `PERIOD` s until `stop` (in the running loop)."""
        async def loop() -> None:
            while True:
                self.read()
                await asyncio.sleep(PERIOD)

        self._task = asyncio.ensure_future(loop())

    async def stop(self) -> dict[Key, ConnCounters]:
        """Stop listing; a last listing is returned (the sockets alive now)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        return self.read()


def match_reconnects(reconnects: list[Reconnect], first_ns: dict[Key, int],
                     owned: set[Key], period_ns: int = int(PERIOD * 1e9)) -> list[Reconnect]:
    """Attribute sockets to reconnections (in place; returned): in order of
    their return, each takes the earliest socket not in ``owned`` nor taken
    that was first seen between its failure and ``period_ns`` after it was
    back. Sockets left over stay unattributed."""
    free = sorted((t, k) for k, t in first_ns.items() if k not in owned)
    taken: set[Key] = set()
    for r in sorted(reconnects, key=lambda r: r.back_ns):
        for t, key in free:
            if key not in taken and r.fault_ns <= t <= r.back_ns + period_ns:
                r.socket = key
                taken.add(key)
                break
    return reconnects
