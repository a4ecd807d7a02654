"""Section 3 of notebook 09's sweeps: HTTP/1.1 vs HTTP/2 short polling with both
header profiles (a short and a long run per configuration and repeat, for the
per-poll difference), and HTTP/2 subscriptions multiplexed over one
connection vs one connection each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...core.errors import ConfigError
from ...runner.store import Run

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ...experiment import Experiment

__all__ = ["CONFIGS", "RUN_OVERHEAD_S", "Plan", "config_label", "multiplex_experiment", "plan",
           "poll_experiment", "run_pairs"]

#: what a run costs beyond its duration (fleet start, connect, drain, commit), for planning
RUN_OVERHEAD_S = 1.0

#: label -> (transport, client options): one protocol x header profile each
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "HTTP/1.1 (aiohttp)": ("short-poll", {}),
    "HTTP/2 (aiohttp)": ("h2-short-poll", {}),
    "HTTP/1.1 (browser)": ("short-poll", {"headers": "browser"}),
    "HTTP/2 (browser)": ("h2-short-poll", {"headers": "browser"}),
}


@dataclass(frozen=True)
class Plan:
    """Section 3's sizes (`plan`): the poll sweep, the multiplexing sweep, the probe."""

    clients: int
    durations: tuple[float, float]
    interval: float
    rate: float
    repeats: int
    mux_clients: int
    multiplex: tuple[int, ...]
    mux_rate: float
    mux_duration: float
    probe_polls: int
    payload: int = 64

    @property
    def runs(self) -> int:
        """Runs of both sweeps."""
        return self.repeats * (len(CONFIGS) * 2 + len(self.multiplex))

    def wall_s(self) -> float:
        """Planned wall time (s): durations plus `RUN_OVERHEAD_S` per run, and
        about a second per probe child (2 profiles x repeats)."""
        polls = self.repeats * len(CONFIGS) * (sum(self.durations) + 2 * RUN_OVERHEAD_S)
        mux = self.repeats * len(self.multiplex) * (self.mux_duration + RUN_OVERHEAD_S)
        return polls + mux + 2 * self.repeats * 1.0


def plan(quick: bool) -> Plan:
    """Quick: 2 clients, two short runs per configuration, 2 repeats (indicative
    only). Full: 10 pollers every 0.25 s for 2 s and 5 s, 50 subscriptions
    1, 10 or 50 per connection, 5 repeats."""
    if quick:
        return Plan(clients=2, durations=(0.2, 0.5), interval=0.05, rate=20.0, repeats=2,
                    mux_clients=4, multiplex=(1, 4), mux_rate=20.0, mux_duration=0.3,
                    probe_polls=4)
    return Plan(clients=10, durations=(2.0, 5.0), interval=0.25, rate=10.0, repeats=5,
                mux_clients=50, multiplex=(1, 10, 50), mux_rate=20.0, mux_duration=4.0,
                probe_polls=8)


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
                         transport: str = "h2-long-poll", hold: float = 5.0,
                         root: Any = None) -> Experiment:
    """``clients`` subscriptions of ``transport``, ``k`` per connection for each
    ``k`` in ``multiplex`` (1: one connection each), ``repeats`` times.

    Long polls are held at most ``hold`` seconds: in about one run in a dozen
    with 8 subscriptions on one connection, one request was answered only when
    its hold ran out (30 s by default), so the hold bounds what that costs a
    sweep; the latency maximum of such a run shows it."""
    from ...experiment import Experiment

    bad = [k for k in multiplex if not (isinstance(k, int) and 1 <= k <= clients)]
    if bad or not multiplex:
        raise ConfigError(f"multiplex must be integers from 1 to clients ({clients}), "
                          f"not {list(multiplex)!r}")
    plan: list[Mapping[str, Any]] = [{"options": {"multiplex": int(k), "timeout": float(hold)}}
                                     for k in multiplex]
    return Experiment(name, trials=plan, repeats=repeats, seed=seed, root=root,
                      base={"transport": transport, "clients": clients, "rate": rate,
                            "duration": duration, "schedule": "poisson"})


def run_pairs(exp: Experiment) -> dict[tuple[str, int], tuple[Run, Run]]:
    """``(label, repeat) -> (short run, long run)`` of a measured `poll_experiment`."""
    from ...experiment import duration_pairs

    return duration_pairs(exp, config_label)
