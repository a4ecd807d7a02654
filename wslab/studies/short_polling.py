"""Short-polling interval sweep (claim C2): tables, model comparison and figures.

Theory of operation. A short-poll client asks "anything after seq N?" every
``T`` seconds on a fixed grid, so the server sees one request every ``T``. An
event published at a random moment (Poisson schedule) waits for the next
request to *arrive* at the server -- uniform on ``[0, T)``, mean ``T/2`` -- and
then travels back once, in the response. Its mean latency is therefore
``T/2 + one transit (+ server time)``, not ``T/2 + a full round trip``: the
request's outbound transit overlaps the wait. We estimate that transit from the
same sweep with `wslab.analysis.transit_us`: the median one-way latency of the
websocket run at the same event rate, which also carries the server's write
path. The model is `wslab.models.short_poll_latency_mean` with ``transit`` set
to that estimate.

Overhead per *delivered* event (one event reaching one client) is what the
kernel counted on each connection (TCP payload, up + down, handshakes
included), divided by the deliveries; empty polls are paid for but deliver
nothing, and their share is ``exp(-λT)`` for Poisson arrivals
(`wslab.models.empty_poll_fraction`).

Everything here works on `wslab.Experiment.run` tables (one row per trial), so
the notebook stays thin and the tests can feed synthetic frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from ..analysis import machine_caption, transit_us
from ..core.errors import ConfigError
from ..models import empty_poll_fraction, short_poll_latency_mean
from ..runner.store import Run

__all__ = [
    "COMPARED",
    "SWEEP_COLUMNS",
    "comparison_table",
    "interval_sweep_caption",
    "model_table",
    "plot_empty_fraction",
    "plot_frontier",
    "plot_latency_vs_interval",
    "plot_overhead",
    "sweep_grid",
    "sweep_table",
    "with_model",
]

#: The transports measured beside short polling, drawn as points next to its
#: curves: the push transports and long polling (pull, but with no interval).
COMPARED = ("tcp", "websocket", "sse", "long-poll")

#: Columns of `sweep_table`, in order.
SWEEP_COLUMNS = [
    "transport", "rate", "interval", "clients", "duration", "delivered", "lost",
    "mean_ms", "p50_ms", "p99_ms", "bytes_per_event", "bytes_up_per_event",
    "bytes_down_per_event", "requests_per_event", "empty_fraction", "polls_per_client",
]


def sweep_grid(intervals: Sequence[float], rates: Sequence[float],
               duration: Callable[[float], float], compared: Sequence[str] = COMPARED,
               compared_duration: float | None = None) -> list[dict[str, list[Any]]]:
    """A conditional `Experiment` grid: short-poll at every (interval, rate) with
    ``duration(interval)`` seconds, and each ``compared`` transport at every
    rate for ``compared_duration`` seconds (default: ``duration`` of the
    shortest interval).

    >>> sweep_grid([0.1, 2], [10], lambda T: max(5, 10 * T), compared=["tcp"])[1]
    {'transport': ['short-poll'], 'interval': [2], 'rate': [10], 'duration': [20]}
    """
    if not intervals or not rates:
        raise ConfigError("give at least one interval and one rate")
    grid: list[dict[str, list[Any]]] = [
        {"transport": ["short-poll"], "interval": [T], "rate": list(rates),
         "duration": [duration(T)]} for T in intervals]
    if compared:
        d = compared_duration if compared_duration is not None else duration(min(intervals))
        grid.append({"transport": list(compared), "rate": list(rates), "duration": [d]})
    return grid


def sweep_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per trial (`SWEEP_COLUMNS`) from an `Experiment.run` table.

    Latency in ms (summary after warm-up), bytes per delivered event up + down,
    ``polls_per_client`` = requests / clients (NaN for transports without an
    interval). Repeats are averaged per (transport, rate, interval).
    """
    t = table.copy()
    if "interval" not in t.columns:
        t["interval"] = np.nan
    t["interval"] = t["interval"].astype(float)
    out = pd.DataFrame({
        "transport": t["transport"], "rate": t["rate"].astype(float),
        "interval": t["interval"], "clients": t["clients"], "duration": t["duration"],
        "delivered": t["delivered"], "lost": t["lost"],
        "mean_ms": t["latency_mean_us"] / 1e3, "p50_ms": t["latency_p50_us"] / 1e3,
        "p99_ms": t["latency_p99_us"] / 1e3,
        "bytes_per_event": t["bytes_up_per_event"] + t["bytes_down_per_event"],
        "bytes_up_per_event": t["bytes_up_per_event"],
        "bytes_down_per_event": t["bytes_down_per_event"],
        "requests_per_event": t["requests_per_event"], "empty_fraction": t["empty_fraction"],
        "polls_per_client": np.where(t["interval"].notna(), t["requests"] / t["clients"],
                                     np.nan),
    })
    keys = ["transport", "rate", "interval"]
    out = out.groupby(keys, sort=False, dropna=False).mean(numeric_only=True).reset_index()
    return out[SWEEP_COLUMNS].sort_values(["transport", "rate", "interval"],
                                          ignore_index=True)


