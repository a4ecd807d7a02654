"""Every figure once per repeat (`anatomy_repeats`, `marginal_repeats`,
`run_metrics_repeats`), and the mean over the repeats with a Student t
interval (`with_intervals`; runs are the independent unit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ...analysis import runs_table
from ...models import TCPIP_HEADER_BYTES_IPV4_TS
from ...runner.store import Run
from .anatomy import anatomy_table, marginal_cost, ws_anatomy

__all__ = ["anatomy_repeats", "marginal_repeats", "run_metrics_repeats", "with_intervals"]


def _repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]]) -> list[int]:
    return sorted({rep for _, rep in pairs})


def anatomy_repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]],
                    tcpip_header_bytes: int = TCPIP_HEADER_BYTES_IPV4_TS) -> pd.DataFrame:
    """`anatomy_table` of every repeat, stacked (``label``, ``repeat`` first);
    WebSocket's row also carries its ``handshake_up_bytes`` / ``_down_bytes``
    and the frame fit's ``body_bytes`` (`ws_anatomy`)."""
    frames = []
    for rep in _repeats(pairs):
        mine = {label: pr for (label, r), pr in pairs.items() if r == rep}
        http = {k: v for k, v in mine.items() if not k.startswith("websocket")}
        ws = [run for k, pr in mine.items() if k.startswith("websocket") for run in pr]
        t = anatomy_table(http, ws, tcpip_header_bytes).reset_index()
        w = ws_anatomy(ws)
        for k in ("handshake_up_bytes", "handshake_down_bytes", "body_bytes"):
            t[k] = np.where(t.label.str.startswith("websocket"), w[k], np.nan)
        t.insert(1, "repeat", rep)
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def marginal_repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]],
                     tcpip_header_bytes: int = TCPIP_HEADER_BYTES_IPV4_TS) -> pd.DataFrame:
    """`marginal_cost` of every (label, repeat), with ``counted``: the
    deliveries of both runs the difference rests on."""
    rows = []
    for (label, rep), (short, long) in sorted(pairs.items(), key=lambda kv: kv[0][1]):
        rows.append({"label": label, "repeat": rep,
                     **marginal_cost(short, long, tcpip_header_bytes),
                     "counted": len(short.messages) + len(long.messages), "unit": "messages"})
    return pd.DataFrame(rows)


def run_metrics_repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]],
                        metrics: Sequence[str] = ("server_cpu_us_per_event", "bytes_per_event",
                                                  "requests_per_event")) -> pd.DataFrame:
    """Per (label, repeat): `wslab.analysis.runs_table` metrics of the long run,
    with ``counted`` = its delivered events."""
    rows = []
    for (label, rep), (_, long) in sorted(pairs.items(), key=lambda kv: kv[0][1]):
        t = runs_table([long]).iloc[0]
        rows.append({"label": label, "repeat": rep, **{m: float(t[m]) for m in metrics},
                     "counted": int(long.summary["delivered"]), "unit": "deliveries"})
    return pd.DataFrame(rows)


def with_intervals(frame: pd.DataFrame, by: str = "label",
                   columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Per ``by`` group of a ``*_repeats`` frame: every numeric column's mean over
    the repeats with a 95 % Student t interval (``_low``, ``_high``, ``_n`` =
    repeats; runs are the independent unit), ``counted`` summed over the
    repeats and ``unit`` kept. Indexed by ``by`` in first-seen order."""
    skip = {by, "repeat", "counted", "unit"}
    cols = list(columns) if columns is not None else [
        c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
    rows = []
    for key, g in frame.groupby(by, sort=False):
        row: dict[str, Any] = {by: key}
        for c in cols:
            row.update(stats.mean_ci_columns(g[c].to_numpy(dtype=float), c, unit="repeats"))
        if "counted" in g:
            row["counted"] = int(g.counted.sum())
            row["unit"] = g.unit.iloc[0]
        rows.append(row)
    return pd.DataFrame(rows).set_index(by)
