"""wslab.stats: quantiles against reference values, interval coverage on seeded
simulations (about 95 % of 95 % intervals must contain the truth), verdicts,
and the durations chosen from the precision wanted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wslab.core.errors import ConfigError
from wslab.runner.config import RunConfig
from wslab.stats import (
    Estimate,
    bootstrap_ci,
    check_table,
    cluster_bootstrap_ci,
    long_poll_duration,
    mean_ci,
    median_ci,
    quantile_ci,
    ratio_ci,
    runs_needed,
    short_poll_duration,
    t_quantile,
    verdict,
)

SIMS = 400  # simulated data sets per coverage check: a 95 % rate is known to ±2.2 % (2 sd)


def _coverage(hits) -> float:
    return float(np.mean(hits))


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
    assert 0.92 <= _coverage(hits) <= 0.98
    hits90 = [mean_ci(rng.normal(10, 3, 5), level=0.9).contains(10) for _ in range(SIMS)]
    assert 0.86 <= _coverage(hits90) <= 0.94


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
    assert 0.93 <= _coverage(hits) <= 0.995  # exact tails: at least the level, a bit above
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


# -- bootstrap ---------------------------------------------------------------------------
def test_bootstrap_ci_covers_and_is_seeded():
    rng = np.random.default_rng(3)
    hits = [bootstrap_ci(rng.normal(5, 2, 30), n_boot=1000, seed=i).contains(5)
            for i in range(SIMS)]
    assert 0.90 <= _coverage(hits) <= 0.98  # the percentile bootstrap runs a little short
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
    assert 0.89 <= _coverage([e.contains(1.0) for e in ests]) <= 0.98
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
    assert 0.88 <= _coverage(paired_hits) <= 0.99
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
    assert 0.88 <= _coverage(clustered) <= 0.99
    assert _coverage(naive) < 0.6


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


# -- durations from the precision wanted ---------------------------------------------------
def test_runs_needed_meets_the_target_and_covers():
    assert runs_needed(0.1, 0.05) == 18  # t(0.975, 17) · 0.1 / sqrt(18) = 0.0497
    assert runs_needed(0.0, 0.05) == 2 and runs_needed(1.0, 0.01) > 38_000
    n = runs_needed(0.2, 0.1)
    rng = np.random.default_rng(9)
    ests = [mean_ci(rng.normal(50, 10, n)) for _ in range(SIMS)]
    assert 0.92 <= _coverage([e.contains(50) for e in ests]) <= 0.98
    assert np.mean([e.relative_half_width for e in ests]) <= 0.1
    with pytest.raises(ConfigError, match="rel_half_width must be a positive number"):
        runs_needed(0.1, 0)


def _measured_window(duration: float) -> float:
    """Seconds of events a run of ``duration`` keeps after wslab's default warm-up."""
    cfg = RunConfig(transport="short-poll", duration=duration, interval=0.1).validate()
    return duration - cfg.warmup


def _short_poll_events(rng, rate, T, window, phases, transit):
    """Per-event mean latency over clients polling every T from ``phases``, for
    Poisson events in ``window`` seconds; also every delivery's latency."""
    t = np.cumsum(rng.exponential(1 / rate, int(rate * window * 1.5 + 50)))
    t = t[t < window]
    waits = (phases[None, :] - t[:, None]) % T  # until each client's next poll
    lat = waits + transit
    return lat.mean(axis=1), lat.ravel()


def test_short_poll_duration_one_client_reaches_the_precision():
    rate, T, h, transit = 50.0, 0.2, 0.05, 0.001
    d = short_poll_duration(rate, T, h, transit=transit)
    window = _measured_window(d)
    assert window * rate >= runs_needed(math.sqrt(T * T / 12) / (T / 2 + transit), h) - 1e-6
    truth = T / 2 + transit
    rng = np.random.default_rng(10)
    ests = [mean_ci(_short_poll_events(rng, rate, T, window, rng.uniform(0, T, 1), transit)[0])
            for _ in range(SIMS)]
    assert 0.92 <= _coverage([e.contains(truth) for e in ests]) <= 0.98
    rel = np.array([e.half_width / truth for e in ests])
    assert 0.8 * h <= np.median(rel) <= h  # one client: the bound is the variance itself


