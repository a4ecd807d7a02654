"""The event stream: one schema, one wire body, open-loop schedules.

Every transport carries the same event body, so byte differences between
transports are the transport's own overhead::

    {"seq":17,"t":123456789012,"p":"k3Jd..."}

``seq`` is run-wide and increasing from 1, ``t`` is ``published_ns`` (the
server's CLOCK_MONOTONIC at publish time, comparable across processes on one
host) and ``p`` is the payload: ``payload`` bytes of seeded printable ASCII (not
a repeated letter, which would flatter compression).

Schedules are open loop: event times are drawn up front from the seed and the
publisher emits at those times whether or not clients keep up, so a slow
transport shows its real queueing instead of slowing the source (no
coordinated omission).
"""

from __future__ import annotations

import string
from typing import NamedTuple

import numpy as np

from .errors import ConfigError

__all__ = [
    "SCHEDULES",
    "Event",
    "PayloadPool",
    "encode",
    "schedule_offsets",
]

SCHEDULES = ("fixed", "poisson", "burst")

_ALPHABET = np.frombuffer((string.ascii_letters + string.digits).encode(), dtype=np.uint8)


class Event(NamedTuple):
    """One published event, its body encoded once for every client.

    Bytes only: each transport builds its own frame around ``body``
    (`wslab.core.wire`), and only when it has a client to send it to. A
    named tuple, immutable like a frozen dataclass but built in a third of
    the time (it is made once per publish).
    """

    seq: int
    published_ns: int
    body: bytes

    @classmethod
    def make(cls, seq: int, published_ns: int, payload: bytes) -> Event:
        """Event ``seq`` stamped ``published_ns``, its body built from ``payload``."""
        return cls(seq, published_ns, encode(seq, published_ns, payload))


class PayloadPool:
    """Seeded printable payloads: event k gets a slice of a random pool.

    Slicing a pool is cheap on the publish path and gives each event different
    bytes, so permessage-deflate sees realistic (not degenerate) input.
    """

    def __init__(self, size: int, seed: int, pool: int = 65_536) -> None:
        rng = np.random.default_rng(seed)
        self.size = size
        self._pool = _ALPHABET[rng.integers(0, len(_ALPHABET), size + pool)].tobytes()
        self._span = pool

    def payload(self, seq: int) -> bytes:
        start = (seq * 7919) % self._span
        return self._pool[start : start + self.size]


def encode(seq: int, published_ns: int, payload: bytes) -> bytes:
    """The event body as sent on every transport (read back by
    `wslab.core.wire.decode_header`)."""
    return b'{"seq":%d,"t":%d,"p":"%s"}' % (seq, published_ns, payload)


def schedule_offsets(
    kind: str, rate: float, duration: float, seed: int, burst: int = 10
) -> np.ndarray:
    """Publish times in seconds from the start of the run, sorted.

    ``fixed``: one event every 1/rate; ``poisson``: exponential gaps of mean
    1/rate; ``burst``: ``burst`` events at once every burst/rate seconds. The
    mean rate is ``rate`` for every kind.
    """
    if kind not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}, not {kind!r}")
    if rate <= 0 or duration <= 0:
        raise ConfigError("rate and duration must be positive")
    if kind == "fixed":
        return np.arange(int(rate * duration)) / rate
    if kind == "poisson":
        rng = np.random.default_rng(seed)
        n = int(rate * duration * 1.2 + 10 * np.sqrt(rate * duration) + 10)
        times = np.cumsum(rng.exponential(1.0 / rate, n))
        while times[-1] < duration:  # rare: draw more until the window is covered
            more = np.cumsum(rng.exponential(1.0 / rate, n)) + times[-1]
            times = np.concatenate([times, more])
        return times[times < duration]
    if burst < 1:
        raise ConfigError("burst must be at least 1")
    starts = np.arange(int(rate * duration / burst)) * (burst / rate)
    return np.repeat(starts, burst)
