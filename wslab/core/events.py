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
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SCHEDULES",
    "Event",
    "PayloadPool",
    "decode_header",
    "encode",
    "schedule_offsets",
]

SCHEDULES = ("fixed", "poisson", "burst")

_ALPHABET = np.frombuffer((string.ascii_letters + string.digits).encode(), dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class Event:
    """One published event, its body encoded once for every client.

    ``text`` is the same body as ``str``, for the transports whose libraries
    take text (WebSocket text frames, SSE ``data:`` lines); decoding it once
    here keeps that work off the per-client path.
    """

    seq: int
    published_ns: int
    body: bytes
    text: str

    @classmethod
    def make(cls, seq: int, published_ns: int, payload: bytes) -> Event:
        body = encode(seq, published_ns, payload)
        return cls(seq, published_ns, body, body.decode("ascii"))


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
    """The event body as sent on every transport."""
    return b'{"seq":%d,"t":%d,"p":"%s"}' % (seq, published_ns, payload)


def decode_header(body: bytes | str) -> tuple[int, int]:
    """``(seq, published_ns)`` of one event body, without parsing the payload.

    Clients call this on the receive path, so it slices instead of running a
    JSON parser over payloads that may be large.
    """
    if isinstance(body, str):
        i = body.index(',"t":')
        j = body.index(",", i + 5)
        return int(body[7:i]), int(body[i + 5 : j])
    i = body.index(b',"t":')
    j = body.index(b",", i + 5)
    return int(body[7:i]), int(body[i + 5 : j])


def schedule_offsets(
    kind: str, rate: float, duration: float, seed: int, burst: int = 10
) -> np.ndarray:
    """Publish times in seconds from the start of the run, sorted.

    ``fixed``: one event every 1/rate; ``poisson``: exponential gaps of mean
    1/rate; ``burst``: ``burst`` events at once every burst/rate seconds. The
    mean rate is ``rate`` for every kind.
    """
    if kind not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, not {kind!r}")
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
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
        raise ValueError("burst must be at least 1")
    starts = np.arange(int(rate * duration / burst)) * (burst / rate)
    return np.repeat(starts, burst)
