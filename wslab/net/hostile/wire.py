"""Sans-I/O bytes of hostile clients: HTTP/1.1 requests, WebSocket frames, answers.

Builders return exactly the bytes to write, valid or deliberately not (a
frame with a reserved opcode, a lying length, no mask; a request line with
a bad version, a header without a colon); parsers read what a server
answers: the status of an HTTP response head (RFC 9112 §4) and the frames a
server sends after ``101`` (RFC 6455 §5.2), so a probe can tell a close
code from a plain TCP close. Nothing here touches a socket.
"""

from __future__ import annotations

import base64
import os
import struct
import zlib
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["CLOSE", "CONT", "PING", "PONG", "TEXT", "BINARY", "FrameReader", "ServerFrame",
           "WS_VERSION", "close_payload", "deflate_message", "frame", "parse_close",
           "parse_response_head", "request", "upgrade_request"]

# Opcodes (RFC 6455 §5.2); 3-7 and 0xB-0xF are reserved.
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
WS_VERSION = "13"  # RFC 6455 §4.1 item 9


def request(method: str = "GET", target: str = "/",
            headers: Sequence[tuple[str | None, str]] | None = None,
            version: str = "HTTP/1.1", body: bytes = b"", eol: bytes = b"\r\n") -> bytes:
    """An HTTP/1.1 request as bytes, built without checking anything: every
    part may be malformed on purpose (``eol=b"\\n"`` for bare line feeds); a
    header whose name is ``None`` is written as its value alone (a raw line)."""
    lines = [f"{method} {target} {version}".encode("latin-1", "replace")]
    for name, value in headers or []:
        lines.append(f"{name}: {value}".encode("latin-1", "replace") if name is not None
                     else value.encode("latin-1", "replace"))
    return eol.join(lines) + eol + eol + body


def upgrade_request(host: str, target: str = "/", origin: str | None = None,
                    key: str | None = None, version: str = WS_VERSION,
                    extensions: str | None = None,
                    extra: Sequence[tuple[str | None, str]] | None = None) -> bytes:
    """A valid WebSocket opening handshake (RFC 6455 §4.1), optionally with an
    ``Origin`` (what a browser sends, §10.2) and ``Sec-WebSocket-Extensions``."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    headers: list[tuple[str | None, str]] = [("Host", host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", version)]
    if origin is not None:
        headers.append(("Origin", origin))
    if extensions is not None:
        headers.append(("Sec-WebSocket-Extensions", extensions))
    return request("GET", target, [*headers, *(extra or [])])


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
          mask: bool = True, length: int | None = None, key: bytes | None = None) -> bytes:
    """One WebSocket frame (RFC 6455 §5.2), as a client sends it (masked) unless
    ``mask=False``. ``rsv`` sets RSV1-3 (bits 4..6 of the first byte, 0..7);
    ``length`` announces a length other than the payload's (a lie, or a frame
    whose payload the caller streams itself). The length uses the shortest
    form, as §5.2 requires; 64-bit lengths over 2**63 are sent as given."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n & (2**64 - 1))
    if not mask:
        return head + payload
    key = key if key is not None else os.urandom(4)
    return head + key + _mask(payload, key)


def _mask(payload: bytes, key: bytes) -> bytes:
    # RFC 6455 §5.3: octet i XOR key[i % 4]; done on one big integer, not per byte
    if not payload:
        return b""
    stream = (key * (len(payload) // 4 + 1))[: len(payload)]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")
    return value.to_bytes(len(payload), "big")


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    """A close frame's body: the 2-byte code then the reason (§5.5.1); ``None``: empty."""
    return b"" if code is None else struct.pack(">H", code & 0xFFFF) + reason


def deflate_message(data: bytes) -> bytes:
    """``data`` compressed as permessage-deflate sends a message (RFC 7692
    §7.2.1: raw DEFLATE, a sync flush, its 4 trailing bytes removed). Send it
    in a frame with RSV1 set (``rsv=4``) on a connection that negotiated the
    extension; a run of one byte shrinks about 1000-fold (a compression bomb)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


class ServerFrame(NamedTuple):
    """A frame read from a server: FIN, opcode and the (unmasked) payload."""

    fin: bool
    opcode: int
    payload: bytes


class FrameReader:
    """Incremental parser of the frames a server sends (RFC 6455 §5.2).

    ``feed(data)`` returns the frames completed so far; the rest is kept.
    Server frames are unmasked; a masked one is parsed anyway (the mask is
    removed) since a probe records what it got rather than judging it.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[ServerFrame]:
        buf = self._buf
        buf += data
        out = []
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n, at = b1 & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, at = struct.unpack_from(">H", buf, 2)[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, at = struct.unpack_from(">Q", buf, 2)[0], 10
            key = b""
            if b1 & 0x80:
                key, at = bytes(buf[at:at + 4]), at + 4
            if len(buf) < at + n:
                break
            payload = bytes(buf[at:at + n])
            if key:
                payload = _mask(payload, key)
            out.append(ServerFrame(bool(b0 & 0x80), b0 & 0x0F, payload))
            del buf[:at + n]
        return out


def parse_close(payload: bytes) -> int | None:
    """The status code of a close frame's body, or ``None`` if it has none (§5.5.1)."""
    return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None


def parse_response_head(data: bytes) -> tuple[int, dict[str, str], bytes] | None:
    """``(status, headers, rest)`` once ``data`` holds a whole response head
    (status line and header fields up to the empty line, RFC 9112 §2.1), else
    ``None``. Header names are lower-cased; repeated ones are joined by
    ``", "`` (RFC 9110 §5.3). A status line that is not HTTP gives status 0."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if (len(parts) >= 2 and parts[0].startswith("HTTP/")
                               and parts[1].isdigit()) else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return status, headers, data[end + 4:]
