"""Tables and computed verdicts of notebook 07 (every interval: 95 %, t over the named unit).

Units: middlebox and storm figures are one value per run, so their intervals
are over repeats (distinct seeds). Recovery times are one value per
reconnection: each is an independent backoff draw at an independent phase of
the stream, so the recovery interval is over reconnections.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ...models import faults as fm
from ...models.presence import SSE_PING_BYTES
from ...transports.reconnect import PRESETS
from .middleboxes import CUT_S, PROFILES
from .resume import ROUND_TRIPS

__all__ = ["IMMEDIATE_RETRY", "check_buffer", "check_idle_cut", "check_recovery", "conclusions", "loss_check",
           "middlebox_table", "storm_table"]

_PROFILE = {p.name: p for p in PROFILES}
#: transports whose HTTP client retries a reset request itself, before the kit's backoff
IMMEDIATE_RETRY = ("long-poll",)


def _ci(values: Any, unit: str) -> stats.Estimate:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):  # nothing delivered (a stream a middlebox broke): no value
        return stats.Estimate(math.nan, math.nan, math.nan, 0, f"t interval over {unit}", 0.95)
    return stats.mean_ci(x, unit=unit)


def middlebox_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (profile, transport): runs that connected, the reason of those that did
    not, delivered fraction, events lost and duplicated (sums), reconnects per client and
    median latency (mean over runs with its 95 % interval)."""
    rows = []
    for (profile, transport), g in df.groupby(["profile", "transport"], sort=False):
        ok = g[g.status == "ok"]
        row = {"profile": profile, "transport": transport, "runs_ok": f"{len(ok)}/{len(g)}",
               "reason": "; ".join(sorted(set(g.reason) - {""}))}
        if len(ok):
            row.update({"delivered": ok.delivered_fraction.mean(), "lost": int(ok.lost.sum()),
                        "dup": int(ok["duplicated"].sum()),
                        **_ci(ok.reconnects_per_client, "runs").as_dict("reconn_per_client"),
                        **_ci(ok.latency_p50_ms, "runs").as_dict("p50_ms")})
        rows.append(row)
    return pd.DataFrame(rows)


def check_idle_cut(df: pd.DataFrame) -> pd.DataFrame:
    """Idle-cut profiles: the model's verdict (the longest silence, event gap or heartbeat,
    against the cut) beside what the runs did (any reconnect: cut)."""
    rows = []
    for (profile, transport), g in df[df.profile.str.startswith("idle_cut")].groupby(
            ["profile", "transport"], sort=False):
        p, ok = _PROFILE[profile], g[g.status == "ok"]
        hb = g.heartbeat_s.iloc[0]
        hb = None if hb is None or (isinstance(hb, float) and math.isnan(hb)) else float(hb)
        model = "survives" if fm.idle_cut_survives(CUT_S, 1 / p.rate, hb) else "cut"
        measured = "cut" if (ok.reconnects_per_client > 0).any() else "survives"
        rows.append({"profile": profile, "transport": transport, "cut_s": CUT_S,
                     "silence_s": fm.longest_silence(1 / p.rate, hb), "model": model,
                     "measured": measured if len(ok) else "no run",
                     "lost": int(ok.lost.sum()), "verdict": "agrees" if model == measured
                     else "DISAGREES"})
    return pd.DataFrame(rows)


def check_buffer(df: pd.DataFrame) -> pd.DataFrame:
    """SSE behind the buffer: median latency (mean over runs) against half a flush
    interval; the frame size is measured on the profile without middlebox (bytes down
    per event per client, head included) and the comments are 15 B each."""
    p = _PROFILE["buffer"]
    sse = df[(df.transport == "sse") & (df.status == "ok")]
    frame = sse.loc[sse.profile == "none", "frame_bytes"].mean()
    ping = p.options["sse"]["ping"]
    size = int(p.faults[0].split("=")[1].removesuffix("KiB")) * 1024
    model_s = fm.buffer_extra_delay(size, p.rate, frame, SSE_PING_BYTES / ping)
    base = sse.loc[sse.profile == "none", "latency_p50_ms"].mean()
    rows = [{"quantity": "SSE p50 latency behind buffer (ms)", "frame_bytes": frame,
             "flush_interval_ms": 2 * model_s * 1e3,
             "measured": _ci(sse.loc[sse.profile == "buffer", "latency_p50_ms"], "runs"),
             "model": model_s * 1e3 + base}]
    return stats.check_table(rows)


