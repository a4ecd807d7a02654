"""The compression sweep's plan, its settings and its `wslab.Experiment`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...experiment import Experiment

__all__ = ["BASELINE", "SETTINGS", "Plan", "experiment", "memory_experiment", "plan",
           "setting_of"]

#: setting name -> (transport, client options); "off" rows are each transport's baseline
SETTINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "ws off": ("websocket", {}),
    # websockets' default answer: 2^12-byte windows, context kept between messages
    "ws deflate": ("websocket", {"compression": True}),
    "ws no takeover": ("websocket", {"compression": True, "server_no_context_takeover": True,
                                     "client_no_context_takeover": True}),
    "ws 15 bits": ("websocket", {"compression": True, "server_max_window_bits": 15}),
    "ws 9 bits": ("websocket", {"compression": True, "server_max_window_bits": 9}),
    "long-poll off": ("long-poll", {}),
    "long-poll gzip": ("long-poll", {"gzip": True}),
}
#: each setting's baseline (the same transport uncompressed)
BASELINE = {name: ("ws off" if t == "websocket" else "long-poll off")
            for name, (t, _) in SETTINGS.items()}


@dataclass(frozen=True)
class Plan:
    """Sizes of the sweep (`plan` derives them from QUICK)."""

    settings: tuple[str, ...]
    kinds: tuple[str, ...]
    sizes: tuple[int, ...]
    clients: int
    rate: float
    duration: float
    repeats: int
    #: N of the memory sweep (websocket settings, JSON of the largest size, a
    #: fresh server per run); empty: no memory sweep
    memory_ns: tuple[int, ...] = ()

    @property
    def memory_settings(self) -> tuple[str, ...]:
        return tuple(s for s in self.settings if SETTINGS[s][0] == "websocket")

    @property
    def runs(self) -> int:
        """Runs of both sweeps."""
        grid = len(self.settings) * len(self.kinds) * len(self.sizes)
        return (grid + len(self.memory_settings) * len(self.memory_ns)) * self.repeats

    def wall_s(self, overhead_s: float = 1.2, server_s: float = 0.8) -> float:
        """A rough wall time: every run's duration plus a fixed start/drain cost,
        and a server start per memory run."""
        memory = len(self.memory_settings) * len(self.memory_ns) * self.repeats
        return self.runs * (self.duration + overhead_s) + (memory + 1) * server_s


def plan(quick: bool) -> Plan:
    """Quick: JSON of 1 KiB, websocket deflate and gzip long polls against their
    baselines, 2 repeats, no memory sweep; full: every setting but the 9-bit
    window, each payload kind, two sizes, and the memory sweep at N = 5 and 50."""
    if quick:
        return Plan(("ws off", "ws deflate", "long-poll off", "long-poll gzip"), ("json",),
                    (1024,), clients=4, rate=50.0, duration=0.3, repeats=2)
    return Plan(tuple(s for s in SETTINGS if s != "ws 9 bits"), ("random", "json", "repeated"),
                (128, 4096), clients=5, rate=40.0, duration=0.6, repeats=2, memory_ns=(5, 50))


def experiment(p: Plan, name: str = "09_compression", seed: int = 9,
               root: str | None = None) -> Experiment:
    """Every setting x payload kind x size of ``p``; the runs keep their
    deliveries (the model rebuilds the event bodies from them)."""
    trials: list[Mapping[str, Any]] = []
    for setting in p.settings:
        transport, options = SETTINGS[setting]
        for kind in p.kinds:
            for size in p.sizes:
                trials.append({"transport": transport, "options": options,
                               "payload_kind": kind, "payload": size})
    return Experiment(name, trials=trials, repeats=p.repeats, seed=seed, root=root,
                      base={"clients": p.clients, "rate": p.rate, "duration": p.duration,
                            "schedule": "fixed", "warmup": 0.0})


def setting_of(row: Mapping[str, Any]) -> str:
    """The `SETTINGS` name of a run table's row (its transport and option columns)."""
    if row["transport"] == "long-poll":
        return "long-poll gzip" if row.get("option_gzip") is True else "long-poll off"
    if row.get("option_compression") is not True:
        return "ws off"
    if row.get("option_server_no_context_takeover") is True:
        return "ws no takeover"
    bits = row.get("option_server_max_window_bits")
    if bits is not None and not pd.isna(bits):
        return f"ws {int(bits)} bits"
    return "ws deflate"


def memory_experiment(p: Plan, name: str = "09_compression_memory", seed: int = 9,
                      root: str | None = None) -> Experiment:
    """The websocket settings of ``p`` at each N of ``p.memory_ns`` with JSON
    payloads of the largest size (the compressor's window fills); run it with
    ``fresh=True``: RSS over N is memory per connection only in fresh servers."""
    trials: list[Mapping[str, Any]] = [
        {"transport": "websocket", "options": SETTINGS[s][1], "clients": n}
        for s in p.memory_settings for n in p.memory_ns]
    return Experiment(name, trials=trials, repeats=p.repeats, seed=seed, root=root,
                      base={"payload_kind": "json", "payload": max(p.sizes), "rate": p.rate,
                            "duration": p.duration, "schedule": "fixed", "warmup": 0.0,
                            "keep_messages": False})
