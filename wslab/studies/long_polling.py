"""Long polling under network delay (claim C3): tables and figures for notebook 03.

Theory of operation. RFC 6202 §2.1: a long-poll request is held at the server
until an event exists (or a timeout passes); the client re-issues a request at
once. RFC 6202 §2.2: an event that finds a request held reaches the client
after one network transit; an event that arrives while the previous response
is on its way back waits for the next request, so the worst case is three
transits (response, next request, response), and the events that pile up in
that gap travel together in one response (batching). The functions below turn
the tidy table of a `wslab.Experiment` (one row per trial: parameters and the
summary's scalars) into the quantities that check those statements:

* `events_per_response`: delivered events / non-empty responses, per run;
* the measured one-way transit at each added delay is
  `wslab.analysis.transit_us` by ``delay``: the median latency of the push
  transports (websocket and sse here), which never wait for a request;
* `batching_table`, `max_latency_table`, `bytes_table`, `timeout_table`,
  `held_request_memory`: the notebook's tables;
* `bounds_table`: the model alone (no measurement), for fixed transits;
* `plot_*`: the notebook's figures, on axes the caller owns.

Units: delays and transits in seconds in inputs, milliseconds in the printed
tables; latency columns of the experiment table are in microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import transports
from ..analysis import machine_caption, transit_us
from ..core.errors import ConfigError
from ..models import long_poll_events_per_response, long_poll_latency_bounds, long_poll_mean_latency
from ..runner.store import Run

__all__ = [
    "LP",
    "batching_table",
    "bounds_table",
    "bytes_table",
    "delay_sweep_caption",
    "events_per_response",
    "findings",
    "held_request_memory",
    "idle_runs",
    "max_latency_table",
    "plot_batching",
    "plot_bytes",
    "plot_latency_vs_rate",
    "sweep_trials",
    "timeout_table",
]

#: the transport under study
LP = "long-poll"


def _transit_s(table: pd.DataFrame) -> pd.Series:
    """The measured one-way transit (s) per added delay (`wslab.analysis.transit_us`)."""
    return transit_us(table, by="delay") / 1e6


def _push(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of push transports (`wslab.transports.base.Delivery`)."""
    return table[table["transport"].isin(transports.names("push"))]


def sweep_trials(transports: Sequence[str], delays: Iterable[float], rates: Iterable[float],
                 duration: Any) -> list[dict[str, Any]]:
    """Explicit trials (for ``Experiment(trials=...)``): every transport × delay × rate.

    ``duration`` is seconds, or a callable ``rate -> seconds`` (shorter runs at
    high rate, where events are plentiful).
    """
    rates = list(rates)
    delays = list(delays)
    out = []
    for t in transports:
        for d in delays:
            for r in rates:
                dur = duration(r) if callable(duration) else duration
                out.append({"transport": t, "delay": float(d), "rate": float(r),
                            "duration": float(dur)})
    return out


def delay_sweep_caption(runs: Sequence[Run], table: pd.DataFrame) -> str:
    """The setup line of the delay × rate sweep: machine and versions from the
    manifests (`wslab.analysis.machine_caption`), then the swept parameters."""
    head = machine_caption(list(runs))

    def values(col: str, scale: float = 1.0) -> str:
        return ", ".join(f"{v * scale:g}" for v in sorted(table[col].dropna().unique()))

    durations = ", ".join(f"{r:g}/s: {d:g} s" for r, d in
                          table.groupby("rate")["duration"].first().items())
    return (f"{head} | transports {', '.join(dict.fromkeys(table['transport']))}; "
            f"{values('clients')} clients; {table['schedule'].iloc[0]} schedule; "
            f"added one-way delay {values('delay', 1e3)} ms each direction "
            f"(wslab.net.proxy); "
            f"rates {values('rate')} events/s; durations {durations}; {values('payload')} B "
            f"payload; first {values('warmup_s')} s of each run excluded as warm-up; "
            f"{table['repeat'].nunique()} repeat(s), seeds derived per trial")


