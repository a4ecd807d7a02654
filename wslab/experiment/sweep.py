"""`Experiment`: plans the trials, runs those not yet stored in one server,
and gives the runs as tidy tables with intervals over the repeats (see
`wslab.experiment` for the rules)."""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats, transports
from ..core.errors import ConfigError, IncompleteRunError
from ..core.paths import runs_dir
from ..runner.config import RunConfig
from ..runner.store import Run, load, temporary_dirs, temporary_owner
from .stored import _param_diff, _row
from .trials import (
    Trial,
    _applicable,
    _canonical,
    _check_keys,
    _derive_seed,
    _fields,
    _grid_lists,
    _schedule_key,
    _trial_name,
)

__all__ = ["Experiment", "METRICS"]

#: Columns of `Experiment.run` shown first, in this order.
_LEAD = ("trial", "repeat")

#: Per-run metrics `Experiment.aggregate` summarises by default (those present).
METRICS = ("latency_mean_us", "latency_p50_us", "latency_p99_us", "bytes_up_per_event",
           "bytes_down_per_event", "requests_per_event", "server_cpu_us_per_event")
#: `Experiment.latency_ci` resampling units: cluster columns and their name.
_RESAMPLE = {"run": (["trial"], "runs"), "client": (["trial", "client_id"], "clients"),
             "event": (["trial", "seq"], "events")}


