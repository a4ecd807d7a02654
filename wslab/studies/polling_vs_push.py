"""Notebook 01 (polling versus push, claim C1): one event stream over every transport.

Design. Every transport (tcp, websocket, sse, long-poll, short-poll) consumes
the same open-loop Poisson stream within a repeat: `wslab.Experiment` gives
every trial of a repeat one seed, so the event times and payloads are the
same, and comparisons between transports are paired. Repeats get distinct
seeds. Runs are the independent unit (see `wslab.stats`): each run gives one
value per metric (its median, mean or p99 latency, bytes per event, ...), and
intervals come from those values, never from the deliveries of a run taken
as independent draws.

* `plan` chooses the publishing duration from the precision the short-poll
  model check needs (`wslab.stats.short_poll_duration`) and estimates the
  wall time of the experiment;
* `per_run_table` adds what a run costs the client: client CPU per
  delivered event and requests per second per client (`client_request_rate`);
* `over_runs` gives each metric's mean over a transport's runs with a
  Student t interval (`cost_table` adds the event body), `printable` shows
  it as ``value [low, high]``;
* `ratio_table` divides a transport's metric by a reference transport's,
  paired over repeats (`wslab.stats.ratio_ci`): the latency over the tcp
  floor, the client's CPU over websocket's;
* `model_check` sets short polling's mean and p99 latency beside
  ``T/2 + one transit`` and ``0.99 T + one transit`` (`wslab.models`) with
  computed verdicts (`wslab.stats.check_table`), `precision_line` says
  whether the mean's interval is as tight as planned;
* `loss_summary` is the loss check (the same text in quick and full mode);
* `plot_latency` (ECDF and CCDF, p50 and p99 with intervals, the model),
  `plot_client_cost`, and `findings`: the lines the closing text relies on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import stats
from ..analysis import body_bytes_per_event, loss_table, transport_label
from ..core.errors import ConfigError
from ..models import short_poll_latency_cdf, short_poll_latency_mean, short_poll_latency_quantile
from ..plots import (
    ccdf,
    ecdf,
    model_cdf,
    readable_ticks,
    short_poll_model_cdf,
    transport_colors,
)
from ..runner.store import Run

__all__ = [
    "CLIENT_COLUMNS",
    "COST_METRICS",
    "LATENCY_COLUMNS",
    "LATENCY_METRICS",
    "RUN_OVERHEAD_S",
    "WIRE_COLUMNS",
    "Plan",
    "client_request_rate",
    "cost_table",
    "findings",
    "loss_summary",
    "model_check",
    "over_runs",
    "per_run_table",
    "plan",
    "plot_client_cost",
    "plot_latency",
    "precision_line",
    "printable",
    "ratio_table",
]

#: Per-run latency metrics (µs), as `wslab.Experiment.run` names them.
LATENCY_METRICS = ("latency_p50_us", "latency_mean_us", "latency_p99_us")
#: Per-run cost metrics: bytes and requests per delivered event, CPU per delivered
#: event (µs) on each side, and requests per second per client (`per_run_table`).
COST_METRICS = ("bytes_up_per_event", "bytes_down_per_event", "bytes_per_event",
                "requests_per_event", "server_cpu_us_per_event", "client_cpu_us_per_event",
                "requests_per_s_per_client")
#: `printable` views: metric -> (header, scale, format).
LATENCY_COLUMNS = {"latency_p50_us": ("p50 (ms)", 1e-3, ".3f"),
                   "latency_mean_us": ("mean (ms)", 1e-3, ".3f"),
                   "latency_p99_us": ("p99 (ms)", 1e-3, ".3f")}
WIRE_COLUMNS = {"bytes_up_per_event": ("bytes up per event (B)", 1.0, ".1f"),
                "bytes_down_per_event": ("bytes down per event (B)", 1.0, ".1f"),
                "requests_per_event": ("HTTP requests per event", 1.0, ".3f")}
CLIENT_COLUMNS = {"client_cpu_us_per_event": ("client CPU per event (µs)", 1.0, ".0f"),
                  "server_cpu_us_per_event": ("server CPU per event (µs)", 1.0, ".0f"),
                  "requests_per_s_per_client": ("requests per s per client", 1.0, ".3g")}
#: Seconds a run takes besides its publishing: a fleet process starts, its
#: clients connect, the last event drains, the run is written (measured on a
#: 2-core machine; used only for the wall-time estimate).
RUN_OVERHEAD_S = 1.5


# -- planning ------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """How long each run publishes, and why (see `plan`)."""

    rate: float  # events per second
    interval: float  # short-poll T, s
    clients: int
    repeats: int
    transports: int
    rel_half_width: float  # the precision wanted for the short-poll mean
    safety: float  # designed for rel_half_width / safety
    transit: float  # s, assumed one transit
    events: int  # events needed over all repeats
    duration: float  # s of publishing per run
    overhead_s: float = RUN_OVERHEAD_S

    @property
    def runs(self) -> int:
        """Runs in the experiment: transports × repeats."""
        return self.transports * self.repeats

    @property
    def wall_s(self) -> float:
        """Estimated wall time: every run's publishing plus its start and drain."""
        return self.runs * (self.duration + self.overhead_s)

    def describe(self) -> list[str]:
        """The plan in three sentences: what runs, why this duration, how long."""
        mean_ms = short_poll_latency_mean(self.interval, self.transit) * 1e3
        return [
            f"full mode: {self.transports} transports x {self.repeats} repeats = {self.runs} "
            f"runs, each {self.clients} clients and {self.duration:g} s of a Poisson stream "
            f"at {self.rate:g} events/s",
            f"why {self.duration:g} s: the short-poll mean latency must come out within "
            f"±{self.rel_half_width * 100:g} % of T/2 + one transit ({mean_ms:.1f} ms) at "
            f"95 %; designed for ±{self.rel_half_width / self.safety * 100:.3g} % (a t interval over "
            f"{self.repeats} runs rests on their sample standard deviation, which can come out "
            f"well above the true one), which takes {self.events} events over the "
            f"{self.repeats} repeats (stats.short_poll_duration: each event waits "
            f"Uniform(0, T), {self.clients} clients at random poll phases), plus the warm-up",
            f"estimated wall time: {self.runs} x ({self.duration:g} s + ~{self.overhead_s:g} s "
            f"to start and drain) = {self.wall_s / 60:.1f} min",
        ]


