"""Scalability (claim C6): what each held connection costs the server.

Persistent transports keep state per client: a socket, buffers, a task or a
held request. The scale sweep measures, per *variant* (a transport with its
options: websocket with and without permessage-deflate, websocket with one
queue and sender task per client, SSE, long polling), runs at several client
counts N at a low, fixed event rate, each run in a **fresh server** (RSS that
a previous run grew, and that the allocator kept, would hide the next run's
cost), each (variant, N) **repeated** with distinct seeds (`measure`).

What is estimated, and how its interval is computed:

- **memory per connection**: the slope of server RSS growth (RSS at publish
  start minus RSS before the clients connected) over N, an ordinary
  least-squares line through every run with a Student t interval on the slope
  (n = runs, n - 2 degrees of freedom; `fit_slope`). A slope is robust to the
  fixed cost of a server with any clients at all, which a ratio RSS / N would
  spread over the clients. `anchor_checks` sets it beside the published
  references (`ANCHORS`) with a computed verdict.
- **CPU per connection**: the same fit of server CPU per published event over
  N (one more connection costs one more delivery per event).
- per point (variant, N): CPU per delivered event, one-way latency tail and
  the fan-out spread (per event, first to last recipient), each the mean over
  the repeats with a t interval (`point_table`; runs are the independent
  unit, the deliveries of one event are not independent of each other).

A tail is only called a p99 when it rests on at least `TAIL_MIN_VALUES`
values per run (deliveries for latency, events for the spread); otherwise the
figure shows and labels the maximum (`tail_choice`). A run holds N x events
deliveries but only ``events`` fan-outs, so the spread's tail is a maximum
at any affordable run length.

Everything but `measure` works on tables (`Experiment.table` rows), so it is
unit-tested on synthetic frames.
"""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..core.errors import IncompleteRunError

__all__ = [
    "ANCHORS",
    "KIB",
    "TAIL_MIN_VALUES",
    "VARIANTS",
    "Variant",
    "anchor_checks",
    "anchors_table",
    "capacity_table",
    "cpu_slopes",
    "findings",
    "fit_slope",
    "latencies_at",
    "machine_limits",
    "measure",
    "plot_latency_ccdf",
    "plot_metric",
    "plot_rss",
    "plot_spread",
    "point_table",
    "scale_frame",
    "slope_table",
    "tail_choice",
    "trials",
    "variant_name",
]

KIB = 1024.0
#: A tail statistic is a p99 only over at least this many values per run.
TAIL_MIN_VALUES = 1_000

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
            progress: bool = False, *, repeats: int = 1, seed: int = 0) -> pd.DataFrame:
    """Run every trial ``repeats`` times, each run in its own fresh server.

    The runs form one `Experiment` (``name``, ``root``, ``seed``): repeats
    get distinct seeds, runs already stored with the same parameters are
    reused, and a stored run with other parameters is refused before any
    server starts. Returns `Experiment.table` (``reused`` is True for the
    runs found on disk).
    """
    from ..experiment import Experiment
    from ..runner.config import RunConfig
    from ..runner.lab import Lab

    exp = Experiment(name, trials=list(trial_list), repeats=repeats, seed=seed, root=root)
    try:
        exp.runs  # noqa: B018 - validates every stored run (ConfigError) before anything starts
    except IncompleteRunError:
        pass  # some trials have not run yet: they run below
    fresh = []
    for t in exp.trials:
        if t.path.is_dir() and any(t.path.iterdir()):
            continue
        if progress:
            print(f"{name}: {t.id}", flush=True)
        with Lab(host=t.config.host) as lab:  # a fresh server: RSS starts from scratch
            lab.run(t.config.transport, config=RunConfig(**t.kwargs()), progress=False)
        fresh.append(t.id)
    table = exp.run(progress=False)  # every run is stored now: no server starts here
    table["reused"] = ~table.trial.isin(fresh)
    return table


