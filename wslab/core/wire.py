"""Every transport's wire format, without I/O.

Pure functions and small incremental decoders that are fed bytes and return
what those bytes mean (the "sans-I/O" style of websockets' ``frames.py`` and
h11): no sockets, no event loop, so each format is tested byte by byte,
split at every possible point, without opening a connection. The transports
(`wslab.transports`) own the I/O and call in here.

What is on the wire, per transport (the event body is
`wslab.core.events.encode`'s ``{"seq":N,"t":NS,"p":"..."}`` everywhere):

- ``tcp``: the client sends its last seq as 8 bytes big endian
  (`encode_since`); the server sends each event body behind a 4-byte
  big-endian length (`encode_frame`, decoded by `FrameDecoder`).
- ``sse``: ``text/event-stream`` (HTML Living Standard, "Server-sent events",
  §9.2.5 "Parsing an event stream" and §9.2.6 "Interpreting an event
  stream"): `encode_sse` writes the lines, `SseParser` reads them.
- ``long-poll`` / ``short-poll``: one JSON array of event bodies per response
  (`encode_batch`, `decode_batch`).
- ``websocket``: one text message per event body; the framing (RFC 6455 §5)
  is the websockets library's and is not repeated here.

Every receive path ends in `decode_header`, which reads ``(seq, t)`` off a
body without parsing the payload.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable
from typing import NamedTuple

__all__ = [
    "BODY_PREFIX",
    "LENGTH",
    "MAX_FRAME",
    "SINCE",
    "FrameDecoder",
    "SseEvent",
    "SseParser",
    "WireError",
    "decode_batch",
    "decode_header",
    "decode_since",
    "encode_batch",
    "encode_frame",
    "encode_frames",
    "encode_since",
    "encode_sse",
]


class WireError(ValueError):
    """Bytes that do not follow the wire format they were fed to."""


# -- the event body's header -------------------------------------------------------
#: every event body starts with these bytes (`wslab.core.events.encode`)
BODY_PREFIX = b'{"seq":'


def decode_header(body: bytes) -> tuple[int, int]:
    """``(seq, published_ns)`` of one event body, without parsing the payload.

    Every client calls this once per delivery, so it slices at the two
    markers ``encode`` writes instead of running a JSON parser over a payload
    that may be large. It trusts that layout (it is not a JSON validator);
    bytes without the markers or with non-integers between them raise
    `WireError`.
    """
    try:
        i = body.index(b',"t":', 7)  # seq starts at 7, after {"seq":
        return int(body[7:i]), int(body[i + 5 : body.index(b",", i + 5)])
    except (ValueError, TypeError):
        raise WireError(f"not an event body: {bytes(body[:60])!r}") from None


# -- tcp: length-prefixed frames -----------------------------------------------------
#: the 4-byte big-endian length in front of every frame
LENGTH = struct.Struct(">I")
#: the client's opening 8 bytes: the last seq it has, big endian
SINCE = struct.Struct(">Q")
_unpack_len = LENGTH.unpack_from
#: largest frame `FrameDecoder` accepts by default (the websocket transport's
#: message limit too): a corrupt length fails at once instead of buffering 4 GiB
MAX_FRAME = 2**21


def encode_since(seq: int) -> bytes:
    """The tcp client's opening bytes: the last seq it has (0: from the start)."""
    return SINCE.pack(seq)


def decode_since(data: bytes) -> int:
    """The seq in a tcp client's opening 8 bytes."""
    if len(data) != SINCE.size:
        raise WireError(f"the opening must be {SINCE.size} bytes, not {len(data)}")
    return SINCE.unpack(data)[0]


def encode_frame(body: bytes) -> bytes:
    """One length-prefixed frame."""
    return LENGTH.pack(len(body)) + body


def encode_frames(bodies: Iterable[bytes]) -> bytes:
    """Several frames back to back (a backlog, written at once)."""
    pack = LENGTH.pack
    return b"".join(pack(len(b)) + b for b in bodies)