def plan(rate: float, interval: float, clients: int, repeats: int, transports: int = 5,
         rel_half_width: float = 0.05, *, safety: float = 2.0, transit: float = 0.001,
         level: float = 0.95, overhead_s: float = RUN_OVERHEAD_S) -> Plan:
    """The publishing duration per run that pins the short-poll mean latency,
    averaged over ``repeats`` runs with a t interval, to ±``rel_half_width``.

    With Poisson arrivals every event waits Uniform(0, T) for a client's next
    poll, independently of the other events, and ``clients`` polling at random
    phases average that wait (`wslab.stats.short_poll_duration`). The mean over
    ``repeats`` runs of each run's mean is (nearly) the mean over all their
    events, but its interval is a t interval with ``repeats - 1`` degrees of
    freedom, so the events target is tightened by z / t; ``safety`` tightens it
    further because that interval uses the runs' *sample* standard deviation
    (with 5 runs it exceeds the true one by 1.7x in one case in 40) and the
    machine adds variation the model does not have. The events are split over
    the repeats: the duration is `wslab.stats.short_poll_duration` at
    ``rate × repeats`` (the events of all runs together), which also adds the
    default warm-up of each run. ``transit`` (s) is an assumed one-way transit:
    on loopback it is well under a millisecond, small beside T/2.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 2:
        raise ConfigError(f"repeats must be an integer >= 2 (an interval over runs needs "
                          f"two), not {repeats!r}")
    if isinstance(transports, bool) or not isinstance(transports, int) or transports < 1:
        raise ConfigError(f"transports must be an integer >= 1, not {transports!r}")
    if not (isinstance(safety, int | float) and safety >= 1):
        raise ConfigError(f"safety must be a number >= 1, not {safety!r}")
    p = (1 + level) / 2
    per_event = rel_half_width / safety * NormalDist().inv_cdf(p) / stats.t_quantile(
        p, repeats - 1)
    duration = stats.short_poll_duration(rate * repeats, interval, per_event, clients, level,
                                         transit=transit, phases="random")
    cv = math.sqrt(interval**2 / 12 / clients) / (interval / 2 + transit)
    return Plan(rate, interval, clients, repeats, transports, rel_half_width, safety, transit,
                stats.runs_needed(cv, per_event, level), duration, overhead_s)


# -- per-run table -----------------------------------------------------------------------
def client_request_rate(connections: pd.DataFrame) -> float:
    """Requests per second per client, from a run's connection table.

    Each client's requests (HTTP requests and upgrades; a long poll held at
    stop included: the client sent it) over the time its connections were
    open, first open to last close; the mean over clients. An HTTP client
    opens its connection with its first request, so a short-poll client's
    span holds one request more than whole intervals: the rate exceeds 1/T
    by about half a request over the span. NaN without connections.
    """
    needed = {"client_id", "requests", "opened_ns", "closed_ns"}
    if not needed <= set(connections.columns):
        raise ConfigError(f"a connection table needs columns {', '.join(sorted(needed))}")
    if connections.empty:
        return math.nan
    g = connections.groupby("client_id")
    span_s = (g["closed_ns"].max() - g["opened_ns"].min()) / 1e9
    per_client = g["requests"].sum() / span_s.where(span_s > 0)
    return float(per_client.mean())


def per_run_table(table: pd.DataFrame, runs: Sequence[Run]) -> pd.DataFrame:
    """`wslab.Experiment.run`'s table (one row per run) with the client's cost added.

    ``runs`` are the experiment's runs in the table's order (`Experiment.runs`).
    Adds ``label`` (short-poll names its interval), ``bytes_per_event`` (up +
    down), ``client_cpu_us_per_event`` (the client fleet's CPU time over the
    measured window per delivered event, µs), ``requests_per_s_per_client``
    (`client_request_rate`) and ``body_bytes_per_event`` (the event body alone,
    `wslab.analysis.body_bytes_per_event`).
    """
    runs = list(runs)
    if len(runs) != len(table):
        raise ConfigError(f"one run per row is needed: {len(table)} rows, {len(runs)} runs")
    if "path" in table.columns and [str(r.path) for r in runs] != list(table["path"]):
        raise ConfigError("runs are not in the table's order (compare table.path)")
    out = table.reset_index(drop=True).copy()
    delivered = out["delivered"].where(out["delivered"] > 0)
    out["label"] = [transport_label(r) for r in runs]
    out["bytes_per_event"] = out["bytes_up_per_event"] + out["bytes_down_per_event"]
    out["client_cpu_us_per_event"] = out["client_cpu_s"] * 1e6 / delivered
    out["requests_per_s_per_client"] = [client_request_rate(r.connections) for r in runs]
    out["body_bytes_per_event"] = [body_bytes_per_event(r) for r in runs]
    return out


# -- intervals over runs -------------------------------------------------------------------
def over_runs(frame: pd.DataFrame, metrics: Sequence[str], by: str = "transport",
              level: float = 0.95) -> pd.DataFrame:
    """Each metric's mean over the runs of each ``by`` group, with a t interval.

    One row per group, in order of first appearance: ``by``, ``label`` (if the
    frame has one), ``runs``, then per metric ``<metric>``, ``_low``, ``_high``
    and ``_n`` (runs with a finite value; `wslab.stats.mean_ci` over runs).
    """
    missing = [c for c in [by, *metrics] if c not in frame.columns]
    if missing:
        raise ConfigError(f"column(s) {', '.join(missing)} not in the table")
    rows = []
    for key, g in frame.groupby(by, sort=False, observed=True):
        row: dict[str, Any] = {by: key}
        if "label" in g.columns:
            row["label"] = g["label"].iloc[0]
        row["runs"] = len(g)
        for m in metrics:
            row.update(stats.mean_ci_columns(g[m].to_numpy(dtype=float), m, level))
        rows.append(row)
    return pd.DataFrame(rows)


def printable(agg: pd.DataFrame, columns: Mapping[str, tuple[str, float, str]]) -> pd.DataFrame:
    """An `over_runs` table for printing: one column per metric, ``value [low, high]``.

    ``columns`` maps a metric to (header, scale, format), e.g. ``{"latency_p50_us":
    ("p50 (ms)", 1e-3, ".3f")}`` (`LATENCY_COLUMNS`, `WIRE_COLUMNS`,
    `CLIENT_COLUMNS`). The first column names the transport (``label`` where
    there is one); ``n runs`` follows. A metric with fewer finite runs than
    the group says so (``(n=4)``); one without an interval shows its value alone.
    """
    name = "label" if "label" in agg.columns else "transport"
    out = pd.DataFrame({"transport": agg[name]})
    for metric, (header, scale, fmt) in columns.items():
        if metric not in agg.columns:
            raise ConfigError(f"metric {metric} not in the table")
        cells = []
        for _, row in agg.iterrows():
            v, lo, hi = (row[metric] * scale, row[f"{metric}_low"] * scale,
                         row[f"{metric}_high"] * scale)
            text = f"{v:{fmt}}" if not math.isfinite(v) or not (
                math.isfinite(lo) and math.isfinite(hi)) else f"{v:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"
            if row[f"{metric}_n"] != row["runs"]:
                text += f" (n={int(row[f'{metric}_n'])})"
            cells.append(text)
        out[header] = cells
    out["n runs"] = agg["runs"].to_numpy()
    return out


def cost_table(per_run: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """`over_runs` of `COST_METRICS` per transport, with ``body_bytes_per_event``
    (the mean event body, when the frame has it) for `wslab.plots.overhead_bars`."""
    out = over_runs(per_run, COST_METRICS, level=level)
    if "body_bytes_per_event" in per_run.columns:
        out["body_bytes_per_event"] = float(per_run["body_bytes_per_event"].mean())
    return out


def ratio_table(per_run: pd.DataFrame, metric: str, reference: str,
                statistic: Any = np.mean, level: float = 0.95) -> pd.DataFrame:
    """Each transport's ``metric`` over the ``reference`` transport's, paired over repeats.

    Within a repeat every transport consumed the same event schedule, so the
    repeats are resampled as pairs (`wslab.stats.ratio_ci`): the ratio of
    ``statistic`` (default: the mean over repeats) of the two columns. One
    row per transport other than the reference: ``transport``, ``ratio``,
    ``low``, ``high``, ``n`` (repeats with both), ``method``. A reference
    whose statistic is 0 gives NaN.
    """
    for col in ("transport", "repeat", metric):
        if col not in per_run.columns:
            raise ConfigError(f"column {col} not in the table")
    wide = per_run.pivot_table(index="repeat", columns="transport", values=metric,
                               aggfunc="mean", observed=True)
    if reference not in wide.columns:
        raise ConfigError(f"reference {reference!r} has no run; transports: "
                          f"{', '.join(map(str, wide.columns))}")
    labels = per_run.drop_duplicates("transport").set_index("transport")
    rows = []
    for t in dict.fromkeys(per_run["transport"]):
        if t == reference:
            continue
        pair = wide[[t, reference]].dropna()
        row: dict[str, Any] = {"transport": labels["label"].get(t, t) if "label" in labels
                               else t, "n": len(pair)}
        try:
            est = stats.ratio_ci(pair[t], pair[reference], statistic, paired=True, level=level,
                                 unit="repeats")
            row.update(ratio=est.value, low=est.low, high=est.high, method=est.method)
        except ConfigError:  # no pairs, or a reference of 0
            row.update(ratio=math.nan, low=math.nan, high=math.nan, method="undefined")
        rows.append(row)
    return pd.DataFrame(rows, columns=["transport", "ratio", "low", "high", "n", "method"])


# -- the model check -----------------------------------------------------------------------
def model_check(per_run: pd.DataFrame, transit_us: float, transport: str = "short-poll",
                level: float = 0.95) -> pd.DataFrame:
    """Short polling's measured latency beside the model, with computed verdicts.

    Rows (ms): the mean latency against ``T/2 + transit`` and the p99 against
    ``0.99 T + transit`` (`wslab.models.short_poll_latency_mean` /
    ``_quantile``), each measured as the mean over runs of the run's value
    with a t interval over runs. ``transit_us`` is the one transit
    (`wslab.analysis.transit_us`). Columns as `wslab.stats.check_table`.
    """
    sp = per_run[per_run["transport"] == transport]
    if sp.empty:
        raise ConfigError(f"no {transport} run in the table")
    intervals = sp["interval"].dropna().unique() if "interval" in sp else []
    if len(intervals) != 1:
        raise ConfigError(f"{transport} runs need one polling interval, not "
                          f"{list(intervals)}")
    T, d = float(intervals[0]), float(transit_us) / 1e6

    def ms(col: str) -> stats.Estimate:
        return stats.mean_ci(sp[col].to_numpy(dtype=float) / 1e3, level, unit="runs")

    rows = [
        {"quantity": "mean latency (ms)", "measured": ms("latency_mean_us"),
         "model": short_poll_latency_mean(T, d) * 1e3},
        {"quantity": "p99 latency (ms)", "measured": ms("latency_p99_us"),
         "model": short_poll_latency_quantile(0.99, T, d) * 1e3},
    ]
    return stats.check_table([{"transport": f"{transport} (T = {T * 1e3:g} ms)", **r}
                              for r in rows])


def precision_line(check: pd.DataFrame, target: float, quick: bool) -> str:
    """Whether the mean's interval (first row of `model_check`) is within
    ±``target`` of the model value; in quick mode, says it is indicative only."""
    row = check.iloc[0]
    half = (row["high"] - row["low"]) / 2 / row["model"]
    if not math.isfinite(half):
        got = f"the {row['quantity']} has no interval (n={row['n']})"
        met = "NOT met"
    else:
        got = f"the {row['quantity']} 95 % interval is ±{half * 100:.1f} % of the model value"
        met = "met" if half <= target else "NOT met"
    text = f"precision: {got} (target ±{target * 100:g} %, n={row['n']} runs): {met}"
    if quick:
        text += " — QUICK mode: indicative only (full mode is planned for the target)"
    return text


# -- loss --------------------------------------------------------------------------------------
def loss_summary(runs: Sequence[Run]) -> pd.DataFrame:
    """The loss check per transport over all its runs: ``all published``
    (yes/NO: every run published its whole schedule), ``all delivered``
    (yes/NO: every event reached every client), and the ``lost`` and
    ``duplicated`` deliveries summed over runs. With nothing lost the text is
    the same whatever the number or length of the runs."""
    t = loss_table(list(runs))
    g = t.assign(pub=t["published"] == t["scheduled"],
                 dlv=t["delivered"] == t["expected"]).groupby("transport", sort=False)
    out = pd.DataFrame({"all published": g["pub"].all(), "all delivered": g["dlv"].all(),
                        "lost": g["lost"].sum(), "duplicated": g["duplicated"].sum()})
    return out.replace({True: "yes", False: "NO"})


# -- figures -------------------------------------------------------------------------------------
def _decade_ticks(ax: Axes, axis: str) -> None:
    """Plain numbers at the powers of ten inside a log axis's limits ("1,000", "0.01")."""
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    values = 10.0 ** np.arange(math.ceil(math.log10(lo)), math.floor(math.log10(hi)) + 1)
    readable_ticks(ax, axis, values=list(values))