def check_recovery(samples: pd.DataFrame, rate: float) -> pd.DataFrame:
    """Mean recovery after an RST against `wslab.models.recovery_mean` with the kit's
    backoff (attempt 0: full jitter over [0, base]); the handshake is the round trips
    plus one transit, the transit being the run's median latency. A long poll's held
    GET is retried at once by aiohttp on a new connection (an idempotent request on a
    persistent connection, RFC 9112 §9.3.1.1), so its model waits no backoff."""
    b = PRESETS["kit"]
    rows = []
    for transport, g in samples.groupby("transport", sort=False):
        transit = float(g.transit_ms.mean()) / 1e3
        h = (2 * ROUND_TRIPS[transport] + 1) * transit
        base = 0.0 if transport in IMMEDIATE_RETRY else b.base
        rows.append({"quantity": f"{transport} recovery (ms)",
                     "measured": _ci(g.recovery_s * 1e3, "reconnections"),
                     "model": fm.recovery_mean(base, b.jitter, 1 / rate, h) * 1e3,
                     "backoff_mean_ms": fm.backoff_mean(base, b.jitter) * 1e3})
    return stats.check_table(rows)


def loss_check(losses: pd.DataFrame) -> pd.DataFrame:
    """Per run: lost and duplicated beside the expectation (none while the history holds
    every event of the run, so it covers any outage; lost seq ranges otherwise) and a
    computed verdict."""
    out = losses[["kind", "transport", "repeat", "history", "published", "reconnects",
                  "lost", "duplicated", "lost_range_count"]].copy()
    covered = out.history >= out.published
    out["expected"] = np.where(covered, "lost 0, dup 0", "lost > 0 as ranges")
    good = np.where(covered, (out.lost == 0) & (out["duplicated"] == 0),
                    (out.lost > 0) & (out.lost_range_count > 0) & (out["duplicated"] == 0))
    out["verdict"] = np.where(good, "as expected", "NOT as expected")
    return out


_STORM = [("peak_per_s_10ms", "connect peak (/s, 10 ms bins)"),
          ("peak_per_s_100ms", "connect peak (/s, 100 ms bins)"),
          ("all_resumed_s", "all resumed after restart (s)"),
          ("failed_attempts", "failed attempts"), ("listen_overflows", "ListenOverflows"),
          ("listen_drops", "ListenDrops"), ("server_cpu_s", "server CPU (s)"),
          ("server_rss_mb", "server RSS peak (MiB)"), ("lost", "lost"),
          ("duplicated", "duplicated")]


def storm_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per policy and quantity: the mean over repeats with its 95 % t interval and n."""
    out = []
    for policy, g in rows.groupby("policy", sort=False):
        for col, label in _STORM:
            e = _ci(g[col], "runs")
            out.append({"policy": policy, "quantity": label, "mean": e.value, "low": e.low,
                        "high": e.high, "n": e.n})
    return pd.DataFrame(out)


def conclusions(mb: pd.DataFrame, idle: pd.DataFrame, losses: pd.DataFrame,
                storm: pd.DataFrame) -> list[str]:
    """Sentences computed from the printed tables."""
    failed = mb[mb.runs_ok.str.startswith("0/")]
    lines = [f"{len(failed)} of {len(mb)} (profile, transport) pairs never connected: "
             + "; ".join(f"{r.transport} behind {r.profile} ({r.reason})"
                         for r in failed.itertuples())]
    lossy = mb[(mb.get("delivered", 1.0) < 1.0) & ~mb.runs_ok.str.startswith("0/")]
    lines.append(f"{len(lossy)} pairs connected but lost events: " + ", ".join(
        f"{r.transport} behind {r.profile} (delivered {r.delivered:.0%})"
        for r in lossy.itertuples()))
    lines.append(f"idle cut: the model's survive/cut verdict agrees in "
                 f"{(idle.verdict == 'agrees').sum()} of {len(idle)} cases")
    v = losses.verdict == "as expected"
    lines.append(f"resume: {v.sum()} of {len(losses)} runs lost and duplicated as expected")
    by = storm.set_index(["policy", "quantity"])["mean"]
    for policy in storm.policy.unique():
        lines.append(f"storm, {policy}: peak {by[policy, 'connect peak (/s, 10 ms bins)']:,.0f}"
                     f" connections/s (10 ms bins), all resumed "
                     f"{by[policy, 'all resumed after restart (s)']:.2f} s after the restart, "
                     f"{by[policy, 'ListenOverflows']:.0f} accept-queue overflows")
    return lines
