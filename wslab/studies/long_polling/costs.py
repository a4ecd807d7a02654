"""What long polling costs besides latency: bytes per delivered event, the
timeout's empty responses, and server memory per held request (idle runs,
one fresh server per client count)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ...core.errors import ConfigError
from ._common import _GROUP, LP, _estimate, _responses

__all__ = [
    "REFERENCE_HELD_KIB", "REFERENCE_HELD_REQUESTS", "bytes_table", "held_request_memory",
    "idle_runs", "memory_lines", "timeout_lines", "timeout_table",
]

#: An earlier measurement quoted as a reference, not reproduced by a committed
#: run (docs/references.md, "Earlier measurements used as anchors"): about
#: 6 KiB of server memory per held aiohttp long-poll request at 10,000 requests.
REFERENCE_HELD_KIB = 6.0
REFERENCE_HELD_REQUESTS = 10_000


def _fmt(e: stats.Estimate, digits: int = 1) -> str:
    if not (math.isfinite(e.low) and math.isfinite(e.high)):
        return f"{e.value:.{digits}f} (n={e.n})"
    return f"{e.value:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def bytes_table(table: pd.DataFrame) -> pd.DataFrame:
    """Bytes on the wire (up + down) per delivered event: mean over the repeats
    with its t interval, one row per transport × delay × rate (``bpe``,
    ``bpe_low``, ``bpe_high``, ``bpe_n``, and ``text``: "mean [low, high] (n=…)")."""
    t = table.assign(bpe=table["bytes_up_per_event"] + table["bytes_down_per_event"])
    rows = []
    for (name, d, r), g in t.groupby(["transport", *_GROUP], sort=False):
        est = _estimate(g["bpe"])
        rows.append({"transport": name, "delay": d, "rate": r, **est.as_dict("bpe"),
                     "text": f"{_fmt(est, 0)} (n={est.n})"})
    return pd.DataFrame(rows).sort_values([*_GROUP, "transport"]).reset_index(drop=True)


def timeout_table(table: pd.DataFrame) -> pd.DataFrame:
    """What the long-poll timeout costs, one row per timeout (s): per delivered
    event the completed responses (`requests_per_event` of the summary) and
    the empty ones, the share of responses that were empty, and the bytes --
    each as ``mean [95 % CI]`` over the repeats (``n`` runs)."""
    t = table.assign(
        timeout_s=table["option_timeout"],
        responses_per_event=_responses(table) / table["delivered"],
        empty_per_event=table["empty_responses"] / table["delivered"],
        bytes_per_event=table["bytes_up_per_event"] + table["bytes_down_per_event"])
    cols = {"responses_per_event": 2, "empty_per_event": 2, "empty_fraction": 3,
            "bytes_per_event": 0}
    rows = []
    for timeout, g in t.groupby("timeout_s"):
        row: dict[str, Any] = {"timeout_s": timeout, "n": len(g),
                               "delivered": float(g["delivered"].mean())}
        for c, digits in cols.items():
            est = _estimate(g[c])
            row[c] = _fmt(est, digits)
            row.update({f"_{c}": est.value, f"_{c}_low": est.low, f"_{c}_high": est.high})
        rows.append(row)
    return pd.DataFrame(rows)


def timeout_lines(tab: pd.DataFrame) -> list[str]:
    """The timeout's cost in words, from `timeout_table`: each timeout's
    completed and empty responses per delivered event, and the ratio of the
    shortest timeout's responses per event to the longest's."""
    lines = [f"timeout {r.timeout_s:g} s: {r.responses_per_event} completed responses and "
             f"{r.empty_per_event} empty ones per delivered event (n={r.n} runs)"
             for r in tab.itertuples()]
    short, long = tab.iloc[0], tab.iloc[-1]
    if len(tab) > 1 and long["_responses_per_event"] > 0:
        lines.append(f"the {short.timeout_s:g} s timeout costs "
                     f"{short['_responses_per_event'] / long['_responses_per_event']:.1f}× the "
                     f"responses per delivered event of the {long.timeout_s:g} s one")
    return lines


def idle_runs(counts: Iterable[int], name: str = "03_long_poll_idle", seed: int = 0,
              repeats: int = 1, progress: bool = False, **base: Any) -> pd.DataFrame:
    """Idle long-poll runs, one fresh server process per client count and repeat.

    Each (count, repeat) is its own `wslab.Experiment` (``<name>_n<count>_r<k>``,
    resumable, seeded ``seed + k``), so each server starts empty and its peak
    RSS is its baseline plus what ``count`` held requests cost; memory freed
    by an earlier run cannot be reused by a later one. Counts are interleaved
    within each repeat. ``base`` holds the run parameters (``rate``,
    ``duration``, ...); the transport is long-poll.
    """
    from ...experiment import Experiment

    frames = []
    for k in range(repeats):
        for n in counts:
            exp = Experiment(f"{name}_n{int(n)}_r{k}", seed=seed + k,
                             base={"transport": LP, **base, "clients": int(n)})
            frames.append(exp.run(progress=progress).assign(repeat=k))
    return pd.concat(frames, ignore_index=True)


def held_request_memory(table: pd.DataFrame, level: float = 0.95) -> dict[str, Any]:
    """Server RSS per held long-poll request: the least-squares slope of
    (clients, server peak RSS) over the runs, with its t interval (n − 2
    degrees of freedom; each idle client holds one request).

    Returns ``slope`` (an `wslab.stats.Estimate` in KiB per held request, n =
    runs), ``intercept_mib`` and the client counts used.
    """
    x = table["clients"].to_numpy(dtype=float)
    y = table["server_rss_peak_bytes"].to_numpy(dtype=float) / 1024
    if len(np.unique(x)) < 2 or len(x) < 3:
        raise ConfigError("need at least three runs with two different client counts, not "
                          f"{len(x)} runs with counts {sorted(set(x.astype(int)))}")
    xm = x.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * xm)
    resid = y - (intercept + slope * x)
    se = math.sqrt(float((resid**2).sum()) / (len(x) - 2) / sxx)
    h = stats.t_quantile((1 + level) / 2, len(x) - 2) * se
    est = stats.Estimate(slope, slope - h, slope + h, len(x), "OLS slope, t interval over runs",
                         level)
    return {"slope": est, "intercept_mib": intercept / 1024,
            "clients_min": int(x.min()), "clients_max": int(x.max())}


def memory_lines(mem: Mapping[str, Any]) -> list[str]:
    """The held-request memory with its interval, and the earlier reference
    (`REFERENCE_HELD_KIB`) beside it with where it lies."""
    e: stats.Estimate = mem["slope"]
    where = ("inside" if e.contains(REFERENCE_HELD_KIB) else "outside")
    return [f"server RSS per held long-poll request: {e.value:.1f} KiB, 95 % CI "
            f"[{e.low:.1f}, {e.high:.1f}] (n={e.n} runs, {e.method}; line through "
            f"{mem['clients_min']}..{mem['clients_max']} clients, intercept "
            f"{mem['intercept_mib']:.1f} MiB)",
            f"reference, not measured here: about {REFERENCE_HELD_KIB:g} KiB at "
            f"{REFERENCE_HELD_REQUESTS:,} held requests (an earlier measurement, "
            f"docs/references.md): {where} this interval"]
