"""Runs paired by duration: a short and a long run of the same configuration
and repeat, whose difference cancels what a run pays once (handshakes,
first requests, the close) and leaves the cost per unit of time or event."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..core.errors import ConfigError
from ..runner.store import Run
from .sweep import Experiment

__all__ = ["duration_pairs"]


def duration_pairs(exp: Experiment, label: Callable[[str, Mapping[str, Any] | None], str]
                   ) -> dict[tuple[str, int], tuple[Run, Run]]:
    """``(label, repeat) -> (short run, long run)`` of a measured experiment whose
    configurations each ran at two durations; ``label(transport, options)``
    names a configuration. Refuses a configuration without exactly two."""
    found: dict[tuple[str, int], dict[float, Run]] = {}
    for t, run in zip(exp.trials, exp.runs, strict=True):
        key = (label(t.config.transport, t.config.options), t.repeat)
        found.setdefault(key, {})[t.config.duration] = run
    pairs = {}
    for key, by_duration in found.items():
        if len(by_duration) != 2:
            raise ConfigError(f"{key[0]} repeat {key[1]} has {len(by_duration)} duration(s); "
                              "a short and a long run are needed")
        short, long = (by_duration[d] for d in sorted(by_duration))
        pairs[key] = (short, long)
    return pairs
