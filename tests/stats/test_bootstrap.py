"""wslab.stats.bootstrap: coverage on seeded simulations (about 95 % of 95 %
intervals must contain the truth), pairing, whole clusters."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wslab.core.errors import ConfigError
from wslab.stats import (
    bootstrap_ci,
    cluster_bootstrap_ci,
    mean_ci,
    ratio_ci,
)

from .sims import SIMS, coverage


# -- bootstrap ---------------------------------------------------------------------------
def test_bootstrap_ci_covers_and_is_seeded():
    rng = np.random.default_rng(3)
    hits = [bootstrap_ci(rng.normal(5, 2, 30), n_boot=1000, seed=i).contains(5)
            for i in range(SIMS)]
    assert 0.90 <= coverage(hits) <= 0.98  # the percentile bootstrap runs a little short
    x = rng.exponential(size=40)
    assert bootstrap_ci(x, seed=7) == bootstrap_ci(x, seed=7)
    assert bootstrap_ci(x, seed=7) != bootstrap_ci(x, seed=8)
    # a statistic without an axis argument is applied per resample: same resamples, same bounds
    fast = bootstrap_ci(x, np.median, seed=4)
    slow = bootstrap_ci(x, lambda v: float(np.median(v)), seed=4)
    assert (fast.low, fast.high) == (slow.low, slow.high) and fast.value == float(np.median(x))


def test_bootstrap_bca_covers_a_skewed_mean():
    rng = np.random.default_rng(4)
    ests = [bootstrap_ci(rng.exponential(size=30), n_boot=1000, seed=i, method="bca")
            for i in range(300)]
    assert 0.89 <= coverage([e.contains(1.0) for e in ests]) <= 0.98
    assert all(e.low < e.value < e.high for e in ests) and "BCa" in ests[0].method
    with pytest.raises(ConfigError, match="method must be one of percentile, bca"):
        bootstrap_ci([1, 2, 3], method="studentized")
    with pytest.raises(ConfigError, match="n_boot must be an integer >= 100"):
        bootstrap_ci([1, 2, 3], n_boot=10)


def test_ratio_ci_pairs_rounds():
    """Rounds share a large effect (the machine, the schedule): pairing cancels it."""
    rng = np.random.default_rng(5)
    paired_hits, widths = [], []
    for i in range(SIMS):
        shared = rng.lognormal(0, 0.5, 20)  # round effect, shared by both transports
        a = 2 * shared * rng.lognormal(0, 0.05, 20)
        b = shared * rng.lognormal(0, 0.05, 20)
        truth = 2.0  # ratio of means: the noise factors have equal means
        p = ratio_ci(a, b, np.mean, n_boot=500, seed=i)
        u = ratio_ci(a, b, np.mean, paired=False, n_boot=500, seed=i)
        paired_hits.append(p.contains(truth))
        widths.append((p.half_width, u.half_width))
    assert 0.88 <= coverage(paired_hits) <= 0.99
    w = np.array(widths)
    assert np.median(w[:, 0] / w[:, 1]) < 0.3  # pairing removes the shared variation
    e = ratio_ci([2, 4, 6], [1, 2, 3])
    assert e.value == 2 and e.low == e.high == 2 and e.method == "paired bootstrap over rounds"
    with pytest.raises(ConfigError, match="same length"):
        ratio_ci([1, 2], [1, 2, 3])
    with pytest.raises(ConfigError, match="needs paired=True"):
        ratio_ci([1, 2], [1, 2, 3], paired=False, method="bca")


# -- clusters ----------------------------------------------------------------------------
def _clustered(rng, k=20, rows=50, between=1.0, within=1.0):
    effect = rng.normal(0, between, k)
    return pd.DataFrame({"run": np.repeat(np.arange(k), rows),
                         "client": np.tile(np.arange(rows) % 5, k),
                         "v": np.repeat(effect, rows) + rng.normal(0, within, k * rows)})


def test_cluster_bootstrap_covers_where_rows_would_not():
    rng = np.random.default_rng(6)
    clustered, naive = [], []
    for i in range(SIMS):
        df = _clustered(rng)
        clustered.append(cluster_bootstrap_ci(df, "run", "v", n_boot=500, seed=i).contains(0))
        naive.append(mean_ci(df.v).contains(0))  # rows taken as independent: wrong
    assert 0.88 <= coverage(clustered) <= 0.99
    assert coverage(naive) < 0.6


def test_cluster_bootstrap_fast_quantiles_equal_the_general_path():
    rng = np.random.default_rng(7)
    df = _clustered(rng, k=12, rows=333)
    for stat, q in (("median", 0.5), (np.median, 0.5), (0.99, 0.99)):
        fast = cluster_bootstrap_ci(df, "run", "v", stat, n_boot=300, seed=3)
        slow = cluster_bootstrap_ci(
            df, "run", "v", lambda v, q=q: np.quantile(v, q, method="inverted_cdf"),
            n_boot=300, seed=3)
        assert fast == slow
        assert fast.value == np.quantile(df.v, q, method="inverted_cdf")
    mean = cluster_bootstrap_ci(df, "run", "v", np.mean, n_boot=300, seed=3)
    general = cluster_bootstrap_ci(df, "run", "v", lambda v: float(np.mean(v)), n_boot=300,
                                   seed=3)
    assert (mean.value, mean.low, mean.high) == pytest.approx(
        (general.value, general.low, general.high), rel=1e-12)
    assert mean.value == pytest.approx(df.v.mean(), rel=1e-12) and mean.n == general.n == 12
    bca = cluster_bootstrap_ci(df, "run", "v", 0.9, n_boot=300, method="bca", unit="runs")
    assert bca.low < bca.value < bca.high and bca.method == "bootstrap over runs (BCa)"


def test_cluster_bootstrap_units_and_bad_input():
    df = _clustered(np.random.default_rng(8), k=4, rows=10)
    assert cluster_bootstrap_ci(df, "run", "v").n == 4
    both = cluster_bootstrap_ci(df, ["run", "client"], "v")
    assert both.n == 20 and both.method == "bootstrap over run+client clusters"
    one = cluster_bootstrap_ci(df[df.run == 0], "run", "v")
    assert one.n == 1 and math.isnan(one.low)
    with pytest.raises(ConfigError, match="column.s. trial not in the table"):
        cluster_bootstrap_ci(df, "trial", "v")
    with pytest.raises(ConfigError, match="statistic must be a callable, 'mean', 'median'"):
        cluster_bootstrap_ci(df, "run", "v", "p99")
    with pytest.raises(ConfigError, match="quantile statistic must be between 0 and 1"):
        cluster_bootstrap_ci(df, "run", "v", 99)
