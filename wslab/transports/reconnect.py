"""Reconnection with exponential backoff and jitter, shared by every client.

A client whose connection fails after it was first ready waits, reconnects
and resumes from the last seq it holds (each transport's own means: the
``since`` query, the 8-byte TCP resume word, SSE's ``Last-Event-ID``), so an
outage that the server's history covers costs latency but no event.

The wait before attempt k (k = 0 after a failure, reset once a connection
works) is ``d = min(cap, base * factor**k)`` with jitter (the three modes of
"Exponential Backoff And Jitter", AWS Architecture Blog, 2015):

=========  ===================================  =====================================
jitter     wait                                 effect on a herd of clients
=========  ===================================  =====================================
``none``   ``d``                                every client retries at the same instant
``full``   uniform in ``[0, d]``                spreads retries over the whole window
``equal``  ``d/2`` + uniform in ``[0, d/2]``    keeps a floor of half the window
=========  ===================================  =====================================

The kit's defaults (base 0.05 s, cap 2 s, factor 2, full jitter) suit runs of
seconds. What the libraries it mirrors do, for choosing values (`PRESETS`,
selectable with the client option ``backoff``):

- websockets 17 (``connect`` as an async iterator): first wait uniform in
  [0, 5 s], then 3.1 s growing by 1.618 up to 90 s (``websockets.client.backoff``);
- EventSource (HTML Living Standard, "Server-sent events"): a fixed
  reconnection time chosen by the browser (about 3 s in Chromium and
  Firefox), replaced by the server's ``retry:`` field; no growth, no jitter;
- Socket.IO client: 1 s doubling up to 5 s, randomised by ±50 %
  (``reconnectionDelay``, ``reconnectionDelayMax``, ``randomizationFactor``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import ConfigError

__all__ = ["JITTERS", "OPTIONS", "PRESETS", "Backoff", "backoff_from_options",
           "validate_reconnect_options"]

JITTERS = ("none", "full", "equal")
#: the longest wait the kit allows between two attempts (a run lasts at most an hour)
MAX_WAIT_S = 600.0


@dataclass(frozen=True)
class Backoff:
    """How long a client waits before reconnect attempt ``attempt`` (see module doc)."""

    base: float = 0.05
    cap: float = 2.0
    factor: float = 2.0
    jitter: str = "full"

    def __post_init__(self) -> None:
        if self.jitter not in JITTERS:
            raise ConfigError(f"backoff_jitter must be one of {', '.join(JITTERS)}, "
                              f"not {self.jitter!r}")
        for name, low in (("base", 0.0), ("cap", 0.0), ("factor", 1.0)):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and not isinstance(value, bool)
                    and low <= value <= MAX_WAIT_S):
                raise ConfigError(f"backoff_{name} must be a number between {low:g} and "
                                  f"{MAX_WAIT_S:g}, not {value!r}")
        if self.cap < self.base:
            raise ConfigError(f"backoff_cap ({self.cap:g} s) must be at least backoff_base "
                              f"({self.base:g} s)")

    def window(self, attempt: int) -> float:
        """The un-jittered wait ``min(cap, base * factor**attempt)`` in seconds."""
        # factor**attempt overflows a float near attempt 1000 with factor 2: cap first
        if self.base == 0:
            return 0.0
        grow = self.factor ** min(attempt, 1023)
        return min(self.cap, self.base * grow)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait before attempt ``attempt`` (0 = the first after a failure)."""
        d = self.window(attempt)
        if self.jitter == "full":
            return rng.uniform(0.0, d)
        if self.jitter == "equal":
            return d / 2 + rng.uniform(0.0, d / 2)
        return d


#: library defaults, approximated by the three parameters and a jitter mode
#: (websockets draws its first wait in [0, 5 s] and then grows from 3.1 s:
#: "full" from 3.1 s is the nearest; Socket.IO's ±50 % is nearest to "equal")
PRESETS: dict[str, Backoff] = {
    "kit": Backoff(),
    "websockets": Backoff(base=3.1, cap=90.0, factor=1.618, jitter="full"),
    "eventsource": Backoff(base=3.0, cap=3.0, factor=1.0, jitter="none"),
    "socketio": Backoff(base=1.0, cap=5.0, factor=2.0, jitter="equal"),
}

#: client options every transport understands, with their defaults
OPTIONS: dict[str, Any] = {
    "reconnect": True,
    "backoff": "kit",
    "backoff_base": None,  # None: the preset's value
    "backoff_cap": None,
    "backoff_factor": None,
    "backoff_jitter": None,
}


def validate_reconnect_options(options: Mapping[str, Any]) -> None:
    """Check the reconnect options in ``options`` (merged with defaults); `ConfigError`."""
    if not isinstance(options["reconnect"], bool):  # (merged with OPTIONS by the caller)
        raise ConfigError(f"reconnect must be true or false, not {options['reconnect']!r}")
    if options["backoff"] not in PRESETS:
        raise ConfigError(f"backoff must be one of {', '.join(PRESETS)}, "
                          f"not {options['backoff']!r}")
    backoff_from_options(options)  # Backoff checks the numbers


def backoff_from_options(options: Mapping[str, Any]) -> Backoff | None:
    """The client's `Backoff` (None when ``reconnect`` is off)."""
    if not options.get("reconnect", True):
        return None
    preset = PRESETS[options.get("backoff") or "kit"]
    fields = {k: options.get(f"backoff_{k}") for k in ("base", "cap", "factor", "jitter")}
    given = {k: v for k, v in fields.items() if v is not None}
    if not given:
        return preset
    merged = {"base": preset.base, "cap": preset.cap, "factor": preset.factor,
              "jitter": preset.jitter, **given}
    if "base" in given and "cap" not in given:
        merged["cap"] = max(preset.cap, merged["base"])
    return Backoff(**merged)