def scale_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Per run: variant, N, repeat and the scale metrics.

    ``rss_growth_bytes`` (and ``_mib``), ``cpu_us_per_delivery``,
    ``cpu_us_per_event`` (server CPU per published event), latency
    ``latency_p99_ms`` / ``latency_max_ms``, fan-out spread over events
    ``spread_p50_ms`` / ``spread_p99_ms`` / ``spread_max_ms``, the counts the
    tails rest on (``deliveries_measured``: first deliveries after the
    warm-up; ``events_measured``: their events), and the loss accounting.
    """
    n = len(table)

    def col(name: str, default: Any = np.nan) -> pd.Series:
        return table[name] if name in table else pd.Series([default] * n, index=table.index)

    df = pd.DataFrame({
        "variant": [variant_name(t, {"compression": c, "fanout": f}) for t, c, f in zip(
            table.transport, col("option_compression", None), col("option_fanout", None),
            strict=True)],
        "clients": table.clients.astype(int),
        "repeat": col("repeat", 0).astype(int),
    })
    df["rss_growth_bytes"] = table.server_rss_start_bytes - table.server_rss_before_clients_bytes
    df["rss_growth_mib"] = df.rss_growth_bytes / KIB**2
    df["rss_per_client_kib"] = df.rss_growth_bytes / df.clients / KIB
    df["cpu_us_per_delivery"] = table.server_cpu_us_per_event
    df["cpu_us_per_event"] = col("server_cpu_s") * 1e6 / col("published")
    for q in ("p99", "max"):
        df[f"latency_{q}_ms"] = col(f"latency_{q}_us") / 1e3
    for q in ("p50", "p99", "max"):
        df[f"spread_{q}_ms"] = col(f"fanout_spread_{q}_us") / 1e3
    df["deliveries_measured"] = col("latency_count")
    df["events_measured"] = (df.deliveries_measured / df.clients).round()
    for name in ("lost", "connections", "ramp_s", "delivered", "expected"):
        df[name] = table[name]
    # not "duplicated": that name is a DataFrame method, so frame.duplicated would be it
    df["duplicates"] = table["duplicated"]
    df["path"] = col("path", None)
    return df.reset_index(drop=True)


def latencies_at(frame: pd.DataFrame, clients: int) -> tuple[dict[str, np.ndarray],
                                                             dict[str, int]]:
    """Every measured one-way latency (µs, first deliveries after the warm-up) of
    the runs at N = ``clients``, pooled per variant over the repeats; and the
    number of runs each pool holds. Reads the runs from ``frame.path``."""
    from ..runner.store import load

    lat: dict[str, np.ndarray] = {}
    runs: dict[str, int] = {}
    for variant in _order(frame):
        paths = frame[(frame.variant == variant) & (frame.clients == clients)].path.dropna()
        if len(paths):
            lat[variant] = np.concatenate([load(p).latency_us().to_numpy() for p in paths])
            runs[variant] = len(paths)
    return lat, runs


# -- estimates ---------------------------------------------------------------------
def fit_slope(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Least-squares line ``y = slope * x + intercept`` with a t interval on the slope.

    Returns ``slope``, ``slope_low``, ``slope_high`` (Student t with
    ``points - 2`` degrees of freedom: NaN with fewer than 3 points),
    ``slope_se``, ``intercept``, ``r2``, ``points`` and ``x_mean`` / ``sxx`` /
    ``residual_var`` (for a confidence band of the line). NaN pairs are
    dropped; fewer than two distinct x give a NaN slope (a single ratio is
    not a slope).
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n = len(xa)
    nan = math.nan
    out = {"slope": nan, "slope_low": nan, "slope_high": nan, "slope_se": nan,
           "intercept": nan, "r2": nan, "points": n, "x_mean": nan, "sxx": nan,
           "residual_var": nan}
    if len(np.unique(xa)) < 2:
        return out
    slope, intercept = np.polyfit(xa, ya, 1)
    resid = ya - (slope * xa + intercept)
    total = float(((ya - ya.mean()) ** 2).sum())
    sxx = float(((xa - xa.mean()) ** 2).sum())
    out.update(slope=float(slope), intercept=float(intercept), x_mean=float(xa.mean()), sxx=sxx,
               r2=1.0 - float((resid**2).sum()) / total if total > 0 else 1.0)
    if n > 2:
        var = float((resid**2).sum()) / (n - 2)
        se = math.sqrt(var / sxx)
        h = stats.t_quantile((1 + level) / 2, n - 2) * se
        out.update(slope_se=se, slope_low=float(slope) - h, slope_high=float(slope) + h,
                   residual_var=var)
    return out


def _order(frame: pd.DataFrame, order: Sequence[str] | None = None) -> list[str]:
    names = list(order or [v.name for v in VARIANTS])
    return [n for n in names if n in set(frame.variant)] + [
        n for n in dict.fromkeys(frame.variant) if n not in names]


def slope_table(frame: pd.DataFrame, x: str = "clients", y: str = "rss_growth_bytes",
                order: Sequence[str] | None = None, *, scale: float = KIB,
                name: str = "kib_per_connection", intercept_scale: float = KIB**2,
                intercept_name: str = "intercept_mib") -> pd.DataFrame:
    """Per variant: the fitted slope of ``y`` over ``x`` divided by ``scale``
    (default: memory per connection in KiB) with its 95 % interval and ``_n``
    (runs), the intercept (default MiB), r², the largest N, and the first
    anchor for that variant (``anchor_kib``, NaN if none).

    Columns also carry the band terms (``x_mean``, ``sxx``, ``residual_var``
    in ``y`` units) that `plot_rss` needs to draw the line's interval.
    """
    rows = []
    for variant in _order(frame, order):
        g = frame[frame.variant == variant]
        fit = fit_slope(g[x], g[y])
        anchor = ANCHORS[ANCHORS.variant == variant].kib_per_connection
        rows.append({"variant": variant, name: fit["slope"] / scale,
                     f"{name}_low": fit["slope_low"] / scale,
                     f"{name}_high": fit["slope_high"] / scale, f"{name}_n": fit["points"],
                     intercept_name: fit["intercept"] / intercept_scale, "r2": fit["r2"],
                     "points": fit["points"], "max_clients": int(g[x].max()),
                     "anchor_kib": float(anchor.iloc[0]) if len(anchor) else np.nan,
                     "x_mean": fit["x_mean"], "sxx": fit["sxx"],
                     "residual_var": fit["residual_var"]})
    return pd.DataFrame(rows)


def cpu_slopes(frame: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Per variant: server CPU per published event over N; the slope is the CPU
    one more connection costs per event (``us_per_connection``, µs, with its
    95 % interval), the intercept the fixed cost of an event (``intercept_us``)."""
    out = slope_table(frame, y="cpu_us_per_event", order=order, scale=1.0,
                      name="us_per_connection", intercept_scale=1.0,
                      intercept_name="intercept_us")
    return out.drop(columns=["anchor_kib"])


