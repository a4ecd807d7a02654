"""The proxy's timed faults: the ``outage`` toxics, fired from the moment the proxy is armed.

`FaultClock` belongs to one `wslab.net.proxy.Proxy`. `FaultClock.arm` fixes
the run's time zero, a ``CLOCK_MONOTONIC`` instant in ns (what
``time.monotonic_ns()`` reads, so a parent process can hand the same instant
to every child); each `wslab.net.toxics.Outage` then fires at ``at`` ms
after it, and again every ``every`` ms if set. A window of an outage acts on
every live connection the toxic applies to (its ``toxicity`` is drawn per
connection, as for every toxic) and, until it ends, on every connection
accepted:

- ``reset``: RST (SO_LINGER 0) both sides; connections accepted during the
  window are reset at once, before the upstream is dialled (a crashed server);
- ``stall``: the connection's ``stall_until`` holds every byte both ways in
  the pipes' queues, released in order when the window ends;
- ``blackhole``: the connection's ``dark_until`` discards every byte and FIN
  both ways (bytes already queued are lost too) until the window ends, or for
  ever.

Every firing is recorded (`FaultClock.records`: kind, mode, monotonic ns,
the connections hit); per-connection ``reset_peer`` firings are recorded
here too, so `Proxy.stats` reports every fault the proxy carried out.
An unarmed clock never fires.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..core.errors import RunError
from .toxics import Outage, Toxic

if TYPE_CHECKING:
    from .proxy import Connection, Proxy

__all__ = ["FaultClock"]


class FaultClock:
    """Arms and fires the ``outage`` toxics of one proxy, and records every fault fired."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.outages = [t for t in proxy.toxics if isinstance(t, Outage)]
        self.armed_at_ns: int | None = None
        self.records: list[dict[str, Any]] = []
        self._base = 0.0  # the armed instant on the event loop's clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timers: list[asyncio.TimerHandle] = []
        # the windows open now: outage -> (end on the loop's clock, its record)
        self._open: dict[int, tuple[Outage, float, dict[str, Any]]] = {}

    def arm(self, start_at_ns: int | None = None) -> int:
        """Start counting the outages' times from ``start_at_ns`` (CLOCK_MONOTONIC ns;
        None: now). Returns the instant. Windows already past fire at once, in order."""
        if self.armed_at_ns is not None:
            raise RunError(f"proxy {self.proxy.name!r} is already armed "
                           f"(at monotonic {self.armed_at_ns} ns)")
        loop = self.proxy._loop
        if loop is None:
            raise RunError("arm the proxy after start()")
        self._loop = loop
        now_ns = time.monotonic_ns()
        start = now_ns if start_at_ns is None else int(start_at_ns)
        self.armed_at_ns = start
        # the loop's clock is time.monotonic() for asyncio's loops; the offset keeps
        # this right for any loop whose clock is monotonic
        self._base = loop.time() + (start - now_ns) / 1e9
        for index, outage in enumerate(self.outages):
            self._next(index, outage, outage.windows())
        return start

    def _next(self, index: int, outage: Outage,
              windows: Iterator[tuple[float, float]]) -> None:
        window = next(windows, None)
        if window is None:
            return
        assert self._loop is not None
        self._timers.append(self._loop.call_at(self._base + window[0] / 1e3, self._fire, index,
                                               outage, windows, window))

    def _ns(self, ms: float) -> int | None:
        assert self.armed_at_ns is not None
        return None if math.isinf(ms) else self.armed_at_ns + round(ms * 1e6)

    def _fire(self, index: int, outage: Outage, windows: Iterator[tuple[float, float]],
              window: tuple[float, float]) -> None:
        start, end = window
        end_t = self._base + end / 1e3  # inf for a blackhole for ever
        hit = sorted((c for c in self.proxy._open if not c.closing and _applies(outage, c)),
                     key=lambda c: c.id)
        record: dict[str, Any] = {
            "kind": "outage", "mode": outage.mode, "toxic": str(outage),
            "at_ns": time.monotonic_ns(), "planned_at_ns": self._ns(start),
            "until_ns": self._ns(end), "connections": [c.id for c in hit], "accepted": [],
        }
        self.records.append(record)
        for conn in hit:
            self._apply(outage, conn, end_t)
        if end > start:
            self._open[index] = (outage, end_t, record)
            if not math.isinf(end_t):
                assert self._loop is not None
                self._timers.append(self._loop.call_at(end_t, self._close_window, index, record))
        self._next(index, outage, windows)

    def _close_window(self, index: int, record: dict[str, Any]) -> None:
        if index in self._open and self._open[index][2] is record:
            del self._open[index]
        record["ended_ns"] = time.monotonic_ns()

    @staticmethod
    def _apply(outage: Outage, conn: Connection, end_t: float) -> None:
        if outage.mode == "reset":
            conn.close("outage reset", reset=True)
        elif outage.mode == "stall":
            conn.stall_until = max(conn.stall_until, end_t)
        else:  # blackhole: what is in flight is lost with the network
            conn.dark_until = max(conn.dark_until, end_t)
            for pipe in conn.pipes.values():
                pipe.discard_queue()

    def on_accept(self, conn: Connection) -> bool:
        """Apply the open windows to a connection just accepted; True if it must be reset."""
        if not self._open or self._loop is None:
            return False
        now = self._loop.time()
        reset = False
        for outage, end_t, record in self._open.values():
            if now >= end_t or not _applies(outage, conn):
                continue
            record["accepted"].append(conn.id)
            if outage.mode == "reset":
                reset = True
            else:
                self._apply(outage, conn, end_t)
        return reset

    def record(self, kind: str, toxic: Toxic, conn: Connection) -> None:
        """Record a per-connection fault (``reset_peer``)."""
        self.records.append({"kind": kind, "toxic": str(toxic), "at_ns": time.monotonic_ns(),
                             "connections": [conn.id]})

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._open.clear()


def _applies(toxic: Toxic, conn: Connection) -> bool:
    return any(t is toxic for t in conn.toxics)
