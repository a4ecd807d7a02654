"""Compression tables from the sweep's run table (one row per run, `Experiment.run`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ...runner.store import Run, load
from . import model as _model
from .trials import BASELINE, SETTINGS, setting_of

__all__ = ["COST_METRICS", "check_model", "compression_conclusions", "cost_table", "labelled",
           "memory_table"]

#: per-run metrics of `cost_table`: column -> (how to compute it, unit)
COST_METRICS: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], str]] = {
    "bytes_down_per_event": (lambda r: r.bytes_down_per_event, "B"),
    "server_cpu_us": (lambda r: r.server_cpu_s * 1e6 / r.delivered, "µs/delivery"),
    "client_cpu_us": (lambda r: r.client_cpu_s * 1e6 / r.delivered, "µs/delivery"),
    "latency_p50_us": (lambda r: r.latency_p50_us, "µs"),
}
_KEYS = ["setting", "payload_kind", "payload"]


def labelled(runs: pd.DataFrame) -> pd.DataFrame:
    """The run table with its `SETTINGS` name and every `COST_METRICS` column."""
    out = runs.assign(setting=[setting_of(r) for r in runs.to_dict("records")])
    return out.assign(**{k: f(out) for k, (f, _) in COST_METRICS.items()})


def _ratio(r: pd.DataFrame) -> pd.Series:
    """Each run's bytes per event over its baseline's in the same repeat (same seed)."""
    base = r.assign(setting=r.setting.map(BASELINE)).merge(
        r[[*_KEYS, "repeat", "bytes_down_per_event"]], on=[*_KEYS, "repeat"],
        suffixes=("", "_base"), how="left")
    return pd.Series((base.bytes_down_per_event / base.bytes_down_per_event_base).to_numpy(),
                     index=r.index)


def cost_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per setting, payload kind and size: every `COST_METRICS` value and the
    wire ratio (bytes per event down over the uncompressed baseline's, paired
    by repeat), each the mean over repeats with a t interval."""
    r = labelled(runs)
    r = r.assign(wire_ratio=_ratio(r))
    rows = []
    for key, g in r.groupby(_KEYS, sort=False):
        row: dict[str, Any] = dict(zip(_KEYS, key, strict=True))
        for col in ("wire_ratio", *COST_METRICS):
            est = stats.mean_ci(g[col].dropna(), unit="repeats")
            row.update({col: est.value, f"{col}_low": est.low, f"{col}_high": est.high})
            row["n"] = est.n
        rows.append(row)
    order = {name: k for k, name in enumerate(SETTINGS)}
    return pd.DataFrame(rows).sort_values(
        ["payload_kind", "payload", "setting"], key=lambda s: s.map(order)
        if s.name == "setting" else s, kind="stable").reset_index(drop=True)


def memory_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Server memory per connection (KiB) per setting: the least-squares slope
    of the server's peak RSS over the run less its RSS before any client, over
    N (`wslab.stats.slope_ci`, every run a point; runs of `memory_experiment`
    in fresh servers), and each setting minus ``ws off`` (half-widths combined
    in quadrature). Empty (with its columns) when there are no runs."""
    columns = ["setting", "kib_per_connection", "low", "high", "n", "minus_off",
               "minus_off_low", "minus_off_high"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    r = labelled(runs)
    r = r.assign(growth=(r.server_rss_peak_bytes - r.server_rss_before_clients_bytes) / 1024)
    fits = {s: stats.slope_ci(g.clients, g.growth) for s, g in r.groupby("setting", sort=False)}
    off = fits.get("ws off")
    rows = []
    for setting, est in fits.items():
        diff = est.value - off.value if off is not None else np.nan
        h = float(np.hypot(est.half_width, off.half_width)) if off is not None else np.nan
        rows.append([setting, est.value, est.low, est.high, est.n, diff, diff - h, diff + h])
    return pd.DataFrame(rows, columns=columns)


def _delta(run: Run, setting: str) -> float:
    """The model's change of bytes per event down for one compressed run."""
    m = run.messages
    m = m[m.client_id == m.client_id.min()].sort_values("seq")
    p = run.manifest["parameters"]
    bodies = _model.bodies(m.seq.to_numpy(), m.published_ns.to_numpy(), p["payload"],
                          p["seed"], p["payload_kind"])
    transport, _ = SETTINGS[setting]
    if transport == "long-poll":
        return _model.gzip_delta(bodies)
    options: Mapping[str, Any] = p["options"]
    return _model.ws_delta(bodies, options, len(bodies))


def check_model(runs: pd.DataFrame) -> pd.DataFrame:
    """Measured bytes per event down of each compressed setting beside the
    model (`wslab.studies.compression.model`: the baseline run of the same
    repeat with zlib's offline sizes of the same bodies), with computed
    verdicts; ``zlib_ratio`` is the model over the baseline."""
    r = labelled(runs)
    base = r.set_index([*_KEYS, "repeat"]).bytes_down_per_event
    rows = []
    for key, g in r[r.setting.map(BASELINE) != r.setting].groupby(_KEYS, sort=False):
        setting, kind, size = key
        models, bases = [], []
        for row in g.itertuples():
            b = base.get((BASELINE[setting], kind, size, row.repeat), np.nan)
            models.append(b + _delta(load(row.path), setting))
            bases.append(b)
        rows.append({"setting": setting, "payload_kind": kind, "payload": size,
                     "quantity": "B/event down",
                     "measured": stats.mean_ci(g.bytes_down_per_event, unit="repeats"),
                     "model": float(np.nanmean(models)),
                     "zlib_ratio": float(np.nanmean(np.array(models) / np.array(bases)))})
    return stats.check_table(rows)


def compression_conclusions(costs: pd.DataFrame, checks: pd.DataFrame) -> str:
    """One line per compressed setting, kind and size: the wire ratio and the
    model's verdict, as printed in the tables above."""
    lines = []
    for c in checks.itertuples():
        row = costs[(costs.setting == c.setting) & (costs.payload_kind == c.payload_kind)
                    & (costs.payload == c.payload)].iloc[0]
        lines.append(f"{c.setting}, {c.payload_kind} {c.payload} B: wire ratio "
                     f"{row.wire_ratio:.2f} [{row.wire_ratio_low:.2f}, {row.wire_ratio_high:.2f}]"
                     f" of uncompressed (zlib offline {c.zlib_ratio:.2f}; {c.verdict})")
    return "\n".join(lines)
