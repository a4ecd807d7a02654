import asyncio

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