def _estimate(row: Any, name: str, method: str) -> stats.Estimate:
    return stats.Estimate(float(getattr(row, name)), float(getattr(row, f"{name}_low")),
                          float(getattr(row, f"{name}_high")), int(getattr(row, f"{name}_n")),
                          method)


def anchor_checks(slopes: pd.DataFrame) -> pd.DataFrame:
    """Each reference of `ANCHORS` beside the measured slope of its variant.

    Columns ``variant``, ``source``, ``measured`` (KiB per connection),
    ``low``, ``high``, ``n`` (runs), ``reference`` (KiB), ``verdict``
    (computed: ``reference inside 95 % CI`` or ``reference above CI by x %``
    ...) and ``method``. Variants that were not measured are left out.
    """
    rows = []
    for a in ANCHORS.itertuples():
        match = slopes[slopes.variant == a.variant]
        if match.empty:
            continue
        est = _estimate(next(match.itertuples()), "kib_per_connection",
                        "OLS slope of RSS over N, t interval over runs")
        rows.append({"variant": a.variant, "source": a.source, "measured": est,
                     "model": float(a.kib_per_connection)})
    checks = stats.check_table(rows)
    if checks.empty:
        return pd.DataFrame(columns=["variant", "source", "measured", "low", "high", "n",
                                     "reference", "verdict", "method"])
    checks["verdict"] = checks.verdict.str.replace("model", "reference", n=1)
    checks = checks.rename(columns={"model": "reference"}).drop(columns=["quantity"])
    return checks[["variant", "source", "measured", "low", "high", "n", "reference", "verdict",
                   "method"]]


#: Per-run metrics `point_table` summarises by default.
POINT_METRICS = ("rss_growth_mib", "cpu_us_per_delivery", "latency_p99_ms", "latency_max_ms",
                 "spread_p50_ms", "spread_p99_ms", "spread_max_ms")


