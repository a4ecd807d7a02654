"""Model checks of notebook 03 with computed verdicts, the model's bounds
table and the findings computed from the checks.

Every measured value is the mean over the repeats with its Student t
interval (`wslab.stats.check_table`); ``±pct`` and ``target`` say whether
the achieved half-width met the precision target.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ...core.errors import ConfigError
from ...models import (
    long_poll_events_per_response,
    long_poll_latency_bounds,
    long_poll_mean_latency,
)
from ._common import _GROUP, _estimate

__all__ = [
    "STEADY", "WHOLE_RUN", "batching_checks", "bound_verdict", "bounds_table", "check_text",
    "findings", "leg_checks", "max_latency_checks", "mean_latency_checks",
]


def _precision(df: pd.DataFrame, target: float) -> pd.DataFrame:
    """Add the achieved half-width as a share of the model (``±pct``) and
    whether it met ``target`` (a fraction)."""
    half = (df["high"] - df["low"]) / 2 / df["model"].abs()
    df["±pct"] = (half * 100).round(1)
    df["target"] = np.where(~np.isfinite(half), "no interval",
                            np.where(half <= target, "met", "missed"))
    return df


def _checks(rows: list[dict[str, Any]], target: float) -> pd.DataFrame:
    df = stats.check_table(rows)
    if df.empty:
        return df
    return _precision(df, target)


def mean_latency_checks(lp: pd.DataFrame, target: float = 0.05) -> pd.DataFrame:
    """Mean latency (ms) per (delay, rate) against `wslab.models.long_poll_mean_latency`
    at the measured transit and each run's realized rate (the model column is
    the mean of the runs' model values); columns of `wslab.stats.check_table`
    plus ``x`` and the model's share of events that wait for a request
    (``p_gap``), ``±pct`` and ``target``."""
    rows = []
    for (d, r), g in lp.groupby(_GROUP):
        x = float(g["x"].mean())
        rows.append({"delay_ms": d * 1e3, "rate": r, "x": x,
                     "p_gap": x / (x + math.exp(-x)) if x > 0 else 0.0,
                     "quantity": "mean latency (ms)", "measured": _estimate(g["latency_mean_ms"]),
                     "model": float(g["model_mean_ms"].mean())})
    return _checks(rows, target)


def bound_verdict(measured: stats.Estimate, bound: float) -> str:
    """Whether a measured maximum (with its interval) is at most ``bound``:
    ``"max ≤ bound (CI below it by 4.2 %)"``, ``"bound inside 95 % CI"`` or
    ``"max above bound by 3.1 %"`` (the gap from the nearer interval end,
    relative to the bound)."""
    if not (math.isfinite(measured.low) and math.isfinite(measured.high)):
        return f"no interval (n={measured.n})"
    def gap(end: float) -> float:
        return abs(end - bound) / abs(bound) * 100 if bound else math.inf

    if measured.high <= bound:
        return f"max ≤ bound (CI below it by {gap(measured.high):.1f} %)"
    if measured.low > bound:
        return f"max above bound by {gap(measured.low):.1f} %"
    return f"bound inside {measured.level * 100:g} % CI"


def max_latency_checks(lp: pd.DataFrame, target: float = 0.05) -> pd.DataFrame:
    """Maximal latency (ms) per (delay, rate): the mean over runs of each run's
    maximum against two bounds, with `bound_verdict`:

    * ``≤ 3 transits``: RFC 6202 §2.2 with the measured transit;
    * ``≤ transit + cycle``: the same bound with the gap measured instead of
      assumed (`response_stats`; needs the diagnostics columns), ``3d + s``.

    ``push_excess_ms`` is the push runs' own worst stall at that point (their
    maximum minus median), what one leg of the stack can add.
    """
    rows = []
    for (d, r), g in lp.groupby(_GROUP):
        t = float(g["transit_ms"].iloc[0])
        est = _estimate(g["latency_max_ms"])
        extra = {"delay_ms": d * 1e3, "rate": r,
                 "push_excess_ms": float(g["push_excess_ms"].mean())}
        rows.append({**extra, "quantity": "max ≤ 3 transits", "measured": est,
                     "model": float(long_poll_latency_bounds(t).max)})  # 3 t, RFC 6202 §2.2
        if "cycle_ms" in g and np.isfinite(g["cycle_ms"]).any():
            cycle = float(g["cycle_ms"].mean())
            rows.append({**extra, "quantity": "max ≤ transit + cycle", "measured": est,
                         "model": t + cycle})
    df = _checks(rows, target)
    if not df.empty:
        df.insert(df.columns.get_loc("verdict"), "excess_ms", df["measured"] - df["model"])
        df["verdict"] = [bound_verdict(stats.Estimate(m, lo, hi, int(n), meth), b)
                         for m, lo, hi, n, meth, b in zip(df.measured, df.low, df.high, df.n,
                                                          df.method, df.model, strict=True)]
    return df


#: the quantities of `batching_checks`
STEADY = "events/response after warm-up"
WHOLE_RUN = "events/response, whole run"


def batching_checks(lp: pd.DataFrame, target: float = 0.05) -> pd.DataFrame:
    """Events per completed non-empty response per (delay, rate) against the
    renewal model `wslab.models.long_poll_batch_size` (``λc + exp(-λc)``,
    ``c`` = 2 measured transits, λ each run's realized rate, the model column
    the mean over the runs); ``asymptote`` is
    `wslab.models.long_poll_events_per_response` (``max(1, λc)``).

    Two measurements, both over completed responses only: `STEADY`, from the
    deliveries after the warm-up (`response_stats`; needs the diagnostics
    columns), which is what the steady-state model describes; and
    `WHOLE_RUN`, the summary's delivered events over completed non-empty
    responses (`events_per_response`), which also counts each client's first
    response, held from its connection -- worth one response in the run's
    few cycles when the round trip is long -- and its last one, cut short by
    the end of publishing.
    """
    rows = []
    for (d, r), g in lp.groupby(_GROUP):
        t = float(g["transit_ms"].iloc[0]) / 1e3
        lam = float(g["realized_rate"].mean())
        extra = {"delay_ms": d * 1e3, "rate": r, "x": float(g["x"].mean()),
                 "asymptote": float(long_poll_events_per_response(lam, t))}
        model = float(g["model_batch"].mean())
        if "steady_events_per_response" in g:
            rows.append({**extra, "quantity": STEADY, "model": model,
                         "measured": _estimate(g["steady_events_per_response"])})
        rows.append({**extra, "quantity": WHOLE_RUN, "model": model,
                     "measured": _estimate(g["events_per_response"])})
    return _checks(rows, target)


def leg_checks(lp: pd.DataFrame, target: float = 0.05) -> pd.DataFrame:
    """The model's premises per (delay, rate), from `run_diagnostics`: the
    held-request transit against the push transit (the model's ``d``), and
    the response cycle against two push transits (the model's gap)."""
    if "cycle_ms" not in lp:
        raise ConfigError("leg_checks needs long_poll_runs(table, run_diagnostics(...))")
    rows = []
    for (d, r), g in lp.groupby(_GROUP):
        t = float(g["transit_ms"].iloc[0])
        extra = {"delay_ms": d * 1e3, "rate": r}
        for quantity, col, model in (("held-request transit (ms)", "held_transit_ms", t),
                                     ("response cycle (ms)", "cycle_ms", 2 * t)):
            est = _estimate(g[col])
            if est.n:
                rows.append({**extra, "quantity": quantity, "measured": est, "model": model})
    return _checks(rows, target)


def check_text(checks: pd.DataFrame, digits: int = 3) -> str:
    """A check table as text: every column but ``method``, which is named once
    below it."""
    method = ", ".join(dict.fromkeys(checks["method"])) if len(checks) else "none"
    return (checks.drop(columns="method").round(digits).to_string(index=False)
            + f"\nintervals: 95 %, {method}; ±pct: half-width over the model value")


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


def _where(df: pd.DataFrame) -> str:
    """Which rates a check holds at, misses at (with the verdict), cannot decide
    (a bound inside the interval of a maximum) or has no interval for."""
    v = df["verdict"]
    groups = [("holds at", v.str.startswith(("model inside", "max ≤")), False),
              ("misses at", v.str.startswith(("model above", "model below", "max above")), True),
              ("undecided (bound inside CI) at", v.str.startswith("bound inside"), False),
              ("no interval at", v.str.startswith("no interval"), False)]
    parts = []
    for words, mask, why in groups:
        if mask.any():
            part = df[mask]
            parts.append(words + " " + ("; ".join(f"{r.rate:g}/s ({r.verdict})"
                                                  for r in part.itertuples()) if why else
                                        ", ".join(f"{r:g}/s" for r in part["rate"])))
    return "; ".join(parts)


def findings(mean: pd.DataFrame, maxima: pd.DataFrame, batching: pd.DataFrame,
             legs: pd.DataFrame, target: float = 0.05) -> list[str]:
    """Sentences computed from the check tables' verdicts, one per delay and check."""
    def at(df: pd.DataFrame, d: float, q: str | None = None) -> pd.DataFrame:
        keep = df["delay_ms"] == d
        return df[keep & (df["quantity"] == q)] if q else df[keep]

    lines = []
    for d in sorted(mean["delay_ms"].unique()):
        lines.append(f"{d:g} ms, mean latency vs model: {_where(at(mean, d))}")
        lines.append(f"{d:g} ms, max ≤ 3 transits: {_where(at(maxima, d, 'max ≤ 3 transits'))}")
        cyc = at(maxima, d, "max ≤ transit + cycle")
        if len(cyc):
            lines.append(f"{d:g} ms, max ≤ transit + measured cycle: {_where(cyc)}")
        for q in (STEADY, WHOLE_RUN):
            part = at(batching, d, q)
            if len(part):
                lines.append(f"{d:g} ms, {q} vs λc + exp(−λc): {_where(part)}")
        for q in ("held-request transit (ms)", "response cycle (ms)"):
            part = at(legs, d, q)
            if len(part):
                ratio = ", ".join(f"{r.rate:g}/s: {r.measured / r.model:.2f}×"
                                  for r in part.itertuples())
                lines.append(f"{d:g} ms, premise {q.split(' (')[0]} = model: {_where(part)} "
                             f"(measured/model {ratio})")
    lp_checks = pd.concat([mean, maxima, batching])
    met = int((lp_checks["target"] == "met").sum())
    lines.append(f"precision: {met} of {len(lp_checks)} long-poll model checks reached the "
                 f"±{target * 100:g} % target (largest half-width ±{lp_checks['±pct'].max():g} % of the model)")
    return lines