def events_per_response(table: pd.DataFrame) -> pd.Series:
    """Delivered events per non-empty response, one value per row.

    ``delivered`` counts (client, event) pairs; ``responses - empty_responses``
    the completed responses that carried at least one event. A request still
    held when the run stopped is not a response (it delivered nothing), so it
    is left out; runs recorded before ``responses`` existed fall back to
    ``requests``. NaN where no response carried an event.
    """
    done = table["responses"] if "responses" in table else table["requests"]
    answered = (done - table["empty_responses"]).astype(float)
    return table["delivered"] / answered.where(answered > 0)


def batching_table(table: pd.DataFrame) -> pd.DataFrame:
    """Long-poll batching against the model, one row per long-poll run.

    ``transit_s`` is the measured transit at the run's delay
    (`wslab.analysis.transit_us`); ``round_trip_s`` is twice that, the gap
    after each response while no request is held (response out, next request
    in); ``x`` is rate × round trip, the expected number of events published
    in that gap; ``model_exact`` is ``x + exp(-x)`` and ``model`` is
    `wslab.models.long_poll_events_per_response` (``max(1, x)``).
    """
    transit = _transit_s(table)
    lp = table[table["transport"] == LP].copy()
    lp["transit_s"] = lp["delay"].map(transit)
    lp["round_trip_s"] = 2 * lp["transit_s"]
    lp["x"] = lp["rate"] * lp["round_trip_s"]
    lp["events_per_response"] = events_per_response(lp)
    lp["model_exact"] = lp["x"] + np.exp(-lp["x"])
    lp["model"] = long_poll_events_per_response(lp["rate"].to_numpy(),
                                                lp["transit_s"].to_numpy())
    cols = ["delay", "rate", "transit_s", "round_trip_s", "x", "events_per_response",
            "model_exact", "model"]
    return lp[cols].sort_values(["delay", "rate"]).reset_index(drop=True)


def bounds_table(transits: Iterable[float], rates: Iterable[float] = (1.0, 10.0, 100.0)
                 ) -> pd.DataFrame:
    """The RFC 6202 §2.2 model for fixed one-way transits (ms), no measurement.

    Columns: one transit (min and low-rate mean), the rate-dependent mean
    (`wslab.models.long_poll_mean_latency`) at each of ``rates``, the
    high-rate mean (two transits) and the maximal latency (three transits).
    """
    rows = []
    for d in transits:
        b = long_poll_latency_bounds(d)
        row = {"one-way delay (ms)": d * 1e3, "min = 1 transit (ms)": b.min * 1e3}
        for r in rates:
            row[f"mean @ {r:g}/s (ms)"] = float(long_poll_mean_latency(r, d)) * 1e3
        row["mean, rate → ∞ (ms)"] = 2 * d * 1e3
        row["max = 3 transits (ms)"] = b.max * 1e3
        rows.append(row)
    return pd.DataFrame(rows).round(2)