def point_table(frame: pd.DataFrame, metrics: Sequence[str] = POINT_METRICS,
                order: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (variant, N): each metric's mean over the repeats with a 95 %
    Student t interval (``_low``, ``_high``, ``_n`` runs; NaN bounds from one
    run), ``runs``, and the fewest ``deliveries_measured`` and
    ``events_measured`` of a run at that point (what a tail rests on)."""
    rows = []
    for variant in _order(frame, order):
        for n, g in frame[frame.variant == variant].groupby("clients", sort=True):
            row: dict[str, Any] = {"variant": variant, "clients": int(n), "runs": len(g),
                                   "deliveries_measured": g.deliveries_measured.min(),
                                   "events_measured": g.events_measured.min()}
            for m in metrics:
                values = g[m].to_numpy(dtype=float)
                values = values[np.isfinite(values)]
                if len(values):
                    row.update(stats.mean_ci(values, unit="runs").as_dict(m))
                else:
                    row.update({m: np.nan, f"{m}_low": np.nan, f"{m}_high": np.nan, f"{m}_n": 0})
            rows.append(row)
    return pd.DataFrame(rows)


def tail_choice(frame: pd.DataFrame, count: str, p99: str, maximum: str) -> tuple[str, str]:
    """The tail column a figure may show and its label: ``(p99, "p99")`` when every
    run rests on at least `TAIL_MIN_VALUES` values of ``count``, else
    ``(maximum, "max")`` (a "p99" of fewer values is their maximum or close to it)."""
    counts = frame[count].to_numpy(dtype=float)
    if len(counts) and np.nanmin(counts) >= TAIL_MIN_VALUES:
        return p99, "p99"
    return maximum, "max"


def capacity_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per variant at its largest N: CPU per delivery (mean over the repeats,
    95 % t interval, ``_n`` runs), the deliveries/s one core could sustain at
    that cost (``1e6 / cpu``; its interval is the bounds' inverses) and the
    event rate at which a broadcast to that N would saturate one core."""
    points = point_table(frame, ["cpu_us_per_delivery"])
    rows = []
    for variant, g in points.groupby("variant", sort=False):
        top = g.loc[g.clients.idxmax()]
        cpu, lo, hi = (float(top[f"cpu_us_per_delivery{s}"]) for s in ("", "_low", "_high"))

        def inv(v: float) -> float:
            return 1e6 / v if v > 0 else np.inf

        rows.append({"variant": variant, "clients": int(top.clients),
                     "cpu_us_per_delivery": cpu, "cpu_us_per_delivery_low": lo,
                     "cpu_us_per_delivery_high": hi, "runs": int(top.runs),
                     "deliveries_per_s_per_core": inv(cpu),
                     "deliveries_per_s_per_core_low": inv(hi),
                     "deliveries_per_s_per_core_high": inv(lo),
                     "saturating_rate_per_s": inv(cpu) / top.clients,
                     "saturating_rate_per_s_low": inv(hi) / top.clients,
                     "saturating_rate_per_s_high": inv(lo) / top.clients})
    return pd.DataFrame(rows)


def machine_limits() -> dict[str, Any]:
    """What bounds N on this machine, read from it: the open-file limits of a
    process (soft, hard), the clients one server process may hold
    (`wslab.runner.config.max_clients`), the loopback ephemeral port range
    (ports one source address can use towards one server port), cores and memory."""
    import psutil

    from ..runner.config import max_clients

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(v) for v in f.read().split())
        ports: int | None = hi - lo + 1
    except (OSError, ValueError):
        ports = None
    return {"open_files_soft": soft, "open_files_hard": hard,
            "clients_per_server_process": max_clients(), "ephemeral_ports": ports,
            "cores": os.cpu_count(), "memory_gib": psutil.virtual_memory().total / KIB**3}


def _fmt(value: float) -> str:
    """Decimals from the magnitude, never scientific notation: 4,376 / 13.9 / 0.47."""
    a = abs(value)
    return ",.0f" if a >= 100 else ".1f" if a >= 10 else ".2f" if a >= 0.1 else ".3f"


def _ci(row: Any, name: str, fmt: str | None = None) -> str:
    """``value [low, high]`` of ``row``'s ``name`` columns (attributes or keys);
    ``fmt`` None picks the decimals from the value's magnitude."""
    keyed = isinstance(row, Mapping | pd.Series)
    value, low, high = (float(row[k] if keyed else getattr(row, k))
                        for k in (name, f"{name}_low", f"{name}_high"))
    fmt = fmt or _fmt(value)
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{value:{fmt}} (no interval)"
    return f"{value:{fmt}} [{low:{fmt}}, {high:{fmt}}]"


