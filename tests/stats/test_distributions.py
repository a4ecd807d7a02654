"""wslab.stats.distributions: Student t quantiles against reference values."""

from __future__ import annotations

import numpy as np
import pytest

from wslab.core.errors import ConfigError
from wslab.stats import (
    t_quantile,
)

# -- distributions -------------------------------------------------------------------
# Reference quantiles from scipy.stats.t.ppf (SciPy 1.x), printed to full precision.
T_REFERENCE = [
    (0.975, 1, 12.706204736174694), (0.975, 2, 4.302652729749462),
    (0.975, 3, 3.1824463052837078), (0.975, 5, 2.5705818356363146),
    (0.975, 10, 2.228138851986274), (0.975, 30, 2.0422724563012378),
    (0.975, 100, 1.9839715185235518), (0.975, 1000, 1.9623390808264083),
    (0.975, 10_000, 1.960201239890626), (0.975, 200_000, 1.959975845966768),
    (0.995, 4, 4.604094871349992), (0.95, 20, 1.7247182429207866),
    (0.9, 7, 1.4149239276505086), (0.999, 3, 10.214531852407383),
    (0.6, 3, 0.2766706623326898), (0.9999, 2.5, 34.867969321116306),
]


@pytest.mark.parametrize("p, df, expected", T_REFERENCE)
def test_t_quantile_matches_reference_values(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-9)
    assert t_quantile(1 - p, df) == pytest.approx(-expected, rel=1e-9)


def test_t_quantile_is_monotone_and_refuses_bad_input():
    qs = [t_quantile(p, 4) for p in np.linspace(0.01, 0.99, 99)]
    assert all(b > a for a, b in zip(qs, qs[1:], strict=False)) and t_quantile(0.5, 4) == 0
    for p, df in [(0, 3), (1, 3), (0.5, 0), (1.5, 2)]:
        with pytest.raises(ConfigError):
            t_quantile(p, df)
