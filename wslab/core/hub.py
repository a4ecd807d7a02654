"""The server's event hub: publish, bounded history, wake-ups.

Push transports subscribe a callback that runs synchronously inside
`publish`, so an event reaches every socket's write buffer in the same loop
iteration it is published in. Pull transports (polling, SSE) read
`events_after(seq)` and wait on `wait_after(seq, timeout)`. Because every
client names the last `seq` it saw, events published between two requests
are served from the history: no event is lost by construction, only by a
history too short (which the loss accounting then shows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .events import Event

__all__ = ["Hub"]


class Hub:
    """One event stream with a bounded history of ``capacity`` events."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self.capacity = capacity
        self._subscribers: list[Callable[[Event], None]] = []
        self.reset()

    def reset(self) -> None:
        """Forget every event (a new run starts at seq 1)."""
        self._history: list[Event] = []
        self._base = 1  # seq of self._history[0]
        self.last_seq = 0
        self._wakeup = asyncio.Event()

    def subscribe(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` synchronously on every publish."""
        self._subscribers.append(callback)

    def publish(self, event: Event) -> None:
        self._history.append(event)
        self.last_seq = event.seq
        if len(self._history) > self.capacity:
            drop = len(self._history) - self.capacity
            del self._history[:drop]
            self._base += drop
        for callback in self._subscribers:
            callback(event)
        wakeup, self._wakeup = self._wakeup, asyncio.Event()
        wakeup.set()

    def events_after(self, seq: int) -> list[Event]:
        """Every event in the history with a seq greater than ``seq``."""
        if seq >= self.last_seq:
            return []
        return self._history[max(0, seq + 1 - self._base) :]

    async def wait_after(self, seq: int, timeout: float | None) -> list[Event]:
        """Events after ``seq``, waiting up to ``timeout`` s for the first one."""
        if seq < self.last_seq:
            return self.events_after(seq)
        wakeup = self._wakeup
        try:
            await asyncio.wait_for(wakeup.wait(), timeout)
        except TimeoutError:
            return []
        return self.events_after(seq)
