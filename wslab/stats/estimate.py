"""The estimate every figure shows, and where a model value lies relative to it.

`Estimate` is a value with its interval, the number of independent units and
the method; `verdict` and `check_table` set a model value beside it in words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..core.errors import ConfigError

__all__ = ["Estimate", "check_table", "verdict"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval at ``level``.

    ``n`` is the number of independent units behind the interval (runs,
    clients, events, values), ``method`` says how it was computed. ``low`` and
    ``high`` are NaN when ``n`` is too small for an interval at ``level``.
    """

    value: float
    low: float
    high: float
    n: int
    method: str
    level: float = 0.95

    @property
    def half_width(self) -> float:
        """Half the interval's width (intervals need not be symmetric)."""
        return (self.high - self.low) / 2

    @property
    def relative_half_width(self) -> float:
        """`half_width` over ``|value|`` (NaN when the value is 0)."""
        return self.half_width / abs(self.value) if self.value else math.nan

    def contains(self, x: float) -> bool:
        """True when ``low <= x <= high`` (False when there is no interval)."""
        return bool(self.low <= x <= self.high)

    def __str__(self) -> str:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return f"{self.value:.4g} (n={self.n}, {self.method}; no interval)"
        hw = self.half_width
        # two significant digits of the half-width decide the decimals shown
        digits = max(0, 1 - math.floor(math.log10(hw))) if hw > 0 else 3
        return (f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}] "
                f"(n={self.n}, {self.method})")

    def as_dict(self, prefix: str) -> dict[str, float | int]:
        """Flat columns for tidy tables: ``prefix``, ``prefix_low``, ``prefix_high``,
        ``prefix_n``."""
        return {prefix: self.value, f"{prefix}_low": self.low, f"{prefix}_high": self.high,
                f"{prefix}_n": self.n}


# -- models against measurements ----------------------------------------------------
def _pct(x: float) -> str:
    return f"{x:.1f}" if x >= 0.1 else f"{x:.2g}"


def verdict(measured: Estimate, model: float, tolerance: float = 0.0) -> str:
    """Where ``model`` lies relative to ``measured``'s interval, in words.

    ``"model inside 95 % CI"``, or ``"model above CI by 3.1 %"`` /
    ``"model below CI by 0.8 %"`` where the percentage is the gap to the
    nearest bound relative to that bound. ``tolerance`` (a fraction, e.g. 0.05)
    is how far outside still counts as agreement; such verdicts end in
    ``"(within 5 % tolerance)"``. No interval gives ``"no interval (n=1)"``.
    """
    model = float(model)
    if not math.isfinite(model):
        raise ConfigError(f"model must be a finite number, not {model!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
        raise ConfigError(f"tolerance must be a fraction >= 0 (e.g. 0.05), not {tolerance!r}")
    if not (math.isfinite(measured.low) and math.isfinite(measured.high)):
        return f"no interval (n={measured.n})"
    if measured.contains(model):
        return f"model inside {measured.level * 100:g} % CI"
    side, bound = ("above", measured.high) if model > measured.high else ("below", measured.low)
    gap = abs(model - bound) / (abs(bound) if bound else abs(model))
    text = f"model {side} CI by {_pct(gap * 100)} %"
    if gap <= tolerance:
        text += f" (within {tolerance * 100:g} % tolerance)"
    return text


def check_table(rows: Mapping[str, Any] | Iterable[Any]) -> pd.DataFrame:
    """Measured estimates next to model values, one row each, for notebooks.

    ``rows``: a mapping ``{quantity: (Estimate, model[, tolerance])}``, or an
    iterable of such tuples with the quantity first, or of dicts with keys
    ``measured`` (an `Estimate`), ``model``, optional ``tolerance`` and
    ``quantity``; other keys of a dict (e.g. ``rate``) become leading columns.
    Columns: [extra...], ``quantity``, ``measured``, ``low``, ``high``, ``n``,
    ``model``, ``verdict``, ``method``.
    """
    items: list[dict[str, Any]] = []
    source = rows.items() if isinstance(rows, Mapping) else rows
    for k, row in enumerate(source):
        if isinstance(rows, Mapping):
            name, spec = row
            row = {"quantity": name, **(dict(spec) if isinstance(spec, Mapping) else dict(
                zip(("measured", "model", "tolerance"), spec, strict=False)))}
        elif not isinstance(row, Mapping):
            row = dict(zip(("quantity", "measured", "model", "tolerance"), row, strict=False))
        row = dict(row)
        est = row.pop("measured", None)
        if not isinstance(est, Estimate) or "model" not in row:
            raise ConfigError(f"check_table row {k} needs an Estimate ('measured') and a "
                              f"'model' value, not {row!r}")
        model, tol = float(row.pop("model")), row.pop("tolerance", 0.0)
        name = row.pop("quantity", None)
        items.append({**row, "quantity": name, "measured": est.value, "low": est.low,
                      "high": est.high, "n": est.n, "model": model,
                      "verdict": verdict(est, model, tol), "method": est.method})
    cols = ["quantity", "measured", "low", "high", "n", "model", "verdict", "method"]
    df = pd.DataFrame(items)
    if df.empty:
        return pd.DataFrame(columns=cols)
    return df[[c for c in df.columns if c not in cols] + cols]