def _marks(ax: Axes, quantiles: pd.DataFrame, survival: bool) -> None:
    """p50 (circle) and p99 (diamond) of each transport at their heights, with the
    t interval over runs as a horizontal error bar."""
    colors = transport_colors(list(quantiles["transport"]))
    for row in quantiles.itertuples():
        for col, q, marker in (("latency_p50_us", 0.5, "o"), ("latency_p99_us", 0.99, "D")):
            v, lo, hi = (getattr(row, col), getattr(row, f"{col}_low"),
                         getattr(row, f"{col}_high"))
            err = ([[v - lo], [hi - v]] if math.isfinite(lo) and math.isfinite(hi) else None)
            ax.errorbar([v], [1 - q if survival else q], xerr=err, fmt=marker, ms=5,
                        color=colors[row.transport], mec="black", mew=0.6, capsize=3,
                        elinewidth=1.2, zorder=5)


def plot_latency(fig: Figure, ax_cdf: Axes, ax_ccdf: Axes, latencies: pd.DataFrame,
                 per_run: pd.DataFrame, transit_us: float, interval: float) -> None:
    """ECDF (left) and CCDF on log-log axes (right) of one-way latency per
    transport, pooled over its runs, with the short-poll model and each
    transport's p50 and p99 (mean over runs, 95 % t interval) marked.

    ``latencies`` is `wslab.analysis.latency_frame` of the runs (one row per
    delivery after the warm-up); ``per_run`` is `per_run_table`. One legend,
    right of the figure, is true for both panels.
    """
    runs = per_run.groupby("transport", sort=False).size()
    frame = latencies.copy()
    frame["label"] = [f"{lab}, {runs.get(str(t), 0)} runs pooled"
                      for lab, t in zip(frame["label"], frame["transport"], strict=True)]
    quantiles = over_runs(per_run, ("latency_p50_us", "latency_p99_us"))
    T_us = interval * 1e6
    ecdf(ax_cdf, frame)
    short_poll_model_cdf(ax_cdf, interval, transit_us=transit_us)
    _marks(ax_cdf, quantiles, survival=False)
    ccdf(ax_ccdf, frame)

    def survival(x: np.ndarray) -> np.ndarray:
        s = 1 - np.asarray(short_poll_latency_cdf(x / 1e6, interval, transit_us / 1e6))
        return np.where(s > 0, s, np.nan)  # 0 has no place on a log axis

    model_cdf(ax_ccdf, survival, lo=max(transit_us, T_us * 1e-3) * 0.5,
              hi=T_us + transit_us, label="model")
    _marks(ax_ccdf, quantiles, survival=True)
    most = int(frame.groupby("transport", observed=True).size().max())
    ax_ccdf.set_ylim(min(0.005, 0.5 / max(1, most)), 1.5)  # room under the p99 markers
    _decade_ticks(ax_ccdf, "y")
    ax_cdf.set_title("ECDF: fraction delivered within x")
    ax_ccdf.set_title("CCDF on log axes: the tail")
    for ax in (ax_cdf, ax_ccdf):
        _decade_ticks(ax, "x")
        legend = ax.get_legend()
        if legend is not None:  # one legend for the figure instead
            legend.remove()
    handles, labels = ax_cdf.get_legend_handles_labels()
    handles = [h for h, lab in zip(handles, labels, strict=True) if not lab.startswith("_")]
    handles += [Line2D([], [], ls="none", marker="o", color="gray", mec="black",
                       label="p50, mean over runs, 95 % t interval"),
                Line2D([], [], ls="none", marker="D", color="gray", mec="black",
                       label="p99, mean over runs, 95 % t interval")]
    fig.legend(handles=handles, loc="outside right upper", fontsize="small")


