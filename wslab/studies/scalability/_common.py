"""What the scalability modules share: the variants in figure order and a
value with its interval as text."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .variants import VARIANTS

__all__: list[str] = []


def _order(frame: pd.DataFrame, order: Sequence[str] | None = None) -> list[str]:
    names = list(order or [v.name for v in VARIANTS])
    return [n for n in names if n in set(frame.variant)] + [
        n for n in dict.fromkeys(frame.variant) if n not in names]


def _fmt(value: float) -> str:
    """Decimals from the magnitude, never scientific notation: 4,376 / 13.9 / 0.47."""
    a = abs(value)
    return ",.0f" if a >= 100 else ".1f" if a >= 10 else ".2f" if a >= 0.1 else ".3f"


def _ci(row: Any, name: str, fmt: str | None = None) -> str:
    """``value [low, high]`` of ``row``'s ``name`` columns (attributes or keys);
    ``fmt`` None picks the decimals from the value's magnitude."""
    keyed = isinstance(row, Mapping | pd.Series)
    value, low, high = (float(row[k] if keyed else getattr(row, k))
                        for k in (name, f"{name}_low", f"{name}_high"))
    fmt = fmt or _fmt(value)
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{value:{fmt}} (no interval)"
    return f"{value:{fmt}} [{low:{fmt}}, {high:{fmt}}]"
