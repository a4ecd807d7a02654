"""Section 1 of notebook 07: every transport through each middlebox profile (claim C7).

A *profile* is what the impairment proxy does (`wslab.net.toxics`) plus the
stream and the transport options it is tried with. Times are scaled down
from production (an idle timer of 60 s, SSE comments every 15 s, long polls
held 30 s) by the same factor, so that a run of seconds shows what an hour
would. Each (profile, transport, repeat) is one run on its own server; a
transport that cannot even connect (a WebSocket handshake answered 426
behind ``strip_upgrade``) is a result, recorded with its reason.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ...core.errors import WslabError
from ...runner.lab import Lab
from .paths import run_out

__all__ = ["CLIENTS", "PROFILES", "TRANSPORTS", "Profile", "failure_reason", "heartbeat_s",
           "WORKERS", "measure_middleboxes", "middlebox_wall_s", "row_of"]

TRANSPORTS = ("tcp", "websocket", "sse", "long-poll", "short-poll")
CLIENTS = 3
#: the idle timer, scaled down (production: 60 s, nginx proxy_read_timeout, AWS ALB)
CUT_S = 1.0


@dataclass(frozen=True)
class Profile:
    """One middlebox: its faults, the stream's rate (events/s, fixed schedule) and the
    transport options it is tried with (``{transport: options}``)."""

    name: str
    faults: tuple[str, ...]
    rate: float
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""


_POLL = {"short-poll": {"interval": 0.2}}
#: heartbeats below the cut (production defaults scaled by 1/60: SSE 15 s -> 0.25 s,
#: long poll 30 s -> 0.5 s) and above it
_FAST = {"sse": {"ping": 0.25}, "long-poll": {"timeout": 0.5}, "short-poll": {"interval": 0.5}}
_SLOW = {"sse": {"ping": 2.0}, "long-poll": {"timeout": 2.0}, "short-poll": {"interval": 2.0}}

PROFILES = (
    Profile("none", (), 5.0, _POLL, "no middlebox"),
    Profile("strip_upgrade", ("strip_upgrade",), 5.0, _POLL,
            "HTTP/1.1 proxy without protocol switching"),
    Profile("buffer", ("buffer:size=1KiB",), 20.0, {**_POLL, "sse": {"ping": 0.1}},
            "proxy_buffering on, 1 KiB (nginx: 4 KiB, scaled with the rate)"),
    Profile("idle_cut, heartbeat < cut", (f"idle_cut:timeout={CUT_S:g}s",), 0.5, _FAST,
            f"idle timer {CUT_S:g} s, events every 2 s"),
    Profile("idle_cut, heartbeat > cut", (f"idle_cut:timeout={CUT_S:g}s",), 0.5, _SLOW,
            f"idle timer {CUT_S:g} s, events every 2 s"),
    Profile("reset_peer", ("reset_peer:timeout=1s",), 5.0, _POLL,
            "every connection reset 1 s after set-up"),
)


def heartbeat_s(transport: str, options: dict[str, Any]) -> float | None:
    """The longest a healthy idle connection stays silent apart from events: the SSE
    comment period, the long-poll hold, the short-poll interval; None for WebSocket
    (the kit's client sends no ping) and raw TCP."""
    key = {"sse": "ping", "long-poll": "timeout", "short-poll": "interval"}.get(transport)
    defaults = {"sse": 15.0, "long-poll": 30.0, "short-poll": 1.0}
    return None if key is None else float(options.get(key, defaults[transport]))


def failure_reason(exc: BaseException) -> str:
    """One short line for a run that could not start (an HTTP status where there is one)."""
    text = str(exc)
    status = re.search(r"status_code=(\d+), reason_phrase='([^']*)'", text)
    if status:
        return f"handshake answered HTTP {status.group(1)} {status.group(2)}"
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 90 else first[:87] + "..."


def row_of(profile: Profile, transport: str, repeat: int, summary: dict[str, Any] | None,
           frame_bytes: float = math.nan, reason: str = "") -> dict[str, Any]:
    """One table row from a run's summary (None: the run failed with ``reason``)."""
    base = {"profile": profile.name, "transport": transport, "repeat": repeat,
            "rate": profile.rate, "heartbeat_s": heartbeat_s(transport,
                                                             profile.options.get(transport, {}))}
    if summary is None:
        return {**base, "status": "failed", "reason": reason}
    published, clients = summary["published"], summary["clients"]
    lat = summary.get("latency_us") or {}
    return {**base, "status": "ok", "reason": "", "published": published,
            "delivered_fraction": 1 - summary["lost"] / max(published * clients, 1),
            "lost": summary["lost"], "duplicated": summary["duplicated"],
            "reconnects_per_client": summary["reconnects"] / clients,
            "latency_p50_ms": lat.get("p50", math.nan) / 1e3,
            "latency_mean_ms": lat.get("mean", math.nan) / 1e3,
            "ramp_s": summary.get("ramp_s", math.nan), "frame_bytes": frame_bytes}


def _frame_bytes(run) -> float:
    """Bytes down per client per published event (kernel counters; head included)."""
    per_client = run.connections.groupby("client_id").bytes_down.sum().mean()
    return float(per_client) / max(run.summary["published"], 1)


#: a raw TCP stream behind an HTTP-only middlebox waits out the 10 s drain timeout
_HTTP_ONLY = ("strip_upgrade", "buffer")
WORKERS = 5


def _slow(transport: str, profile: Profile) -> bool:
    return (transport == "tcp" and profile.name in _HTTP_ONLY) or \
        (transport, profile.name) == ("sse", "buffer")  # the held head: a slow ramp


def _one(transport: str, p: Profile, repeat: int, duration: float,
         seed: int) -> dict[str, Any]:
    with Lab() as lab:
        try:
            run = lab.run(transport, clients=CLIENTS, rate=p.rate, duration=duration,
                          schedule="fixed", seed=seed + repeat, faults=list(p.faults),
                          options=p.options.get(transport, {}), progress=False,
                          out=run_out("middleboxes", f"{p.name}-{transport}-rep{repeat}"))
        except WslabError as exc:
            return row_of(p, transport, repeat, None, reason=failure_reason(exc))
    return row_of(p, transport, repeat, run.summary, _frame_bytes(run))


def middlebox_wall_s(repeats: int, duration: float, transports: int = len(TRANSPORTS)) -> float:
    """Estimated wall time of `measure_middleboxes`: every run's start, duration and
    drain (+ 10 s for the drains that time out, + 6 s for SSE's held head), spread over
    `WORKERS` runs at a time."""
    runs = repeats * len(PROFILES) * transports
    work = runs * (duration + 3.5) + repeats * (2 * 10 + 6)
    return max(work / WORKERS, duration + 14)


def measure_middleboxes(repeats: int, duration: float, seed: int = 1,
                        transports: tuple[str, ...] = TRANSPORTS) -> pd.DataFrame:
    """Every profile for every transport, ``repeats`` times, each run on its own server,
    `WORKERS` runs at a time (a few clients at a few events/s each; the slow runs first).
    Within a repeat every run has the same seed."""
    tasks = [(t, p, k) for k in range(repeats) for p in PROFILES for t in transports]
    tasks.sort(key=lambda x: not _slow(x[0], x[1]))
    with ThreadPoolExecutor(WORKERS) as pool:
        rows = list(pool.map(lambda x: _one(x[0], x[1], x[2], duration, seed), tasks))
    rank = {p.name: i for i, p in enumerate(PROFILES)}
    frame = pd.DataFrame(rows)
    key = frame.profile.map(rank) * len(transports) + frame.transport.map(transports.index)
    return frame.assign(_k=key).sort_values(["repeat", "_k"]).drop(columns="_k") \
        .reset_index(drop=True)