def _bars(ax: Axes, x: np.ndarray, table: pd.DataFrame, col: str, width: float,
          **style: Any) -> Any:
    v = table[col].to_numpy(dtype=float)
    lo = table[f"{col}_low"].to_numpy(dtype=float)
    hi = table[f"{col}_high"].to_numpy(dtype=float)
    err = np.vstack([v - lo, hi - v])
    err = np.where(np.isfinite(err), err, 0.0)  # no interval (one run): no bar
    bars = ax.bar(x, v, width, edgecolor="black", lw=0.5, **style)
    ax.errorbar(x, v, yerr=err, fmt="none", ecolor="black", elinewidth=1, capsize=3)
    return bars


def plot_client_cost(ax_cpu: Axes, ax_req: Axes, costs: pd.DataFrame,
                     interval: float | None = None) -> None:
    """What each transport costs the client: CPU per delivered event (client and
    server side by side) and requests per second per client, each the mean over
    runs with its 95 % t interval (`cost_table`). ``interval``: short polling's
    T, drawn as the model 1/T over the short-poll bar."""
    labels = [str(s).replace(" (", "\n(") for s in costs.get("label", costs["transport"])]
    colors = transport_colors(list(costs["transport"]))
    face = [colors[t] for t in costs["transport"]]
    x = np.arange(len(costs))
    w = 0.4
    _bars(ax_cpu, x - w / 2, costs, "client_cpu_us_per_event", w, color=face, alpha=0.45,
          hatch="//", label="client")
    _bars(ax_cpu, x + w / 2, costs, "server_cpu_us_per_event", w, color=face, label="server")
    ax_cpu.set_ylabel("CPU time per delivered event (µs)")
    ax_cpu.set_title("CPU per delivered event (user + system)", fontsize="medium")
    ax_cpu.legend(handles=[
        Line2D([], [], ls="none", marker="s", ms=10, mfc="lightgray", mec="black",
               label="client (hatched)"),
        Line2D([], [], ls="none", marker="s", ms=10, mfc="dimgray", mec="black",
               label="server"),
        Line2D([], [], color="black", lw=1, label="95 % t interval over runs")],
        fontsize="small")
    _bars(ax_req, x, costs, "requests_per_s_per_client", 0.6, color=face)
    ax_req.set_ylabel("requests per second per client (1/s)")
    ax_req.set_title("requests each client sends per second", fontsize="medium")
    handles: list[Artist] = [Line2D([], [], color="black", lw=1,
                                    label="95 % t interval over runs")]
    sp = [i for i, t in enumerate(costs["transport"]) if t == "short-poll"]
    if interval and sp:
        handles.append(ax_req.hlines(1 / interval, sp[0] - 0.4, sp[0] + 0.4, colors="black",
                                     linestyles="--", lw=1.3,
                                     label=f"model: 1/T = {1 / interval:g} per second"))
    ax_req.legend(handles=handles, fontsize="small", loc="upper left")
    for ax in (ax_cpu, ax_req):
        ax.set_ylim(bottom=0)  # both are >= 0; a few runs' t interval may reach below
        ax.set_xticks(x, labels, fontsize="small")
        ax.grid(True, axis="y", alpha=0.4)
        ax.set_axisbelow(True)


