"""wslab.stats.precision: the durations chosen from the precision wanted reach it
on seeded simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wslab.core.errors import ConfigError
from wslab.runner.config import RunConfig
from wslab.stats import (
    long_poll_duration,
    mean_ci,
    runs_needed,
    short_poll_duration,
)

from .sims import SIMS, coverage


# -- durations from the precision wanted ---------------------------------------------------
def test_runs_needed_meets_the_target_and_covers():
    assert runs_needed(0.1, 0.05) == 18  # t(0.975, 17) · 0.1 / sqrt(18) = 0.0497
    assert runs_needed(0.0, 0.05) == 2 and runs_needed(1.0, 0.01) > 38_000
    n = runs_needed(0.2, 0.1)
    rng = np.random.default_rng(9)
    ests = [mean_ci(rng.normal(50, 10, n)) for _ in range(SIMS)]
    assert 0.92 <= coverage([e.contains(50) for e in ests]) <= 0.98
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
    assert 0.92 <= coverage([e.contains(truth) for e in ests]) <= 0.98
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
    assert 0.92 <= coverage([e.contains(truth) for e in by_event]) <= 0.98
    assert np.median([e.half_width / truth for e in by_event]) <= h
    assert coverage(by_delivery) < 0.75  # 8 copies of one draw are not 8 draws


def test_short_poll_duration_random_phases_on_average():
    rate, T, h, clients = 20.0, 0.5, 0.05, 6
    d = short_poll_duration(rate, T, h, clients=clients, phases="random")
    assert d < short_poll_duration(rate, T, h, clients=clients) / 3
    window, truth = _measured_window(d), T / 2
    rng = np.random.default_rng(12)
    ests = [mean_ci(_short_poll_events(rng, rate, T, window, rng.uniform(0, T, clients), 0)[0])
            for _ in range(SIMS)]
    assert 0.91 <= coverage([e.contains(truth) for e in ests]) <= 0.98
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
    assert 0.92 <= coverage([e.contains(truth) for e in ests]) <= 0.98
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
