"""The event stream: one schema, one wire body, open-loop schedules.

Every transport carries the same event body, so byte differences between
transports are the transport's own overhead::

    {"seq":17,"t":123456789012,"p":"k3Jd..."}

``seq`` is run-wide and increasing from 1, ``t`` is ``published_ns`` (the
server's CLOCK_MONOTONIC at publish time, comparable across processes on one
host) and ``p`` is the payload: ``payload`` bytes whose content is the run's
payload kind (`PAYLOAD_KINDS`):

- ``random`` (the default): seeded printable ASCII, a different slice for
  every event (not a repeated letter, which would flatter compression);
- ``json``: a window of a seeded stream of realistic JSON records (trades,
  quotes and chat messages with varied symbols, prices, users and words),
  starting at a record boundary and carried as a JSON string (quotes escaped,
  as an envelope that wraps an application's message carries it); each event
  gets a different window;
- ``repeated``: the ``json`` window of event 1, the same for every event (the
  best case for a compressor that keeps its context between messages).

Every kind gives exactly ``payload`` bytes, so byte counts compare across kinds.

Schedules are open loop: event times are drawn up front from the seed and the
publisher emits at those times whether or not clients keep up, so a slow
transport shows its real queueing instead of slowing the source (no
coordinated omission).
"""

from __future__ import annotations

import json
import string
from typing import NamedTuple

import numpy as np

from .errors import ConfigError

__all__ = [
    "PAYLOAD_KINDS",
    "SCHEDULES",
    "Event",
    "PayloadPool",
    "check_payload_kind",
    "encode",
    "json_records",
    "schedule_offsets",
]

SCHEDULES = ("fixed", "poisson", "burst")
#: what an event's payload holds (see the module docstring)
PAYLOAD_KINDS = ("random", "json", "repeated")

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


def check_payload_kind(kind: object) -> str:
    """``kind`` if it is one of `PAYLOAD_KINDS`, `ConfigError` naming them otherwise."""
    if kind not in PAYLOAD_KINDS:
        raise ConfigError(f"payload_kind must be one of {', '.join(PAYLOAD_KINDS)}, "
                          f"not {kind!r}")
    return str(kind)


_SYMBOLS = ("AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "TSLA", "META", "BRK.B", "JPM", "V",
            "XOM", "UNH", "EURUSD", "BTC-USD", "ETH-USD")
_VENUES = ("XNAS", "XNYS", "BATS", "ARCX", "IEXG")
_ROOMS = ("general", "random", "support", "dev", "ops", "design")
_WORDS = ("the", "a", "deploy", "is", "done", "can", "you", "check", "build", "failed", "on",
          "main", "thanks", "looks", "good", "to", "me", "merge", "after", "lunch", "why",
          "latency", "went", "up", "again", "ping", "server", "restart", "fixed", "it", "now",
          "review", "please", "ok", "sure", "tomorrow", "meeting", "at", "noon", "coffee")


