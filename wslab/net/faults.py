"""A run's fault plan, from CLI-style strings: the proxy's toxics and the Lab's server restarts.

``parse_faults(["outage:at=5s,mode=reset", "server_restart:at=8s,down=1s"],
duration_s=20, seed=1)`` checks every fault before anything starts and
splits them by who carries them out:

- every toxic type of `wslab.net.toxics` (``latency``, ..., ``strip_upgrade``,
  ``buffer``, ``outage``) goes to the impairment proxy, as its canonical
  string (`FaultPlan.toxics`; empty: the faults need no proxy);
- ``server_restart:at=T,down=D`` is carried out by the Lab: SIGKILL of the
  server process at ``T`` after the run starts and a restart on the same
  ports ``D`` later (`FaultPlan.restarts`).

Times are as in the toxics: a bare number is milliseconds, a string may carry
a unit (``5s``, ``250ms``). A timed fault (``outage``, ``server_restart``)
must start before the run ends; restarts must not overlap. Every error is one
`ConfigError` line that names what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.errors import ConfigError
from .toxics import _ALIASES, TOXIC_TYPES, Outage, parse_toxics
from .units import convert

__all__ = ["FAULT_NAMES", "FaultPlan", "ServerRestart", "parse_faults"]

#: every fault name parse_faults accepts (the toxic types, their aliases, server_restart)
FAULT_NAMES = (*TOXIC_TYPES, *_ALIASES, "server_restart")
_RESTART_ATTRIBUTES = ("at", "down")


@dataclass(frozen=True)
class ServerRestart:
    """Kill the server (SIGKILL) ``at`` s after the run starts; restart it on the same
    ports ``down`` s later. Carried out by the Lab, not the proxy."""

    at: float
    down: float = 0.0

    def __str__(self) -> str:
        return f"server_restart:at={self.at:g}s,down={self.down:g}s"


@dataclass(frozen=True)
class FaultPlan:
    """The faults of one run: ``toxics`` (canonical toxic strings for the proxy) and
    ``restarts`` (for the Lab, in time order)."""

    toxics: list[str] = field(default_factory=list)
    restarts: list[ServerRestart] = field(default_factory=list)

    @property
    def needs_proxy(self) -> bool:
        return bool(self.toxics)


def _fault_name(spec: str) -> str:
    return spec.partition(":")[0].partition("@")[0].strip()


def _parse_restart(spec: str) -> ServerRestart:
    head, _, body = spec.partition(":")
    if "@" in head:
        raise ConfigError(f"fault {spec!r}: server_restart takes no stream; "
                          "allowed: server_restart:at=T,down=D")
    values: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in body.split(","))):
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not key:
            raise ConfigError(f"fault {spec!r}: expected NAME=VALUE, got {item!r}")
        if key not in _RESTART_ATTRIBUTES:
            raise ConfigError(f"fault {spec!r}: unknown attribute {key!r}; allowed: "
                              + ", ".join(_RESTART_ATTRIBUTES))
        if key in values:
            raise ConfigError(f"fault {spec!r}: {key!r} given twice")
        values[key] = convert("ms", value, f"fault {spec!r}: {key} (a time >= 0, e.g. 5s)") / 1e3
    if "at" not in values:
        raise ConfigError(f"fault {spec!r}: missing attribute 'at'; allowed: "
                          "server_restart:at=T,down=D (e.g. at=5s,down=1s)")
    return ServerRestart(values["at"], values.get("down", 0.0))


def parse_faults(specs: Sequence[str], duration_s: float, seed: int) -> FaultPlan:
    """The fault plan of a run that publishes for ``duration_s`` s; ``seed`` is the
    toxics' default seed. Raises `ConfigError` (one line) on the first bad fault."""
    if isinstance(specs, str):
        specs = [specs]
    if isinstance(duration_s, bool) or not isinstance(duration_s, int | float) \
            or not 0 < duration_s < math.inf:
        raise ConfigError(f"run duration: expected a positive number of seconds, got "
                          f"{duration_s!r}")
    end = f"the run publishes for {duration_s:g} s"
    toxics: list[str] = []
    restarts: list[ServerRestart] = []
    for spec in specs:
        if not isinstance(spec, str) or not spec.strip():
            raise ConfigError(f"a fault must be a non-empty string like 'outage:at=5s,mode=reset' "
                              f"or 'server_restart:at=5s,down=1s', got {spec!r}")
        spec = spec.strip()
        name = _fault_name(spec)
        if name not in FAULT_NAMES:
            raise ConfigError(f"unknown fault {name!r}; allowed: " + ", ".join(FAULT_NAMES))
        if name == "server_restart":
            restart = _parse_restart(spec)
            if restart.at >= duration_s:
                raise ConfigError(f"fault {spec!r}: at={restart.at:g} s is at or after the run's "
                                  f"end; {end}")
            restarts.append(restart)
            continue
        try:
            parsed = parse_toxics(spec, seed=seed)
        except ConfigError as exc:
            raise ConfigError(f"fault {spec!r}: {exc}") from None
        for toxic in parsed:
            if isinstance(toxic, Outage) and toxic.at >= duration_s * 1e3:
                raise ConfigError(f"fault {spec!r}: at={toxic.at / 1e3:g} s is at or after the "
                                  f"run's end; {end}")
            toxics.append(str(toxic))
    restarts.sort(key=lambda r: r.at)
    for a, b in zip(restarts, restarts[1:], strict=False):
        if b.at <= a.at + a.down:
            raise ConfigError(f"faults {a} and {b} overlap: the server is down until "
                              f"{a.at + a.down:g} s; allowed: a restart that starts after the "
                              "previous one is back up")
    return FaultPlan(toxics, restarts)
