"""Per-poll header bytes from the kernel's counts (HTTP/1.1 beside HTTP/2), the
Kaazing table for HTTP/2 polling, and what multiplexing changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ...models import KAAZING_CLIENTS, KAAZING_HEADER_BYTES, kaazing_bandwidth
from ...runner.store import Run

__all__ = ["PER_POLL", "kaazing_h2", "multiplex_table", "per_poll_repeats", "side_by_side",
           "with_intervals"]

#: the per-request figures of notebook 04's ``http_anatomy`` kept here
PER_POLL = ("request_header_bytes", "response_header_bytes", "header_bytes")


def per_poll_repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]],
                     anatomy: Callable[..., Mapping[str, float]]) -> pd.DataFrame:
    """One row per (label, repeat): ``anatomy(long, short)`` (notebook 04's
    ``header_overhead.http_anatomy``, passed in by the notebook: a repeated
    poll's bytes as the difference of two runs over the difference of their
    requests, so the connection's setup and first request cancel out) and
    ``counted``, the requests of both runs."""
    rows = []
    for (label, rep), (short, long) in sorted(pairs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        a = anatomy(long, short)
        rows.append({"label": label, "repeat": rep, **{k: float(a[k]) for k in PER_POLL},
                     "counted": int(short.summary["requests"] + long.summary["requests"])})
    return pd.DataFrame(rows)


def with_intervals(frame: pd.DataFrame, columns: Sequence[str] = PER_POLL,
                   by: str = "label") -> pd.DataFrame:
    """Mean over the repeats with a 95 % t interval per ``by`` group (``_low``,
    ``_high``, ``_n`` = repeats), ``counted`` summed; indexed by ``by``."""
    rows = []
    for key, g in frame.groupby(by, sort=False):
        row: dict[str, Any] = {by: key}
        for c in columns:
            row.update(stats.mean_ci_columns(g[c].to_numpy(dtype=float), c, unit="repeats"))
        if "counted" in g:
            row["counted"] = int(g.counted.sum())
        rows.append(row)
    return pd.DataFrame(rows).set_index(by)


def side_by_side(per_poll: pd.DataFrame, column: str = "header_bytes") -> pd.DataFrame:
    """Per header profile: ``column`` (B per repeated poll) for HTTP/1.1 and
    HTTP/2 with their intervals and n, and the HTTP/2 : HTTP/1.1 ratio of the
    means. ``per_poll`` is `with_intervals` of `per_poll_repeats`."""
    rows = []
    for profile in ("aiohttp", "browser"):
        row: dict[str, Any] = {"headers": profile}
        for proto in ("HTTP/1.1", "HTTP/2"):
            r = per_poll.loc[f"{proto} ({profile})"]
            for suffix in ("", "_low", "_high", "_n"):
                row[f"{proto}{suffix}"] = r[f"{column}{suffix}"]
        row["HTTP/2 : HTTP/1.1"] = row["HTTP/2"] / row["HTTP/1.1"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("headers").round(2)


def kaazing_h2(per_poll: pd.DataFrame, clients: Sequence[int] = KAAZING_CLIENTS,
               column: str = "header_bytes") -> pd.DataFrame:
    """The Kaazing table (every client gets one message a second, one poll per
    message) with measured header bytes per poll: the paper's 871 B row, then
    one row per measured configuration, in Mbit/s (SI) with the interval the
    bytes' interval gives (bandwidth is linear in them)."""
    rows = []
    sources = [("paper (871 B)", float(KAAZING_HEADER_BYTES), np.nan, np.nan, 0)]
    sources += [(label, r[column], r[f"{column}_low"], r[f"{column}_high"], r[f"{column}_n"])
                for label, r in per_poll.iterrows()]
    for label, b, lo, hi, n in sources:
        row: dict[str, Any] = {"configuration": label, "bytes_per_poll": round(float(b), 1),
                               "n": int(n)}
        for c in clients:
            row[f"{c:,} clients Mbit/s"] = round(float(kaazing_bandwidth(c, b).si_mbps), 3)
            row[f"{c:,} low"] = round(float(kaazing_bandwidth(c, lo).si_mbps), 3) \
                if np.isfinite(lo) else np.nan
            row[f"{c:,} high"] = round(float(kaazing_bandwidth(c, hi).si_mbps), 3) \
                if np.isfinite(hi) else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("configuration")


def multiplex_table(runs: Sequence[Run], by_repeat: Sequence[int]) -> pd.DataFrame:
    """Per ``multiplex`` (subscriptions per connection): TCP connections, bytes
    per delivered event (both ways), the client fleet's RSS peak, the server's
    RSS growth over the publishing window and the median latency, each a mean
    over the repeats with a 95 % t interval; lost and duplicated summed."""
    rows = []
    for run, rep in zip(runs, by_repeat, strict=True):
        s = run.summary
        k = int(run.manifest["parameters"].get("options", {}).get("multiplex", 1))
        rows.append({"multiplex": k, "repeat": rep, "connections": float(s["connections"]),
                     "bytes_per_event": (s["bytes_up"] + s["bytes_down"]) / max(s["delivered"], 1),
                     "client_rss_peak_mib": s["client_rss_peak_bytes"] / 2**20,
                     "server_rss_growth_kib": (s["server_rss_peak_bytes"]
                                               - s["server_rss_start_bytes"]) / 1024,
                     "latency_p50_ms": s["latency_us"]["p50"] / 1e3,
                     "lost": s["lost"], "duplicated": s["duplicated"]})
    frame = pd.DataFrame(rows)
    out = with_intervals(frame, ("connections", "bytes_per_event", "client_rss_peak_mib",
                                 "server_rss_growth_kib", "latency_p50_ms"), by="multiplex")
    out["lost"] = frame.groupby("multiplex", sort=False).lost.sum()
    out["duplicated"] = frame.groupby("multiplex", sort=False).duplicated.sum()
    return out
