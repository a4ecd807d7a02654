"""HTTP/1.1 framing (sans-I/O): every 2-way split of each stream gives the same parts."""

from __future__ import annotations

import pytest

from wslab.net.http1 import Framer, Part, strip_upgrade
from wslab.net.middlebox import Chain, RequestWatch, ResponseBuffer, UpgradeStripper

WS_REQUEST = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\n"
              b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
STRIPPED = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
POST = b"POST /publish HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
CHUNKED_POST = (b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")


def merged(parts: list[Part]) -> list[tuple[str, bytes]]:
    """Parts with adjacent body pieces joined: the framing, independent of the split."""
    out: list[tuple[str, bytes]] = []
    for p in parts:
        if out and p.kind == out[-1][0] and p.kind in ("body", "tunnel"):
            out[-1] = (p.kind, out[-1][1] + p.data)
        else:
            out.append((p.kind, p.data))
    return out


def feed_split(framer_factory, data: bytes, at: int) -> list[Part]:
    framer = framer_factory()
    return framer.feed(data[:at]) + framer.feed(data[at:]) + framer.eof()


def every_split(framer_factory, data: bytes) -> list[tuple[str, bytes]]:
    whole = merged(feed_split(framer_factory, data, len(data)))
    for at in range(len(data) + 1):
        assert merged(feed_split(framer_factory, data, at)) == whole, f"split at {at}"
    return whole


def test_requests_with_no_body_length_and_chunked_bodies():
    stream = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n" + POST + CHUNKED_POST
    parts = every_split(lambda: Framer("request"), stream)
    assert [k for k, _ in parts] == ["head", "end", "head", "body", "end", "head", "body", "end"]
    assert parts[3] == ("body", b"hello world")
    assert parts[6][1].endswith(b"0\r\nX-Trailer: 1\r\n\r\n")
    assert b"".join(d for _, d in parts) == stream


def test_responses_length_chunked_head_204_and_interim():
    stream = (b"HTTP/1.1 100 Continue\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
              b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"  # the answer to HEAD: no body
              b"HTTP/1.1 204 No Content\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
              b"HTTP/1.1 200 OK\r\n\r\nuntil close")

    def framer():
        f = Framer("response")
        for method in (b"POST", b"HEAD", b"GET", b"GET", b"GET"):
            f.expect(method)
        return f

    parts = every_split(framer, stream)
    assert [k for k, _ in parts] == ["head", "head", "body", "end", "head", "end", "head", "end",
                                     "head", "body", "end", "head", "body", "end"]
    assert b"".join(d for _, d in parts) == stream


def test_101_turns_both_sides_into_a_tunnel():
    frames = b"\x81\x05hello\x88\x00"
    response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n" + frames
    parts = every_split(lambda: Framer("response"), response)
    assert parts[0][0] == "head" and parts[1] == ("tunnel", frames)
    parts = every_split(lambda: Framer("request"), WS_REQUEST + b"\x81\x85maskd")
    assert parts[-1] == ("tunnel", b"\x81\x85maskd")


def test_unparseable_input_passes_through_untouched():
    junk = b"\x16\x03\x01 not http at all\r\n\r\nmore"
    parts = every_split(lambda: Framer("request"), junk)
    assert b"".join(d for _, d in parts) == junk
    assert parts[-1][0] == "tunnel"


def test_strip_upgrade_removes_upgrade_and_its_connection_option():
    stream = WS_REQUEST + POST
    parts = every_split(lambda: Framer("request", rewrite=strip_upgrade), stream)
    assert b"".join(d for _, d in parts) == STRIPPED + POST  # the body untouched
    assert [k for k, _ in parts] == ["head", "end", "head", "body", "end"]  # no tunnel
    only_upgrade = b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    assert b"".join(p.data for p in Framer("request", rewrite=strip_upgrade).feed(
        only_upgrade)) == b"GET / HTTP/1.1\r\n\r\n"
    plain = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    assert Framer("request", rewrite=strip_upgrade).feed(plain)[0].data == plain


@pytest.mark.parametrize("at", range(0, len(WS_REQUEST) + len(POST) + 1, 7))
def test_upgrade_stripper_filter_at_splits(at):
    stripper = UpgradeStripper()
    data = WS_REQUEST + POST
    out = stripper.feed(data[:at]) + stripper.feed(data[at:]) + stripper.eof()
    assert out == STRIPPED + POST
    assert stripper.stripped == 1


def test_response_buffer_holds_until_the_end_or_size():
    buf = ResponseBuffer(size=128)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    assert buf.feed(head + b"01234") == b""  # held: the response has not ended
    assert buf.feed(b"56789") == head + b"0123456789"  # ended: flushed whole
    sse = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    event = b"10\r\ndata: 012345678\n\r\n"  # one 16-byte chunk
    assert buf.feed(sse) == b""
    out = b""
    for _ in range(3):
        out += buf.feed(event)
    assert out == b"" and buf.held == len(sse) + 3 * len(event) < 128
    out = buf.feed(event)  # past size: everything held goes
    assert out == sse + 4 * event and buf.held == 0
    assert buf.feed(b"0\r\n\r\n") == b"0\r\n\r\n"  # the terminator ends it
    upgrade = b"HTTP/1.1 101 Switching Protocols\r\n\r\n"
    assert buf.feed(upgrade + b"\x81\x01x") == upgrade + b"\x81\x01x"
    assert buf.feed(b"\x81\x01y") == b"\x81\x01y"  # unbuffered after 101


def test_response_buffer_can_pass_heads_and_hold_only_bodies():
    buf = ResponseBuffer(size=64, pass_head=True)
    sse = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    event = b"10\r\ndata: 012345678\n\r\n"  # one 16-byte chunk
    assert buf.feed(sse + event) == sse  # the client sees the response start...
    assert buf.feed(event) == b""  # ...then nothing until size bytes are held
    assert buf.feed(event) == 3 * event and buf.held == 0
    upgrade = b"HTTP/1.1 101 Switching Protocols\r\n\r\n"
    assert buf.feed(b"0\r\n\r\n" + upgrade + b"\x81\x01x") == (
        b"0\r\n\r\n" + upgrade + b"\x81\x01x")


def test_response_buffer_releases_at_upstream_close_and_learns_head_requests():
    buf = ResponseBuffer(size=1 << 20)
    assert buf.feed(b"HTTP/1.0 200 OK\r\n\r\nuntil") == b""
    assert buf.eof() == b"HTTP/1.0 200 OK\r\n\r\nuntil"
    buf = ResponseBuffer(size=1 << 20)
    watch = Chain(UpgradeStripper(), RequestWatch(buf))
    request = b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"
    assert watch.feed(request) == request
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"
    assert buf.feed(head) == head  # a response to HEAD ends with its head


def test_framer_refuses_an_unknown_role():
    with pytest.raises(ValueError, match="role must be 'request' or 'response'"):
        Framer("both")