def test_short_poll_duration_counts_events_not_deliveries():
    """Clients polling in step: every event's deliveries move together. Events as
    units keep the precision and coverage; deliveries as units would not."""
    rate, T, h, clients = 20.0, 0.5, 0.05, 8
    d = short_poll_duration(rate, T, h, clients=clients)  # phases="any": no help from clients
    assert d == short_poll_duration(rate, T, h, clients=1)
    window, truth = _measured_window(d), T / 2
    rng = np.random.default_rng(11)
    by_event, by_delivery = [], []
    for _ in range(SIMS):
        phases = np.full(clients, rng.uniform(0, T))  # in step: the worst case
        per_event, deliveries = _short_poll_events(rng, rate, T, window, phases, 0.0)
        by_event.append(mean_ci(per_event))
        by_delivery.append(mean_ci(deliveries).contains(truth))
    assert 0.92 <= _coverage([e.contains(truth) for e in by_event]) <= 0.98
    assert np.median([e.half_width / truth for e in by_event]) <= h
    assert _coverage(by_delivery) < 0.75  # 8 copies of one draw are not 8 draws


def test_short_poll_duration_random_phases_on_average():
    rate, T, h, clients = 20.0, 0.5, 0.05, 6
    d = short_poll_duration(rate, T, h, clients=clients, phases="random")
    assert d < short_poll_duration(rate, T, h, clients=clients) / 3
    window, truth = _measured_window(d), T / 2
    rng = np.random.default_rng(12)
    ests = [mean_ci(_short_poll_events(rng, rate, T, window, rng.uniform(0, T, clients), 0)[0])
            for _ in range(SIMS)]
    assert 0.91 <= _coverage([e.contains(truth) for e in ests]) <= 0.98
    assert np.mean([e.half_width / truth for e in ests]) <= 1.1 * h  # on average over phases


def test_long_poll_duration_from_a_pilot_cv():
    """Events mostly take one transit, some three (they fell in the re-poll gap)."""
    rate, h, transit = 5.0, 0.03, 0.002
    rng = np.random.default_rng(13)

    def events(n):
        gap = rng.random(n) < 0.2
        return transit * np.where(gap, 3, 1) * rng.lognormal(0, 0.1, n)

    pilot = events(300)
    d = long_poll_duration(rate, float(pilot.std() / pilot.mean()), h)
    n = int(_measured_window(d) * rate)
    truth = transit * (0.8 + 0.2 * 3) * math.exp(0.1**2 / 2)
    ests = [mean_ci(events(rng.poisson(n))) for _ in range(SIMS)]
    assert 0.92 <= _coverage([e.contains(truth) for e in ests]) <= 0.98
    assert np.median([e.relative_half_width for e in ests]) <= 1.1 * h


def test_durations_round_up_and_honour_the_warmup():
    d = short_poll_duration(50, 0.2, 0.05)
    assert d == float(f"{d:.3g}")  # three significant digits
    for rate, h in ((0.5, 0.2), (3.0, 0.2), (3.0, 0.05), (100.0, 0.05), (100.0, 0.01)):
        d = long_poll_duration(rate, 0.5, h)  # short (< 10 s) and long runs
        assert _measured_window(d) * rate >= runs_needed(0.5, h) - 1e-6  # float rounding
        assert long_poll_duration(rate, 0.5, h, warmup=0) <= d
    assert long_poll_duration(10, 0.5, 0.05, warmup=2.0) == pytest.approx(
        float(f"{runs_needed(0.5, 0.05) / 10 + 2:.3g}"))
    for kwargs, message in [({"phases": "grid"}, "phases must be 'any' or 'random'"),
                            ({"clients": 0}, "clients must be an integer >= 1"),
                            ({"transit": -1}, "transit must be seconds >= 0"),
                            ({"warmup": -1}, "warmup must be")]:
        with pytest.raises(ConfigError, match=message):
            short_poll_duration(10, 0.1, 0.05, **kwargs)
