"""The server's open-loop publisher, against a hub that records what it is given.

The hub here is a stand-in on purpose: it records each publish (and can be
slow on purpose, to put the publisher behind its schedule); the real Hub is
tested in tests/core/test_hub.py and the real server in tests/runner/test_lab.py.
No assertion here bounds how long anything took: only orders and lower bounds
(an event is never published before its time) that hold on any machine.
"""

import asyncio
import socket
import time

import numpy as np

from wslab.core.hub import Hub
from wslab.core.wire import decode_header
from wslab.runner.server import _start_server, publish_schedule
from wslab.transports import Bind

#: a sleep may end this early (asyncio's clock resolution, float rounding)
EARLY_NS = 50_000


class RecordingHub:
    """Records ``(event, monotonic_ns on entry, loop ticks so far)`` per publish;
    each publish takes ``busy_s`` of wall time (a slow fan-out)."""

    def __init__(self, busy_s: float = 0.0) -> None:
        self.busy_s = busy_s
        self.published: list[tuple] = []
        self.ticks = 0

    def publish(self, event) -> None:
        self.published.append((event, time.monotonic_ns(), self.ticks))
        if self.busy_s:
            time.sleep(self.busy_s)  # blocks the loop, as a large synchronous fan-out does


async def _ticker(hub: RecordingHub) -> None:
    """Counts loop iterations in which other tasks got to run."""
    while True:
        hub.ticks += 1
        await asyncio.sleep(0)


async def _publish(hub: RecordingHub, offsets: np.ndarray, start_in_s: float = 0.05):
    ticker = asyncio.ensure_future(_ticker(hub))
    start_at = time.monotonic_ns() + int(start_in_s * 1e9)
    try:
        result = await publish_schedule(hub, offsets, payload=16, seed=1, start_at_ns=start_at)
    finally:
        ticker.cancel()
    return start_at, result


def test_on_schedule_every_event_once_in_order_never_early():
    hub = RecordingHub()
    offsets = np.arange(20) * 0.005
    start_at, (count, start_ns, end_ns) = asyncio.run(_publish(hub, offsets))
    events = [e for e, _, _ in hub.published]
    assert count == 20 and [e.seq for e in events] == list(range(1, 21))
    assert start_at - EARLY_NS <= start_ns <= events[0].published_ns
    assert events[-1].published_ns <= end_ns
    for e, entered_ns, _ in hub.published:
        assert e.published_ns >= start_at + offsets[e.seq - 1] * 1e9 - EARLY_NS  # not early
        assert e.published_ns <= entered_ns  # stamped when it left, not when it was due
        assert decode_header(e.body) == (e.seq, e.published_ns)  # the body carries the stamp


def test_behind_schedule_late_events_go_at_once_with_their_real_time():
    # Each publish blocks 3 ms while events are due every 1 ms: from the
    # second event on the publisher is behind, by more each time.
    hub = RecordingHub(busy_s=0.003)
    offsets = np.arange(30) * 0.001
    start_at, (count, _, _) = asyncio.run(_publish(hub, offsets))
    rows = hub.published
    assert count == 30 and [e.seq for e, _, _ in rows] == list(range(1, 31))  # none skipped
    for (_, prev_in, prev_ticks), (e, entered_ns, ticks) in zip(rows, rows[1:], strict=False):
        due_ns = start_at + offsets[e.seq - 1] * 1e9
        assert e.published_ns >= due_ns - EARLY_NS  # never early
        # late: stamped with the real time, after the previous publish's 3 ms,
        # not with the time it was due
        assert e.published_ns >= prev_in + 3_000_000 > due_ns
        assert e.published_ns <= entered_ns
        # at once: the loop turned exactly once in between (sleep(0), which
        # lets writes flush and requests in), not a timed sleep, which would
        # have let the ticker spin many times
        assert ticks - prev_ticks == 1


def test_a_burst_due_at_one_instant_is_not_split():
    # A burst is due at one instant; published back to back, its events are
    # late by microseconds only, so the publisher does not yield between them:
    # it yields only for an event more than 1 ms late (which a preempted
    # process can be, so that is what is checked, not that it never happens).
    hub = RecordingHub()
    offsets = np.repeat([0.0, 0.02], 10)
    start_at, _ = asyncio.run(_publish(hub, offsets))
    rows = hub.published
    assert [e.seq for e, _, _ in rows] == list(range(1, 21))
    for (_, _, prev_ticks), (e, _, ticks) in zip(rows, rows[1:], strict=False):
        due_ns = start_at + offsets[e.seq - 1] * 1e9
        assert e.published_ns >= due_ns - EARLY_NS
        if e.seq not in (1, 11) and ticks != prev_ticks:  # a loop turn inside a burst
            assert e.published_ns - due_ns > 1_000_000


def test_a_restarted_worker_waits_for_its_port_to_be_free():
    # Another socket holds the port (as a client socket given it as its
    # ephemeral port would); the server binds once it is released.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, holder.close)
        endpoint = await _start_server("tcp", Hub(), Bind("127.0.0.1", port), {})
        try:
            return endpoint.url
        finally:
            await endpoint.close()

    try:
        assert asyncio.run(main()).endswith(f":{port}")
    finally:
        holder.close()
