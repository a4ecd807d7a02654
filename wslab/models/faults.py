"""Faults and middleboxes: what a buffering proxy, an idle cut and a reconnect cost.

Pure functions (no I/O). Times in seconds, sizes in bytes, rates in events/s.

* A **buffering proxy** (nginx's ``proxy_buffering``, the kit's ``buffer``
  toxic) holds a streamed response until ``size`` bytes are held. Bytes
  arrive at ``rate * frame_bytes + idle_Bps`` (events plus keep-alive
  comments), so the buffer flushes every ``size / that`` seconds
  (`buffer_flush_interval`) and an event of a steady stream waits for the
  rest of its flush window: half of it on average (`buffer_extra_delay`).
  The response head waits too: the stream's first byte passes only when
  ``size`` bytes are held (`buffer_first_byte_s`).
* An **idle cut** (a NAT or firewall idle timer, the ``idle_cut`` toxic)
  closes a connection silent for ``cut`` seconds: a connection survives when
  its longest silence -- the event gap or the heartbeat (SSE comment,
  long-poll timeout, short-poll interval), whichever is shorter -- is shorter
  than the cut (`longest_silence`, `idle_cut_survives`).
* A **reconnect** after an RST the client sees at once costs the backoff wait
  (attempt 0: ``base``, ``base / 2`` with full jitter, ``3 base / 4`` with
  equal jitter; `backoff_mean`), the connect and handshake round trips, and,
  when no event was published meanwhile, the wait for the next one
  (`recovery_mean`). A herd without jitter retries on one schedule
  (`retry_instants`): its first attempt after the server is back is where
  every client reconnects at once.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.errors import ConfigError

__all__ = ["JITTER_MODES", "backoff_mean", "buffer_extra_delay", "buffer_first_byte_s",
           "buffer_flush_interval", "idle_cut_survives", "longest_silence", "recovery_mean",
           "retry_instants"]

#: the jitter modes of `wslab.transports.reconnect` (AWS Architecture Blog, 2015)
JITTER_MODES = ("none", "full", "equal")


def _positive(name: str, value: float, zero: bool = False) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not zero):
        raise ConfigError(f"{name} must be a {'non-negative' if zero else 'positive'} "
                          f"number, not {value!r}")
    return v


def buffer_flush_interval(size: float, rate: float, frame_bytes: float,
                          idle_Bps: float = 0.0) -> float:
    """Seconds between two flushes of a ``size``-byte buffer filled by ``rate`` events
    of ``frame_bytes`` each plus ``idle_Bps`` bytes/s of keep-alive."""
    inflow = _positive("rate", rate) * _positive("frame_bytes", frame_bytes) \
        + _positive("idle_Bps", idle_Bps, zero=True)
    return _positive("size", size) / inflow


def buffer_extra_delay(size: float, rate: float, frame_bytes: float,
                       idle_Bps: float = 0.0) -> float:
    """Mean extra delay of an event of a steady stream behind the buffer: half a flush
    interval (its arrival is uniform within the window it waits in)."""
    return buffer_flush_interval(size, rate, frame_bytes, idle_Bps) / 2


def buffer_first_byte_s(size: float, head_bytes: float, idle_Bps: float) -> float:
    """Seconds until a streamed response's head passes a buffer that holds ``size``
    bytes, with only ``idle_Bps`` of keep-alive flowing (inf without any)."""
    missing = max(_positive("size", size) - _positive("head_bytes", head_bytes, zero=True), 0)
    rate = _positive("idle_Bps", idle_Bps, zero=True)
    if missing == 0:
        return 0.0
    return missing / rate if rate > 0 else math.inf


def longest_silence(event_gap: float, heartbeat: float | None = None) -> float:
    """The longest time a connection carries no byte: the event gap, or the heartbeat
    period when that is shorter (None: the transport has none)."""
    gap = _positive("event_gap", event_gap)
    return gap if heartbeat is None else min(gap, _positive("heartbeat", heartbeat))


def idle_cut_survives(cut: float, event_gap: float, heartbeat: float | None = None) -> bool:
    """Does a connection outlive an idle timer of ``cut`` s? (see `longest_silence`)"""
    return longest_silence(event_gap, heartbeat) < _positive("cut", cut)


def backoff_mean(base: float, jitter: str = "full") -> float:
    """Mean wait before the first reconnect attempt (attempt 0: the window is ``base``)."""
    b = _positive("base", base, zero=True)
    if jitter not in JITTER_MODES:
        raise ConfigError(f"jitter must be one of {', '.join(JITTER_MODES)}, not {jitter!r}")
    return {"none": b, "full": b / 2, "equal": 0.75 * b}[jitter]


def recovery_mean(base: float, jitter: str, period: float, handshake_s: float,
                  points: int = 2001) -> float:
    """Mean time from an RST to the first delivery after it, for a fixed stream of one
    event every ``period`` s and a fault at a uniform phase of it.

    The client waits W (the backoff of attempt 0) and reconnects in ``handshake_s``
    (round trips plus the delivery's transit); an event published meanwhile is
    resumed at once, otherwise the next one is awaited. With V the time from the
    fault to the next event (uniform on ``[0, period]``) the recovery is
    ``max(W + handshake_s, V)``; its mean is integrated numerically."""
    b = _positive("base", base, zero=True)
    p, h = _positive("period", period), _positive("handshake_s", handshake_s, zero=True)
    backoff_mean(b, jitter)  # checks the mode
    lo = {"none": b, "full": 0.0, "equal": b / 2}[jitter]
    w = np.linspace(lo, b, points) if b > lo else np.array([b])
    v = np.linspace(0.0, p, points)
    rec = np.maximum(w[:, None] + h, v[None, :])
    return float(rec.mean())


def retry_instants(base: float, factor: float, cap: float, until: float) -> list[float]:
    """Seconds after the fault at which a client without jitter attempts again:
    ``base, base + min(cap, base*factor), ...`` up to the first at or after ``until``."""
    b, f, c = _positive("base", base), _positive("factor", factor), _positive("cap", cap)
    if f < 1:
        raise ConfigError(f"factor must be >= 1, not {factor!r}")
    out, t, k = [], 0.0, 0
    while True:
        t += min(c, b * f ** min(k, 1023))
        out.append(t)
        if t >= until or len(out) > 10_000:
            return out
        k += 1