def with_model(sweep: pd.DataFrame, reference: str = "websocket") -> pd.DataFrame:
    """Short-poll rows of ``sweep`` with ``transit_ms``, ``model_mean_ms``
    (T/2 + transit) and ``model_empty_fraction`` (exp(-λT)) added.

    The transit at each rate is `wslab.analysis.transit_us` of the push runs
    at that rate: the ``reference`` transport's median latency (the median of
    the other push transports' where it is missing).
    """
    sp = sweep[sweep["interval"].notna()].copy()
    tr = transit_us(sweep.assign(latency_p50_us=sweep["p50_ms"] * 1e3), by="rate",
                    reference=reference)
    sp["transit_ms"] = sp["rate"].map(tr).astype(float) / 1e3
    sp["model_mean_ms"] = short_poll_latency_mean(sp["interval"].to_numpy(),
                                                  sp["transit_ms"].to_numpy() / 1e3) * 1e3
    sp["model_empty_fraction"] = empty_poll_fraction(sp["interval"].to_numpy(),
                                                     sp["rate"].to_numpy())
    return sp.reset_index(drop=True)


def comparison_table(sweep: pd.DataFrame, min_interval: float = 0.05,
                     reference: str = "websocket") -> pd.DataFrame:
    """Measured short-poll mean latency vs the model ``T/2 + transit`` for
    intervals >= ``min_interval`` (ms and relative error in %), plus the
    measured and modelled empty-poll fraction."""
    m = with_model(sweep, reference)
    m = m[m["interval"] >= min_interval - 1e-12]
    out = pd.DataFrame({
        "rate (ev/s)": m["rate"], "T (ms)": m["interval"] * 1e3,
        "polls/client": m["polls_per_client"].round().astype(int),
        "transit (ms)": m["transit_ms"].round(3), "measured mean (ms)": m["mean_ms"].round(2),
        "model T/2+transit (ms)": m["model_mean_ms"].round(2),
        "error (%)": (100 * (m["mean_ms"] / m["model_mean_ms"] - 1)).round(1),
        "empty measured": m["empty_fraction"].round(3),
        "empty model": m["model_empty_fraction"].round(3),
    })
    return out.sort_values(["rate (ev/s)", "T (ms)"], ignore_index=True)


def model_table(intervals: Iterable[float], rates: Iterable[float]) -> pd.DataFrame:
    """Model only (no measurement): mean wait ``T/2`` (ms), polls per second per
    client ``1/T`` and the empty-poll fraction ``exp(-λT)`` at each rate."""
    intervals = [float(T) for T in intervals]
    df = pd.DataFrame({"T (ms)": [T * 1e3 for T in intervals],
                       "T/2 (ms)": [short_poll_latency_mean(T) * 1e3 for T in intervals],
                       "polls/s": [1 / T for T in intervals]})
    for lam in rates:
        df[f"empty @ {lam:g}/s"] = [empty_poll_fraction(T, lam) for T in intervals]
    return df


def interval_sweep_caption(runs: Sequence[Run]) -> str:
    """Setup line for the interval sweep's figures: machine and versions
    (`wslab.analysis.machine_caption`) and the sweep's ranges."""
    head = machine_caption(runs[0])
    p = [r.manifest["parameters"] for r in runs]
    intervals = sorted({x["interval"] for x in p if x.get("interval")})
    transports = list(dict.fromkeys(r.transport for r in runs))

    def join(key: str) -> str:
        return "/".join(f"{v:g}" for v in sorted({float(x[key]) for x in p}))

    return (f"{head} | {', '.join(transports)}; {join('clients')} clients, "
            f"{p[0]['schedule']} events at {join('rate')} events/s, {join('payload')} B "
            f"payload, {join('duration')} s per run (first "
            f"{_join_warmup(runs)} s warm-up excluded); short-poll T = "
            f"{', '.join(f'{T * 1e3:g}' for T in intervals)} ms")


def _join_warmup(runs: Sequence[Run]) -> str:
    return "/".join(f"{v:g}" for v in sorted({float(r.summary["warmup_s"]) for r in runs}))


# -- figures -------------------------------------------------------------------
def _rate_colors(rates: Iterable[float]) -> dict[float, Any]:
    import seaborn as sns

    rates = sorted(set(rates))
    return dict(zip(rates, sns.color_palette("viridis", len(rates)), strict=True))


def _log_axes(ax: Any, xlabel: str, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.12)
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)