class FrameDecoder:
    """Incremental decoder of length-prefixed frames.

    ``feed(chunk)`` returns every frame the chunk completes, in order; a
    frame split across reads (even inside its 4-byte length) is kept until
    its last byte arrives. A length above ``max_size`` raises `WireError`.
    """

    __slots__ = ("max_size", "_buf", "_need")

    def __init__(self, max_size: int = MAX_FRAME) -> None:
        self.max_size = max_size
        self._buf = bytearray()  # bytes of an incomplete frame
        self._need = 0  # len(_buf) at which that frame (or its length) is complete

    @property
    def pending(self) -> int:
        """Bytes held of a frame not yet complete (0 at a frame boundary)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        if not buf and len(data) > 4 and _unpack_len(data)[0] == len(data) - 4 <= self.max_size:
            return [data[4:]]  # the common case on a push stream: one whole frame per read
        if buf:
            # Only touch the held bytes when the frame can complete: a large
            # frame arriving in many reads is copied once, not once per read.
            buf += data
            if len(buf) < self._need:
                return []
            data = bytes(buf)
            buf.clear()
        frames: list[bytes] = []
        unpack_from, n, i = LENGTH.unpack_from, len(data), 0
        while n - i >= 4:
            (size,) = unpack_from(data, i)
            if size > self.max_size:
                raise WireError(f"frame of {size} bytes announced; at most {self.max_size}")
            end = i + 4 + size
            if end > n:
                self._need = end - i
                break
            frames.append(data[i + 4 : end])
            i = end
        else:
            self._need = 4
        if i < n:
            buf += data[i:]  # data may be a memoryview or bytearray: copy what is kept
        return frames

    def eof(self) -> None:
        """The stream ended: raise `WireError` if it ended inside a frame."""
        if self._buf:
            raise WireError(f"stream ended inside a frame ({len(self._buf)} bytes held)")


# -- sse: text/event-stream ----------------------------------------------------------
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"  # U+FEFF in UTF-8, the stream's encoding


def encode_sse(data: bytes, id: bytes | int | None = None, event: bytes | None = None,
               retry: int | None = None, sep: bytes = b"\r\n") -> bytes:
    """One event of a ``text/event-stream``, ending with the blank line that
    dispatches it.

    Field order and line ends are aiohttp-sse's (``id``, ``event``, one
    ``data`` line per line of ``data``, ``retry``, each ended by ``sep``), so
    the bytes are the ones the library would send. ``id`` and ``event`` must
    not contain line breaks (and ``id`` no NUL, which makes a client ignore
    it); ``retry`` is milliseconds.
    """
    out = []
    if isinstance(id, int):  # digits: nothing to check
        out.append(b"id: %d" % id + sep)
    elif id is not None:
        if _LINE_BREAK.search(id) or b"\0" in id:
            raise WireError("an SSE id must not contain CR, LF or NUL")
        out.append(b"id: " + id + sep)
    if event is not None:
        if _LINE_BREAK.search(event):
            raise WireError("an SSE event type must not contain CR or LF")
        out.append(b"event: " + event + sep)
    if b"\n" in data or b"\r" in data:
        out.extend(b"data: " + line + sep for line in _LINE_BREAK.split(data))
    else:
        out.append(b"data: " + data + sep)
    if retry is not None:
        if retry < 0:
            raise WireError("SSE retry must not be negative")
        out.append(b"retry: %d" % retry + sep)
    out.append(sep)
    return b"".join(out)


class SseEvent(NamedTuple):
    """One dispatched event: its data (lines joined with LF), its type
    (``b"message"`` unless an ``event:`` field named one) and the stream's
    last event ID when it was dispatched. Bytes, as sent (UTF-8)."""

    data: bytes
    event: bytes = b"message"
    last_event_id: bytes = b""


class SseParser:
    """Incremental ``text/event-stream`` parser (the WHATWG event stream
    interpretation, on bytes).

    ``feed(chunk)`` returns the events that the chunk dispatches. Rules, in
    the standard's words where they matter:

    - lines end with CRLF, LF or a lone CR; a CR that ends a chunk ends its
      line at once (no waiting for the next read), and an LF that then opens
      the next chunk is the rest of that CRLF, not an empty line;
    - one leading U+FEFF BYTE ORDER MARK is ignored, even split across reads;
    - an empty line dispatches: the last event ID becomes the ``id`` buffer,
      and an event is produced only if at least one ``data`` field came;
    - a line starting with ``:`` is a comment; otherwise the field name is
      what precedes the first ``:`` (the whole line if there is none) and
      one space after the colon, if present, is removed from the value;
    - ``data`` appends the value and an LF to the data buffer (the final LF
      is removed on dispatch); ``event`` sets the type; ``id`` sets the ID
      buffer unless the value contains NUL; ``retry`` of ASCII digits only
      sets `retry` (ms); any other field is ignored;
    - an event not ended by an empty line when the stream ends is discarded.
    """

    __slots__ = ("last_event_id", "retry", "_id", "_type", "_data", "_tail", "_skip_lf",
                 "_started")

    def __init__(self) -> None:
        #: the event source's last event ID string (set at each dispatch)
        self.last_event_id = b""
        #: the reconnection time the server asked for, in ms (None: not set)
        self.retry: int | None = None
        self._id = b""  # the last event ID buffer
        self._type = b""
        self._data: list[bytes] = []
        self._tail = b""  # an incomplete line, kept for the next chunk
        self._skip_lf = False  # the previous chunk ended with CR
        self._started = False  # past the byte order mark, if any

    def feed(self, data: bytes) -> list[SseEvent]:
        if self._skip_lf and data:
            self._skip_lf = False
            if data[0] == 10:  # LF: the second half of a CRLF split between reads
                data = data[1:]
        if self._tail:
            data = self._tail + data
            self._tail = b""
        if not self._started:
            if len(data) < 3 and _BOM.startswith(data):
                self._tail = data  # maybe a BOM, not yet whole
                return []
            self._started = True
            if data.startswith(_BOM):
                data = data[3:]
        if not data:
            return []
        lines = data.splitlines(True)  # bytes: splits on CRLF, LF and CR only
        last = lines[-1]
        end = last[-1]
        if end != 10 and end != 13:  # 10 is LF, 13 CR
            self._tail = bytes(lines.pop())
        elif end == 13:
            self._skip_lf = True
        events: list[SseEvent] = []
        data_lines = self._data
        for line in lines:
            line = line.rstrip(b"\r\n")  # one line end exactly (splitlines kept it)
            if not line:  # dispatch
                self.last_event_id = self._id
                if data_lines:
                    events.append(SseEvent(
                        data_lines[0] if len(data_lines) == 1 else b"\n".join(data_lines),
                        self._type or b"message", self._id))
                    data_lines.clear()
                self._type = b""
            elif line[0] == 58:  # ":" opens a comment (a keep-alive ping, say)
                continue
            else:
                name, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if name == b"data":
                    data_lines.append(value)
                elif name == b"id":
                    if b"\0" not in value:
                        self._id = value
                elif name == b"event":
                    self._type = value
                elif name == b"retry":
                    if value.isdigit():  # bytes.isdigit: ASCII digits only
                        self.retry = int(value)
        return events


# -- polling: one JSON array of event bodies per response ----------------------------
def encode_batch(bodies: Iterable[bytes]) -> bytes:
    """A JSON array of event bodies (``[]`` for none), from the encoded bodies."""
    return b"[" + b",".join(bodies) + b"]"


def decode_batch(body: bytes) -> list[tuple[int, int]]:
    """``(seq, published_ns)`` of every event in a polling response, in order."""
    try:
        events = json.loads(body)
        if type(events) is not list:
            raise TypeError("not a JSON array")
        return [(e["seq"], e["t"]) for e in events]
    except (ValueError, TypeError, KeyError) as exc:
        raise WireError(f"not a batch of event bodies ({exc}): {bytes(body[:60])!r}") from None
