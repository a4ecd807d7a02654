"""HTTP/2 frames on the wire, counted without I/O (RFC 9113 §4.1, §3.4).

`FrameTally` is fed the bytes a client writes (``sent``) and reads
(``received``) on one connection, in order and however they are cut, and
splits them into the connection preface and frames: a 9-byte header (24-bit
length, type, flags, 31-bit stream identifier) and its payload. Nothing is
decoded beyond the frame header, so the counts are the bytes that crossed
the socket: in clear (h2c) they add up to the kernel's byte counters.

`FrameTally.exchanges` turns the frames into one row per request stream:
the bytes of the request's HEADERS (and CONTINUATION) frames, of the
response's, and the response's DATA frames, which is what a poll costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FRAME_HEADER_BYTES", "FRAME_TYPES", "PREFACE", "Exchange", "Frame", "FrameTally"]

#: RFC 9113 §3.4: what a client sends first in every HTTP/2 connection
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: RFC 9113 §4.1: length (24 bits), type, flags, R + stream identifier (31 bits)
FRAME_HEADER_BYTES = 9
#: RFC 9113 §6 frame type codes
FRAME_TYPES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS",
               5: "PUSH_PROMISE", 6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE",
               9: "CONTINUATION"}


@dataclass(frozen=True)
class Frame:
    """One frame: ``direction`` "up" (client to server) or "down", its type name,
    flags, stream and payload ``length``; ``size`` counts the 9-byte header too."""

    direction: str
    type: str
    flags: int
    stream: int
    length: int

    @property
    def size(self) -> int:
        return FRAME_HEADER_BYTES + self.length


@dataclass
class Exchange:
    """One request stream's bytes on the wire, frame headers included."""

    stream: int
    request_header_bytes: int = 0
    response_header_bytes: int = 0
    data_frames: int = 0
    data_payload_bytes: int = 0
    data_frame_bytes: int = 0
    other_bytes: int = 0  # RST_STREAM, WINDOW_UPDATE on the stream, ...


@dataclass
class _Direction:
    name: str
    preface: bytes = b""  # expected first (the client's preface, upstream only)
    buffer: bytearray = field(default_factory=bytearray)
    total: int = 0


class FrameTally:
    """Splits one connection's bytes, both ways, into the preface and frames."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.preface_bytes = 0
        self._up = _Direction("up", PREFACE)
        self._down = _Direction("down")

    @property
    def bytes_up(self) -> int:
        """Every byte the client wrote."""
        return self._up.total

    @property
    def bytes_down(self) -> int:
        """Every byte the client read."""
        return self._down.total

    def sent(self, data: bytes) -> None:
        """Bytes the client wrote."""
        self._feed(self._up, data)

    def received(self, data: bytes) -> None:
        """Bytes the client read."""
        self._feed(self._down, data)

    def _feed(self, d: _Direction, data: bytes) -> None:
        d.total += len(data)
        d.buffer += data
        buf = d.buffer
        if d.preface:
            n = min(len(d.preface), len(buf))
            if bytes(buf[:n]) != d.preface[:n]:
                raise ValueError("the client did not open with the HTTP/2 preface (RFC 9113 §3.4)")
            if n < len(d.preface):
                return
            del buf[:n]
            self.preface_bytes = n
            d.preface = b""
        while len(buf) >= FRAME_HEADER_BYTES:
            length = int.from_bytes(buf[0:3], "big")
            if len(buf) < FRAME_HEADER_BYTES + length:
                return
            kind = FRAME_TYPES.get(buf[3], f"0x{buf[3]:02x}")
            stream = int.from_bytes(buf[5:9], "big") & 0x7FFF_FFFF
            self.frames.append(Frame(d.name, kind, buf[4], stream, length))
            del buf[:FRAME_HEADER_BYTES + length]

    def connection_bytes(self, direction: str) -> int:
        """Bytes on stream 0 (SETTINGS, WINDOW_UPDATE, PING, GOAWAY), plus the preface up."""
        return (sum(f.size for f in self.frames if f.stream == 0 and f.direction == direction)
                + (self.preface_bytes if direction == "up" else 0))

    def exchanges(self) -> list[Exchange]:
        """One `Exchange` per request stream, in the order the streams opened."""
        out: dict[int, Exchange] = {}
        for f in self.frames:
            if f.stream == 0:
                continue
            x = out.setdefault(f.stream, Exchange(f.stream))
            if f.type in ("HEADERS", "CONTINUATION"):
                if f.direction == "up":
                    x.request_header_bytes += f.size
                else:
                    x.response_header_bytes += f.size
            elif f.type == "DATA" and f.direction == "down":
                x.data_frames += 1
                x.data_payload_bytes += f.length
                x.data_frame_bytes += f.size
            else:
                x.other_bytes += f.size
        return list(out.values())
