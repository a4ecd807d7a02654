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

__all__ = ["CLIENTS", "PROFILES", "TRANSPORTS", "Profile", "failure_reason", "heartbeat_s",
           "measure_middleboxes", "middlebox_wall_s", "row_of"]

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


def _column(transport: str, repeats: int, duration: float, seed: int) -> list[dict[str, Any]]:
    rows = []
    with Lab() as lab:
        for repeat in range(repeats):
            for p in PROFILES:
                try:
                    run = lab.run(transport, clients=CLIENTS, rate=p.rate, duration=duration,
                                  schedule="fixed", seed=seed + repeat, faults=list(p.faults),
                                  options=p.options.get(transport, {}), progress=False)
                except WslabError as exc:
                    rows.append(row_of(p, transport, repeat, None, reason=failure_reason(exc)))
                    continue
                rows.append(row_of(p, transport, repeat, run.summary, _frame_bytes(run)))
    return rows


def middlebox_wall_s(repeats: int, duration: float) -> float:
    """Estimated wall time of `measure_middleboxes`: the slowest column is raw TCP, whose two runs
    behind an HTTP-only middlebox wait out the 10 s drain timeout."""
    return repeats * (len(PROFILES) * (duration + 2.5) + 2 * 11)


def measure_middleboxes(repeats: int, duration: float, seed: int = 1,
            transports: tuple[str, ...] = TRANSPORTS) -> pd.DataFrame:
    """Every profile for every transport, ``repeats`` times: one server per transport,
    the transports side by side (each a few clients at a few events/s)."""
    with ThreadPoolExecutor(len(transports)) as pool:
        columns = pool.map(lambda t: _column(t, repeats, duration, seed), transports)
        return pd.DataFrame([r for c in columns for r in c])
