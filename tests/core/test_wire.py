"""Wire formats, byte by byte: no socket is opened here.

Decoders are fed the same bytes split at every possible point (one split,
two splits, one byte at a time), as websockets tests its frame parser, and
must return the same frames or events as when fed in one piece.
"""

import asyncio
import itertools
import json
import random

import pytest
from aiohttp_sse import EventSourceResponse

from wslab.core import wire
from wslab.core.events import PayloadPool, encode
from wslab.core.wire import FrameDecoder, SseEvent, SseParser, WireError


def splits(data: bytes, pieces: int):
    """Every way to cut ``data`` into ``pieces`` consecutive (maybe empty) parts."""
    for cuts in itertools.combinations_with_replacement(range(len(data) + 1), pieces - 1):
        bounds = (0, *cuts, len(data))
        yield [data[a:b] for a, b in itertools.pairwise(bounds)]


def feed_all(decoder, chunks):
    out = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


# -- the event header ------------------------------------------------------------------
_JSON_SAFE = [chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\']
# escapes a JSON string may hold, including ones that spell the header's markers
_ESCAPES = ['\\"', "\\\\", "\\n", "\\u00e9", '\\",\\"t\\":', '\\"seq\\":']


def _random_body(rng: random.Random) -> tuple[bytes, int, int]:
    seq = rng.choice([0, 1, 9, 10, 2**31, 2**63 - 1, rng.randrange(2**63)])
    t = rng.choice([0, 1, 10**18, 2**63 - 1, rng.randrange(2**63)])
    parts = [rng.choice(_ESCAPES) if rng.random() < 0.05 else rng.choice(_JSON_SAFE)
             for _ in range(rng.choice([0, 1, 5, 64, rng.randrange(2000)]))]
    return encode(seq, t, "".join(parts).encode()), seq, t


def test_decode_header_agrees_with_json_on_generated_bodies():
    rng = random.Random(20240601)
    for _ in range(5000):
        body, seq, t = _random_body(rng)
        reference = json.loads(body)
        assert wire.decode_header(body) == (reference["seq"], reference["t"]) == (seq, t)


def test_decode_header_on_real_payloads_and_json_dumps_layout():
    pool = PayloadPool(64, 3)
    for seq in range(1, 200):
        body = encode(seq, 10**15 + seq, pool.payload(seq))
        dumped = json.dumps({"seq": seq, "t": 10**15 + seq, "p": pool.payload(seq).decode()},
                            separators=(",", ":")).encode()
        assert dumped == body
        assert wire.decode_header(body) == (seq, 10**15 + seq)


def test_decode_header_needs_both_markers():
    body = encode(12345, 678, b"payload")
    comma = body.index(b",", body.index(b',"t":') + 5)
    for cut in range(len(body) + 1):
        if cut > comma:  # the header is whole: the payload is not read
            assert wire.decode_header(body[:cut]) == (12345, 678)
        else:
            with pytest.raises(WireError, match="not an event body"):
                wire.decode_header(body[:cut])
    for bad in (b"", b"{}", b'{"seq":"a","t":1,"p":""}', b'{"seq":1,"t":x,"p":""}'):
        with pytest.raises(WireError):
            wire.decode_header(bad)


def test_push_recorder_uses_the_same_header_parser():
    from wslab.transports.base import ClientContext

    ctx = ClientContext(0, "tcp://127.0.0.1:1", {}, 0)
    record_body = ctx.body_recorder()
    rng = random.Random(5)
    expected = []
    for _ in range(300):
        body, seq, t = _random_body(rng)
        record_body(body, 42)
        expected.append((seq, t))
    assert list(zip(ctx.seqs, ctx.published, strict=True)) == expected
    assert set(ctx.received) == {42}
    with pytest.raises(WireError):
        record_body(b"garbage", 1)


# -- tcp: length-prefixed frames -----------------------------------------------------------
BODIES = [b"", b"a", encode(1, 2, b"xyz"), bytes(range(256)) * 2, b"\x00\x00\x00\x05"]


def test_frames_round_trip_at_every_split():
    stream = wire.encode_frames(BODIES)
    assert stream == b"".join(wire.encode_frame(b) for b in BODIES)
    assert len(stream) == sum(4 + len(b) for b in BODIES)
    for chunks in splits(stream, 2):
        assert feed_all(FrameDecoder(), chunks) == BODIES
    small = wire.encode_frames(BODIES[:3] + BODIES[4:])  # short enough for all 3-way splits
    for chunks in splits(small, 3):
        decoder = FrameDecoder()
        assert feed_all(decoder, chunks) == BODIES[:3] + BODIES[4:]
        assert decoder.pending == 0
    decoder = FrameDecoder()
    assert feed_all(decoder, [stream[i : i + 1] for i in range(len(stream))]) == BODIES


def test_frames_random_chunking_of_a_long_stream():
    rng = random.Random(7)
    bodies = [rng.randbytes(rng.choice([0, 1, 3, 4, 5, 100, 5000])) for _ in range(300)]
    stream = wire.encode_frames(bodies)
    for _ in range(50):
        decoder, out, i = FrameDecoder(), [], 0
        while i < len(stream):
            step = rng.choice([1, 2, 3, 4, 5, 7, 64, 4096, 70_000])
            out.extend(decoder.feed(stream[i : i + step]))
            i += step
        assert out == bodies and decoder.pending == 0


def test_frame_decoder_pending_eof_and_size_limit():
    frame = wire.encode_frame(b"hello")
    decoder = FrameDecoder()
    assert decoder.feed(frame[:6]) == [] and decoder.pending == 6
    with pytest.raises(WireError, match="inside a frame"):
        decoder.eof()
    assert decoder.feed(frame[6:]) == [b"hello"] and decoder.pending == 0
    decoder.eof()  # at a boundary: fine
    with pytest.raises(WireError, match="at most 10"):
        FrameDecoder(max_size=10).feed(wire.encode_frame(b"x" * 11))
    decoder = FrameDecoder(max_size=10)  # the limit holds for a length split across reads
    decoder.feed(b"\x00\x00")
    with pytest.raises(WireError, match="11 bytes"):
        decoder.feed(b"\x00\x0b")


def test_since_opening():
    assert wire.encode_since(0) == bytes(8)
    assert wire.decode_since(wire.encode_since(2**63 + 5)) == 2**63 + 5
    with pytest.raises(WireError, match="8 bytes"):
        wire.decode_since(b"\x00" * 7)


# -- sse: the event stream ---------------------------------------------------------------
def parse(stream: bytes) -> list[SseEvent]:
    return SseParser().feed(stream)


def test_sse_examples_of_the_standard():
    # HTML Living Standard, 9.2.6 "Interpreting an event stream", its examples
    assert parse(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [SseEvent(b"YHOO\n+2\n10")]
    events = parse(b": test stream\n\ndata: first event\nid: 1\n\n"
                   b"data:second event\nid\n\ndata:  third event\n\n")
    assert events == [SseEvent(b"first event", b"message", b"1"),
                      SseEvent(b"second event", b"message", b""),  # "id" alone clears it
                      SseEvent(b" third event", b"message", b"")]  # only one space goes
    # data with no value: an event with empty data, then one with data "\n"; the
    # last "data:" is never dispatched (no blank line before the end)
    assert parse(b"data\n\ndata\ndata\n\ndata:") == [SseEvent(b""), SseEvent(b"\n")]
    assert parse(b"data:test\n\ndata: test\n\n") == [SseEvent(b"test"), SseEvent(b"test")]


def test_sse_fields_id_retry_event_and_comments():
    p = SseParser()
    assert p.feed(b"id: 7\n\n") == [] and p.last_event_id == b"7"  # id without data
    assert p.feed(b"data: a\n\n") == [SseEvent(b"a", b"message", b"7")]  # the id persists
    assert p.feed(b"id: 8\x009\ndata: b\n\n") == [SseEvent(b"b", b"message", b"7")]  # NUL
    assert p.feed(b"event: tick\ndata: c\n\ndata: d\n\n") == [
        SseEvent(b"c", b"tick", b"7"), SseEvent(b"d", b"message", b"7")]  # type resets
    assert p.feed(b"event: x\n\ndata: e\n\n") == [SseEvent(b"e", b"message", b"7")]
    for value, expected in ((b"1500", 1500), (b"15a", 1500), (b"-1", 1500), (b"", 1500),
                            (b" 20", 1500), (b"0", 0), (b"007", 7)):
        p.feed(b"retry: " + value + b"\n")
        assert p.retry == expected, value
    assert p.feed(b": ping\r\n\r\n:\n\n") == []  # comments and empty dispatches
    assert p.feed(b"foo: bar\ndata:x\nDATA: y\ndata : z\n\n") == [SseEvent(b"x", b"message",
                                                                            b"7")]
    assert p.feed(b"data:  two spaces\n\n")[0].data == b" two spaces"
    assert p.feed(b"data:a:b: c\n\n")[0].data == b"a:b: c"  # the first colon splits


def test_sse_line_ends_bom_and_every_split():
    body = encode(42, 99, b"abc")
    events = [SseEvent(body, b"message", b"42"), SseEvent(b"x\ny", b"tick", b"43")]
    for eol in (b"\n", b"\r", b"\r\n"):
        lines = [b": ping", b"", b"id: 42", b"data: " + body, b"", b"retry: 10",
                 b"id: 43", b"event: tick", b"data:x", b"data: y", b"", b"data: lost"]
        stream = eol.join(lines)  # ends inside an event: it is discarded
        for bom in (b"", b"\xef\xbb\xbf"):
            for chunks in splits(bom + stream, 2):
                p = SseParser()
                assert feed_all(p, chunks) == events, (eol, chunks)
                assert p.retry == 10 and p.last_event_id == b"43"
        for chunks in splits(b"\xef\xbb\xbf" + eol.join(lines[:5]) + eol, 3):
            assert feed_all(SseParser(), chunks) == events[:1], chunks
        one_by_one = [stream[i : i + 1] for i in range(len(stream))]
        assert feed_all(SseParser(), one_by_one) == events


def test_sse_mixed_line_ends_and_cr_at_a_chunk_boundary():
    stream = b"data: a\r\ndata: b\rdata: c\n\r\n\rdata: d\r\r"
    expected = [SseEvent(b"a\nb\nc"), SseEvent(b"d")]
    assert parse(stream) == expected
    for chunks in splits(stream, 3):
        assert feed_all(SseParser(), chunks) == expected, chunks


def test_sse_dispatches_as_soon_as_the_blank_line_ends():
    # A CR ends its line at once: an event sent with CRLF line ends is
    # dispatched by the read that brings the blank line's CR, not one later.
    stream = b"id: 1\r\ndata: one\r\n\r\nid: 2\r\ndata: two\r\n\r\n"
    blank_crs = (stream.index(b"\r\n\r\n") + 2, len(stream) - 2)
    for cut in range(len(stream) + 1):
        p = SseParser()
        head = p.feed(stream[:cut])
        assert len(head) == sum(cut > cr for cr in blank_crs), cut
        assert head + p.feed(stream[cut:]) == [SseEvent(b"one", b"message", b"1"),
                                               SseEvent(b"two", b"message", b"2")]


def test_sse_bom_only_once_and_only_at_the_start():
    assert parse(b"\xef\xbb\xbfdata: x\n\n") == [SseEvent(b"x")]
    # a second BOM is part of the first field name, so that field is ignored
    assert parse(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n") == []
    p = SseParser()
    assert p.feed(b"data: x\n\n") == [SseEvent(b"x")]
    assert p.feed(b"\xef\xbb\xbfdata: y\n\n") == []  # not at the stream's start
    assert feed_all(SseParser(), [b"\xef", b"\xbb", b"", b"\xbf", b"data: z\n\n"]) == [
        SseEvent(b"z")]
    assert feed_all(SseParser(), [b"\xef", b"data: z\n\n"]) == []  # not a BOM: a field name


def test_sse_encoder_writes_what_aiohttp_sse_writes():
    class Captured(EventSourceResponse):
        async def write(self, data: bytes) -> None:
            self.sent = data

    cases = [("body", "1", None, None), ("", None, None, None), ("a\nb\r\nc\rd\n", "7", "t", 5),
             (encode(5, 6, b"pp").decode(), "5", None, None), ("x", None, "update", None)]
    for data, id_, event, retry in cases:
        resp = Captured()
        asyncio.run(resp.send(data, id=id_, event=event, retry=retry))
        ours = wire.encode_sse(data.encode(), None if id_ is None else id_.encode(),
                               None if event is None else event.encode(), retry)
        assert ours == resp.sent
    assert wire.encode_sse(b"x", id=12) == b"id: 12\r\ndata: x\r\n\r\n"
    assert wire.encode_sse(b"x", sep=b"\n") == b"data: x\n\n"
    for bad in ({"id": b"a\nb"}, {"id": b"a\0"}, {"event": b"a\rb"}, {"retry": -1}):
        with pytest.raises(WireError):
            wire.encode_sse(b"x", **bad)


def test_sse_encoder_and_parser_round_trip():
    rng = random.Random(11)
    sent, stream = [], b""
    for seq in range(1, 300):
        data = rng.choice([encode(seq, seq, rng.randbytes(8).hex().encode()), b"", b"a\nb",
                           b"line\r\nline\rline"])
        event = rng.choice([None, b"tick"])
        stream += wire.encode_sse(data, id=seq, event=event, sep=rng.choice([b"\n", b"\r\n"]))
        if rng.random() < 0.1:
            stream += b": ping\r\n\r\n"
        sent.append(SseEvent(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"),
                             event or b"message", b"%d" % seq))
    p, out, i = SseParser(), [], 0
    while i < len(stream):
        step = rng.choice([1, 2, 3, 17, 100, 4096])
        out.extend(p.feed(stream[i : i + step]))
        i += step
    assert out == sent and p.last_event_id == b"299"


# -- polling: batch bodies -----------------------------------------------------------
def test_batch_round_trip_and_errors():
    bodies = [encode(s, 10 * s, PayloadPool(16, 0).payload(s)) for s in range(1, 6)]
    batch = wire.encode_batch(bodies)
    assert json.loads(batch) == [json.loads(b) for b in bodies]
    assert wire.decode_batch(batch) == [(s, 10 * s) for s in range(1, 6)]
    assert wire.encode_batch([]) == b"[]" and wire.decode_batch(b"[]") == []
    for bad in (b"", b"[", b"{}", b'[{"seq":1}]', b"[1]", b"not json"):
        with pytest.raises(WireError, match="not a batch"):
            wire.decode_batch(bad)
