"""Notebook 12's tables: intervals over repeats, slopes over N, model checks
with computed verdicts, the fault outcomes, and the one summary table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ... import stats
from ...models import (
    SIO_UPGRADE_PROBE_BYTES,
    SIO_WS_HEARTBEAT_BYTES,
    heartbeat_bytes_per_s,
    sio_ws_event_bytes,
    ws_frame_bytes,
)
from .planning import MODES, VARIANTS

__all__ = ["COMPARE_METRICS", "compare_table", "conclusions", "fault_table", "framing_checks",
           "heartbeat_checks", "heartbeat_exchanges", "rooms_table", "loss_check", "memory_table", "summary_table", "upgrade_table"]

KIB = 1024
#: section 1's metrics, each the mean over repeats with a t interval
COMPARE_METRICS = ("bytes_per_event", "latency_p50_ms", "latency_p99_ms", "cpu_us_per_delivery",
                   "setup_bytes", "requests_per_event")
_ORDER = {v.name: i for i, v in enumerate(VARIANTS)}


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(_o=df.variant.map(_ORDER)).sort_values("_o").drop(columns="_o") \
        .reset_index(drop=True)


def loss_check(*frames: pd.DataFrame) -> pd.DataFrame:
    """Runs, deliveries, lost and duplicated per section (read before any other number)."""
    rows = []
    for name, f in zip(("compare", "memory"), frames, strict=False):
        rows.append({"section": name, "runs": len(f), "delivered": int(f.delivered.sum()),
                     "lost": int(f.lost.sum()), "duplicated": int(f["duplicated"].sum())})
    return pd.DataFrame(rows)


def compare_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per variant: each metric of `COMPARE_METRICS` as the mean over the
    repeats (the independent unit) with a 95 % t interval and ``n``."""
    rows = []
    for variant, g in frame.groupby("variant", sort=False):
        row = {"variant": variant}
        for m in COMPARE_METRICS:
            row.update(stats.mean_ci(g[m].to_numpy(float), unit="repeats").as_dict(m))
        rows.append(row)
    return _ordered(pd.DataFrame(rows))


def memory_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per variant: server memory per connection, the slope of RSS growth over N
    (KiB per connection, t interval, n = runs), and the largest N measured."""
    rows = []
    for variant, g in frame.groupby("variant", sort=False):
        est = stats.slope_ci(g.clients, g.rss_growth_bytes / KIB)
        rows.append({"variant": variant, **est.as_dict("kib_per_conn"),
                     "max_clients": int(g.clients.max())})
    return _ordered(pd.DataFrame(rows))


def summary_table(compare: pd.DataFrame, memory: pd.DataFrame) -> pd.DataFrame:
    """The one table: bytes per event, latency p50/p99, CPU per delivery (from
    section 1) and memory per connection (section 2), each with its interval and n."""
    keep = ["variant"] + [c for m in COMPARE_METRICS[:4] for c in
                          (m, f"{m}_low", f"{m}_high", f"{m}_n")]
    body = compare.groupby("variant").body_bytes.mean().rename("body_bytes").reset_index()
    return compare_table(compare)[keep].merge(memory_table(memory), on="variant", how="left") \
        .merge(body, on="variant", how="left")


def framing_checks(compare: pd.DataFrame) -> pd.DataFrame:
    """Bytes per event after set-up, measured (mean over repeats, t interval),
    beside the framing model around the runs' mean body: RFC 6455's frame for
    the raw WebSocket, ``42["e",<body>]`` in that frame for Socket.IO."""
    rows = []
    models = {"websocket": lambda b: ws_frame_bytes(b, masked=False),
              "socketio/websocket": sio_ws_event_bytes}
    for variant, model in models.items():
        g = compare[compare.variant == variant]
        if g.empty:
            continue
        est = stats.mean_ci(g.bytes_per_event.to_numpy(float), unit="repeats")
        body = float(g.body_bytes.mean())
        predicted = float(model(round(body)))
        rows.append({"quantity": f"{variant}: bytes per event", "measured": est,
                     "model": predicted, "tolerance": 0.01})
    return stats.check_table(rows)


def upgrade_table(up: pd.DataFrame) -> pd.DataFrame:
    """Per mode: seconds and bytes (both ways) from the first byte to the
    namespace's CONNECT, HTTP requests, with t intervals over the samples."""
    rows = []
    for mode in MODES:
        g = up[up["mode"] == mode]
        total = (g.bytes_up + g.bytes_down).to_numpy(float)
        rows.append({"mode": mode, "ends_on": ",".join(sorted(set(g.transport))),
                     **stats.mean_ci(g.seconds.to_numpy(float) * 1e3, unit="samples").as_dict("setup_ms"),
                     **stats.mean_ci(total, unit="samples").as_dict("setup_bytes"),
                     "requests": float(g.requests.mean())})
    out = pd.DataFrame(rows)
    ws = out.set_index("mode")
    out["bytes_beyond_websocket"] = out.setup_bytes - ws.loc["websocket", "setup_bytes"]
    out.attrs["probe_model_bytes"] = SIO_UPGRADE_PROBE_BYTES
    return out


