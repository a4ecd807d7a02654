"""wslab.models.short_poll against hand-computed values (arithmetic in comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wslab import models as m
from wslab.core.errors import ConfigError


def test_short_poll_latency_mean_hand_value():
    # T/2 + transit = 0.2/2 + 0.001 = 0.1 + 0.001 = 0.101
    assert m.short_poll_latency_mean(0.2, transit=0.001) == pytest.approx(0.101)
    # transit defaults to 0: 1.0/2 = 0.5
    assert m.short_poll_latency_mean(1.0) == pytest.approx(0.5)


def test_short_poll_latency_mean_scalar_returns_float_array_returns_array():
    assert isinstance(m.short_poll_latency_mean(0.2), float)
    out = m.short_poll_latency_mean(np.array([0.2, 1.0]), transit=0.01)
    # [0.1 + 0.01, 0.5 + 0.01] = [0.11, 0.51]
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [0.11, 0.51])


def test_short_poll_latency_quantile_hand_values():
    # q*T + transit with T=0.2, transit=0.001: q=0 -> 0.001, q=0.5 -> 0.101, q=1 -> 0.201
    out = m.short_poll_latency_quantile(np.array([0.0, 0.5, 1.0]), 0.2, transit=0.001)
    np.testing.assert_allclose(out, [0.001, 0.101, 0.201])
    # median equals the mean for a uniform wait
    assert m.short_poll_latency_quantile(0.5, 0.2, 0.001) == pytest.approx(
        m.short_poll_latency_mean(0.2, 0.001)
    )


def test_short_poll_latency_cdf_hand_values_and_clipping():
    # F(x) = clip((x - transit)/T, 0, 1); T=0.2, transit=0.001
    # x=0      -> (0-0.001)/0.2 < 0 -> 0
    # x=0.051  -> 0.05/0.2 = 0.25
    # x=0.101  -> 0.1/0.2 = 0.5
    # x=0.201  -> 0.2/0.2 = 1
    # x=5      -> > 1 -> 1
    x = np.array([0.0, 0.051, 0.101, 0.201, 5.0])
    np.testing.assert_allclose(m.short_poll_latency_cdf(x, 0.2, transit=0.001), [0, 0.25, 0.5, 1, 1])


def test_short_poll_cdf_inverts_quantile():
    q = np.linspace(0, 1, 11)
    x = m.short_poll_latency_quantile(q, 0.3, transit=0.02)
    np.testing.assert_allclose(m.short_poll_latency_cdf(x, 0.3, transit=0.02), q, atol=1e-12)


def test_short_poll_model_matches_simulated_uniform_phase():
    # Events at uniform phase: latency = U*T + transit; sample mean -> T/2 + transit.
    rng = np.random.default_rng(1)
    t, transit = 0.2, 0.001
    samples = rng.uniform(0, t, 200_000) + transit
    assert samples.mean() == pytest.approx(m.short_poll_latency_mean(t, transit), rel=5e-3)
    # ECDF at the model's 90th percentile (0.9*0.2 + 0.001 = 0.181) is ~0.9
    assert np.mean(samples <= 0.181) == pytest.approx(0.9, abs=5e-3)


def test_empty_poll_fraction_hand_values():
    # lambda*T = 2 * 0.5 = 1 -> exp(-1) = 0.36787944...
    assert m.empty_poll_fraction(0.5, 2.0) == pytest.approx(math.exp(-1))
    assert m.empty_poll_fraction(0.5, 2.0) == pytest.approx(0.36787944, rel=1e-7)
    # no events at all -> every poll is empty: exp(0) = 1
    assert m.empty_poll_fraction(1.0, 0.0) == 1.0
    # lambda*T = 10 * 1 = 10 -> exp(-10) = 4.54e-5
    assert m.empty_poll_fraction(1.0, 10.0) == pytest.approx(4.539992976e-5)


def test_events_per_poll_hand_values():
    # lambda*T = 2 * 0.5 = 1; 100 * 0.2 = 20
    assert m.events_per_poll(0.5, 2.0) == pytest.approx(1.0)
    assert m.events_per_poll(0.2, 100.0) == pytest.approx(20.0)

def test_short_poll_requests_per_event_hand_values():
    # 1 / (λT): 1 / (10 * 0.05) = 2 requests per event; 1 / (100 * 1) = 0.01
    assert m.short_poll_requests_per_event(0.05, 10) == pytest.approx(2.0)
    assert m.short_poll_requests_per_event(1.0, 100) == pytest.approx(0.01)
    # the inverse of the events one poll carries, at every λT
    T = np.array([0.01, 0.1, 1.0, 5.0])
    np.testing.assert_allclose(m.short_poll_requests_per_event(T, 3.0),
                               1 / m.events_per_poll(T, 3.0))
    # and (polls per second of one client) / (events per second), exactly
    assert m.short_poll_requests_per_event(0.2, 7.0) == pytest.approx(
        m.polls_per_second(1, 0.2) / 7.0)
    with pytest.raises(ConfigError, match="rate must be positive"):
        m.short_poll_requests_per_event(0.1, 0.0)
