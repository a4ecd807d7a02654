"""Input checks shared by `wslab.stats`: each raises `wslab.ConfigError` naming
what is allowed. Private to the package."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..core.errors import ConfigError

__all__ = ["_level", "_method", "_n_boot", "_positive", "_values"]


def _level(level: float) -> float:
    if not isinstance(level, int | float) or isinstance(level, bool) or not 0 < level < 1:
        raise ConfigError(f"level must be a number between 0 and 1 (e.g. 0.95), not {level!r}")
    return float(level)


def _values(values: Any, name: str = "values", at_least: int = 1) -> np.ndarray:
    if isinstance(values, Iterable) and not hasattr(values, "__len__"):
        values = list(values)  # a generator
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be numbers, not {type(values).__name__}") from None
    if x.ndim != 1:
        raise ConfigError(f"{name} must be a one-dimensional list of numbers, not of shape "
                          f"{x.shape}")
    if len(x) < at_least:
        raise ConfigError(f"{name} must hold at least {at_least} value(s), not {len(x)}")
    if not np.isfinite(x).all():
        raise ConfigError(f"{name} contain NaN or infinite values: drop them first "
                          f"({np.count_nonzero(~np.isfinite(x))} of {len(x)})")
    return x


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            value > 0 and math.isfinite(value)):
        raise ConfigError(f"{name} must be a positive number, not {value!r}")
    return float(value)


def _n_boot(n_boot: Any) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise ConfigError(f"n_boot must be an integer >= 100, not {n_boot!r}")
    return n_boot


def _method(method: str, allowed: Sequence[str] = ("percentile", "bca")) -> str:
    if method not in allowed:
        raise ConfigError(f"method must be one of {', '.join(allowed)}, not {method!r}")
    return method
