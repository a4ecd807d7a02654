"""The server's event hub: publish, bounded history, wake-ups.

Push transports subscribe a callback that runs synchronously inside
`publish`, so an event reaches every socket's write buffer in the same loop
iteration it is published in. Pull transports (polling, SSE) read
`events_after(seq)` and wait on `wait_after(seq, timeout)`. Because every
client names the last `seq` it saw, events published between two requests
are served from the history: no event is lost by construction, only by a
history too short (which the loss accounting then shows).

`publish` runs once per event whoever listens, so it allocates nothing
beyond the history slot: the history is a ring (a full history overwrites
its oldest slot instead of shifting a list of up to a million entries), and
the wake-up object exists only while somebody waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .events import Event

__all__ = ["Hub"]


class Hub:
    """One event stream with a bounded history of the last ``capacity`` events.

    Seqs are consecutive from 1 after each `reset` (`wslab.runner.server`
    publishes them so): the history is indexed by seq.
    """

    def __init__(self, capacity: int = 1_000_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1 event, not {capacity}")
        self.capacity = capacity
        self._subscribers: list[Callable[[Event], None]] = []
        self.reset()

    def reset(self) -> None:
        """Forget every event (a new run starts at seq 1)."""
        # The ring grows by appends up to `capacity`, then slot `_next` (the
        # oldest event) is overwritten; the newest event is at `_next - 1`.
        self._ring: list[Event] = []
        self._next = 0
        self.last_seq = 0
        self._wakeup: asyncio.Event | None = None  # made by the first waiter

    def subscribe(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` synchronously on every publish."""
        self._subscribers.append(callback)

    def publish(self, event: Event) -> None:
        """Add ``event`` (seq ``last_seq + 1``) to the history, run the
        subscribers, wake every waiter."""
        ring, i = self._ring, self._next
        if i == len(ring):  # still growing
            ring.append(event)
        else:
            ring[i] = event
        i += 1
        self._next = 0 if i == self.capacity else i
        self.last_seq = event.seq
        for callback in self._subscribers:
            callback(event)
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            wakeup.set()

    def events_after(self, seq: int) -> list[Event]:
        """Every event in the history with a seq greater than ``seq``, oldest first."""
        n = self.last_seq - seq
        if n <= 0:
            return []
        ring, end = self._ring, self._next
        n = min(n, len(ring))  # older ones have left the history
        start = end - n
        if start >= 0:
            return ring[start:end]
        return ring[start:] + ring[:end]  # wraps around the ring's end

    async def wait_after(self, seq: int, timeout: float | None) -> list[Event]:
        """Events after ``seq``, waiting up to ``timeout`` s (None: for ever) for the
        first one; an empty list if none came in time."""
        if seq < self.last_seq:
            return self.events_after(seq)
        wakeup = self._wakeup
        if wakeup is None:
            wakeup = self._wakeup = asyncio.Event()
        if timeout is None:
            await wakeup.wait()
        else:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for wraps the
            # wait in a task of its own, once per held request.
            try:
                async with asyncio.timeout(timeout):
                    await wakeup.wait()
            except TimeoutError:
                pass
        return self.events_after(seq)