def findings(slopes: pd.DataFrame, checks: pd.DataFrame, cpu: pd.DataFrame,
             capacity: pd.DataFrame, points: pd.DataFrame) -> list[str]:
    """The sentences the closing section rests on, every number and verdict computed."""
    lines = []
    for r in slopes.itertuples():
        lines.append(f"{r.variant}: {_ci(r, 'kib_per_connection')} KiB per connection "
                     f"(OLS over {r.points} runs up to N = {r.max_clients:,}, r² {r.r2:.3f})")
    for c in checks.itertuples():
        lines.append(f"{c.variant} vs {c.source} ({c.reference:g} KiB): {c.verdict}")
    ranked = slopes.dropna(subset=["kib_per_connection"]).sort_values("kib_per_connection")
    if len(ranked) > 1:
        lo, hi = ranked.iloc[0], ranked.iloc[-1]
        apart = hi.kib_per_connection_low > lo.kib_per_connection_high
        lines.append(f"least memory per connection: {lo.variant}, most: {hi.variant} "
                     f"({'intervals apart' if apart else 'intervals overlap'})")
    for r in cpu.itertuples():
        lines.append(f"{r.variant}: {_ci(r, 'us_per_connection')} µs server CPU per "
                     f"connection per event (OLS over {r.points} runs)")
    for r in capacity.itertuples():
        lines.append(f"{r.variant} at N = {r.clients:,}: {_ci(r, 'cpu_us_per_delivery')} µs "
                     f"CPU per delivery (n = {r.runs} runs): one core saturates near "
                     f"{_ci(r, 'saturating_rate_per_s')} events/s to all of them")
    for variant, g in points.groupby("variant", sort=False):
        g = g.sort_values("clients")
        if len(g) < 2:
            continue
        a, b = g.iloc[0], g.iloc[-1]
        grows = b.spread_p50_ms_low > a.spread_p50_ms_high
        lines.append(f"{variant}: median fan-out spread {_ci(a, 'spread_p50_ms')} ms at "
                     f"N = {a.clients:,}, {_ci(b, 'spread_p50_ms')} ms at "
                     f"N = {b.clients:,}: " + ("grows with N (intervals apart)" if grows
                                                else "no growth shown (intervals overlap)"))
    return lines


# -- figures (on axes the caller owns) -------------------------------------------
def _colors(names: Sequence[str]) -> dict[str, Any]:
    import seaborn as sns

    return dict(zip(names, sns.color_palette("colorblind", len(names)), strict=True))


def _names(frame: pd.DataFrame) -> list[str]:
    known = [v.name for v in VARIANTS]
    return known + [n for n in dict.fromkeys(frame.variant) if n not in known]


def _ticks(ax: Any, axis: str, values: Sequence[float] | None = None) -> None:
    from ..plots import readable_ticks  # matplotlib only when a figure is drawn

    readable_ticks(ax, axis, values)


def _errorbar(ax: Any, g: pd.DataFrame, column: str, scale: float = 1.0, **kw: Any) -> Any:
    """Points of ``column`` with their ``_low``/``_high`` bounds as error bars
    (no bar where there is no interval)."""
    y = g[column].to_numpy(dtype=float) * scale
    lo = g[f"{column}_low"].to_numpy(dtype=float) * scale
    hi = g[f"{column}_high"].to_numpy(dtype=float) * scale
    err = np.vstack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)])
    return ax.errorbar(g.clients, y, yerr=err, capsize=3, **kw)


