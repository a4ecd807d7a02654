"""Notebook 04's sweep: the configurations compared, their trials as one
resumable `Experiment` (a short and a long run per configuration and
repeat), and the measured runs paired back up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...core.errors import ConfigError
from ...runner.store import Run

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ...experiment import Experiment

__all__ = ["CONFIGS", "config_label", "experiment", "run_pairs", "trials"]

#: The configurations notebook 04 compares: label -> (transport, client options).
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "short-poll (aiohttp)": ("short-poll", {}),
    "short-poll (browser)": ("short-poll", {"headers": "browser"}),
    "long-poll (aiohttp)": ("long-poll", {}),
    "long-poll (browser)": ("long-poll", {"headers": "browser"}),
    "websocket": ("websocket", {}),
}


def config_label(transport: str, options: Mapping[str, Any] | None) -> str:
    """A run's label in `CONFIGS`: ``short-poll (browser)``, ``websocket`` ..."""
    if transport in ("short-poll", "long-poll"):
        return f"{transport} ({(options or {}).get('headers') or 'aiohttp'})"
    return transport


def trials(durations: Sequence[float], interval: float,
           configs: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None
           ) -> list[dict[str, Any]]:
    """Explicit `Experiment` trials: every configuration at every duration
    (short-poll with ``interval``)."""
    out = []
    for transport, options in (configs or CONFIGS).values():
        for d in durations:
            t: dict[str, Any] = {"transport": transport, "duration": float(d)}
            if transport == "short-poll":
                t["interval"] = float(interval)
            if options:
                t["options"] = dict(options)
            out.append(t)
    return out


def experiment(name: str, *, clients: int, durations: Sequence[float], rate: float,
               interval: float, payload: int, repeats: int, seed: int,
               configs: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None,
               root: Any = None) -> Experiment:
    """Notebook 04's sweep as a resumable `Experiment`: `trials` x ``repeats``
    on a fixed schedule (one seed per repeat, shared by every configuration)."""
    from ...experiment import Experiment

    if len(durations) != 2 or not durations[0] < durations[1]:
        raise ConfigError(f"durations must be (short, long) seconds with short < long, "
                          f"not {durations!r}")
    plan: list[Mapping[str, Any]] = list(trials(durations, interval, configs))
    return Experiment(name, trials=plan, repeats=repeats,
                      seed=seed, root=root, base={"clients": clients, "rate": rate,
                                                  "payload": payload, "schedule": "fixed"})


def run_pairs(exp: Experiment) -> dict[tuple[str, int], tuple[Run, Run]]:
    """``(label, repeat) -> (short run, long run)`` of a measured `experiment`."""
    from ...experiment import duration_pairs

    return duration_pairs(exp, config_label)
