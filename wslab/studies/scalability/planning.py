"""The scale sweep: its trials, running each in a fresh server (`measure`),
and the per-run scale metrics read back (`scale_frame`, `latencies_at`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...core.errors import IncompleteRunError
from ._common import _order
from .variants import KIB, VARIANTS, Variant, variant_name

__all__ = ["latencies_at", "measure", "scale_frame", "trials"]


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


def measure(name: str, trial_list: list[Mapping[str, Any]], root: str | Path | None = None,
            progress: bool = False, *, repeats: int = 1, seed: int = 0) -> pd.DataFrame:
    """Run every trial ``repeats`` times, each run in its own fresh server.

    The runs form one `Experiment` (``name``, ``root``, ``seed``): repeats
    get distinct seeds, runs already stored with the same parameters are
    reused, and a stored run with other parameters is refused before any
    server starts. Returns `Experiment.table` (``reused`` is True for the
    runs found on disk).
    """
    from ...experiment import Experiment
    from ...runner.config import RunConfig
    from ...runner.lab import Lab

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
    from ...runner.store import load

    lat: dict[str, np.ndarray] = {}
    runs: dict[str, int] = {}
    for variant in _order(frame):
        paths = frame[(frame.variant == variant) & (frame.clients == clients)].path.dropna()
        if len(paths):
            lat[variant] = np.concatenate([load(p).latency_us().to_numpy() for p in paths])
            runs[variant] = len(paths)
    return lat, runs