def plot_rss(ax: Any, points: pd.DataFrame, slopes: pd.DataFrame, anchors: bool = True) -> Any:
    """Server RSS growth (MiB) against N: the mean over the repeats at each N
    with its 95 % interval, the fitted line with its 95 % confidence band and
    the slope with its interval in the legend; the references (`ANCHORS`) as
    dotted lines of their slope through the variant's fitted intercept, in its
    colour, so slopes compare directly."""
    colors = _colors(_names(points))
    xs = np.linspace(0, max(points.clients.max(), 1), 60)
    for row in slopes.itertuples():
        g = points[points.variant == row.variant]
        c = colors[row.variant]
        line = (row.kib_per_connection * KIB * xs + row.intercept_mib * KIB**2) / KIB**2
        label = (f"{row.variant}: {_ci(row, 'kib_per_connection')} KiB/conn "
                 f"(n = {row.points} runs)")
        ax.plot(xs, line, "-", color=c, lw=1.2, label=label)
        if row.points > 2 and row.sxx > 0:
            t = stats.t_quantile(0.975, row.points - 2)
            half = t * np.sqrt(row.residual_var * (1 / row.points + (xs - row.x_mean) ** 2
                                                   / row.sxx)) / KIB**2
            ax.fill_between(xs, line - half, line + half, color=c, alpha=0.15, lw=0)
        _errorbar(ax, g, "rss_growth_mib", fmt="o", color=c, ms=4)
    if anchors:  # each reference's slope through its variant's fitted intercept
        base = slopes.set_index("variant").intercept_mib
        for a in ANCHORS[ANCHORS.variant.isin(slopes.variant)].itertuples():
            ax.plot(xs, a.kib_per_connection * xs / KIB + base[a.variant], ":", lw=1.2,
                    color=colors.get(a.variant),
                    label=f"reference {a.kib_per_connection:g} KiB/conn ({a.source})")
    ax.set_xlabel("concurrent connections N")
    ax.set_ylabel("server RSS growth (MiB)")
    _ticks(ax, "x", sorted(points.clients.unique()))
    ax.tick_params(axis="x", labelrotation=30)
    ax.legend(fontsize=6.5, loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def plot_metric(ax: Any, points: pd.DataFrame, column: str, ylabel: str,
                logy: bool = True) -> Any:
    """One line per variant of ``column`` (mean over the repeats, 95 % t interval
    as error bars) against N on a log axis; n runs per point in the legend."""
    colors = _colors(_names(points))
    for name in _order(points):
        g = points[points.variant == name].sort_values("clients")
        runs = "/".join(str(r) for r in sorted(set(g.runs)))
        _errorbar(ax, g, column, fmt="o-", color=colors[name], ms=4,
                  label=f"{name} (n = {runs} runs per point)")
    ax.set_xlabel("concurrent connections N")
    ax.set_ylabel(ylabel)
    ax.set_xscale("log")
    _ticks(ax, "x", sorted(points.clients.unique()))
    if logy:
        ax.set_yscale("log")
        _ticks(ax, "y")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_spread(ax: Any, points: pd.DataFrame, tail: str, tail_label: str) -> Any:
    """Fan-out spread against N: the median over a run's events (filled, solid)
    and its tail ``tail`` (hollow, dashed; ``tail_label`` is "p99" or "max"),
    each the mean over the repeats with a 95 % t interval."""
    from matplotlib.lines import Line2D

    colors = _colors(_names(points))
    handles = []
    for name in _order(points):
        g = points[points.variant == name].sort_values("clients")
        c = colors[name]
        _errorbar(ax, g, "spread_p50_ms", fmt="o-", color=c, ms=4)
        _errorbar(ax, g, tail, fmt="o--", color=c, ms=5, mfc="none")
        runs = "/".join(str(r) for r in sorted(set(g.runs)))
        handles.append(Line2D([], [], color=c, marker="o", label=f"{name} (n = {runs} runs)"))
    handles += [Line2D([], [], color="gray", marker="o", label="median over events"),
                Line2D([], [], color="gray", marker="o", mfc="none", ls="--",
                       label=f"{tail_label} over events")]
    ax.set_xlabel("concurrent connections N")
    ax.set_ylabel(f"fan-out spread per event (ms): median and {tail_label}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks(ax, "x", sorted(points.clients.unique()))
    _ticks(ax, "y")
    ax.legend(handles=handles, fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_latency_ccdf(ax: Any, latencies: Mapping[str, np.ndarray], runs: Mapping[str, int],
                      clients: int) -> Any:
    """The latency tail at one N: per variant, P(latency >= x) of every measured
    delivery of its runs (pooled over the repeats) on log-log axes, with the
    deliveries and runs it rests on in the legend."""
    colors = _colors(_names(pd.DataFrame({"variant": list(latencies)})))
    for name, values in latencies.items():
        x = np.sort(np.asarray(values, dtype=float)) / 1e3
        if not len(x):
            continue
        y = (len(x) - np.arange(len(x))) / len(x)
        ax.step(x, y, where="post", color=colors[name], lw=1.4,
                label=f"{name} (n = {len(x):,} deliveries, {runs.get(name, 0)} runs)")
    ax.axhline(0.01, color="gray", lw=0.8, ls=":", label="P = 0.01 (the p99)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _ticks(ax, "x")
    _ticks(ax, "y")
    ax.set_xlabel(f"one-way latency at N = {clients:,} (ms)")
    ax.set_ylabel("fraction of deliveries ≥ x")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax
