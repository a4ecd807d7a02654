"""The TLS cost sweep's plan and its `wslab.Experiment`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...experiment import Experiment

__all__ = ["Plan", "experiment", "plan"]


@dataclass(frozen=True)
class Plan:
    """Sizes of the sweep (`plan` derives them from QUICK)."""

    transports: tuple[str, ...]
    n_small: int  # clients of the short runs
    n_large: int  # clients of the long runs (the two N of the memory slope)
    short_s: float  # the two run lengths whose difference gives bytes per event
    long_s: float
    rate: float  # events per second (fixed schedule)
    payload: int
    repeats: int
    fresh: bool = False  # every run in its own server (memory per connection means something)
    version: str = "1.3"

    @property
    def runs(self) -> int:
        """Runs in the sweep: 2 shapes x 2 settings x transports x repeats."""
        return 2 * 2 * len(self.transports) * self.repeats

    def wall_s(self, overhead_s: float = 1.2, server_s: float = 0.8) -> float:
        """A rough wall time: every run's duration plus a fixed start/drain cost,
        and a server start per run (``fresh``) or per setting."""
        per = (self.short_s + self.long_s) / 2 + overhead_s
        return self.runs * (per + (server_s if self.fresh else 0.0)) + 2 * server_s


def plan(quick: bool) -> Plan:
    """Quick: the websocket only, 2 repeats, one server per setting (memory per
    connection not meaningful); full: four transports, 3 repeats, a fresh
    server per run."""
    if quick:
        return Plan(("websocket",), n_small=2, n_large=12, short_s=0.25, long_s=0.6,
                    rate=50.0, payload=256, repeats=2)
    return Plan(("tcp", "websocket", "sse", "long-poll"), n_small=10, n_large=100,
                short_s=0.4, long_s=1.0, rate=50.0, payload=256, repeats=3, fresh=True)


def experiment(p: Plan, name: str = "09_tls_cost", seed: int = 9,
               root: str | None = None) -> Experiment:
    """Every transport of ``p`` in clear and over TLS, two shapes each: a short
    run with ``n_small`` clients and a long one with ``n_large``.

    A fixed schedule: the events per client of a shape are the same in every
    repeat and setting, so bytes differ only by what TLS adds. One client's
    bytes do not depend on how many others there are (each has its own
    connection and the same events), so the two shapes give both the bytes
    per event (over run length) and the memory slope (over N).
    """
    trials: list[Mapping[str, Any]] = []
    for transport in p.transports:
        for tls in (None, p.version):
            for clients, duration in ((p.n_small, p.short_s), (p.n_large, p.long_s)):
                trials.append({"transport": transport, "tls": tls, "clients": clients,
                               "duration": duration})
    return Experiment(name, trials=trials, repeats=p.repeats, seed=seed, root=root,
                      base={"rate": p.rate, "payload": p.payload, "schedule": "fixed",
                            "warmup": 0.0, "keep_messages": False})
