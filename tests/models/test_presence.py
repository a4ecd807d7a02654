"""Presence models: detection intervals after a silent vanish and heartbeat bytes."""

from __future__ import annotations

import pytest

from wslab import models as m
from wslab.core.errors import ConfigError


def test_websocket_detection_adds_the_close_timeout_websockets_waits_after_a_failed_ping():
    d = m.websocket_detection(20, 20)
    assert (d.low, d.high) == (20 + 10, 20 + 20 + 10)
    assert d.mean == 40
    assert m.websocket_detection(0.5, 0.5, close_timeout=0) == m.Detection(0.5, 1.0)


def test_sse_long_poll_and_keepalive_intervals_are_one_heartbeat_wide():
    assert m.sse_detection(15, 120) == m.Detection(120, 135)
    assert m.long_poll_detection(30, 5) == m.Detection(5, 35)
    d = m.keepalive_detection(**m.LINUX_KEEPALIVE)  # Linux: 7200 s idle, 9 x 75 s
    assert (d.low, d.high) == (675, 7875)
    assert d.contains(675) and d.contains(7875) and not d.contains(674.9)
    assert d.contains(674.9, slack=0.2)


def test_tcp_retries_timeout_is_linux_924_6_s_by_default():
    assert m.tcp_retries_timeout() == pytest.approx(924.6)
    assert m.tcp_retries_timeout(retries=0) == pytest.approx(0.2)


def test_heartbeat_wire_bytes_counts_frames_and_52_b_per_segment():
    assert m.heartbeat_wire_bytes("websocket", 1.0) == 16 + 3 * 52
    assert m.heartbeat_wire_bytes("sse", 0.5) == (15 + 2 * 52) / 0.5
    assert m.heartbeat_wire_bytes("keepalive", 2.0) == 52
    assert m.heartbeat_wire_bytes("long-poll", 1.0, payload=200) == 200 + 3 * 52


@pytest.mark.parametrize(("call", "match"), [
    (lambda: m.websocket_detection(0, 1), "ping_interval must be positive"),
    (lambda: m.sse_detection(1, -1), "user_timeout must be positive"),
    (lambda: m.long_poll_detection(1, float("nan")), "grace must not be NaN"),
    (lambda: m.keepalive_detection(1, 2, 3), "must not exceed idle"),
    (lambda: m.keepalive_detection(1, 1, 0), "count must be an integer"),
    (lambda: m.heartbeat_wire_bytes("carrier-pigeon", 1), "mechanism must be one of"),
])
def test_bad_input_names_what_is_allowed(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
