"""Section 3 of notebook 09's sweeps: HTTP/1.1 vs HTTP/2 short polling with both
header profiles (a short and a long run per configuration and repeat, for the
per-poll difference), and HTTP/2 subscriptions multiplexed over one
connection vs one connection each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...core.errors import ConfigError
from ...runner.store import Run

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ...experiment import Experiment

__all__ = ["CONFIGS", "config_label", "multiplex_experiment", "poll_experiment", "run_pairs"]

#: label -> (transport, client options): one protocol x header profile each
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "HTTP/1.1 (aiohttp)": ("short-poll", {}),
    "HTTP/2 (aiohttp)": ("h2-short-poll", {}),
    "HTTP/1.1 (browser)": ("short-poll", {"headers": "browser"}),
    "HTTP/2 (browser)": ("h2-short-poll", {"headers": "browser"}),
}


def config_label(transport: str, options: Mapping[str, Any] | None) -> str:
    """``HTTP/2 (browser)`` and the like, from a run's transport and options."""
    protocol = "HTTP/2" if transport.startswith("h2-") else "HTTP/1.1"
    return f"{protocol} ({(options or {}).get('headers') or 'aiohttp'})"


def poll_experiment(name: str, *, clients: int, durations: Sequence[float], rate: float,
                    interval: float, payload: int, repeats: int, seed: int,
                    root: Any = None) -> Experiment:
    """Every `CONFIGS` entry at a short and a long duration, ``repeats`` times
    (one seed per repeat, shared by every configuration: the same events)."""
    from ...experiment import Experiment

    if len(durations) != 2 or not 0 < durations[0] < durations[1]:
        raise ConfigError(f"durations must be (short, long) seconds with 0 < short < long, "
                          f"not {durations!r}")
    plan: list[Mapping[str, Any]] = []
    for transport, options in CONFIGS.values():
        for d in durations:
            t: dict[str, Any] = {"transport": transport, "duration": float(d),
                                 "interval": float(interval)}
            if options:
                t["options"] = dict(options)
            plan.append(t)
    return Experiment(name, trials=plan, repeats=repeats, seed=seed, root=root,
                      base={"clients": clients, "rate": rate, "payload": payload,
                            "schedule": "fixed"})


def multiplex_experiment(name: str, *, clients: int, multiplex: Sequence[int], rate: float,
                         duration: float, repeats: int, seed: int,
                         transport: str = "h2-long-poll", root: Any = None) -> Experiment:
    """``clients`` subscriptions of ``transport``, ``k`` per connection for each
    ``k`` in ``multiplex`` (1: one connection each), ``repeats`` times."""
    from ...experiment import Experiment

    bad = [k for k in multiplex if not (isinstance(k, int) and 1 <= k <= clients)]
    if bad or not multiplex:
        raise ConfigError(f"multiplex must be integers from 1 to clients ({clients}), "
                          f"not {list(multiplex)!r}")
    plan: list[Mapping[str, Any]] = [{"options": {"multiplex": int(k)}} for k in multiplex]
    return Experiment(name, trials=plan, repeats=repeats, seed=seed, root=root,
                      base={"transport": transport, "clients": clients, "rate": rate,
                            "duration": duration, "schedule": "poisson"})


def run_pairs(exp: Experiment) -> dict[tuple[str, int], tuple[Run, Run]]:
    """``(label, repeat) -> (short run, long run)`` of a measured `poll_experiment`."""
    found: dict[tuple[str, int], dict[float, Run]] = {}
    for t, run in zip(exp.trials, exp.runs, strict=True):
        key = (config_label(t.config.transport, t.config.options), t.repeat)
        found.setdefault(key, {})[t.config.duration] = run
    pairs = {}
    for key, by_duration in found.items():
        if len(by_duration) != 2:
            raise ConfigError(f"{key[0]} repeat {key[1]}: {len(by_duration)} duration(s); "
                              "a short and a long run are needed")
        short, long = (by_duration[d] for d in sorted(by_duration))
        pairs[key] = (short, long)
    return pairs
