"""Scalability (claim C6): what each held connection costs the server.

Persistent transports keep state per client: a socket, buffers, a task or a
held request. The scale sweep measures, per *variant* (a transport with its
options: websocket with and without permessage-deflate, websocket with one
queue and sender task per client, SSE, long polling), runs at several client
counts N at a low event rate, each in a **fresh server** (RSS that a previous
run grew would otherwise hide the cost of the next), and derives:

- memory per connection as the **slope** of server RSS over N (a least-squares
  line through the points ``(N, RSS at publish start - RSS before clients)``),
  which is robust to a fixed start-up cost that a single ratio RSS/N would
  spread over the clients;
- CPU per delivered event, one-way latency p99 and the fan-out spread (time
  between the first and the last recipient of one event) against N;
- a capacity estimate: one server core delivers about ``1e6 / cpu_us``
  events/s, so a broadcast to N clients saturates near ``1e6 / (cpu_us * N)``
  events/s.

`ANCHORS` holds the published reference numbers the figure draws beside the
measured slopes. Everything here works on tables (`Experiment.table` rows),
so it is unit-tested on synthetic frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ANCHORS",
    "KIB",
    "VARIANTS",
    "Variant",
    "anchors_table",
    "capacity_table",
    "fit_slope",
    "measure",
    "plot_metric",
    "plot_rss",
    "scale_frame",
    "slope_table",
    "trials",
]

KIB = 1024.0

#: Published and previously measured memory per connection (KiB); sources in
#: docs/references.md (memory per connection, earlier measurements).
ANCHORS = pd.DataFrame(
    [
        ("websocket", "websockets docs, compression off", 14.0),
        ("websocket+deflate", "websockets docs, default permessage-deflate", 64.0),
        ("websocket", "measured here: 5,000 idle connections", 13.3),
        ("long-poll", "measured here: 10,000 held aiohttp requests", 6.0),
    ],
    columns=["variant", "source", "kib_per_connection"],
)


@dataclass(frozen=True)
class Variant:
    """A transport with client options, under a short name."""

    name: str
    transport: str
    options: Mapping[str, Any] = field(default_factory=dict)


#: The persistent transports the sweep compares, in figure order.
VARIANTS = (
    Variant("websocket", "websocket", {"compression": False, "fanout": "broadcast"}),
    Variant("websocket+deflate", "websocket", {"compression": True, "fanout": "broadcast"}),
    Variant("websocket queue", "websocket", {"compression": False, "fanout": "queue"}),
    Variant("sse", "sse"),
    Variant("long-poll", "long-poll"),
)


def anchors_table() -> pd.DataFrame:
    """`ANCHORS` with bytes per connection and per 10,000 connections (MiB)."""
    df = ANCHORS.copy()
    df["bytes_per_connection"] = (df.kib_per_connection * KIB).round().astype(int)
    df["mib_per_10k"] = (df.kib_per_connection * 10_000 / KIB).round(1)
    return df


def trials(ns: Sequence[int], variants: Iterable[Variant] = VARIANTS,
           **base: Any) -> list[dict[str, Any]]:
    """Explicit `Experiment` trials: every variant at every N, plus ``base``."""
    out = []
    for v in variants:
        for n in ns:
            t = {"transport": v.transport, "clients": int(n), **base}
            if v.options:
                t["options"] = dict(v.options)
            out.append(t)
    return out


def variant_name(transport: str, options: Mapping[str, Any] | None) -> str:
    """The `Variant` name of a run's transport and options."""
    options = options or {}
    if transport != "websocket":
        return transport
    if options.get("compression"):
        return "websocket+deflate"
    return "websocket queue" if options.get("fanout") == "queue" else "websocket"


def measure(name: str, trial_list: list[Mapping[str, Any]], root: str | Path | None = None,
            progress: bool = False) -> pd.DataFrame:
    """Run each trial in its own fresh server (one `Experiment` each, resumable);
    the concatenated `Experiment.table` rows."""
    from ..core.paths import runs_dir
    from ..experiment import Experiment

    root = Path(root) if root is not None else runs_dir() / name
    rows = [Experiment(name, trials=[dict(t)], root=root).run(progress=progress)
            for t in trial_list]
    return pd.concat(rows, ignore_index=True)


