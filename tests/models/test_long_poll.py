"""wslab.models.long_poll: hand values, the RFC 6202 §2.2 bounds, and the renewal
model against an event-driven simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wslab import models as m
from wslab.core.errors import ConfigError


def test_long_poll_bounds_are_one_and_three_transits():
    b = m.long_poll_latency_bounds(0.01)
    # RFC 6202 §2.2: mean ~ 1 transit = 0.01, max = 3 transits = 0.03
    assert b.min == pytest.approx(0.01)
    assert b.mean == pytest.approx(0.01)
    assert b.max == pytest.approx(0.03)
    assert isinstance(b, m.LongPollBounds)
    with pytest.raises(AttributeError):  # frozen
        b.max = 1.0  # type: ignore[misc]


def test_long_poll_events_per_response_hand_values():
    # cycle = 2*0.01 + 0 = 0.02; lambda*cycle = 10*0.02 = 0.2 -> max(1, 0.2) = 1
    assert m.long_poll_events_per_response(10, 0.01) == pytest.approx(1.0)
    # 1000 * 0.02 = 20 -> 20
    assert m.long_poll_events_per_response(1000, 0.01) == pytest.approx(20.0)
    # with server_time: cycle = 0.02 + 0.005 = 0.025; 1000*0.025 = 25
    assert m.long_poll_events_per_response(1000, 0.01, server_time=0.005) == pytest.approx(25.0)
    # no events -> still 1 (a response is only sent when there is an event)
    assert m.long_poll_events_per_response(0, 0.01) == pytest.approx(1.0)


def test_long_poll_mean_latency_limits_and_hand_value():
    d = 0.01
    # lambda -> 0: x = 0, p = 0/(0 + 1) = 0 -> d*(1+0) = d
    assert m.long_poll_mean_latency(0.0, d) == pytest.approx(d)
    # lambda -> large: x = 2*1e6*0.01 = 2e4, p -> 1 -> 2d = 0.02
    assert m.long_poll_mean_latency(1e6, d) == pytest.approx(2 * d)
    # lambda = 50: x = 2*50*0.01 = 1, p = 1/(1 + e^-1) = e/(e+1) = 0.7310586
    # E[L] = 0.01 * 1.7310586 = 0.017310586
    assert m.long_poll_mean_latency(50.0, d) == pytest.approx(0.017310586, rel=1e-7)
    # never above the RFC 6202 §2.2 three-transit maximum, never below one transit
    rates = np.logspace(-3, 6, 50)
    lat = m.long_poll_mean_latency(rates, d)
    assert np.all(lat >= d - 1e-15)
    assert np.all(lat <= 3 * d)
    # monotone non-decreasing in the rate
    assert np.all(np.diff(lat) >= -1e-15)


def _simulate_long_poll(rate: float, d: float, n: int, seed: int,
                        s: float = 0.0) -> tuple[np.ndarray, float]:
    """Event-driven long-poll simulation (``s``: time per cycle beyond two
    transits); returns (latencies, events/response)."""
    rng = np.random.default_rng(seed)
    events = np.cumsum(rng.exponential(1 / rate, n))
    latencies = np.empty(n)
    i = 0
    responses = 0
    req_at_server = 0.0  # the first request reaches the server at t=0
    while i < n:
        if events[i] <= req_at_server:
            # events queued during the gap: answered as soon as the request arrives
            j = np.searchsorted(events, req_at_server, side="right")
            latencies[i:j] = req_at_server + d - events[i:j]
            send = req_at_server
        else:
            # request held until the next event, answered at once
            j = i + 1
            latencies[i] = d
            send = events[i]
        responses += 1
        i = j
        req_at_server = send + 2 * d + s  # response out (d) + next request in (d) + handling
    return latencies, n / responses


def test_long_poll_closed_forms_match_simulation():
    rate, d = 50.0, 0.01  # lambda*c = 50 * 0.02 = 1
    lat, sim_epr = _simulate_long_poll(rate, d, 200_000, seed=7)
    assert lat.mean() == pytest.approx(m.long_poll_mean_latency(rate, d), rel=0.01)
    # exact renewal value lambda*c + exp(-lambda*c) = 1 + e^-1 = 1.3679
    assert sim_epr == pytest.approx(1 + math.exp(-1), rel=0.01)
    # documented approximation max(1, lambda*c) = 1 under-estimates by <= e^-1
    approx = m.long_poll_events_per_response(rate, d)
    assert 0 <= sim_epr - approx <= math.exp(-1) + 0.02


def test_long_poll_simulated_latency_within_rfc6202_bounds():
    d = 0.01
    lat, _ = _simulate_long_poll(200.0, d, 50_000, seed=3)
    bounds = m.long_poll_latency_bounds(d)
    # every event: at least one transit (0.01), at most three (0.03)
    assert lat.min() == pytest.approx(bounds.min)
    assert lat.max() <= bounds.max + 1e-12
    # at lambda*2d = 200*0.02 = 4 the worst case is approached: some event waited > 2.9 d
    assert lat.max() > 2.9 * d


def test_long_poll_server_time_defaults_to_the_rfc6202_model():
    rates = np.array([0.0, 1.0, 50.0, 1e4])
    np.testing.assert_allclose(m.long_poll_mean_latency(rates, 0.01, server_time=0.0),
                               m.long_poll_mean_latency(rates, 0.01))
    # batch size: the exact renewal value, above the max(1, λc) asymptote by <= e^-1
    x = np.array([0.0, 0.2, 1.0, 5.0, 40.0])
    size = m.long_poll_batch_size(x / 0.02, 0.01)
    np.testing.assert_allclose(size, x + np.exp(-x))
    gap = size - m.long_poll_events_per_response(x / 0.02, 0.01)
    assert np.all(gap >= 0) and np.all(gap <= math.exp(-1) + 1e-12)
    # the bound: 3d + s; s = 0 is RFC 6202's three transits
    assert m.long_poll_latency_bounds(0.01, server_time=0.004).max == pytest.approx(0.034)
    # the latency CV: 0 without a gap, at most ~0.44 of the mean
    assert m.long_poll_latency_cv(0.0, 0.01) == 0.0 and m.long_poll_latency_cv(5.0, 0.0) == 0.0
    cv = m.long_poll_latency_cv(np.logspace(-2, 5, 200), 0.01)
    assert np.all(cv >= 0) and cv.max() < 0.44
    # s = 0, λ -> ∞: latency uniform on (d, 3d): sd = 2d/√12 over mean 2d
    assert m.long_poll_latency_cv(1e7, 0.01) == pytest.approx(1 / math.sqrt(12), rel=1e-6)
    with pytest.raises(ConfigError, match="server_time"):
        m.long_poll_mean_latency(1.0, 0.01, server_time=-1e-3)


@pytest.mark.parametrize(("rate", "d", "s"), [(20.0, 0.026, 0.0), (20.0, 0.026, 0.01),
                                             (5.0, 0.1, 0.0), (400.0, 0.0005, 0.0015)])
def test_long_poll_mean_cv_and_batch_size_match_simulation(rate, d, s):
    lat, epr = _simulate_long_poll(rate, d, 100_000, seed=11, s=s)
    assert lat.mean() == pytest.approx(m.long_poll_mean_latency(rate, d, server_time=s), rel=0.01)
    assert lat.std() / lat.mean() == pytest.approx(
        m.long_poll_latency_cv(rate, d, server_time=s), rel=0.03)
    assert epr == pytest.approx(m.long_poll_batch_size(rate, d, server_time=s), rel=0.01)
    assert lat.max() <= m.long_poll_latency_bounds(d, server_time=s).max + 1e-12
