"""wslab.stats.intervals: the t interval and order-statistic intervals, exact
cases and coverage on seeded simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wslab.core.errors import ConfigError
from wslab.stats import (
    mean_ci,
    median_ci,
    quantile_ci,
)

from .sims import SIMS, coverage


# -- mean ------------------------------------------------------------------------------
def test_mean_ci_is_the_t_interval():
    e = mean_ci([97, 99, 95, 101, 98], unit="runs")
    # mean 98, s = sqrt(5), t(0.975, 4) = 2.776445105...: half-width 2.776445 · s / sqrt(5)
    assert e.value == 98 and e.n == 5 and e.method == "t interval over runs"
    assert (e.low, e.high) == pytest.approx((98 - 2.7764451051977987, 98 + 2.7764451051977987))
    one = mean_ci([4.2])
    assert one.value == 4.2 and one.n == 1 and math.isnan(one.low) and math.isnan(one.high)


def test_mean_ci_covers_about_95_percent_with_few_runs():
    rng = np.random.default_rng(1)
    hits = [mean_ci(rng.normal(10, 3, 5)).contains(10) for _ in range(SIMS)]
    assert 0.92 <= coverage(hits) <= 0.98
    hits90 = [mean_ci(rng.normal(10, 3, 5), level=0.9).contains(10) for _ in range(SIMS)]
    assert 0.86 <= coverage(hits90) <= 0.94


# -- quantiles -------------------------------------------------------------------------
def test_median_ci_order_statistics_known_cases():
    # n = 10: X(2) and X(9), coverage 1 - 2 · 11/1024 = 0.979 (the textbook table)
    e = median_ci(np.arange(1, 11))
    assert (e.value, e.low, e.high, e.n) == (5.5, 2.0, 9.0, 10)
    # n = 5 cannot reach 95 %: the widest interval X(1)..X(5) covers 1 - 2/32
    e5 = median_ci([5, 1, 4, 2, 3])
    assert e5.value == 3 and math.isnan(e5.low) and math.isnan(e5.high)
    assert not math.isnan(median_ci(range(6)).low)  # six values are enough


def _binom_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1))


def test_quantile_ci_reaches_the_level_and_covers():
    rng = np.random.default_rng(2)
    n, q = 60, 0.9
    x = np.sort(rng.exponential(size=n))
    e = quantile_ci(x, q)
    lo, hi = int(np.searchsorted(x, e.low)), int(np.searchsorted(x, e.high))  # 0-based ranks
    assert _binom_cdf(hi, n, q) - _binom_cdf(lo, n, q) >= 0.95  # exact coverage of X(lo+1..hi+1)
    assert _binom_cdf(hi - 1, n, q) - _binom_cdf(lo, n, q) < 0.95  # and no narrower on top
    truth = -math.log(1 - q)  # the exponential's 0.9 quantile
    hits = [quantile_ci(rng.exponential(size=n), q).contains(truth) for _ in range(SIMS)]
    assert 0.93 <= coverage(hits) <= 0.995  # exact tails: at least the level, a bit above
    # a large sample uses the same exact tails: ranks near n q ± 1.96 sqrt(n q (1 - q))
    big = np.arange(1_000_000, dtype=float)
    eb = quantile_ci(big, 0.99)
    sd = math.sqrt(1e6 * 0.99 * 0.01)
    assert abs(eb.low - (990_000 - 1.96 * sd)) < 3 and abs(eb.high - (990_000 + 1.96 * sd)) < 3


def test_quantile_ci_refuses_bad_input():
    for kwargs, message in [({"values": [1, 2], "q": 1.0}, "q must be between 0 and 1"),
                            ({"values": [1, np.nan], "q": 0.5}, "NaN"),
                            ({"values": [], "q": 0.5}, "at least 1"),
                            ({"values": [[1, 2], [3, 4]], "q": 0.5}, "one-dimensional"),
                            ({"values": [1, 2], "q": 0.5, "level": 95}, "level must be")]:
        with pytest.raises(ConfigError, match=message):
            quantile_ci(**kwargs)


def test_mean_ci_columns_drop_non_finite_values_and_give_nan_columns_when_none_are_left():
    from wslab.stats import mean_ci, mean_ci_columns

    cols = mean_ci_columns([1.0, 2.0, float("nan"), 3.0], "x", unit="runs")
    assert cols == mean_ci([1.0, 2.0, 3.0], unit="runs").as_dict("x")
    empty = mean_ci_columns([float("nan")], "y")
    assert empty["y_n"] == 0 and all(math.isnan(empty[k]) for k in ("y", "y_low", "y_high"))


def test_slope_ci_covers_the_true_slope_and_refuses_degenerate_input():
    from wslab.stats import slope_ci

    x = np.array([1, 2, 3, 4, 5.0])
    est = slope_ci(x, 3 * x + np.array([0.1, -0.1, 0.05, 0.0, -0.05]))
    assert est.low < 3 < est.high and est.n == 5 and est.method.startswith("OLS slope")
    exact = slope_ci([10, 10, 100, 100], [1.0, 1.0, 10.0, 10.0])
    assert exact.value == pytest.approx(0.1) and exact.half_width == pytest.approx(0.0)
    assert np.isnan(slope_ci([2, 2, 2], [1, 2, 3]).value)
    assert np.isnan(slope_ci([1, 2], [1, 2]).low)  # two points: a slope, no interval
