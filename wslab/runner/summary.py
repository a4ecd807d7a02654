"""From a run's tables to its summary: loss accounting, latency, overhead.

Loss accounting is exact: every published event should reach every client
once. ``delivered`` counts distinct (client, seq) pairs, ``duplicated`` the
extra copies, ``lost`` the pairs that never arrived, ``out_of_order`` the
deliveries whose seq is below one the client already had.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..core.meter import encode_histogram, histogram_percentiles, latency_histogram
from .recovery import lost_ranges, recovery_summary

__all__ = ["delivery_accounting", "fanout_spread_us", "first_deliveries", "summarize"]

BYTE_COLUMNS = ("bytes_up", "bytes_down", "segs_up", "segs_down", "requests", "responses",
                "empty_responses")


def first_deliveries(messages: pd.DataFrame) -> pd.DataFrame:
    """The first delivery of each (client, seq): what latency is computed on."""
    return messages.drop_duplicates(["client_id", "seq"], keep="first")


def delivery_accounting(messages: pd.DataFrame, published: int, clients: int) -> dict[str, int]:
    """``expected``, ``delivered``, ``lost``, ``duplicated``, ``out_of_order``."""
    valid = messages[(messages.seq >= 1) & (messages.seq <= published)]
    unique = len(first_deliveries(valid))
    expected = published * clients
    # Rows are stored in arrival order per client: a seq lower than the
    # running maximum of that client arrived out of order.
    seq = messages.seq.to_numpy()
    running_max = messages.groupby("client_id", sort=False).seq.cummax().to_numpy()
    out_of_order = int(np.count_nonzero(seq < running_max))
    return {
        "expected": expected,
        "delivered": unique,
        "lost": expected - unique,
        "duplicated": len(messages) - unique,
        "out_of_order": out_of_order,
    }


def fanout_spread_us(first: pd.DataFrame) -> dict[str, float]:
    """Per event, the time between its first and its last recipient (µs):
    ``p50``, ``p99``, ``max`` over events."""
    if first.empty:
        return {}
    g = first.groupby("seq").received_ns
    spread = ((g.max() - g.min()) / 1e3).to_numpy()
    return {"p50": float(np.percentile(spread, 50)), "p99": float(np.percentile(spread, 99)),
            "max": float(spread.max())}


def summarize(
    messages: pd.DataFrame,
    connections: pd.DataFrame,
    *,
    published: int,
    clients: int,
    publish_start_ns: int,
    publish_end_ns: int,
    warmup_s: float,
    server: dict[str, Any],
    fleets: list[dict[str, Any]],
) -> dict[str, Any]:
    """The summary.json of a run (see the README for every key)."""
    acct = delivery_accounting(messages, published, clients)
    first = first_deliveries(messages)
    cutoff = publish_start_ns + int(warmup_s * 1e9)
    measured = first[first.published_ns >= cutoff]
    hist = latency_histogram((measured.received_ns - measured.published_ns).to_numpy())
    totals = {c: int(connections[c].sum()) if c in connections else 0 for c in BYTE_COLUMNS}
    spread = fanout_spread_us(measured) if clients > 1 else {}
    delivered = max(acct["delivered"], 1)
    ranges, n_ranges = lost_ranges(first, published, clients)
    median_ns = float(np.median((first.received_ns - first.published_ns).to_numpy())
                      ) if len(first) else 0.0
    publish_s = max(publish_end_ns - publish_start_ns, 1) / 1e9
    return {
        "published": published,
        "clients": clients,
        **acct,
        # [first seq, last seq, clients missing] per range (the first 20), and how many
        "lost_ranges": ranges,
        "lost_range_count": n_ranges,
        **recovery_summary(first, connections, median_ns),
        **totals,
        "connections": len(connections),
        "bytes_up_per_event": totals["bytes_up"] / delivered,
        "bytes_down_per_event": totals["bytes_down"] / delivered,
        # Per-event request figures count completed exchanges: a request still
        # held when the run stops (a long poll always is) cost bytes, and is in
        # ``requests`` and ``in_flight_at_stop``, but delivered nothing.
        "in_flight_at_stop": totals["requests"] - totals["responses"],
        "requests_per_event": totals["responses"] / delivered,
        "empty_fraction": totals["empty_responses"] / max(totals["responses"], 1),
        "latency_us": histogram_percentiles(hist),
        "latency_count": int(hist.get_total_count()),
        "latency_hdr": encode_histogram(hist),
        "warmup_s": warmup_s,
        "publish_s": publish_s,
        "achieved_rate": published / publish_s,
        "server_cpu_s": server["cpu_s"],
        "server_cpu_us_per_event": server["cpu_s"] * 1e6 / delivered,
        "server_rss_before_clients_bytes": server.get("rss_before_clients", 0),
        "server_rss_start_bytes": server["rss_start"],
        # memory the connected, idle clients cost the server (RSS delta / N)
        "server_rss_per_client_bytes": (
            (server["rss_start"] - server["rss_before_clients"]) / clients
            if "rss_before_clients" in server else float("nan")),
        "server_rss_peak_bytes": server["rss_peak"],
        "client_cpu_s": sum(f["cpu_s"] for f in fleets),
        "client_rss_peak_bytes": sum(f["rss_peak"] for f in fleets),
        "fanout_spread_us": spread,
        "stalled_clients": sum(f["stalled_clients"] for f in fleets),
        "client_errors": sum(f["client_errors"] for f in fleets),
    }
