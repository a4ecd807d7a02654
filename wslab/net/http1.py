"""HTTP/1.1 message framing for the proxy's HTTP-aware toxics, sans-I/O.

`Framer` reads one direction of an HTTP/1.1 connection (requests or
responses) incrementally, in whatever pieces TCP delivers, and cuts it into
`Part` objects: a message head, body bytes, the end of a message, and the
bytes of a *tunnel* (after ``101 Switching Protocols``, a ``CONNECT``, or
anything it cannot parse, which it passes on untouched). The concatenated
``data`` of the parts is the input, except for heads a ``rewrite`` function
changed. It does no I/O and keeps no clock, so every split of the input can
be tested (tests/net/test_http1.py).

Framing follows RFC 9112 §6 (formerly RFC 7230 §3.3.3):

- a request has a body only with ``Transfer-Encoding: chunked`` or
  ``Content-Length`` (§6.3 rule 6: otherwise its length is 0);
- a response to ``HEAD``, a ``1xx``, ``204`` or ``304`` has no body (§6.3
  rule 1); ``101`` and a ``2xx`` to ``CONNECT`` switch the connection to a
  tunnel (rule 2); a final ``chunked`` coding frames the body (rule 4); else
  ``Content-Length``; else the body runs until the server closes (rule 8);
- a chunked body ends with the last chunk (size 0), optional trailer fields
  and an empty line (§7.1).

A response's framing needs its request's method; the proxy's request side
tells the response side (`Framer.expect`). A request that asks to switch
protocols (``Connection: upgrade`` with ``Upgrade``, RFC 9110 §7.8) or a
``CONNECT`` turns the request side into a tunnel after it: what follows may
be another protocol's bytes.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Framer", "Head", "Part", "strip_upgrade"]

#: a head larger than this is not HTTP as we know it: the framer becomes a tunnel
MAX_HEAD = 64 * 1024


@dataclass
class Head:
    """One message head: its start line and fields as received (bytes)."""

    start_line: bytes
    fields: list[tuple[bytes, bytes]]
    raw: bytes

    def values(self, name: bytes) -> list[bytes]:
        """The comma-separated list elements of every field ``name`` (lower-cased)."""
        name = name.lower()
        out = []
        for key, value in self.fields:
            if key.lower() == name:
                out += [v.strip().lower() for v in value.split(b",") if v.strip()]
        return out

    def has(self, name: bytes) -> bool:
        return any(key.lower() == name.lower() for key, _ in self.fields)

    @property
    def method(self) -> bytes:
        """The request method (a request head)."""
        return self.start_line.split(b" ", 1)[0]

    @property
    def status(self) -> int:
        """The status code (a response head); -1 if unreadable."""
        parts = self.start_line.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1

    def render(self) -> bytes:
        lines = [self.start_line] + [key + b": " + value for key, value in self.fields]
        return b"\r\n".join(lines) + b"\r\n\r\n"


class Part(NamedTuple):
    """A piece of the stream: ``kind`` is ``head``, ``body``, ``end`` or ``tunnel``."""

    kind: str
    data: bytes
    head: Head | None = None


def _parse_head(raw: bytes) -> Head | None:
    text = raw.lstrip(b"\r\n")  # RFC 9112 §2.2: empty lines before a request line are ignored
    lines = text.replace(b"\r\n", b"\n").split(b"\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines or b" " not in lines[0]:
        return None
    fields: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):  # obsolete line folding (RFC 9112 §5.2)
            if not fields:
                return None
            fields[-1] = (fields[-1][0], fields[-1][1] + b" " + line.strip())
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            return None
        fields.append((name, value.strip()))
    return Head(lines[0], fields, raw)


def strip_upgrade(head: Head) -> Head:
    """The request head as a proxy that does not implement ``Upgrade`` forwards it.

    RFC 9110 §7.6.1 and §7.8 (RFC 7230 §6.1 and §6.7 before): ``Upgrade`` is
    hop-by-hop, so the proxy removes the ``Upgrade`` field and the ``upgrade``
    option of ``Connection`` (a ``Connection`` field left empty goes too).
    A head without either comes back unchanged (same bytes).
    """
    fields: list[tuple[bytes, bytes]] = []
    changed = False
    for key, value in head.fields:
        low = key.lower()
        if low == b"upgrade":
            changed = True
            continue
        if low == b"connection":
            options = [v.strip() for v in value.split(b",") if v.strip()]
            kept = [v for v in options if v.lower() != b"upgrade"]
            if len(kept) != len(options):
                changed = True
                if not kept:
                    continue
                value = b", ".join(kept)
        fields.append((key, value))
    if not changed:
        return head
    new = Head(head.start_line, fields, b"")
    new.raw = new.render()
    return new


# parser states
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _TRAILER, _UNTIL_CLOSE, _TUNNEL = range(7)


class Framer:
    """Incremental framing of one direction: ``role`` is ``request`` or ``response``.

    ``feed(data)`` returns the parts that ``data`` completes, ``eof()`` those
    that the end of the stream completes. ``rewrite`` maps each head to the
    head to forward (framing then follows the forwarded head). ``on_head`` is
    called with every forwarded head (the proxy uses it to tell the response
    side each request's method). ``messages`` counts complete messages.
    """

    def __init__(self, role: str, rewrite: Callable[[Head], Head] | None = None,
                 on_head: Callable[[Head], None] | None = None) -> None:
        if role not in ("request", "response"):
            raise ValueError(f"role must be 'request' or 'response', got {role!r}")
        self.role = role
        self.rewrite = rewrite
        self.on_head = on_head
        self.state = _HEAD
        self.messages = 0
        self._buf = bytearray()  # an incomplete head, chunk-size line or trailer line
        self._remaining = 0  # body bytes left (content-length, or chunk data + CRLF)
        self._methods: collections.deque[bytes] = collections.deque()
        self._after_message = _HEAD  # a request that asks to switch protocols: _TUNNEL

    @property
    def tunnel(self) -> bool:
        """True once the framer passes everything on unparsed."""
        return self.state == _TUNNEL

    def expect(self, method: bytes) -> None:
        """(Response side) the next request on the connection had ``method``."""
        self._methods.append(method.upper())

    def feed(self, data: bytes) -> list[Part]:
        out: list[Part] = []
        view = memoryview(data)
        i, n = 0, len(data)
        while i < n:
            state = self.state
            if state == _TUNNEL:
                out.append(Part("tunnel", bytes(view[i:])))
                break
            if state in (_LENGTH, _CHUNK_DATA):
                take = min(self._remaining, n - i)
                self._body(out, view[i:i + take])
                i += take
                self._remaining -= take
                if not self._remaining:
                    if state == _LENGTH:
                        self._end(out)
                    else:
                        self.state = _CHUNK_SIZE
                continue
            if state == _UNTIL_CLOSE:
                self._body(out, view[i:])
                break
            # the line-oriented states: head, chunk-size line, trailer lines
            j = data.find(b"\n", i)
            if j < 0:
                self._buf += view[i:]
                i = n
                if state == _HEAD and len(self._buf) > MAX_HEAD:
                    self._give_up(out)
                continue
            self._buf += view[i:j + 1]
            i = j + 1
            line_start = self._buf.rfind(b"\n", 0, len(self._buf) - 1) + 1
            line = bytes(self._buf[line_start:]).rstrip(b"\r\n")
            if state == _HEAD:
                if line or not self._buf.strip(b"\r\n"):
                    if len(self._buf) > MAX_HEAD:
                        self._give_up(out)
                    continue  # more fields, or empty lines before the start line
                self._head(out)
            elif state == _CHUNK_SIZE:
                raw = bytes(self._buf)
                self._buf.clear()
                size_text = line.split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    self._tunnel_from(out, raw)
                    continue
                self._body(out, raw)
                if size:
                    self._remaining = size + 2  # the chunk and its CRLF
                    self.state = _CHUNK_DATA
                else:
                    self.state = _TRAILER
            else:  # _TRAILER: fields until an empty line
                raw = bytes(self._buf)
                self._buf.clear()
                self._body(out, raw)
                if not line:
                    self._end(out)
        return out

    def eof(self) -> list[Part]:
        """The stream ended: a body read until close ends here; a partial head is passed on."""
        out: list[Part] = []
        if self.state == _UNTIL_CLOSE:
            self._end(out)
        elif self._buf:
            out.append(Part("tunnel", bytes(self._buf)))
            self._buf.clear()
        return out

    # -- internals --------------------------------------------------------------
    @staticmethod
    def _body(out: list[Part], data: bytes | memoryview) -> None:
        if not data:
            return
        if out and out[-1].kind == "body":  # one body part per feed, not one per chunk
            out[-1] = Part("body", out[-1].data + bytes(data))
        else:
            out.append(Part("body", bytes(data)))

    def _end(self, out: list[Part]) -> None:
        self.messages += 1
        out.append(Part("end", b""))
        if self.state != _TUNNEL:
            self.state = self._after_message
        self._after_message = _HEAD

    def _give_up(self, out: list[Part]) -> None:
        self._tunnel_from(out, bytes(self._buf))

    def _tunnel_from(self, out: list[Part], raw: bytes) -> None:
        self._buf.clear()
        self.state = _TUNNEL
        if raw:
            out.append(Part("tunnel", raw))

    def _head(self, out: list[Part]) -> None:
        raw = bytes(self._buf)
        self._buf.clear()
        head = _parse_head(raw)
        if head is None:
            self._tunnel_from(out, raw)
            return
        if self.rewrite is not None:
            head = self.rewrite(head)
        if self.on_head is not None:
            self.on_head(head)
        out.append(Part("head", head.raw, head))
        if self.role == "request":
            self._frame_request(out, head)
        else:
            self._frame_response(out, head)

    def _frame_body(self, out: list[Part], head: Head, until_close: bool) -> None:
        codings = head.values(b"transfer-encoding")
        if codings:
            if codings[-1] == b"chunked":
                self.state = _CHUNK_SIZE
            elif until_close:
                self.state = _UNTIL_CLOSE
            else:  # a request without final chunked cannot be framed (RFC 9112 §6.3 rule 4)
                self.state = _TUNNEL
            return
        lengths = set(head.values(b"content-length"))
        if len(lengths) > 1 or (lengths and not next(iter(lengths)).isdigit()):
            self.state = _TUNNEL  # conflicting or invalid lengths: do not guess
            return
        if lengths:
            self._remaining = int(next(iter(lengths)))
            if self._remaining:
                self.state = _LENGTH
            else:
                self._end(out)
        elif until_close:
            self.state = _UNTIL_CLOSE
        else:
            self._end(out)

    def _frame_request(self, out: list[Part], head: Head) -> None:
        switching = head.method.upper() == b"CONNECT" or (
            b"upgrade" in head.values(b"connection") and head.has(b"upgrade"))
        if switching:
            self._after_message = _TUNNEL
        self._frame_body(out, head, until_close=False)

    def _frame_response(self, out: list[Part], head: Head) -> None:
        status = head.status
        method = self._methods[0] if self._methods else b"GET"
        if status == 101 or (method == b"CONNECT" and 200 <= status < 300):
            self.messages += 1
            self.state = _TUNNEL
            return
        if 100 <= status < 200:  # an interim response: the final one follows
            return
        if self._methods:
            self._methods.popleft()
        if status < 0:
            self.state = _TUNNEL
        elif method == b"HEAD" or status in (204, 304):
            self._end(out)
        else:
            self._frame_body(out, head, until_close=True)
