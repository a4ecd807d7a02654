"""When the proxy releases each chunk: the timing of the impairments, computed without I/O.

A chunk that arrives at time *t* is released at ``release(t, n)``, each
timing toxic in list order mapping a time to a later one:

- ``latency``: ``max(t + delay, previous release)``, so with jitter the bytes
  of a connection are never reordered (unlike netem, which reorders packets;
  the clamp makes the mean delay slightly larger than ``latency`` when
  jitter is large);
- ``bandwidth``: the link is busy until ``max(t, busy) + n / rate``; the proxy
  cuts chunks into pieces of a few ms of transmission (`Schedule.piece`) so
  the output is smooth.

Jitter is drawn from a `random.Random` seeded by a string that names the
proxy, the connection, the direction, the toxic's place and its seed, so a
run with the same seed replays the same delays.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from .toxics import Bandwidth, Latency, Toxic

__all__ = ["Schedule"]


class _LatencyStep:
    def __init__(self, toxic: Latency, rng: random.Random) -> None:
        self.delay = toxic.latency / 1e3
        self.jitter = toxic.jitter / 1e3
        self.normal = toxic.distribution == "normal"
        self.rng = rng
        self.last = -math.inf

    def __call__(self, t: float, n: int) -> float:
        d = self.delay
        if self.jitter:
            d += self.rng.gauss(0.0, self.jitter) if self.normal else \
                self.rng.uniform(-self.jitter, self.jitter)
            d = max(d, 0.0)
        self.last = max(t + d, self.last)  # never before the previous chunk: no reordering
        return self.last


class _BandwidthStep:
    def __init__(self, toxic: Bandwidth) -> None:
        self.rate = toxic.bytes_per_second
        self.busy_until = -math.inf

    def __call__(self, t: float, n: int) -> float:
        self.busy_until = max(t, self.busy_until) + n / self.rate
        return self.busy_until


class Schedule:
    """Release times of one direction of one connection (no I/O, so it is testable).

    ``release(t, n)`` is the time at which a chunk of ``n`` bytes that
    arrived at ``t`` (seconds, any monotonic clock) leaves the proxy; it is
    non-decreasing from call to call, so bytes are never reordered.
    ``piece`` is the largest chunk the bandwidth toxics want to see at once
    (None without bandwidth toxics). Only `Latency` and `Bandwidth` take time;
    other toxics are ignored here.
    """

    def __init__(self, toxics: Sequence[Toxic], key: str = "") -> None:
        self._steps: list[Any] = []
        self.piece: int | None = None
        for i, toxic in enumerate(toxics):
            if isinstance(toxic, Latency):
                if toxic.latency or toxic.jitter:
                    # "wslab.netem|" is the module's former name, kept: the seed string
                    # fixes the draws, and committed runs replay with these exact delays
                    rng = random.Random(f"wslab.netem|{key}|{i}|{toxic.seed}")
                    self._steps.append(_LatencyStep(toxic, rng))
            elif isinstance(toxic, Bandwidth):
                self._steps.append(_BandwidthStep(toxic))
                # ~2 ms of transmission per piece (at least 1 KiB): smooth but few timers
                piece = max(1024, int(toxic.bytes_per_second * 0.002))
                self.piece = piece if self.piece is None else min(self.piece, piece)

    def __bool__(self) -> bool:
        return bool(self._steps)

    def release(self, t: float, n: int) -> float:
        for step in self._steps:
            t = step(t, n)
        return t