# -- the lines the closing text relies on ---------------------------------------------------------
def _side(low: float, high: float) -> str:
    """Where a ratio's interval lies relative to 1: the computed tag of each ratio."""
    if low > 1:
        return "above"
    if high < 1:
        return "below"
    return "not distinguishable" if math.isfinite(low) and math.isfinite(high) else "no interval"


def _ratios_text(r: pd.DataFrame) -> str:
    return ", ".join(f"{row.transport} {row.ratio:.3g}x [{row.low:.3g}, {row.high:.3g}] "
                     f"({_side(row.low, row.high)})" for row in r.itertuples())


def findings(per_run: pd.DataFrame, check: pd.DataFrame, precision: str,
             floor: str = "tcp", push_reference: str = "websocket") -> list[str]:
    """The comparisons the notebook's closing section states, as computed sentences.

    Latency p50 and mean over the ``floor`` transport's (paired over repeats),
    which transports' p50 ratio interval lies above 1, the model verdicts
    and the precision line, bytes per event, client and server CPU per event
    over ``push_reference``'s, and requests per second per client. Each ratio
    is tagged from its interval: ``above`` (low > 1), ``below`` (high < 1),
    ``not distinguishable`` (it holds 1) or ``no interval``.
    """
    n = int(per_run["repeat"].nunique())
    p50 = ratio_table(per_run, "latency_p50_us", floor)
    mean = ratio_table(per_run, "latency_mean_us", floor)
    above = [row.transport for row in p50.itertuples() if _side(row.low, row.high) == "above"]
    within = [row.transport for row in p50.itertuples() if row.transport not in above]
    costs = over_runs(per_run, COST_METRICS)
    lines = [
        f"p50 latency over the {floor} floor (mean over {n} repeats, paired bootstrap): "
        + _ratios_text(p50),
        f"mean latency over the {floor} floor: " + _ratios_text(mean),
        f"p50 interval entirely above the {floor} floor: "
        + (", ".join(above) if above else "none")
        + (f"; not distinguishable from it at n = {n}: {', '.join(within)}" if within else ""),
    ]
    for row in check.itertuples():
        lines.append(f"{row.transport} {row.quantity}: measured {row.measured:.2f} "
                     f"[{row.low:.2f}, {row.high:.2f}] (n={row.n} runs) vs model "
                     f"{row.model:.2f}: {row.verdict}")
    lines.append(precision)

    def per_transport(col: str, fmt: str, unit: str) -> str:
        return ", ".join(
            f"{row['label']} {row[col]:{fmt}} [{row[col + '_low']:{fmt}}, "
            f"{row[col + '_high']:{fmt}}]{unit}" for _, row in costs.iterrows())

    lines += [
        "bytes per delivered event, up + down (mean over runs, 95 % t interval): "
        + per_transport("bytes_per_event", ".0f", " B"),
        "HTTP requests per delivered event: " + per_transport("requests_per_event", ".3g", ""),
        "client CPU per delivered event: " + per_transport("client_cpu_us_per_event", ".0f",
                                                             " µs"),
        "server CPU per delivered event: " + per_transport("server_cpu_us_per_event", ".0f",
                                                             " µs"),
        f"client CPU per delivered event over {push_reference}'s (paired): "
        + _ratios_text(ratio_table(per_run, "client_cpu_us_per_event", push_reference)),
        f"bytes per delivered event over {push_reference}'s (paired): "
        + _ratios_text(ratio_table(per_run, "bytes_per_event", push_reference)),
        "requests per second per client: " + per_transport("requests_per_s_per_client", ".3g",
                                                           "/s"),
    ]
    return lines
