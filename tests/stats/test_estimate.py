"""wslab.stats.estimate: the estimate's helpers, verdicts and check tables."""

from __future__ import annotations

import math

import pytest

from wslab.core.errors import ConfigError
from wslab.stats import (
    Estimate,
    check_table,
    verdict,
)


# -- the estimate -----------------------------------------------------------------------
def test_estimate_helpers():
    e = Estimate(97.8, 95.1, 100.4, 12, "bootstrap over runs")
    assert str(e) == "97.8 [95.1, 100.4] (n=12, bootstrap over runs)"
    assert e.half_width == pytest.approx(2.65) and e.relative_half_width == pytest.approx(
        2.65 / 97.8)
    assert e.contains(95.1) and e.contains(100) and not e.contains(100.5)
    assert e.as_dict("mean_ms") == {"mean_ms": 97.8, "mean_ms_low": 95.1,
                                    "mean_ms_high": 100.4, "mean_ms_n": 12}
    none = Estimate(5.0, math.nan, math.nan, 1, "t interval over runs")
    assert not none.contains(5.0) and "no interval" in str(none)
    assert str(Estimate(96319.2, 94800.0, 97900.0, 5, "x")) == "96319 [94800, 97900] (n=5, x)"

# -- verdicts ------------------------------------------------------------------------------
def test_verdicts_are_computed():
    e = Estimate(100.0, 95.0, 105.0, 8, "t interval over runs")
    assert verdict(e, 100) == "model inside 95 % CI"
    assert verdict(e, 105) == "model inside 95 % CI"
    assert verdict(e, 110) == "model above CI by 4.8 %"  # 5 / 105
    assert verdict(e, 90) == "model below CI by 5.3 %"  # 5 / 95
    assert verdict(e, 106, tolerance=0.05) == "model above CI by 1.0 % (within 5 % tolerance)"
    assert verdict(e, 105.01) == "model above CI by 0.0095 %"
    assert verdict(Estimate(1, 0.5, 1.5, 4, "x", level=0.9), 1) == "model inside 90 % CI"
    assert verdict(Estimate(1, math.nan, math.nan, 1, "x"), 1) == "no interval (n=1)"
    with pytest.raises(ConfigError, match="tolerance must be a fraction"):
        verdict(e, 1, tolerance=-1)


def test_check_table_accepts_mappings_tuples_and_dicts():
    e = Estimate(100.0, 95.0, 105.0, 8, "t interval over runs")
    t = check_table({"mean (ms)": (e, 110), "p50 (ms)": (e, 100)})
    assert list(t.columns) == ["quantity", "measured", "low", "high", "n", "model", "verdict",
                               "method"]
    assert t.verdict.tolist() == ["model above CI by 4.8 %", "model inside 95 % CI"]
    assert t.loc[0, "measured"] == 100 and t.loc[0, "n"] == 8 and t.loc[0, "model"] == 110
    rows = check_table([{"rate": 5, "quantity": "mean", "measured": e, "model": 106,
                         "tolerance": 0.05}, ("p99", e, 90)])
    assert list(rows.columns[:2]) == ["rate", "quantity"]
    assert rows.verdict.tolist() == ["model above CI by 1.0 % (within 5 % tolerance)",
                                     "model below CI by 5.3 %"]
    with pytest.raises(ConfigError, match="needs an Estimate"):
        check_table([{"measured": 3.0, "model": 1}])
