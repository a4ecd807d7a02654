"""The hostile clients' sans-I/O parts: frames, requests, parsers, seeded cases."""

from __future__ import annotations

import struct
import zlib

import pytest

from wslab.core.errors import ConfigError
from wslab.net.hostile import cases, wire
from wslab.net.hostile.campaign import served, targets


def test_frames_follow_rfc6455_layout():
    f = wire.frame(wire.TEXT, b"hello", key=b"\x01\x02\x03\x04")
    assert f[0] == 0x81 and f[1] == 0x80 | 5 and f[2:6] == b"\x01\x02\x03\x04"
    assert bytes(b ^ b"\x01\x02\x03\x04"[i % 4] for i, b in enumerate(f[6:])) == b"hello"
    # unmasked, fragment, RSV bits, reserved opcode
    assert wire.frame(wire.TEXT, b"x", mask=False) == b"\x81\x01x"
    assert wire.frame(wire.PING, b"", fin=False, mask=False) == b"\x09\x00"
    assert wire.frame(0x3, b"", rsv=7, mask=False)[0] == 0xF3
    # shortest length forms, and a lying length
    assert wire.frame(wire.BINARY, b"a" * 126, mask=False)[1:4] == b"\x7e\x00\x7e"
    assert wire.frame(wire.BINARY, b"a" * 70_000, mask=False)[1:10] == (
        b"\x7f" + struct.pack(">Q", 70_000))
    assert wire.frame(wire.BINARY, b"", length=2**21 + 1, mask=False) == (
        b"\x82\x7f" + struct.pack(">Q", 2**21 + 1))


def test_frame_reader_parses_split_frames_and_close_codes():
    data = (wire.frame(wire.TEXT, b"a" * 300, mask=False)
            + wire.frame(wire.CLOSE, wire.close_payload(1009, b"too big"), mask=False))
    reader = wire.FrameReader()
    got = [f for k in range(0, len(data), 7) for f in reader.feed(data[k:k + 7])]
    assert [(f.opcode, len(f.payload)) for f in got] == [(wire.TEXT, 300), (wire.CLOSE, 9)]
    assert wire.parse_close(got[1].payload) == 1009
    assert wire.parse_close(b"") is None
    # a masked frame is unmasked (the probe records what came, whatever it is)
    assert wire.FrameReader().feed(wire.frame(wire.TEXT, b"hi"))[0].payload == b"hi"


def test_deflate_bomb_inflates_to_the_original():
    message = wire.deflate_message(b"a" * 2**22)
    assert len(message) < 2**22 / 500  # the bomb: about a thousand-fold
    inflated = zlib.decompressobj(-15).decompress(message + b"\x00\x00\xff\xff")
    assert inflated == b"a" * 2**22  # RFC 7692 §7.2.2: the receiver appends the tail


def test_requests_and_response_heads():
    req = wire.request("GET", "/x", [("Host", "h"), (None, "raw line")], eol=b"\n")
    assert req == b"GET /x HTTP/1.1\nHost: h\nraw line\n\n"
    up = wire.upgrade_request("127.0.0.1:1", "/", origin="http://evil.example", key="k")
    assert b"Origin: http://evil.example\r\n" in up and b"Sec-WebSocket-Version: 13" in up
    head = b"HTTP/1.1 403 Forbidden\r\nX-A: 1\r\nx-a: 2\r\n\r\nbody"
    assert wire.parse_response_head(head) == (403, {"x-a": "1, 2"}, b"body")
    assert wire.parse_response_head(head[:20]) is None
    assert wire.parse_response_head(b"junk\r\n\r\n")[0] == 0


@pytest.mark.parametrize("kind", cases.KINDS)
def test_cases_are_seeded_and_cover_every_family(kind):
    a = list(cases.generate(kind, "/p", 200, seed=5))
    b = list(cases.generate(kind, "/p", 200, seed=5))
    c = list(cases.generate(kind, "/p", 200, seed=6))
    assert a == b and a != c
    assert {x.family for x in a} == set(cases.FAMILIES[kind])
    assert all(isinstance(x.data, bytes) for x in a)
    if kind == "ws":  # frame cases ride on a valid handshake
        frames = [x for x in a if x.family == "frames"]
        assert frames and all(x.data.startswith(b"GET /p?since=") and x.frames for x in frames)
    assert sum(x.valid for x in a) == sum(x.family.startswith("valid") for x in a)
    assert any(x.valid for x in a) == (kind != "tcp")


def test_bad_arguments_are_refused():
    with pytest.raises(ConfigError, match="kind must be one of http, ws, tcp"):
        next(cases.generate("udp", "/", 1, 0))
    with pytest.raises(ConfigError, match="n must be an integer"):
        next(cases.generate("http", "/", -1, 0))
    with pytest.raises(ConfigError, match="loopback"):
        targets({"sse": "http://10.0.0.1:80/sse"})
    with pytest.raises(ConfigError, match="clear text only"):
        targets({"websocket": "wss://127.0.0.1:443/"})
    with pytest.raises(ConfigError, match="no attack targets for 'mqtt'"):
        targets({"mqtt": "tcp://127.0.0.1:1883"})


def test_targets_and_labels():
    t = targets({"fallback": "http://127.0.0.1:9/", "websocket": "ws://127.0.0.1:8/",
                 "sse": "http://localhost:7/sse", "tcp": "tcp://127.0.0.1:6"})
    assert [(x.name, x.kind, x.host, x.port, x.path) for x in t] == [
        ("fallback /ws", "ws", "127.0.0.1", 9, "/ws"),
        ("fallback /sse", "http", "127.0.0.1", 9, "/sse"),
        ("fallback /long-poll", "http", "127.0.0.1", 9, "/long-poll"),
        ("websocket", "ws", "127.0.0.1", 8, "/"),
        ("sse", "http", "127.0.0.1", 7, "/sse"),
        ("tcp", "tcp", "127.0.0.1", 6, "/")]
    assert served("HTTP 200") and served("HTTP 101") and served("101 + close 1000")
    assert not served("HTTP 400") and not served("101 + close 1002")
    assert not served("plain close")
