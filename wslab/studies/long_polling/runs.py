"""Per-run quantities of the long-poll runs: events per completed response,
and from the deliveries the response cycle and the held-request transit
(`response_stats`), joined with the transit and the models (`long_poll_runs`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ... import transports
from ...analysis import transit_us
from ...core.errors import ConfigError
from ...models import long_poll_batch_size, long_poll_mean_latency
from ...runner.store import Run
from ._common import _GROUP, LP, _responses

__all__ = [
    "MIN_CYCLES", "events_per_response", "long_poll_runs", "response_stats", "run_diagnostics",
]

#: fewest cycles (or held responses) a run needs for its median to count
MIN_CYCLES = 3


def events_per_response(table: pd.DataFrame) -> pd.Series:
    """Delivered events per completed non-empty response, one value per row.

    ``delivered`` counts (client, event) pairs; ``responses - empty_responses``
    the completed responses that carried at least one event. A request still
    held when the run stopped is not a response (it delivered nothing), so it
    is left out; runs recorded before ``responses`` existed fall back to
    ``requests``. NaN where no response carried an event.
    """
    answered = (_responses(table) - table["empty_responses"]).astype(float)
    return table["delivered"] / answered.where(answered > 0)


def response_stats(messages: pd.DataFrame, start_ns: int = 0,
                   held_after_ms: float | None = None) -> dict[str, float]:
    """Batching, cycle and held-request transit of one long-poll run, from its deliveries.

    All events of one response share the client's receive time, so each
    client's responses are its distinct ``received_ns``: every one of them is
    a *completed* response that carried events (a request held at stop, or
    answered empty, delivered nothing and has no row). For batching only the
    steady state counts: responses whose first event was published at or
    after ``start_ns`` (the end of the warm-up; this drops each client's first
    response, held from its connection), except each client's last response,
    whose gap the end of publishing cut short. For consecutive responses k,
    k+1 of a client:

    * if response k+1 carries an event published *before* response k arrived,
      the next request found it waiting and was answered at once, so the time
      between the two arrivals is one full **cycle** (response out, next
      request in, handling): the model's gap ``2d``;
    * if its first event was published more than one cycle after response k
      arrived (``held_after_ms``; default: this run's cycle), the next request
      was surely held when it appeared, and its latency is one **held-request
      transit**: the model's ``d``.

    Returns ``events_per_response`` (mean events per counted response) and
    ``responses``, the medians ``cycle_ms`` and ``held_transit_ms`` (NaN with
    fewer than `MIN_CYCLES` instances) and their counts ``cycles`` and
    ``held``. Duplicated deliveries are dropped first.
    """
    m = messages.drop_duplicates(["client_id", "seq"])
    per = (m.groupby(["client_id", "received_ns"], sort=True)["published_ns"]
           .agg(["min", "size"]).reset_index())
    # each client's last response carries the gap cut short by the end of
    # publishing: like the warm-up, it is not the steady state
    last = per.groupby("client_id").cumcount(ascending=False) == 0
    counted = (per["min"] >= start_ns) & ~last
    cycles: list[np.ndarray] = []
    gaps: list[tuple[np.ndarray, np.ndarray]] = []
    for _, g in per.groupby("client_id", sort=False):
        arrive = g["received_ns"].to_numpy(dtype=np.int64)
        pub = g["min"].to_numpy(dtype=np.int64)
        keep = pub[1:] >= start_ns
        immediate = (pub[1:] < arrive[:-1]) & keep
        cycles.append((arrive[1:] - arrive[:-1])[immediate])
        gaps.append(((pub[1:] - arrive[:-1])[keep], (arrive[1:] - pub[1:])[keep]))
    cyc = np.concatenate(cycles) / 1e6 if cycles else np.array([])
    cycle_ms = float(np.median(cyc)) if len(cyc) >= MIN_CYCLES else math.nan
    threshold = cycle_ms if held_after_ms is None else held_after_ms
    held = np.array([])
    if gaps and math.isfinite(threshold):
        after = np.concatenate([a for a, _ in gaps]) / 1e6
        latency = np.concatenate([b for _, b in gaps]) / 1e6
        held = latency[after > threshold]
    sizes = per.loc[counted, "size"]
    return {"events_per_response": float(sizes.mean()) if len(sizes) else math.nan,
            "responses": int(len(sizes)), "cycle_ms": cycle_ms, "cycles": int(len(cyc)),
            "held_transit_ms": float(np.median(held)) if len(held) >= MIN_CYCLES else math.nan,
            "held": int(len(held))}


def _start_ns(run: Run) -> int:
    """The end of the run's warm-up on the publish clock (as `Run.latency_us`)."""
    return int(run.manifest["publish"]["start_ns"] + int(run.summary["warmup_s"] * 1e9))


def run_diagnostics(runs: Sequence[Run], table: pd.DataFrame) -> pd.DataFrame:
    """`response_stats` of every long-poll run of the sweep, one row each
    (``trial``, ``delay``, ``rate``, ``repeat``, then its keys, the
    per-response ones prefixed ``steady_`` where they could be confused with
    the summary's: ``steady_events_per_response``, ``steady_responses``).

    ``runs`` are the experiment's runs in the order of ``table``'s rows. The
    held-request threshold is the run's own cycle, or where a run has too few
    immediate cycles (sparse events) the median cycle of the other runs at
    its delay; with none at that delay its held transit is NaN.
    """
    if len(runs) != len(table):
        raise ConfigError(f"runs ({len(runs)}) and table rows ({len(table)}) must match")
    pairs = [(run, row) for run, row in zip(runs, table.itertuples(), strict=True)
             if row.transport == LP]
    if not pairs:
        raise ConfigError(f"no {LP} run in the table")
    rows = []
    for run, row in pairs:
        st = response_stats(run.messages, _start_ns(run))
        rows.append({"trial": row.trial, "delay": row.delay, "rate": row.rate,
                     "repeat": row.repeat, **st})
    diag = pd.DataFrame(rows)
    pooled = diag.groupby("delay")["cycle_ms"].median()
    for i, (run, _) in enumerate(pairs):
        ref = float(pooled[diag.at[i, "delay"]])
        if not math.isfinite(diag.at[i, "cycle_ms"]) and math.isfinite(ref):
            again = response_stats(run.messages, _start_ns(run), held_after_ms=ref)
            diag.loc[i, ["held_transit_ms", "held"]] = again["held_transit_ms"], again["held"]
    return diag.rename(columns={"events_per_response": "steady_events_per_response",
                                "responses": "steady_responses"})


def _push(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of push transports (`wslab.transports.base.Delivery`)."""
    return table[table["transport"].isin(transports.names("push"))]


def long_poll_runs(table: pd.DataFrame, diagnostics: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """One row per long-poll run with what the checks need, in ms.

    ``transit_ms``: `wslab.analysis.transit_us` at the run's (delay, rate);
    ``realized_rate``: the events its Poisson stream actually held per second
    (published / duration; a short stream can be 20 % off its nominal rate);
    ``x``: the model's events per gap, realized rate × 2 transits; the
    models at that rate and transit (``model_mean_ms``, ``model_batch``,
    ``bound_ms`` = three transits); measured latency mean and max;
    ``events_per_response`` (the summary's: completed non-empty responses);
    ``push_excess_ms``: the mean over the push runs of the same (delay, rate,
    repeat) of their maximum minus their median, the worst a single leg of
    the stack stalled there; and the `run_diagnostics` columns when given.
    """
    transit = transit_us(table, by=_GROUP) / 1e3
    lp = table[table["transport"] == LP].copy()
    if lp.empty:
        raise ConfigError(f"no {LP} run in the table")
    idx = pd.MultiIndex.from_frame(lp[_GROUP])
    lp["transit_ms"] = transit.reindex(idx).to_numpy()
    lp["realized_rate"] = lp["published"] / lp["duration"]
    t_s, lam = lp["transit_ms"].to_numpy() / 1e3, lp["realized_rate"].to_numpy(dtype=float)
    lp["x"] = lam * 2 * t_s
    lp["model_mean_ms"] = long_poll_mean_latency(lam, t_s) * 1e3
    lp["model_batch"] = long_poll_batch_size(lam, t_s)
    lp["bound_ms"] = 3 * lp["transit_ms"]
    lp["latency_mean_ms"] = lp["latency_mean_us"] / 1e3
    lp["latency_max_ms"] = lp["latency_max_us"] / 1e3
    lp["events_per_response"] = events_per_response(lp)
    push = _push(table)
    excess = ((push["latency_max_us"] - push["latency_p50_us"]) / 1e3).groupby(
        [push["delay"], push["rate"], push["repeat"]]).mean()
    lp["push_excess_ms"] = excess.reindex(
        pd.MultiIndex.from_frame(lp[[*_GROUP, "repeat"]])).to_numpy()
    cols = ["trial", "delay", "rate", "repeat", "realized_rate", "transit_ms", "x",
            "latency_mean_ms", "model_mean_ms", "latency_max_ms", "bound_ms",
            "events_per_response", "model_batch", "delivered", "responses", "empty_responses",
            "in_flight_at_stop", "push_excess_ms"]
    out = lp[[c for c in cols if c in lp.columns]]
    if diagnostics is not None:
        keep = ["trial", "steady_events_per_response", "steady_responses", "cycle_ms", "cycles",
                "held_transit_ms", "held"]
        out = out.merge(diagnostics[keep], on="trial", how="left")
    return out.sort_values([*_GROUP, "repeat"]).reset_index(drop=True)