def max_latency_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per added delay: long-poll maximal latency against the three-transit bound (ms).

    ``lp_max`` is the largest per-run maximum over the rates (after warm-up),
    ``at_rate`` the rate it came from; ``bound_3d`` is three times the added
    delay (RFC 6202 §2.2 on an otherwise ideal network) and ``bound_3t`` three
    times the measured transit (push median, which includes proxy and stack).
    ``push_max`` is the largest push maximum at that delay and ``push_excess``
    = push_max − measured transit: the stack's own worst-case delay, which a
    long poll pays on each of its three legs.
    """
    transit = _transit_s(table)
    rows = []
    for d, part in table.groupby("delay"):
        lp = part[part["transport"] == LP]
        push = _push(part)
        if lp.empty:
            continue
        worst = lp.loc[lp["latency_max_us"].idxmax()]
        t = transit[d] * 1e3
        lp_max = worst["latency_max_us"] / 1e3
        push_max = push["latency_max_us"].max() / 1e3 if len(push) else np.nan
        rows.append({
            "delay_ms": d * 1e3, "transit_ms": t, "lp_mean_ms": lp["latency_mean_us"].max() / 1e3,
            "lp_max_ms": lp_max, "at_rate": worst["rate"], "bound_3d_ms": 3 * d * 1e3,
            "bound_3t_ms": 3 * t, "ratio_3t": lp_max / (3 * t),
            "push_max_ms": push_max, "push_excess_ms": push_max - t,
        })
    return pd.DataFrame(rows).round(3)


def bytes_table(table: pd.DataFrame) -> pd.DataFrame:
    """Bytes on the wire (up + down) per delivered event, transport × delay × rate."""
    t = table.assign(bytes_per_event=table["bytes_up_per_event"] + table["bytes_down_per_event"])
    wide = t.pivot_table(index=["delay", "rate"], columns="transport",
                         values="bytes_per_event", aggfunc="median")
    return wide.round(1)


def timeout_table(table: pd.DataFrame) -> pd.DataFrame:
    """What the long-poll timeout costs: one row per timeout (s).

    Requests and empty responses per delivered event, share of empty
    responses, bytes per delivered event.
    """
    t = table.copy()
    t["timeout_s"] = t["option_timeout"]
    t["requests_per_event"] = t["requests"] / t["delivered"]
    t["empty_per_event"] = t["empty_responses"] / t["delivered"]
    t["bytes_per_event"] = t["bytes_up_per_event"] + t["bytes_down_per_event"]
    cols = ["timeout_s", "rate", "duration", "clients", "delivered", "requests",
            "empty_responses", "requests_per_event", "empty_per_event", "empty_fraction",
            "bytes_per_event"]
    return t[cols].sort_values("timeout_s").reset_index(drop=True).round(3)


def idle_runs(counts: Iterable[int], name: str = "03_long_poll_idle", seed: int = 0,
              progress: bool = False, **base: Any) -> pd.DataFrame:
    """Idle long-poll runs, one fresh server process per client count; one row each.

    Each count is its own `wslab.Experiment` (``<name>_n<count>``, resumable),
    so each server starts empty and its peak RSS is its baseline plus what
    ``count`` held requests cost; memory freed by an earlier run cannot be
    reused by a later one. ``base`` holds the run parameters (``rate``,
    ``duration``, ...); the transport is long-poll.
    """
    from ..experiment import Experiment

    frames = []
    for n in counts:
        exp = Experiment(f"{name}_n{int(n)}", seed=seed,
                         base={"transport": LP, **base, "clients": int(n)})
        frames.append(exp.run(progress=progress))
    return pd.concat(frames, ignore_index=True)


def held_request_memory(table: pd.DataFrame) -> dict[str, float]:
    """Server RSS per held long-poll request from runs with different client counts.

    A least-squares line through (clients, server RSS peak) over the runs
    (each idle client holds one request): its slope is the memory each held
    request costs. Returns ``kib_per_request``, the line's ``intercept_mib``
    and the client counts used.
    """
    t = table.sort_values("clients")
    if t["clients"].nunique() < 2:
        raise ConfigError("need runs with at least two different client counts")
    slope, intercept = np.polyfit(t["clients"].astype(float),
                                  t["server_rss_peak_bytes"].astype(float), 1)
    return {"kib_per_request": slope / 1024, "intercept_mib": intercept / 2**20,
            "clients_min": int(t["clients"].min()), "clients_max": int(t["clients"].max())}


# -- figures -------------------------------------------------------------------
def _delay_label(d: float) -> str:
    return f"{d * 1e3:g} ms one-way"


def plot_batching(ax: Any, batching: pd.DataFrame) -> Any:
    """Events per response against rate × round trip, one marker per delay, model lines."""
    for d, part in batching.groupby("delay"):
        ax.plot(part["x"], part["events_per_response"], "o", ms=7, label=f"measured, {_delay_label(d)}")
    lo = max(batching["x"].min() * 0.5, 1e-4)
    hi = max(batching["x"].max() * 2, 10)
    x = np.geomspace(lo, hi, 300)
    ax.plot(x, x + np.exp(-x), "k--", lw=1.3, label="model: λc + exp(−λc)")
    ax.plot(x, np.maximum(1, x), ":", color="gray", lw=1.3, label="model: max(1, λc)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rate × round trip λc (events per cycle; c = 2 × measured transit)")
    ax.set_ylabel("events per non-empty response")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def _rate_panel(ax: Any, delay: float, ylabel: str) -> None:
    """Log-log axes of one per-delay panel: event rate against ``ylabel``."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(f"added delay {_delay_label(delay)}", fontsize="medium")
    ax.set_xlabel("event rate (events/s, Poisson)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)


def plot_latency_vs_rate(axes: Sequence[Any], table: pd.DataFrame) -> Sequence[Any]:
    """Mean and max latency vs rate, one panel per delay, with 1- and 3-transit lines.

    The horizontal lines are the RFC 6202 §2.2 bounds for the *measured*
    transit at that delay (push median); the dashed curve is the
    rate-dependent model mean.
    """
    from ..plots import transport_colors

    transit = _transit_s(table)
    colors = transport_colors(list(table["transport"].unique()))
    for ax, (d, part) in zip(axes, table.groupby("delay"), strict=False):
        t_ms = transit[d] * 1e3
        for name, g in part.groupby("transport", sort=False):
            g = g.sort_values("rate")
            lw = 2.2 if name == LP else 1.0
            ax.plot(g["rate"], g["latency_mean_us"] / 1e3, "o-", color=colors[name], lw=lw,
                    label=f"{name} mean")
            ax.plot(g["rate"], g["latency_max_us"] / 1e3, "s--", color=colors[name], lw=lw,
                    alpha=0.8, label=f"{name} max")
        r = np.geomspace(part["rate"].min(), part["rate"].max(), 200)
        ax.plot(r, long_poll_mean_latency(r, transit[d]) * 1e3, ":", color="black",
                label="model long-poll mean")
        ax.axhline(t_ms, color="green", lw=1, label=f"1 transit ({t_ms:.3g} ms)")
        ax.axhline(3 * t_ms, color="red", lw=1, label=f"3 transits ({3 * t_ms:.3g} ms)")
        _rate_panel(ax, d, "one-way latency (ms)")
    axes[-1].legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return axes


def plot_bytes(axes: Sequence[Any], table: pd.DataFrame, body: float | None = None
               ) -> Sequence[Any]:
    """Bytes per delivered event vs rate, one panel per delay, one line per transport.

    ``body`` (bytes, e.g. `wslab.analysis.body_bytes_per_event`) draws the
    event body alone as a dashed line: what every transport must carry.
    """
    from ..plots import transport_colors

    t = table.assign(bpe=table["bytes_up_per_event"] + table["bytes_down_per_event"])
    colors = transport_colors(list(t["transport"].unique()))
    for ax, (d, part) in zip(axes, t.groupby("delay"), strict=False):
        for name, g in part.groupby("transport", sort=False):
            g = g.sort_values("rate")
            ax.plot(g["rate"], g["bpe"], "o-", color=colors[name], label=name)
        if body is not None:
            ax.axhline(body, color="gray", ls="--", lw=1, label=f"event body alone ({body:.0f} B)")
        _rate_panel(ax, d, "bytes per delivered event (B, up + down)")
    axes[-1].legend(fontsize="small")
    return axes


def findings(table: pd.DataFrame) -> list[str]:
    """Sentences with this execution's numbers: batching, latency, bytes."""
    b = batching_table(table)
    m = max_latency_table(table)
    lines = []
    top = b.loc[b["x"].idxmax()]
    lines.append(f"batching: at {top.rate:g} events/s and {top.delay * 1e3:g} ms delay "
                 f"(λc = {top.x:.3g}) a response carried {top.events_per_response:.3g} events "
                 f"(model λc + exp(−λc) = {top.model_exact:.3g}); the sparsest run carried "
                 f"{b.loc[b['x'].idxmin(), 'events_per_response']:.3g}")
    for row in m.itertuples():
        lines.append(f"delay {row.delay_ms:g} ms: long-poll max {row.lp_max_ms:.3g} ms "
                     f"(at {row.at_rate:g}/s) vs 3 transits {row.bound_3t_ms:.3g} ms "
                     f"(ratio {row.ratio_3t:.3g}); excess over the bound "
                     f"{row.lp_max_ms - row.bound_3t_ms:.3g} ms, against the push transports' own "
                     f"worst-case excess over one transit {row.push_excess_ms:.3g} ms "
                     f"(push max {row.push_max_ms:.3g} ms)")
    w = bytes_table(table)
    if LP in w.columns:
        for (d, r), row in w.iterrows():
            others = ", ".join(f"{c} {row[c]:.0f} B" for c in w.columns if c != LP)
            lines.append(f"bytes/event at {d * 1e3:g} ms, {r:g}/s: long-poll {row[LP]:.0f} B; "
                         f"{others}")
    return lines
