import asyncio

import pytest

from wslab.core.events import Event
from wslab.core.hub import Hub


def _ev(seq):
    return Event.make(seq, seq * 1000, b"p")


def test_history_and_subscribers():
    async def main():
        hub = Hub(capacity=5)
        seen = []
        hub.subscribe(lambda e: seen.append(e.seq))
        for s in range(1, 9):
            hub.publish(_ev(s))
        assert seen == list(range(1, 9))
        assert [e.seq for e in hub.events_after(0)] == [4, 5, 6, 7, 8]  # bounded
        assert [e.seq for e in hub.events_after(6)] == [7, 8]
        assert hub.events_after(8) == []
        hub.reset()
        assert hub.last_seq == 0 and hub.events_after(0) == []

    asyncio.run(main())


def test_wait_after_wakes_on_publish_and_times_out():
    async def main():
        hub = Hub()
        waiter = asyncio.ensure_future(hub.wait_after(0, 10))
        await asyncio.sleep(0)
        hub.publish(_ev(1))
        assert [e.seq for e in await waiter] == [1]
        assert await hub.wait_after(1, 0.01) == []  # nothing new: timeout, empty
        assert [e.seq for e in await hub.wait_after(0, 0)] == [1]  # already there

    asyncio.run(main())


def test_ring_history_matches_a_plain_list_at_every_fill_level():
    # Reference: keep everything, slice the last `capacity` events.
    for capacity in (1, 2, 3, 5, 8):
        hub, everything = Hub(capacity=capacity), []
        for s in range(1, 4 * capacity + 3):
            hub.publish(_ev(s))
            everything.append(s)
            kept = everything[-capacity:]
            for since in range(-1, s + 2):
                expected = [x for x in kept if x > since]
                assert [e.seq for e in hub.events_after(since)] == expected, (capacity, s, since)
        hub.reset()  # a new run: seq 1 again, nothing left of the last one
        assert hub.events_after(0) == []
        hub.publish(_ev(1))
        assert [e.seq for e in hub.events_after(0)] == [1]


def test_history_keeps_the_event_objects_and_refuses_no_capacity():
    hub = Hub(capacity=3)
    events = [_ev(s) for s in range(1, 6)]
    for e in events:
        hub.publish(e)
    assert all(a is b for a, b in zip(hub.events_after(0), events[2:], strict=True))
    with pytest.raises(ValueError, match="at least 1"):
        Hub(capacity=0)


def test_one_publish_wakes_every_waiter_and_a_timed_out_wait_harms_none():
    async def main():
        hub = Hub()
        assert await hub.wait_after(0, 0.001) == []  # times out: nothing published
        waiters = [asyncio.ensure_future(hub.wait_after(0, None)) for _ in range(3)]
        waiters.append(asyncio.ensure_future(hub.wait_after(0, 10)))
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        hub.publish(_ev(1))
        hub.publish(_ev(2))  # before the waiters run: they get both
        assert [[e.seq for e in await w] for w in waiters] == [[1, 2]] * 4
        # a new round of waiting after the wake-up works the same way
        late = asyncio.ensure_future(hub.wait_after(2, None))
        await asyncio.sleep(0)
        hub.publish(_ev(3))
        assert [e.seq for e in await late] == [3]

    asyncio.run(main())
