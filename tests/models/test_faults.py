"""Fault models: buffering, idle cut, backoff and recovery, retry schedules."""

import math
import random

import pytest

from wslab.core.errors import ConfigError
from wslab.models import faults as m
from wslab.transports.reconnect import Backoff


def test_buffer_flush_and_delay():
    # 1 KiB filled by 20 events/s of 100 B plus 48 B/s of comments: 0.5 s windows
    assert m.buffer_flush_interval(1024, 20, 100, 48) == pytest.approx(0.5)
    assert m.buffer_extra_delay(1024, 20, 100, 48) == pytest.approx(0.25)
    assert m.buffer_first_byte_s(1024, 224, 100) == pytest.approx(8.0)
    assert m.buffer_first_byte_s(1024, 2000, 0) == 0.0
    assert m.buffer_first_byte_s(1024, 24, 0) == math.inf


def test_idle_cut_survival_takes_the_shorter_of_gap_and_heartbeat():
    assert m.longest_silence(2.0) == 2.0 and m.longest_silence(2.0, 0.5) == 0.5
    assert not m.idle_cut_survives(1.0, 2.0)  # no heartbeat: cut
    assert m.idle_cut_survives(1.0, 2.0, 0.5)  # comments every 0.5 s: survives
    assert m.idle_cut_survives(1.0, 0.2)  # events often enough


def test_backoff_mean_matches_the_client_backoff():
    rng = random.Random(1)
    for jitter in m.JITTER_MODES:
        b = Backoff(base=0.2, jitter=jitter)
        sample = sum(b.delay(0, rng) for _ in range(20_000)) / 20_000
        assert sample == pytest.approx(m.backoff_mean(0.2, jitter), rel=0.02)


def test_recovery_mean_limits():
    # fixed wait far longer than the period: an event is always waiting
    assert m.recovery_mean(0.5, "none", 0.01, 0.001) == pytest.approx(0.501)
    # no wait: the next event, uniform over the period, decides
    assert m.recovery_mean(0.0, "none", 1.0, 0.0) == pytest.approx(0.5, rel=1e-3)
    # full jitter over [0, 0.1] with a 0.1 s period: E[max(U1, U2)] = 2/3 * 0.1
    assert m.recovery_mean(0.1, "full", 0.1, 0.0) == pytest.approx(0.1 * 2 / 3, rel=1e-2)


def test_retry_instants_double_then_cap():
    assert m.retry_instants(0.05, 2, 2, 1.0) == pytest.approx([0.05, 0.15, 0.35, 0.75, 1.55])
    assert m.retry_instants(1, 2, 1, 2.5) == pytest.approx([1, 2, 3])


@pytest.mark.parametrize("call", [
    lambda: m.buffer_flush_interval(0, 1, 1), lambda: m.buffer_flush_interval(1, -1, 1),
    lambda: m.backoff_mean(1, "half"), lambda: m.retry_instants(1, 0.5, 2, 1),
    lambda: m.longest_silence(float("nan"))])
def test_bad_input_is_refused(call):
    with pytest.raises(ConfigError):
        call()
