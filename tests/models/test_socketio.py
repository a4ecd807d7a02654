"""Socket.IO framing models against the library's own encoder (python-socketio/engineio)."""

import engineio.packet
import pytest
import socketio.packet

from wslab import models as m
from wslab.core.errors import ConfigError
from wslab.core.events import PayloadPool, encode


def _wire(body: bytes, event: str = "e") -> str:
    """What python-socketio puts in the Engine.IO packet for one event."""
    import json
    pkt = socketio.packet.Packet(socketio.packet.EVENT, data=[event, json.loads(body)])
    return engineio.packet.Packet(engineio.packet.MESSAGE, pkt.encode()).encode()


@pytest.mark.parametrize("payload", [0, 16, 64, 1000, 70_000])
def test_message_bytes_match_the_encoder_and_keep_the_body(payload):
    body = encode(123, 456_789_012_345, PayloadPool(payload, seed=1).payload(1))
    wire = _wire(body)
    assert wire == '42["e",' + body.decode() + "]"  # the kit's body, byte for byte
    assert m.sio_message_bytes(len(body)) == len(wire)
    assert m.sio_ws_event_bytes(len(body)) == len(wire) + (2 if len(wire) < 126 else
                                                           4 if len(wire) < 65536 else 10)


def test_longer_event_names_cost_their_length():
    body = encode(1, 2, b"x" * 10)
    assert m.sio_message_bytes(len(body), "update") == len(_wire(body, "update"))


def test_probe_and_heartbeat_constants_are_the_packets_in_frames():
    ping, pong = (engineio.packet.Packet(t).encode() for t in (engineio.packet.PING,
                                                              engineio.packet.PONG))
    assert m.SIO_WS_HEARTBEAT_BYTES == (len(ping) + 2) + (len(pong) + 6)
    probe = engineio.packet.Packet(engineio.packet.PING, data="probe").encode()
    upgrade = engineio.packet.Packet(engineio.packet.UPGRADE).encode()
    assert m.SIO_UPGRADE_PROBE_BYTES == (len(probe) + 6) + (len(probe) + 2) + (len(upgrade) + 6)
    assert m.heartbeat_bytes_per_s(10, 25) == pytest.approx(0.4)


def test_polling_spreads_the_request_over_the_batch():
    one = m.sio_polling_event_bytes(100, 1, 200, 150)
    ten = m.sio_polling_event_bytes(100, 10, 200, 150)
    assert one == m.sio_message_bytes(100) + 350
    assert ten == pytest.approx(m.sio_message_bytes(100) + (350 + 9) / 10)


@pytest.mark.parametrize("call, match", [
    (lambda: m.sio_message_bytes(-1), "body_len must be non-negative"),
    (lambda: m.sio_message_bytes(10, 'a"b'), "event must be a non-empty ASCII name"),
    (lambda: m.sio_polling_event_bytes(10, 0.5, 1, 1), "events_per_response must be at least 1"),
    (lambda: m.heartbeat_bytes_per_s(10, 0), "ping_interval must be positive"),
])
def test_bad_input_names_what_is_allowed(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
