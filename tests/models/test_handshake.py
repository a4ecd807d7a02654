"""The handshake round-trip model: the counts RFC 9293, 8446, 5246 and 6455 give."""

from __future__ import annotations

import pytest

from wslab.core.errors import ConfigError
from wslab.models import handshake as hs


@pytest.mark.parametrize("transport", hs.TRANSPORTS)
def test_every_transport_needs_two_round_trips_in_clear_plus_tls(transport):
    # TCP 1 + request/Upgrade 1; the history event rides behind the answer
    assert hs.rtts_to_first_event(transport) == 2
    assert hs.rtts_to_first_event(transport, "1.3") == 3
    assert hs.rtts_to_first_event(transport, "1.2") == 4


def test_the_proxy_answers_the_syn_itself():
    assert hs.rtts_to_first_event("websocket", None, "proxy") == 1
    assert hs.rtts_to_first_event("websocket", "1.2", "proxy") == 3
    steps = hs.handshake_steps("sse", "1.3", "proxy")
    assert [s.name for s in steps] == list(hs.STEPS)
    assert [s.rtts for s in steps] == [0, 1, 1, 0]


def test_resumption_saves_a_round_trip_in_tls12_only():
    assert hs.tls_rtts("1.2") - hs.tls_rtts("1.2", resumed=True) == 1
    assert hs.tls_rtts("1.3") == hs.tls_rtts("1.3", resumed=True) == 1
    assert hs.tls_rtts(None, resumed=True) == 0
    assert hs.rtts_to_first_event("tcp", "1.2", resumed=True) == 3


def test_time_is_round_trips_times_two_delays_plus_base():
    assert hs.time_to_first_event("short-poll", "1.2", 0.025) == pytest.approx(4 * 0.05)
    assert hs.time_to_first_event("tcp", None, 0.1, "proxy", base=0.002) == pytest.approx(0.202)
    assert hs.next_poll_rtts("short-poll") == hs.next_poll_rtts("long-poll") == 1
    assert hs.next_poll_rtts("websocket") == 0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: hs.rtts_to_first_event("udp"), "transport must be one of"),
    (lambda: hs.rtts_to_first_event("tcp", "1.1"), "tls must be None"),
    (lambda: hs.rtts_to_first_event("tcp", None, "wifi"), "path must be one of"),
    (lambda: hs.time_to_first_event("tcp", None, -1.0), "one_way must be"),
    (lambda: hs.time_to_first_event("tcp", None, float("nan")), "one_way must be"),
    (lambda: hs.time_to_first_event("tcp", None, 0.0, base="x"), "base must be"),
])
def test_bad_input_is_refused(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
