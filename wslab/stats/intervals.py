"""Closed-form intervals: the mean's Student t interval, quantiles' order statistics,
a least-squares slope's t interval."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..core.errors import ConfigError
from ._checks import _level, _values
from .distributions import _binom_cdf_window, t_quantile
from .estimate import Estimate

__all__ = ["mean_ci", "mean_ci_columns", "median_ci", "quantile_ci", "slope_ci"]


def mean_ci(values: Iterable[float], level: float = 0.95, *, unit: str = "values") -> Estimate:
    """The mean with its Student t interval (``unit`` names what one value is,
    e.g. ``"runs"``). One value gives no interval (NaN bounds)."""
    level = _level(level)
    x = _values(values)
    n, m = len(x), float(np.mean(x))
    method = f"t interval over {unit}"
    if n < 2:
        return Estimate(m, math.nan, math.nan, n, method, level)
    h = t_quantile((1 + level) / 2, n - 1) * float(np.std(x, ddof=1)) / math.sqrt(n)
    return Estimate(m, m - h, m + h, n, method, level)


def mean_ci_columns(values: Iterable[float], prefix: str, level: float = 0.95, *,
                    unit: str = "runs") -> dict[str, float | int]:
    """`mean_ci` of the finite ``values`` as tidy-table columns ``prefix``,
    ``prefix_low``, ``prefix_high``, ``prefix_n``; NaN columns and n = 0 when
    no value is finite (a metric a group's runs do not have)."""
    x = np.asarray(list(values), dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return {prefix: math.nan, f"{prefix}_low": math.nan, f"{prefix}_high": math.nan,
                f"{prefix}_n": 0}
    return mean_ci(x, level, unit=unit).as_dict(prefix)


def quantile_ci(values: Iterable[float], q: float, level: float = 0.95, *,
                unit: str = "values") -> Estimate:
    """The ``q`` quantile with a distribution-free interval from order statistics.

    The bounds are the order statistics X(l) and X(u) with
    P(Bin(n, q) <= l-1) <= (1-level)/2 and P(Bin(n, q) >= u) <= (1-level)/2,
    so the interval covers the true quantile with probability >= ``level``
    for any continuous distribution (exactly computed binomial tails). Too
    few values for that level give NaN bounds (a 95 % median interval needs 6).
    The value is ``np.quantile(values, q)``.
    """
    level = _level(level)
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 1:
        raise ConfigError(f"q must be between 0 and 1 (0.5 for the median), not {q!r}")
    x = np.sort(_values(values))
    n, alpha = len(x), 1 - level
    ks, cdf = _binom_cdf_window(n, float(q))
    value = float(np.quantile(x, q))
    method = f"order statistics over {unit}"
    # X(l) misses when fewer than l values fall below the quantile: P(Bin <= l-1);
    # X(u) misses when u or more do: P(Bin >= u). Each at most alpha/2.
    below = ks[cdf <= alpha / 2]
    k_lo = int(below[-1]) if len(below) else int(ks[0]) - 1  # cdf(ks[0] - 1) is ~0
    low = float(x[k_lo]) if k_lo >= 0 else math.nan
    above = ks[cdf >= 1 - alpha / 2]
    k_hi = int(above[0]) if len(above) else int(ks[-1]) + 1
    high = float(x[k_hi]) if k_hi < n else math.nan
    return Estimate(value, low, high, n, method, level)


def median_ci(values: Iterable[float], level: float = 0.95, *, unit: str = "values") -> Estimate:
    """The median with a distribution-free interval (`quantile_ci` at 0.5)."""
    return quantile_ci(values, 0.5, level, unit=unit)


def slope_ci(x: Iterable[float], y: Iterable[float], level: float = 0.95, *,
             unit: str = "runs") -> Estimate:
    """The least-squares slope of ``y`` over ``x`` with its Student t interval
    (n - 2 degrees of freedom; ``n``: the points, e.g. one per run, as RSS
    over N gives memory per connection). Non-finite pairs are dropped; fewer
    than 3 points give NaN bounds, one distinct x a NaN slope."""
    level = _level(level)
    xa, ya = np.asarray(list(x), float), np.asarray(list(y), float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n, method = len(xa), f"OLS slope, t interval over {unit}"
    if n < 2 or np.ptp(xa) == 0:
        return Estimate(math.nan, math.nan, math.nan, n, method, level)
    slope, intercept = np.polyfit(xa, ya, 1)
    if n < 3:
        return Estimate(float(slope), math.nan, math.nan, n, method, level)
    resid = ya - (slope * xa + intercept)
    se = math.sqrt(float(resid @ resid) / (n - 2) / float(((xa - xa.mean()) ** 2).sum()))
    h = t_quantile((1 + level) / 2, n - 2) * se
    return Estimate(float(slope), float(slope) - h, float(slope) + h, n, method, level)