def scale_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Per run: variant, N and the scale metrics (RSS growth, CPU, latency, spread)."""
    df = pd.DataFrame({
        "variant": [variant_name(t, {"compression": c, "fanout": f}) for t, c, f in zip(
            table.transport, table.get("option_compression", pd.Series([None] * len(table))),
            table.get("option_fanout", pd.Series([None] * len(table))), strict=True)],
        "clients": table.clients.astype(int),
    })
    df["rss_growth_bytes"] = table.server_rss_start_bytes - table.server_rss_before_clients_bytes
    df["rss_per_client_kib"] = df.rss_growth_bytes / df.clients / KIB
    df["cpu_us_per_delivery"] = table.server_cpu_us_per_event
    df["latency_p99_ms"] = table.latency_p99_us / 1e3
    for q in ("p50", "p99"):
        col = f"fanout_spread_{q}_us"
        df[f"spread_{q}_ms"] = table[col] / 1e3 if col in table else np.nan
    for col in ("lost", "connections", "ramp_s", "delivered", "expected"):
        df[col] = table[col]
    # not "duplicated": that name is a DataFrame method, so frame.duplicated would be it
    df["duplicates"] = table["duplicated"]
    return df.reset_index(drop=True)


def fit_slope(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least-squares line ``y = slope * x + intercept``; with ``r2`` and ``points``.

    Fewer than two distinct x give NaN slope (a single ratio is not a slope).
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    if len(np.unique(xa)) < 2:
        return {"slope": np.nan, "intercept": np.nan, "r2": np.nan, "points": int(len(xa))}
    slope, intercept = np.polyfit(xa, ya, 1)
    resid = ya - (slope * xa + intercept)
    total = float(((ya - ya.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / total if total > 0 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2,
            "points": int(len(xa))}


def slope_table(frame: pd.DataFrame, x: str = "clients", y: str = "rss_growth_bytes",
                order: Sequence[str] | None = None) -> pd.DataFrame:
    """Per variant: the fitted memory per connection (KiB), intercept (MiB), r²,
    the largest N and the anchor for that variant if there is one."""
    rows = []
    names = list(order or [v.name for v in VARIANTS])
    names += [n for n in frame.variant.unique() if n not in names]
    for name in names:
        g = frame[frame.variant == name]
        if g.empty:
            continue
        fit = fit_slope(g[x], g[y])
        anchor = ANCHORS[ANCHORS.variant == name].kib_per_connection
        rows.append({"variant": name, "kib_per_connection": fit["slope"] / KIB,
                     "intercept_mib": fit["intercept"] / KIB**2, "r2": fit["r2"],
                     "points": fit["points"], "max_clients": int(g[x].max()),
                     "anchor_kib": float(anchor.iloc[0]) if len(anchor) else np.nan})
    return pd.DataFrame(rows)


def capacity_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per variant at its largest N: CPU per delivery, the deliveries/s one core
    could sustain at that cost, and the event rate at which a broadcast to that
    N would saturate one core."""
    rows = []
    for name, g in frame.groupby("variant", sort=False):
        top = g.loc[g.clients.idxmax()]
        cpu = float(top.cpu_us_per_delivery)
        cap = 1e6 / cpu if cpu > 0 else np.inf
        rows.append({"variant": name, "clients": int(top.clients), "cpu_us_per_delivery": cpu,
                     "deliveries_per_s_per_core": cap, "saturating_rate_per_s": cap / top.clients,
                     "spread_p99_ms": float(top.spread_p99_ms),
                     "latency_p99_ms": float(top.latency_p99_ms)})
    return pd.DataFrame(rows)


# -- figures (on axes the caller owns) -------------------------------------------
def _colors(names: Sequence[str]) -> dict[str, Any]:
    import seaborn as sns

    return dict(zip(names, sns.color_palette("colorblind", len(names)), strict=True))


def _names(frame: pd.DataFrame) -> list[str]:
    known = [v.name for v in VARIANTS]
    return known + [n for n in frame.variant.unique() if n not in known]


def plot_rss(ax: Any, frame: pd.DataFrame, slopes: pd.DataFrame, anchors: bool = True) -> Any:
    """Server RSS growth (MiB) vs N: points, fitted lines (slope in the legend) and
    the anchors as dotted lines ``N x KiB/connection``."""
    colors = _colors(_names(frame))
    xs = np.linspace(0, max(frame.clients.max(), 1), 50)
    for row in slopes.itertuples():
        g = frame[frame.variant == row.variant]
        c = colors[row.variant]
        ax.plot(g.clients, g.rss_growth_bytes / KIB**2, "o", color=c)
        ax.plot(xs, (row.kib_per_connection * xs * KIB + row.intercept_mib * KIB**2) / KIB**2,
                "-", color=c, label=f"{row.variant}: {row.kib_per_connection:.1f} KiB/conn")
    if anchors:
        for a in ANCHORS.itertuples():
            ax.plot(xs, a.kib_per_connection * xs / KIB, ":", lw=1, color=colors.get(a.variant),
                    label=f"anchor {a.kib_per_connection:g} KiB ({a.source})")
    ax.set_xlabel("concurrent connections N")
    ax.set_ylabel("server RSS growth (MiB)")
    ax.legend(fontsize=6.5, loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def plot_metric(ax: Any, frame: pd.DataFrame, column: str, ylabel: str,
                logy: bool = True) -> Any:
    """One line per variant of ``column`` against N (log N; log y if ``logy``)."""
    colors = _colors(_names(frame))
    for name, g in frame.groupby("variant", sort=False):
        g = g.sort_values("clients")
        ax.plot(g.clients, g[column], "o-", color=colors[name], label=name)
    ax.set_xlabel("concurrent connections N")
    ax.set_ylabel(ylabel)
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax
