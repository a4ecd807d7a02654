"""An experiment's trials before anything runs: which parameters a sweep may
set and where, what applies to which transport, the trial's folder name and
its seed (derived from the experiment seed, the schedule and the repeat only;
see `wslab.experiment`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import transports
from ..core.errors import ConfigError
from ..runner.config import RunConfig

__all__ = ["SCHEDULE_PARAMETERS", "Trial"]

#: RunConfig fields a sweep may set (``out`` is the experiment's; ``host`` is
#: one server's, so it may only be in ``base``).
_RESERVED = ("out",)
_BASE_ONLY = ("host",)

#: The RunConfig fields `wslab.core.events.schedule_offsets` draws event times
#: from (besides the seed): a derived seed depends on these and the repeat only.
SCHEDULE_PARAMETERS = ("schedule", "rate", "duration", "burst")


def _fields() -> list[str]:
    return [f.name for f in dataclasses.fields(RunConfig)]


def _default(name: str) -> Any:
    f = next(f for f in dataclasses.fields(RunConfig) if f.name == name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _check_keys(params: Mapping[str, Any], where: str, *, base: bool = False) -> None:
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where} must be a dict of parameters, not {type(params).__name__}")
    allowed = [f for f in _fields() if f not in _RESERVED and (base or f not in _BASE_ONLY)]
    unknown = [k for k in params if k not in allowed]
    if unknown:
        extra = ("; host can only be set in base (one server serves every trial)"
                 if "host" in unknown and not base else "")
        raise ConfigError(
            f"unknown parameter(s) {', '.join(map(str, unknown))} in {where}; "
            f"allowed: {', '.join(allowed)}{extra}"
        )


@dataclass(frozen=True)
class Trial:
    """One run of an experiment: its parameters, repeat, seed and directory."""

    id: str
    params: dict[str, Any]  # the trial's own parameters (grid or trials; base excluded)
    repeat: int
    seed: int
    config: RunConfig  # validated, every parameter (base included)
    path: Path

    def kwargs(self) -> dict[str, Any]:
        """RunConfig keywords for a fresh config of this trial (``out`` included)."""
        return {**_config_kwargs(self.config), "out": str(self.path)}


def _config_kwargs(cfg: RunConfig) -> dict[str, Any]:
    return {f: getattr(cfg, f) for f in _fields() if f != "out"}


def _grid_lists(grid: Mapping[str, Any], where: str) -> dict[str, list[Any]]:
    out = {}
    for k, v in grid.items():
        if isinstance(v, str | bytes | Mapping) or not isinstance(v, Iterable):
            raise ConfigError(f"{where}[{k!r}] must be a list of values, not {v!r}")
        values = list(v)
        if not values:
            raise ConfigError(f"{where}[{k!r}] is empty: give at least one value")
        out[k] = values
    return out


def _applicable(params: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` less what does not apply to the trial described by ``context``."""
    out = dict(params)
    transport = context.get("transport", params.get("transport"))
    if transport in transports.names():
        cls = transports.get(transport)
        known = {**cls.client_options, **dict.fromkeys(cls.optional_options)}
        if "interval" not in known:
            out.pop("interval", None)
        if isinstance(out.get("options"), Mapping):
            out["options"] = {k: v for k, v in out["options"].items() if k in known}
            if not out["options"]:
                del out["options"]
    schedule = context.get("schedule", params.get("schedule", _default("schedule")))
    if schedule != "burst":
        out.pop("burst", None)
    return out


def _plain(value: Any) -> Any:
    """50.0 and 50 are one value (as in trial names)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _canonical(params: Mapping[str, Any]) -> str:
    return json.dumps(_plain(params), sort_keys=True, default=repr)


def _schedule_key(cfg: RunConfig) -> dict[str, Any]:
    """The validated trial's `SCHEDULE_PARAMETERS` (``burst`` only for bursts)."""
    key = {k: getattr(cfg, k) for k in SCHEDULE_PARAMETERS}
    if cfg.schedule != "burst":
        del key["burst"]  # not used by the other schedules
    return key


def _derive_seed(seed: int, schedule: Mapping[str, Any], repeat: int) -> int:
    """A trial's seed from the experiment seed, its schedule and its repeat."""
    text = f"{seed}|{_canonical(schedule)}|{repeat}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") >> 1


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}={_fmt(v)}" for k, v in sorted(value.items()))
    return str(value)


def _trial_name(transport: Any, params: Mapping[str, Any]) -> str:
    parts = [str(transport)]
    for f in _fields():
        if f in params and f != "transport":
            parts.append(_fmt(params[f]) if f == "options" else f"{f}={_fmt(params[f])}")
    name = re.sub(r"[^A-Za-z0-9._+=,@-]+", "-", "_".join(parts))
    return name.lstrip(".") or "trial"