def plot_latency_vs_interval(axes: Sequence[Any], sweep: pd.DataFrame,
                             reference: str = "websocket") -> None:
    """Mean, p50 and p99 latency vs interval (one axis per rate), log-log, with
    the model mean ``T/2 + transit``, the uniform-wait bounds ``0.5T``/``0.99T``
    + transit and the reference push transport's median drawn as lines."""
    m = with_model(sweep, reference)
    rates = sorted(m["rate"].unique())
    for ax, lam in zip(axes, rates, strict=True):
        d = m[m["rate"] == lam].sort_values("interval")
        T = d["interval"].to_numpy() * 1e3
        for col, mk, lab in (("mean_ms", "o", "mean"), ("p50_ms", "s", "p50"),
                             ("p99_ms", "^", "p99")):
            ax.plot(T, d[col], mk + "-", lw=1.2, ms=5, label=f"measured {lab}")
        tr = float(d["transit_ms"].iloc[0])
        grid = np.geomspace(T.min() * 0.8, T.max() * 1.25, 100)
        ax.plot(grid, grid / 2 + tr, "k--", lw=1.3, label="model mean (= p50): T/2 + transit")
        ax.plot(grid, 0.99 * grid + tr, "k:", lw=1.1, label="model p99: 0.99 T + transit")
        ax.axhline(tr, color="gray", lw=1, ls="-.", label=f"{reference} p50 (transit)")
        _log_axes(ax, "polling interval T (ms)", "one-way latency (ms)")
        ax.set_title(f"{lam:g} events/s (Poisson)", fontsize="medium")
    axes[0].legend(fontsize="small")


def plot_empty_fraction(ax: Any, sweep: pd.DataFrame) -> None:
    """Measured empty-poll fraction vs interval per rate, with ``exp(-λT)``."""
    m = with_model(sweep)
    colors = _rate_colors(m["rate"])
    for lam, d in m.groupby("rate"):
        d = d.sort_values("interval")
        ax.plot(d["interval"] * 1e3, d["empty_fraction"], "o", color=colors[lam],
                label=f"measured, {lam:g} events/s")
        grid = np.geomspace(d["interval"].min() * 0.8, d["interval"].max() * 1.25, 200)
        ax.plot(grid * 1e3, empty_poll_fraction(grid, lam), "--", color=colors[lam],
                lw=1.2, label=f"model exp(-λT), λ = {lam:g}/s")
    ax.set_xscale("log")
    ax.set_xlabel("polling interval T (ms)")
    ax.set_ylabel("fraction of polls returning no event")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def plot_overhead(axes: Sequence[Any], sweep: pd.DataFrame) -> None:
    """Bytes (up + down) and HTTP requests per delivered event vs interval, one
    line per rate; websocket as dotted horizontal lines in the bytes axis."""
    m = with_model(sweep)
    colors = _rate_colors(m["rate"])
    for lam, d in m.groupby("rate"):
        d = d.sort_values("interval")
        for ax, col in zip(axes, ("bytes_per_event", "requests_per_event"), strict=True):
            ax.plot(d["interval"] * 1e3, d[col], "o-", color=colors[lam],
                    label=f"short-poll, {lam:g} events/s")
        ws = sweep[(sweep["rate"] == lam) & (sweep["transport"] == "websocket")]
        if len(ws):
            axes[0].axhline(float(ws["bytes_per_event"].iloc[0]), color=colors[lam], ls=":",
                            lw=1.2, label=f"websocket, {lam:g} events/s")
    _log_axes(axes[0], "polling interval T (ms)", "bytes per delivered event, up + down (B)")
    _log_axes(axes[1], "polling interval T (ms)", "HTTP requests per delivered event")
    axes[0].legend(fontsize="small")


def plot_frontier(ax: Any, sweep: pd.DataFrame) -> None:
    """The latency-overhead frontier: x = mean latency (ms), y = bytes per
    delivered event; short-poll as one curve per rate (annotated with T), the
    `COMPARED` transports (push, and long-poll) as points coloured by rate."""
    from ..plots import transport_colors

    m = with_model(sweep)
    colors = _rate_colors(m["rate"])
    tcol = transport_colors(list(COMPARED))
    markers = dict(zip(COMPARED, ("P", "o", "s", "D"), strict=True))
    for lam, d in m.groupby("rate"):
        d = d.sort_values("interval")
        ax.plot(d["mean_ms"], d["bytes_per_event"], "-", color=colors[lam], lw=1.5,
                marker=".", label=f"short-poll, {lam:g} events/s")
        for r in d.iloc[[0, -1]].itertuples():
            ax.annotate(f"T={r.interval * 1e3:g} ms", (r.mean_ms, r.bytes_per_event),
                        fontsize="x-small", xytext=(4, 2), textcoords="offset points")
    others = sweep[sweep["interval"].isna()]  # every transport without a polling interval
    for r in others.itertuples():
        ax.scatter(r.mean_ms, r.bytes_per_event, marker=markers.get(r.transport, "o"), s=55,
                   color=tcol.get(r.transport), edgecolor=colors.get(r.rate, "k"), lw=1.8,
                   zorder=3)
    for name in dict.fromkeys(others["transport"]):
        ax.scatter([], [], marker=markers.get(name, "o"), color=tcol.get(name), s=55,
                   label=f"{name} (edge colour = rate)")
    _log_axes(ax, "mean one-way latency (ms)", "bytes per delivered event, up + down (B)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