class Experiment:
    """A sweep of runs: ``grid`` (or ``trials``) × ``repeats``; see `wslab.experiment`.

    ``name`` names the experiment's folder (``runs_dir() / name`` unless
    ``root`` is given); ``seed`` seeds the trials that have no ``seed`` of
    their own. `run` measures the trials not yet measured and returns one
    row per trial; `runs`, `messages` and `latencies` give the runs and their
    per-delivery rows.
    """

    def __init__(
        self,
        name: str,
        grid: Mapping[str, Iterable[Any]] | list[Mapping[str, Iterable[Any]]] | None = None,
        repeats: int = 1,
        base: Mapping[str, Any] | None = None,
        root: str | os.PathLike | None = None,
        seed: int = 0,
        *,
        trials: list[Mapping[str, Any]] | None = None,
    ) -> None:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_+=@,-][A-Za-z0-9._+=@,-]*",
                                                         name):
            raise ConfigError(f"experiment name must be a plain folder name (letters, digits, "
                              f"'._-+=@,', not starting with '.'), not {name!r}")
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ConfigError(f"repeats must be an integer >= 1, not {repeats!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be an integer >= 0, not {seed!r}")
        self.name = name
        self.repeats = repeats
        self.seed = seed
        self.base = dict(base or {})
        _check_keys(self.base, "base", base=True)
        self.root = Path(root).resolve() if root is not None else runs_dir() / name
        self.trials: list[Trial] = self._plan(grid, trials)
        #: parameters that vary between trials (columns of `messages`), transport first
        keys = {k for t in self.trials for k in t.params}
        self.keys = ["transport", *(f for f in _fields() if f in keys and f != "transport")]
        self._runs: list[Run] | None = None
        self._reused: set[str] | None = None

    # -- planning -------------------------------------------------------------
    @staticmethod
    def product(**grid: Iterable[Any]) -> list[dict[str, Any]]:
        """The product of ``grid``'s lists as explicit trials, e.g. for ``trials=``.

        >>> Experiment.product(transport=["sse", "tcp"], clients=[1, 10])[:2]
        [{'transport': 'sse', 'clients': 1}, {'transport': 'sse', 'clients': 10}]
        """
        grid = _grid_lists(grid, "grid")
        return [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]

    def _plan(self, grid: Any, trials: list[Mapping[str, Any]] | None) -> list[Trial]:
        if grid is None and trials is None:
            grid = {}
        grids = [] if grid is None else [grid] if isinstance(grid, Mapping) else grid
        if not isinstance(grids, list):
            raise ConfigError(f"grid must be a dict of lists or a list of such dicts, "
                              f"not {type(grid).__name__}")
        candidates: list[tuple[dict[str, Any], bool]] = []  # (params, strict)
        for k, g in enumerate(grids):
            where = "grid" if len(grids) == 1 else f"grid[{k}]"
            _check_keys(g, where)
            candidates += [(p, False) for p in self.product(**_grid_lists(g, where))]
        if trials is not None:
            if not isinstance(trials, list):
                raise ConfigError(f"trials must be a list of dicts, not {type(trials).__name__}")
            for k, t in enumerate(trials):
                _check_keys(t, f"trials[{k}]")
                candidates.append((dict(t), True))

        own: list[dict[str, Any]] = []
        seen: set[str] = set()
        for params, strict in candidates:
            if not strict:
                params = _applicable(params, {**self.base, **params})
            key = _canonical(params)
            if key not in seen:
                seen.add(key)
                own.append(params)

        planned: list[Trial] = []
        ids: dict[str, dict[str, Any]] = {}
        for params in own:
            merged = {**_applicable(self.base, {**self.base, **params}), **params}
            if "transport" not in merged:
                raise ConfigError("transport must be given (in grid, trials or base); allowed: "
                                  + ", ".join(transports.names()))
            tid = _trial_name(merged["transport"], params)
            if tid in ids:
                raise ConfigError(f"trials {ids[tid]} and {params} get the same folder name "
                                  f"{tid!r}; make their parameters differ more visibly")
            ids[tid] = params
            shape = _schedule_key(RunConfig(**merged).validate())
            for rep in range(self.repeats):
                seed = merged["seed"] if "seed" in merged else _derive_seed(self.seed, shape, rep)
                cfg = RunConfig(**{**merged, "seed": seed}).validate()
                rid = f"{tid}_rep{rep}"
                planned.append(Trial(rid, dict(params), rep, cfg.seed, cfg, self.root / rid))
        return planned

    def __len__(self) -> int:
        return len(self.trials)

    def __repr__(self) -> str:
        return (f"Experiment({self.name!r}: {len(self.trials)} trials "
                f"({len(self.trials) // self.repeats} × {self.repeats} repeats) in {self.root})")

    # -- running --------------------------------------------------------------
    def _existing(self) -> dict[str, Run]:
        """Completed trials to reuse; refuses folders that are in the way."""
        found: dict[str, Run] = {}
        for t in self.trials:
            if not t.path.exists() or (t.path.is_dir() and not any(t.path.iterdir())):
                continue
            try:
                run = load(t.path)
            except IncompleteRunError as exc:
                raise ConfigError(f"{exc}; it is in the way of trial {t.id}: remove it") from None
            diffs = _param_diff(t.config, run.manifest.get("parameters", {}))
            if diffs:
                why = ("; trial seeds derive from the experiment seed, the repeat and the "
                       "schedule only (shared by every transport of a repeat), so a run "
                       "stored with another seed is not reused"
                       if [d.split()[0] for d in diffs] == ["seed"] else "")
                raise ConfigError(
                    f"{t.path} holds a run with other parameters ({'; '.join(diffs)}){why}; "
                    "give the experiment another name or root, or remove that folder"
                )
            found[t.id] = run
        return found

    def _remove_leftovers(self) -> None:
        """Remove temporary folders of killed runs: their writer is gone, or is
        this process (called before it starts a run here)."""
        import psutil

        for d in temporary_dirs(self.root):
            pid = temporary_owner(d)
            if pid == os.getpid() or not psutil.pid_exists(pid):
                shutil.rmtree(d, ignore_errors=True)

    def run(self, progress: bool = True, fresh: bool = False) -> pd.DataFrame:
        """Measure every trial not yet measured; one row per trial (see `table`).

        One server (`Lab`) serves every new trial (one per TLS setting when
        the trials set ``tls``); it is not started at all when every trial is
        reused. ``fresh``: every new trial in a server of its own, so memory
        measured from RSS starts from scratch (a server that served earlier
        runs reuses the memory they freed). A failed or interrupted trial
        leaves no folder: running again resumes from there.
        """
        from ..runner.lab import Lab

        existing = self._existing()  # may refuse: before anything starts
        self._remove_leftovers()
        # Repeat-major order: every trial's repeat 0, then every trial's repeat 1, ...
        # so trials compared within a repeat (same seed) run close together in
        # time and slow drift of the machine does not fall on one of them.
        todo = sorted((t for t in self.trials if t.id not in existing),
                      key=lambda t: t.repeat)
        runs: dict[str, Run] = dict(existing)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(self.trials), initial=len(existing), desc=self.name,
                       unit="trial")
        try:
            # One server per TLS setting (a Lab serves clear text or one TLS
            # version): a sweep of clear and TLS runs keeps its repeat-major
            # order within each setting. Fresh: one server per trial, in order.
            batches = ([[t] for t in todo] if fresh else
                       [[t for t in todo if t.config.tls == tls]
                        for tls in dict.fromkeys(t.config.tls for t in todo)])
            for batch in batches:
                if batch:
                    with Lab(host=batch[0].config.host, tls=batch[0].config.tls) as lab:
                        for t in batch:
                            if bar is not None:
                                bar.set_postfix_str(t.id, refresh=True)
                            cfg = RunConfig(**t.kwargs())
                            runs[t.id] = lab.run(cfg.transport, config=cfg,
                                                 progress=None if progress else False)
                            if bar is not None:
                                bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        self._runs = [runs[t.id] for t in self.trials]
        self._reused = set(existing)
        return self.table()

    @property
    def runs(self) -> list[Run]:
        """The trials' runs, in trial order (loaded from disk if `run` was not called)."""
        if self._runs is None:
            existing = self._existing()
            missing = [t.id for t in self.trials if t.id not in existing]
            if missing:
                raise IncompleteRunError(
                    f"{len(missing)} of {len(self.trials)} trials have not run yet "
                    f"(e.g. {missing[0]}); call run() first"
                )
            self._runs = [existing[t.id] for t in self.trials]
        return self._runs

    # -- tables ---------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """One row per trial: ``trial``, ``repeat``, the run's parameters
        (``options`` flattened as ``option_<name>``), the summary's scalars with
        latency flattened (``latency_p50_us`` … ``latency_mean_us``), ``path``
        and ``reused`` (the run was found on disk rather than measured now)."""
        runs = self.runs
        reused = self._reused if self._reused is not None else {t.id for t in self.trials}
        rows = [_row(t, r, t.id in reused) for t, r in zip(self.trials, runs, strict=True)]
        df = pd.DataFrame(rows)
        df["reused"] = df["reused"].astype(bool)
        return df

    def _per_trial(self, frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
        out = []
        for t, frame in zip(self.trials, frames, strict=True):
            params = t.config.as_dict()
            frame = frame.copy()
            lead = {"trial": t.id, "repeat": t.repeat,
                    **{k: params.get(k) for k in self.keys}}
            for i, (k, v) in enumerate(lead.items()):
                frame.insert(i, k, [v] * len(frame) if isinstance(v, dict) else v)
            out.append(frame)
        df = pd.concat(out, ignore_index=True)
        df["trial"] = pd.Categorical(df["trial"], categories=[t.id for t in self.trials])
        for k in self.keys:  # e.g. interval: a number, or None where it does not apply
            values = df[k].dropna()
            if len(values) and isinstance(values.iloc[0], Mapping):
                continue  # options: a dict per row (unhashable), kept as it is
            if df[k].dtype == object and len(values) and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values.unique()
            ):
                df[k] = df[k].astype(float)
        return df

    def messages(self) -> pd.DataFrame:
        """Every delivery of every trial (``client_id``, ``seq``, ``published_ns``,
        ``received_ns``, ``latency_us``; duplicates and warm-up included), with
        ``trial``, ``repeat`` and the varying parameters (`keys`) attached."""
        frames = []
        for run in self.runs:
            m = run.messages.copy()
            m["latency_us"] = (m.received_ns - m.published_ns) / 1e3
            frames.append(m)
        return self._per_trial(frames)

    deliveries = messages

    def latencies(self) -> pd.DataFrame:
        """One-way latency (``latency_us``) of each first delivery after the
        warm-up — the population of the summaries' percentiles, for ECDFs —
        with its ``client_id`` and ``seq`` (the units `latency_ci` can
        resample) and ``trial``, ``repeat`` and the varying parameters attached."""
        frames = []
        for r in self.runs:
            lat = r.latency_us()
            ids = r.messages.loc[lat.index, ["client_id", "seq"]]
            frames.append(pd.DataFrame({"latency_us": lat.to_numpy(),
                                        "client_id": ids.client_id.to_numpy(),
                                        "seq": ids.seq.to_numpy()}))
        return self._per_trial(frames)

    # -- intervals ------------------------------------------------------------
    def _grouping(self, by: str | Sequence[str] | None) -> tuple[list[str], pd.DataFrame]:
        """The group columns and `table` with a ``_group`` number per row.

        ``by=None``: the varying parameters (`keys`; options as their
        ``option_<name>`` columns), so each group is one trial's repeats."""
        df = self.table()
        if by is None:
            cols = [c for k in self.keys
                    for c in ([c for c in df.columns if c.startswith("option_")]
                              if k == "options" else [k])]
        else:
            cols = [by] if isinstance(by, str) else list(by)
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise ConfigError(f"cannot group by {', '.join(map(str, missing))}: not a column "
                                  f"of the table; columns: {', '.join(df.columns)}")
        df["_group"] = df.groupby(cols, sort=False, dropna=False).ngroup()
        return cols, df

    def aggregate(self, by: str | Sequence[str] | None = None,
                  metrics: Sequence[str] | None = None, level: float = 0.95,
                  method: str = "t", n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
        """Each per-run metric over the runs of each group, with an interval.

        Groups the rows of `table` by ``by`` (default: the trial, i.e. its
        varying parameters, so a group holds one trial's repeats) and gives,
        per metric, the mean over the group's runs and ``<metric>_low``,
        ``<metric>_high``, ``<metric>_n`` (runs with a finite value). Runs are
        the independent unit (see `wslab.stats`). ``method``: ``"t"`` (Student
        t interval, `wslab.stats.mean_ci`: right for a handful of repeats) or
        ``"bootstrap"`` (percentile bootstrap of the mean over runs, seeded by
        ``seed``). One run per group gives NaN bounds: set ``repeats``.
        ``metrics``: any numeric columns of `table`; default `METRICS` (those
        present). Columns: the group columns, ``runs``, then the metrics.
        """
        if method not in ("t", "bootstrap"):
            raise ConfigError(f"method must be 't' or 'bootstrap', not {method!r}")
        cols, df = self._grouping(by)
        wanted = [m for m in METRICS if m in df.columns] if metrics is None else (
            [metrics] if isinstance(metrics, str) else list(metrics))
        missing = [m for m in wanted if m not in df.columns]
        if missing:
            raise ConfigError(f"unknown metric(s) {', '.join(map(str, missing))}; columns of "
                              f"the table: {', '.join(c for c in df.columns if c != '_group')}")
        rows = []
        for _, g in df.groupby("_group", sort=True):
            row: dict[str, Any] = {c: g[c].iloc[0] for c in cols}
            row["runs"] = len(g)
            for m in wanted:
                try:
                    values = g[m].to_numpy(dtype=float)
                except (TypeError, ValueError):
                    raise ConfigError(f"metric {m} is not numeric") from None
                values = values[np.isfinite(values)]
                if not len(values):
                    row.update({m: np.nan, f"{m}_low": np.nan, f"{m}_high": np.nan, f"{m}_n": 0})
                    continue
                est = (stats.mean_ci(values, level, unit="runs") if method == "t" else
                       stats.bootstrap_ci(values, np.mean, level, n_boot, seed, unit="runs"))
                row.update(est.as_dict(m))
            rows.append(row)
        return pd.DataFrame(rows)

    def latency_ci(self, statistic: Any = 0.5, by: str | Sequence[str] | None = None,
                   resample: str = "run", level: float = 0.95, n_boot: int = 2000,
                   seed: int = 0, method: str = "percentile") -> pd.DataFrame:
        """A statistic of the pooled `latencies` of each group, with a bootstrap
        interval that resamples whole runs, clients or events.

        ``statistic``: a quantile in (0, 1) (0.5 the median, 0.99 the p99),
        ``"mean"``, ``"median"`` or a callable of an array. ``by`` as in
        `aggregate` (default: one group per trial, pooling its repeats).
        ``resample`` (see `wslab.stats`): ``"run"`` — whole runs, the
        between-run variation a re-measurement would show (the default for
        figures; it needs repeats, and with fewer than ~10 runs the interval
        runs short, so prefer `aggregate` for means); ``"client"`` — each
        run's clients (within-setup spread: narrower, about these runs only);
        ``"event"`` — each run's events (a per-event model within runs).
        Columns: the group columns, ``runs``, then ``latency_<stat>_us`` (e.g.
        ``latency_p99_us``) with ``_low``, ``_high`` and ``_n`` (clusters).
        """
        if resample not in _RESAMPLE:
            raise ConfigError(f"resample must be one of {', '.join(_RESAMPLE)}, not {resample!r}")
        cluster, unit = _RESAMPLE[resample]
        name = f"latency_{_stat_name(statistic)}_us"
        cols, df = self._grouping(by)
        lat = self.latencies()
        group_of = dict(zip(df.trial, df["_group"], strict=True))
        lat["_group"] = lat.trial.astype(str).map(group_of)
        pooled = dict(iter(lat.groupby("_group", sort=True)))
        rows = []
        for gid, g in df.groupby("_group", sort=True):
            row: dict[str, Any] = {c: g[c].iloc[0] for c in cols}
            row["runs"] = len(g)
            sub = pooled.get(gid)
            if sub is None or sub.empty:
                row.update({name: np.nan, f"{name}_low": np.nan, f"{name}_high": np.nan,
                            f"{name}_n": 0})
            else:
                row.update(stats.cluster_bootstrap_ci(
                    sub, cluster, "latency_us", statistic, level, n_boot, seed, method=method,
                    unit=unit).as_dict(name))
            rows.append(row)
        return pd.DataFrame(rows)


def _stat_name(statistic: Any) -> str:
    """``0.99`` -> ``p99``, ``0.999`` -> ``p999``, ``"median"`` -> ``p50`` (as in summaries)."""
    if statistic is np.median or statistic == "median":
        return "p50"
    if statistic is np.mean or statistic == "mean":
        return "mean"
    if isinstance(statistic, int | float) and not isinstance(statistic, bool):
        if not 0 < statistic < 1:
            raise ConfigError(f"a quantile statistic must be between 0 and 1, not {statistic!r}")
        return "p" + f"{statistic * 100:g}".replace(".", "")
    if callable(statistic):
        return re.sub(r"\W+", "_", getattr(statistic, "__name__", "stat")).strip("_") or "stat"
    raise ConfigError(f"statistic must be a quantile between 0 and 1, 'mean', 'median' or a "
                      f"callable, not {statistic!r}")
