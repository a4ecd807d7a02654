"""The delivery schedule, without I/O: no reordering under jitter, seeded draws,
bandwidth as serialization delay."""

from __future__ import annotations

import pytest

from wslab.net.schedule import Schedule
from wslab.net.toxics import Bandwidth, Latency


@pytest.mark.parametrize("distribution", ["uniform", "normal"])
def test_schedule_never_reorders_under_jitter(distribution):
    # jitter as large as the delay: unclamped, many chunks would overtake each other
    schedule = Schedule([Latency(5, jitter=5, distribution=distribution, seed=3)], key="k")
    arrivals = [i * 1e-4 for i in range(5000)]
    releases = [schedule.release(t, 100) for t in arrivals]
    assert all(b >= a for a, b in zip(releases, releases[1:], strict=False))
    assert all(r >= t for r, t in zip(releases, arrivals, strict=True))
    assert max(r - t for r, t in zip(releases, arrivals, strict=True)) > 0.005  # jitter is there
    # seeded: the same key and seed give the same draws, another seed others
    again = Schedule([Latency(5, jitter=5, distribution=distribution, seed=3)], key="k")
    other = Schedule([Latency(5, jitter=5, distribution=distribution, seed=4)], key="k")
    assert [again.release(t, 100) for t in arrivals] == releases
    assert [other.release(t, 100) for t in arrivals] != releases


def test_schedule_bandwidth_is_serialization_delay():
    schedule = Schedule([Bandwidth(100)])  # 100 KB/s = 100,000 B/s
    last = 0.0
    for _ in range(200):  # 200 chunks of 1,000 B, all arriving at t = 0
        last = schedule.release(0.0, 1000)
    assert last == pytest.approx(2.0)
    assert schedule.piece == 1024

