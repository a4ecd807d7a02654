"""Model checks of the interval sweep with computed verdicts (`check`,
`delay_check`), the runs' edges (`edge_table`) and the conclusions computed
from them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ... import stats
from ...core.errors import ConfigError
from .tables import with_model

__all__ = ["check", "conclusions", "count_inside", "delay_check", "edge_table"]

_T_METHOD = "t interval over runs"


def _estimate(row: Any, metric: str) -> stats.Estimate:
    return stats.Estimate(float(row[metric]), float(row[f"{metric}_low"]),
                          float(row[f"{metric}_high"]), int(row[f"{metric}_n"]), _T_METHOD)


_CHECKS = {  # metric: (quantity, model column)
    "mean_ms": ("mean latency (ms)", "model_mean_ms"),
    "p99_ms": ("p99 latency (ms)", "model_p99_ms"),
    "empty_fraction": ("empty-poll fraction", "model_empty_fraction"),
    "requests_per_event": ("requests per delivered event", "model_requests_per_event"),
}


def check(summary: pd.DataFrame, metric: str = "mean_ms", min_interval: float = 0.05,
          target: float | None = 0.05) -> pd.DataFrame:
    """`wslab.stats.check_table` of one metric against its model for the
    short-poll points with ``T >= min_interval``: columns ``rate``,
    ``T (ms)``, then quantity, measured, low, high, n, model, verdict,
    method; with ``target`` also ``±% of model`` (the interval's half-width
    relative to the model value) and ``within target`` (<= target)."""
    if metric not in _CHECKS:
        raise ConfigError(f"metric must be one of {', '.join(_CHECKS)}, not {metric!r}")
    quantity, model_col = _CHECKS[metric]
    m = with_model(summary)
    m = m[m["interval"] >= min_interval - 1e-12].sort_values(["delay", "rate", "interval"])
    rows = [{"rate": r["rate"], "T (ms)": round(r["interval"] * 1e3, 6), "quantity": quantity,
             "measured": _estimate(r, metric), "model": r[model_col]}
            for _, r in m.iterrows()]
    out = stats.check_table(rows)
    if target is not None and len(out):
        out["±% of model"] = 100 * (out["high"] - out["low"]) / 2 / out["model"].abs()
        out["within target"] = out["±% of model"] <= 100 * target
    return out


def count_inside(table: pd.DataFrame, column: str = "verdict") -> str:
    """``"model inside the 95 % CI in k of n rows"`` for a check table's
    verdict column (the level read from the verdicts)."""
    v = table[column].astype(str)
    inside = v.str.startswith("model inside")
    level = v[inside].str.extract(r"inside ([\d.]+) %")[0]
    pct = level.iloc[0] if len(level) else "95"
    return f"model inside the {pct} % CI in {int(inside.sum())} of {len(v)} rows"


def edge_table(summary: pd.DataFrame, min_interval: float = 0.05) -> pd.DataFrame:
    """How far each short-poll run's request count departs from the steady
    state: ``D/T`` (publishing time over the interval: the polls per client a
    steady state gives), the measured polls per client and the ``extra`` ones
    (mean over runs with their 95 % interval), the ``edge share`` (extra /
    (D/T), in %), and requests per delivered event measured against ``1/(λT)``
    (``excess``, in %). A run's edges are the polls before its first event and
    those made while the clients collect its last one."""
    m = with_model(summary)
    m = m[m["interval"] >= min_interval - 1e-12].sort_values(["delay", "rate", "interval"])
    return pd.DataFrame({
        "rate": m["rate"], "T (ms)": (m["interval"] * 1e3).round(6),
        "D/T": m["duration"] / m["interval"], "polls/client": m["polls_per_client"],
        "extra": m["extra_polls"], "extra low": m["extra_polls_low"],
        "extra high": m["extra_polls_high"],
        "edge share (%)": 100 * m["extra_polls"] / (m["duration"] / m["interval"]),
        "requests/event": m["requests_per_event"], "1/(λT)": m["model_requests_per_event"],
        "excess (%)": 100 * (m["requests_per_event"] / m["model_requests_per_event"] - 1),
    }).reset_index(drop=True)


def delay_check(summary: pd.DataFrame) -> pd.DataFrame:
    """Measured short-poll mean latency against both forms of the model, each
    with its verdict: ``T/2 + transit`` (one transit, the response's) and
    ``T/2 + round trip`` (two transits, the textbook form). One row per
    short-poll point (every interval); ``transit (ms)`` is the websocket median
    at the same rate and delay; ``nearer model`` names the model closer to the
    measured mean."""
    m = with_model(summary).sort_values(["delay", "rate", "interval"])
    out = []
    for _, r in m.iterrows():
        est = _estimate(r, "mean_ms")
        one = stats.verdict(est, r["model_mean_ms"])
        two = stats.verdict(est, r["model_round_trip_ms"])
        out.append({"delay (ms)": r["delay"] * 1e3, "rate": r["rate"],
                    "T (ms)": round(r["interval"] * 1e3, 6),
                    "transit (ms)": r["transit_ms"], "measured mean (ms)": est.value,
                    "low": est.low, "high": est.high, "n": est.n,
                    "T/2 + transit": r["model_mean_ms"], "verdict (one transit)": one,
                    "T/2 + round trip": r["model_round_trip_ms"],
                    "verdict (round trip)": two,
                    "nearer model": "one transit" if abs(est.value - r["model_mean_ms"])
                    < abs(est.value - r["model_round_trip_ms"]) else "round trip"})
    return pd.DataFrame(out)


def _inside(table: pd.DataFrame, column: str = "verdict") -> pd.Series:
    return table[column].astype(str).str.startswith("model inside")


def conclusions(checks: dict[str, pd.DataFrame], delay: pd.DataFrame | None,
                summary: pd.DataFrame, target: float = 0.05) -> list[str]:
    """The notebook's conclusions as sentences computed from its tables, so that
    each follows from a printed verdict: per `check` table (keyed by metric)
    the verdict count, the points outside and (for ``mean_ms``) how many
    intervals met ±``target``; per delay in `delay_check` which model is
    nearer and where each lies inside; per rate whether each `COMPARED`
    transport beats short polling at every interval in both mean latency and
    bytes per delivered event (upper bound below the best short-poll lower
    bound)."""
    lines = []
    for metric, tbl in checks.items():
        quantity = _CHECKS[metric][0]
        inside = _inside(tbl)
        line = f"{quantity}, T >= {tbl['T (ms)'].min():g} ms: {count_inside(tbl)}"
        if "within target" in tbl.columns:
            line += (f"; interval within ±{target * 100:g} % of the model in "
                     f"{int(tbl['within target'].sum())} of {len(tbl)}")
        out = tbl[~inside]
        if len(out):
            line += "; outside: " + "; ".join(
                f"{r['rate']:g}/s at T = {r['T (ms)']:g} ms ({r['verdict']})"
                for _, r in out.iterrows())
        lines.append(line)
    if delay is not None:
        for d, g in delay.groupby("delay (ms)"):
            n = len(g)
            lines.append(
                f"{d:g} ms one-way delay: the measured mean is nearer T/2 + one transit than "
                f"T/2 + round trip at {int((g['nearer model'] == 'one transit').sum())} of {n} "
                f"intervals; T/2 + one transit inside the 95 % CI at "
                f"{int(_inside(g, 'verdict (one transit)').sum())} of {n}, T/2 + round trip "
                f"at {int(_inside(g, 'verdict (round trip)').sum())} of {n}")
    sp = summary[summary["interval"].notna()]
    for lam, g in summary[summary["interval"].isna()].groupby("rate"):
        s = sp[sp["rate"] == lam]
        if s.empty:
            continue
        lat, byt = s["mean_ms_low"].min(), s["bytes_per_event_low"].min()
        both = [r.transport for r in g.itertuples()
                if r.mean_ms_high < lat and r.bytes_per_event_high < byt]
        rest = [f"{r.transport} (latency {'lower' if r.mean_ms_high < lat else 'not lower'}, "
                f"bytes {'lower' if r.bytes_per_event_high < byt else 'not lower'})"
                for r in g.itertuples() if r.transport not in both]
        line = (f"{lam:g} events/s: lower mean latency and fewer bytes per delivered event than "
                f"short polling at every interval measured: {', '.join(both) or 'none'}")
        lines.append(line + (f"; {', '.join(rest)}" if rest else ""))
    return lines