def heartbeat_exchanges(hb: pd.DataFrame) -> dict[str, stats.Estimate]:
    """Bytes of one PING/PONG exchange per mode, per client of the scaled run
    (n = its clients, t interval): its bytes beyond the mean of the default
    run's clients (the same fixed stream, and no ping happens in that run),
    over its exchanges, counted as whole intervals in its connected time. The
    server schedules the next ping only once the pong is back, so that count
    can only be too high by a round trip per interval: negligible at 1 s on
    loopback, not at the quick mode's 0.2 s on a loaded machine."""
    out = {}
    for mode in ("websocket", "polling"):
        g = hb[hb["mode"] == mode]
        base = float(g[g.heartbeat == "default"].bytes.mean())
        s = g[g.heartbeat == "scaled"]
        exchanges = np.floor(s.connected_s / s.ping_interval_s)
        per = (s.bytes - base) / exchanges.where(exchanges > 0)
        out[mode] = stats.mean_ci(per.dropna().to_numpy(float), unit="clients")
    return out


def heartbeat_checks(hb: pd.DataFrame, interval: float = 25.0) -> pd.DataFrame:
    """Each mode's exchange (`heartbeat_exchanges`) and what it costs an idle
    client per second at Socket.IO's default ``interval``, beside the model:
    `SIO_WS_HEARTBEAT_BYTES` for the WebSocket. Polling's exchange is two HTTP
    requests whose heads are the client's and server's own: its model is the
    WebSocket's frames, which it can only exceed (the verdict says by how much)."""
    rows = []
    for mode, est in heartbeat_exchanges(hb).items():
        rows.append({"quantity": f"{mode}: bytes per heartbeat", "measured": est,
                     "model": SIO_WS_HEARTBEAT_BYTES, "tolerance": 0.05})
        value, low, high = (float(heartbeat_bytes_per_s(max(x, 0.0), interval))
                            if math.isfinite(x) else math.nan
                            for x in (est.value, est.low, est.high))
        per_s = stats.Estimate(value, low, high, est.n, est.method, est.level)
        rows.append({"quantity": f"{mode}: B/s per idle client at {interval:g} s",
                     "measured": per_s, "tolerance": 0.05,
                     "model": heartbeat_bytes_per_s(SIO_WS_HEARTBEAT_BYTES, interval)})
    return stats.check_table(rows)


def rooms_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per room count: server CPU per delivery and latency p50 (means over
    repeats, t intervals), and the loss accounting."""
    rows = []
    for rooms, g in frame.groupby("rooms"):
        rows.append({"rooms": int(rooms), "clients": int(g.clients.iloc[0]),
                     **stats.mean_ci(g.cpu_us_per_delivery.to_numpy(float),
                                     unit="repeats").as_dict("cpu_us_per_delivery"),
                     **stats.mean_ci(g.latency_p50_ms.to_numpy(float),
                                     unit="repeats").as_dict("latency_p50_ms"),
                     "lost": int(g.lost.sum()), "duplicated": int(g["duplicated"].sum())})
    return pd.DataFrame(rows)


def fault_table(faults: pd.DataFrame) -> pd.DataFrame:
    """The fault runs as printed: connected or why not, sessions, reconnects,
    failed attempts, lost (count and fraction of deliveries owed), duplicated."""
    cols = ["fault", "variant", "connected", "sessions", "reconnects", "failed_attempts",
            "published", "lost", "lost_fraction", "duplicated", "reason"]
    return faults.reindex(columns=cols)


def _fmt(row: pd.Series, col: str, unit: str) -> str:
    est = stats.Estimate(float(row[col]), float(row[f"{col}_low"]), float(row[f"{col}_high"]),
                         int(row[f"{col}_n"]) if np.isfinite(row[f"{col}_n"]) else 0, "t")
    return f"{est} {unit}"


def conclusions(summary: pd.DataFrame, framing: pd.DataFrame, faults: pd.DataFrame) -> list[str]:
    """The closing sentences, each computed from a printed table."""
    s = summary.set_index("variant")
    lines = []
    if {"socketio/websocket", "websocket"} <= set(s.index):
        a, b = s.loc["socketio/websocket"], s.loc["websocket"]
        lines.append(f"bytes per event: socketio/websocket {_fmt(a, 'bytes_per_event', 'B')}, "
                     f"websocket {_fmt(b, 'bytes_per_event', 'B')}; difference of the means "
                     f"{a.bytes_per_event - b.bytes_per_event:.1f} B")
        for col, unit in (("cpu_us_per_delivery", "µs"), ("kib_per_conn", "KiB")):
            lines.append(f"{col}: socketio/websocket {_fmt(a, col, unit)}, "
                         f"websocket {_fmt(b, col, unit)}")
    for _, r in framing.iterrows():
        lines.append(f"{r.quantity}: {r.verdict}")
    for _, r in faults.iterrows():
        if r.connected:
            lines.append(f"{r.fault}, {r.variant}: {int(r.lost)} deliveries lost "
                         f"({r.lost_fraction:.1%}), {int(r['duplicated'])} duplicated, "
                         f"{int(r.reconnects)} reconnections")
        else:
            lines.append(f"{r.fault}, {r.variant}: never connected ({r.reason})")
    return lines
