"""Stored runs seen from an experiment: how a stored run's parameters differ
from a trial's (resuming refuses such a run), and a run as one row of
`Experiment.table`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..runner.config import RunConfig
from ..runner.store import Run
from .trials import Trial

__all__: list[str] = []


def _param_diff(cfg: RunConfig, found: Mapping[str, Any]) -> list[str]:
    want = json.loads(json.dumps(cfg.as_dict(), default=str))
    # A parameter or transport option newer than the stored run counts as
    # equal when the trial asks for its default: old run stores stay usable.
    defaults = json.loads(json.dumps(
        RunConfig(transport=cfg.transport).validate().as_dict(), default=str))
    found = dict(found)
    found["options"] = {**defaults.get("options", {}), **(found.get("options") or {})}
    diffs = []
    for k in sorted(set(want) | set(found), key=lambda k: (k not in want, k)):
        if k == "out":
            continue
        if k not in found and want.get(k) in (None, defaults.get(k)):
            continue  # a parameter newer than the run, at its default
        if want.get(k) != found.get(k):
            diffs.append(f"{k} {found.get(k)!r} here, {want.get(k)!r} wanted")
    return diffs


def _row(trial: Trial, run: Run, reused: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"trial": trial.id, "repeat": trial.repeat}
    params = dict(run.manifest["parameters"])
    params.pop("out", None)
    options = params.pop("options", None) or {}
    row.update(params)
    row.update({f"option_{k}": v for k, v in options.items() if k != "interval"})
    for k, v in run.summary.items():
        if k in row or isinstance(v, str):
            continue
        if isinstance(v, Mapping):
            stem, unit = (k[:-3], "_us") if k.endswith("_us") else (k, "")
            row.update({f"{stem}_{q}{unit}": x for q, x in v.items()})
        elif not isinstance(v, list):
            row[k] = v
    row["path"] = str(run.path)
    row["reused"] = reused
    return row
