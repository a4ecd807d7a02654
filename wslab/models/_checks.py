"""Input checks shared by the models, and their scalar-or-array output rule.

Private to `wslab.models`: bad input raises `wslab.ConfigError` naming what is
allowed; a 0-d result comes back as a Python ``float``, anything else as the
NumPy array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ConfigError

__all__ = ["_as_float_array", "_non_negative", "_out", "_positive"]


def _as_float_array(value: Any, name: str) -> np.ndarray:
    """Convert ``value`` to a float ndarray, rejecting NaN."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a real number or array of real numbers") from exc
    if np.any(np.isnan(arr)):
        raise ConfigError(f"{name} must not be NaN")
    return arr


def _positive(value: Any, name: str) -> np.ndarray:
    """Validate a strictly positive, finite quantity."""
    arr = _as_float_array(value, name)
    if np.any(arr <= 0) or not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be positive and finite (> 0), got {value!r}")
    return arr


def _non_negative(value: Any, name: str) -> np.ndarray:
    """Validate a non-negative, finite quantity."""
    arr = _as_float_array(value, name)
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be non-negative and finite (>= 0), got {value!r}")
    return arr


def _out(arr: np.ndarray) -> float | np.ndarray:
    """Return a Python float for 0-d results, the array otherwise."""
    arr = np.asarray(arr)
    return float(arr) if arr.ndim == 0 else arr
