"""Backoff arithmetic and option handling (`wslab.transports.reconnect`)."""

import random

import pytest

from wslab.core.errors import ConfigError
from wslab.transports.reconnect import PRESETS, Backoff, backoff_from_options


def test_window_grows_by_factor_up_to_the_cap():
    b = Backoff(base=0.1, cap=1.0, factor=2.0, jitter="none")
    assert [b.window(k) for k in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert b.window(10_000) == 1.0  # no overflow however long the outage


@pytest.mark.parametrize("jitter, low, high", [("none", 1.0, 1.0), ("full", 0.0, 1.0),
                                               ("equal", 0.5, 1.0)])
def test_jitter_modes_stay_in_their_window(jitter, low, high):
    b = Backoff(base=1.0, cap=1.0, factor=1.0, jitter=jitter)
    rng = random.Random(3)
    waits = [b.delay(0, rng) for _ in range(2000)]
    assert min(waits) >= low and max(waits) <= high
    if jitter != "none":  # spread over the window, not bunched at one end
        assert max(waits) - min(waits) > 0.8 * (high - low)
        assert abs(sum(waits) / len(waits) - (low + high) / 2) < 0.05


def test_same_seed_same_waits():
    b = Backoff()
    assert [b.delay(k, random.Random(7)) for k in range(5)] == [
        b.delay(k, random.Random(7)) for k in range(5)]


def test_options_pick_a_preset_and_override_it():
    assert backoff_from_options({"reconnect": True, "backoff": "socketio"}) == PRESETS["socketio"]
    assert backoff_from_options({"reconnect": False}) is None
    b = backoff_from_options({"reconnect": True, "backoff": "kit", "backoff_base": 3.0,
                              "backoff_jitter": "none"})
    assert (b.base, b.cap, b.jitter) == (3.0, 3.0, "none")  # cap raised to the base


def test_bad_values_are_refused_by_name():
    with pytest.raises(ConfigError, match="backoff_jitter must be one of none, full, equal"):
        Backoff(jitter="half")
    with pytest.raises(ConfigError, match="backoff_base must be a number"):
        Backoff(base=float("nan"))