def json_records(seed: int, count: int) -> list[dict]:
    """``count`` seeded records of a realistic feed: trades, quotes and chat messages.

    Field values vary the way a real feed's do (symbols from a short list,
    prices on a random walk, sizes in round lots, users and words drawn from
    vocabularies), so a compressor finds the repetition of keys and common
    values that real JSON has, no more.
    """
    rng = np.random.default_rng(seed)
    # every draw at once (a record costs a few dict operations, not a dozen RNG calls)
    price = rng.uniform(20, 900, len(_SYMBOLS)).tolist()
    kinds = rng.choice(3, count, p=(0.45, 0.35, 0.2)).tolist()
    syms = rng.integers(len(_SYMBOLS), size=count).tolist()
    steps = (1 + rng.normal(0, 0.0008, count)).tolist()
    ts = (1_767_225_600_000 + int(rng.integers(0, 86_400_000))  # ms since the epoch
          + np.cumsum(rng.integers(1, 250, count))).tolist()
    qty, bsz, asz = (rng.integers(1, hi, count) * 100 for hi in (50, 90, 90))
    qty, bsz, asz = qty.tolist(), bsz.tolist(), asz.tolist()
    buy = (rng.random(count) < 0.5).tolist()
    venue = rng.integers(len(_VENUES), size=count).tolist()
    spread = np.round(rng.uniform(0.01, 0.08, count), 2).tolist()
    room = rng.integers(len(_ROOMS), size=count).tolist()
    user = rng.integers(1, 500, count).tolist()
    n_words = rng.integers(3, 14, count).tolist()
    words = rng.integers(len(_WORDS), size=(count, 13)).tolist()
    ids = rng.integers(10**9, 10**10, count).tolist()
    out: list[dict] = []
    for k in range(count):
        sym = syms[k]
        price[sym] = max(1.0, price[sym] * steps[k])
        px, name = price[sym], _SYMBOLS[sym]
        if kinds[k] == 0:
            out.append({"type": "trade", "sym": name, "px": round(px, 2), "qty": qty[k],
                        "side": "buy" if buy[k] else "sell", "venue": _VENUES[venue[k]],
                        "ts": ts[k]})
        elif kinds[k] == 1:
            out.append({"type": "quote", "sym": name, "bid": round(px - spread[k], 2),
                        "ask": round(px + spread[k], 2), "bsz": bsz[k], "asz": asz[k],
                        "ts": ts[k]})
        else:
            out.append({"type": "chat", "room": _ROOMS[room[k]], "user": f"user{user[k]}",
                        "text": " ".join(_WORDS[w] for w in words[k][: n_words[k]]),
                        "ts": ts[k], "id": ids[k]})
    return out


def _json_pool(size: int, seed: int, pool: int) -> tuple[bytes, list[int]]:
    """Escaped JSON records back to back (at least ``size + pool`` bytes) and
    where each record starts."""
    parts: list[bytes] = []
    starts: list[int] = []
    total, batch, k = 0, 512, 0
    while total < size + pool or len(starts) < 2:
        for record in json_records(seed * 1_000 + k, batch):
            # a JSON string's contents: the record's quotes escaped (RFC 8259 §7)
            text = json.dumps(json.dumps(record, separators=(",", ":")))[1:-1].encode()
            starts.append(total)
            parts.append(text)
            total += len(text)
        k += 1
    return b"".join(parts), starts


class PayloadPool:
    """Seeded payloads of ``size`` bytes: event k gets a slice of a pool.

    Slicing a pool is cheap on the publish path and gives each event different
    bytes (``kind`` ``random`` and ``json``), so permessage-deflate sees
    realistic (not degenerate) input; ``repeated`` gives every event the same.
    """

    def __init__(self, size: int, seed: int, pool: int = 65_536, kind: str = "random") -> None:
        self.size = size
        self.kind = check_payload_kind(kind)
        if kind == "random":  # unchanged: the bytes of earlier runs stay the same
            rng = np.random.default_rng(seed)
            self._pool = _ALPHABET[rng.integers(0, len(_ALPHABET), size + pool)].tobytes()
            self._starts: list[int] | None = None
            self._span = pool
        else:
            # a pool much longer than deflate's 32 KiB window (RFC 1951 §2), so an
            # event rarely finds its own bytes in the history of the events before it
            self._pool, starts = _json_pool(size, seed, max(16 * pool, 4 * size))
            # windows begin at record boundaries with room for ``size`` bytes after them
            self._starts = [s for s in starts if s + size <= len(self._pool)]
            self._span = len(self._starts)
        self._first = self._slice(1)

    def _slice(self, seq: int) -> bytes:
        if self._starts is None:
            start = (seq * 7919) % self._span
        else:
            start = self._starts[(seq * 7919) % self._span]
        out = self._pool[start : start + self.size]
        if self._starts is not None:
            # a window cut inside an escape (``\"``) would end the string early
            tail = len(out) - len(out.rstrip(b"\\"))
            if tail % 2:
                out = out[:-1] + b" "
        return out

    def payload(self, seq: int) -> bytes:
        """The payload of event ``seq`` (``size`` bytes)."""
        return self._first if self.kind == "repeated" else self._slice(seq)


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
