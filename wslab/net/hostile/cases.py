"""Seeded hostile cases for every kind of endpoint: HTTP, WebSocket, raw TCP.

`generate(kind, path, n, seed)` draws ``n`` cases from a `random.Random`
seeded with ``seed`` (the same seed gives the same cases), cycling through
the families of that kind so every family is exercised even in a small
campaign. Families:

- every HTTP endpoint (``kind`` ``"http"`` or ``"ws"``): ``request-line``
  (bad methods, targets, versions, bare LF), ``headers`` (no colon, space
  before the colon, obs-fold, control bytes, bad names), ``smuggling``
  (Content-Length with Transfer-Encoding, duplicate or negative lengths,
  bad chunks; RFC 9112 §6.3), ``oversize`` (a long request line or field,
  too many fields), ``query`` (bad ``since``/``timeout``/``ping`` values on a
  well-formed request), ``garbage`` (random bytes) and ``valid`` (a
  well-formed request, the baseline);
- WebSocket endpoints also: ``upgrade`` (bad opening handshakes, RFC 6455
  §4.2.1), ``frames`` (after a valid handshake: reserved opcodes, unmasked
  client frames, fragmented or long control frames, invalid UTF-8, bad close
  codes, RSV bits, stray continuations, lying lengths; §5.2-§5.5, §7.4) and
  ``valid-frames`` (well-formed messages; the server should stay open);
- raw TCP (``"tcp"``): ``garbage`` and ``since`` (random preambles), each
  followed by a half-close.

Only ``valid`` and ``valid-frames`` cases are well-formed: any other case a
server accepts is worth a look (the campaign reports by family).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ...core.errors import ConfigError
from .wire import (
    BINARY,
    CLOSE,
    CONT,
    PING,
    PONG,
    TEXT,
    close_payload,
    request,
    upgrade_request,
)
from .wire import frame as _frame

__all__ = ["FAMILIES", "KINDS", "LENIENT", "Case", "generate"]

KINDS = ("http", "ws", "tcp")
#: cases outside the valid families that a conforming server may still serve:
#: obs-text in a field value (RFC 9110 §5.5), a body on a GET (§9.3.1), an
#: extension offer the server declines (RFC 7692 §5), any Origin when the
#: server sets no allow-list (the point of the cross-origin check)
LENIENT = frozenset({"8-bit value", "body on GET", "bad extension", "foreign Origin"})
#: a ``since`` no stream reaches: connections opened by cases get no history
FAR = 10**15


@dataclass(frozen=True)
class Case:
    """One hostile input: ``data`` (the request or preamble), then ``frames``
    after a ``101``; ``eof``: half-close after ``data``; ``raw``: not HTTP;
    ``read_body``: read a ``200``'s body (what a page could read)."""

    family: str
    name: str
    data: bytes
    frames: tuple[bytes, ...] = ()
    eof: bool = False
    raw: bool = False
    read_body: bool = False

    @property
    def valid(self) -> bool:
        """Is the case well-formed (a server should serve it)?"""
        return self.family in ("valid", "valid-frames")


def _get(path: str, host: str, query: str = f"since={FAR}", **kw) -> bytes:
    return request("GET", f"{path}?{query}" if query else path,
                   [("Host", host), *kw.pop("headers", [])], **kw)


def _request_line(r: random.Random, path: str, host: str) -> tuple[str, bytes]:
    h = [("Host", host)]
    choices = [
        ("bad version", lambda: request("GET", path, h, r.choice(
            ["HTTP/0.9", "HTTP/2.0", "HTTP/1.1x", "HTTP/11", "http/1.1", "HTTP/1.", "HTTP/9.9",
             "HTTPS/1.1", ""]))),
        ("bad method", lambda: request(r.choice(["G ET", "GET\x00", "", "\x7f", "GE\tT",
                                                 "BREW", "g" * 300, "GET\xff"]), path, h)),
        ("bad target", lambda: request("GET", r.choice(
            ["", "*", "http://[::1", "/%", "/\x00", "/ /", "//" * 100, "/" + "\xff" * 8,
             "ws://evil.example/", path + "\t"]), h)),
        ("bare LF", lambda: request("GET", path, h, eol=b"\n")),
        ("bare CR", lambda: request("GET", path, h, eol=b"\r")),
        ("missing parts", lambda: r.choice([b"GET\r\n\r\n", b"GET /\r\n\r\n", b"\r\n\r\n",
                                            b" GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n"])),
    ]
    name, build = r.choice(choices)
    return name, build()


def _headers(r: random.Random, path: str, host: str) -> tuple[str, bytes]:
    bad = r.choice([
        ("no colon", "X-Broken value"), ("space before colon", "Host : x"),
        ("obs-fold", "X-A: a\r\n  folded"), ("NUL in value", "X-A: a\x00b"),
        ("control in name", "X\x01A: b"), ("empty name", ": value"),
        ("non-ASCII name", "X-\xe9: b"), ("CR in value", "X-A: a\rb"),
        ("duplicate Host", f"Host: {host}\r\nHost: evil.example"), ("no Host", None),
        ("8-bit value", "X-A: \xff\xfe"), ("huge Content-Length", "Content-Length: " + "9" * 40),
        ("bad Connection", "Connection: \x00"),
    ])
    name, line = bad
    headers: list[tuple[str | None, str]] = [] if line is None else [(None, line)]
    if name != "no Host" and name != "duplicate Host":
        headers.insert(0, ("Host", host))
    return name, request("GET", f"{path}?since={FAR}", headers)


def _smuggling(r: random.Random, path: str, host: str) -> tuple[str, bytes]:
    h = [("Host", host)]
    choices = [
        ("CL and TE", h + [("Content-Length", "4"), ("Transfer-Encoding", "chunked")], b"0\r\n\r\n"),
        ("two CL", h + [("Content-Length", "0"), ("Content-Length", "5")], b"hello"),
        ("negative CL", h + [("Content-Length", "-1")], b""),
        ("CL with sign", h + [("Content-Length", "+5")], b"hello"),
        ("TE not chunked", h + [("Transfer-Encoding", "gzip")], b""),
        ("TE chunked twice", h + [("Transfer-Encoding", "chunked, chunked")], b"0\r\n\r\n"),
        ("bad chunk size", h + [("Transfer-Encoding", "chunked")], b"zz\r\nabc\r\n0\r\n\r\n"),
        ("chunk extension", h + [("Transfer-Encoding", "chunked")], b"1;a=\x00\r\nx\r\n0\r\n\r\n"),
        ("TE obfuscated", h + [("Transfer-Encoding", " chunked"), ("Content-Length", "3")], b"abc"),
        ("body on GET", h + [("Content-Length", "3")], b"abc"),
    ]
    name, headers, body = r.choice(choices)
    return name, request(r.choice(["GET", "POST"]), f"{path}?since={FAR}", headers, body=body)


def _oversize(r: random.Random, path: str, host: str) -> tuple[str, bytes]:
    size = r.choice([8_200, 16_400, 70_000])
    choice = r.randrange(4)
    if choice == 0:
        return f"request line {size} B", _get(path, host, f"since={FAR}&pad=" + "a" * size)
    if choice == 1:
        return f"field {size} B", _get(path, host, headers=[("X-Pad", "a" * size)])
    if choice == 2:
        count = r.choice([130, 200, 1000])
        return f"{count} fields", _get(path, host,
                                       headers=[(f"X-H{k}", "v") for k in range(count)])
    return f"cookie {size} B", _get(path, host, headers=[("Cookie", "c=" + "b" * size)])


def _query(r: random.Random, path: str, host: str) -> tuple[str, bytes]:
    value = r.choice(["-1", "abc", "1e400", "9" * 400, "", "0x10", "nan", "inf", "-inf",
                      "%00", "1.5", " 1", "\u0661"])
    key = r.choice(["since", "timeout", "ping", "since", "fanout"])
    query = f"{key}={value}" if key == "since" else f"since={FAR}&{key}={value}"
    return f"{key}={value!r}", _get(path, host, query)


def _garbage(r: random.Random, path: str, host: str) -> tuple[str, bytes]:
    n = r.choice([0, 1, 7, 100, 4000])
    return f"{n} random bytes", r.randbytes(n)


def _valid(r: random.Random, path: str, host: str) -> tuple[str, bytes]:
    return "GET", _get(path, host, f"since={FAR}&timeout=0")


def _key(r: random.Random) -> str:
    return base64.b64encode(r.randbytes(16)).decode()


def _upgrade(r: random.Random, path: str, host: str) -> tuple[str, bytes]:
    target = f"{path}?since={FAR}"
    key = _key(r)
    base = [("Host", host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]

    def without(name: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in base if k != name]

    def replaced(name: str, value: str) -> list[tuple[str, str]]:
        return [(k, value if k == name else v) for k, v in base]

    choices = [
        ("no key", lambda: request("GET", target, without("Sec-WebSocket-Key"))),
        ("short key", lambda: request("GET", target, replaced(
            "Sec-WebSocket-Key", base64.b64encode(r.randbytes(r.choice([0, 8, 15]))).decode()))),
        ("key not base64", lambda: request("GET", target, replaced("Sec-WebSocket-Key", "!" * 24))),
        ("version 12", lambda: request("GET", target, replaced(
            "Sec-WebSocket-Version", r.choice(["12", "8", "14", "", "13, 8", "x"])))),
        ("no version", lambda: request("GET", target, without("Sec-WebSocket-Version"))),
        ("no Connection", lambda: request("GET", target, without("Connection"))),
        ("no Upgrade", lambda: request("GET", target, without("Upgrade"))),
        ("Upgrade: h2c", lambda: request("GET", target, replaced("Upgrade", "h2c"))),
        ("POST", lambda: request("POST", target, base)),
        ("HTTP/1.0", lambda: request("GET", target, base, "HTTP/1.0")),
        ("two keys", lambda: request("GET", target, base + [("Sec-WebSocket-Key", _key(r))])),
        ("bad extension", lambda: upgrade_request(host, target, key=key, extensions=r.choice(
            ["permessage-deflate; server_max_window_bits=99", "permessage-deflate; x=1",
             "permessage-deflate; client_max_window_bits=7", "x-unknown", ";;;",
             "permessage-deflate, permessage-deflate"]))),
        ("bad subprotocol", lambda: request("GET", target, base + [
            ("Sec-WebSocket-Protocol", r.choice(["", ",", "a b", "\x00"]))])),
        ("body", lambda: request("GET", target, base + [("Content-Length", "5")], body=b"hello")),
        ("foreign Origin", lambda: upgrade_request(host, target, origin="http://evil.example",
                                                   key=key)),
    ]
    name, build = r.choice(choices)
    return name, build()


def _frame_cases(r: random.Random, max_message: int) -> list[tuple[str, tuple[bytes, ...]]]:
    def frame(*args, **kw) -> bytes:  # seeded masking keys: a case is reproducible
        return _frame(*args, key=r.randbytes(4), **kw)

    text = r.randbytes(r.choice([0, 5, 125, 126, 300])).hex().encode()[:300]
    return [
        ("reserved opcode", (frame(r.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), text),)),
        ("unmasked", (frame(TEXT, b"hello", mask=False),)),
        ("fragmented ping", (frame(PING, b"x", fin=False), frame(CONT, b"y"))),
        ("long ping", (frame(PING, b"p" * 126),)),
        ("long close", (frame(CLOSE, close_payload(1000, b"r" * 124)),)),
        ("invalid UTF-8", (frame(TEXT, r.choice([b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80",
                                                 b"abc\xe2\x82", b"\xf8\x88\x80\x80\x80"])),)),
        ("invalid UTF-8 across fragments", (frame(TEXT, b"\xe2", fin=False),
                                            frame(CONT, b"\x28\xa1"))),
        ("invalid UTF-8 close reason", (frame(CLOSE, close_payload(1000, b"\xff")),)),
        ("bad close code", (frame(CLOSE, close_payload(r.choice(
            [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]))),)),
        ("1-byte close", (frame(CLOSE, b"\x03"),)),
        ("RSV bits", (frame(TEXT, b"x", rsv=r.randint(1, 7)),)),
        ("stray continuation", (frame(CONT, b"x"),)),
        ("data inside fragments", (frame(TEXT, b"a", fin=False), frame(TEXT, b"b"))),
        ("oversize announced", (frame(BINARY, b"x" * 64, length=max_message + 1),)),
        ("64-bit length MSB", (frame(BINARY, b"x" * 8, length=2**63 + 5),)),
        ("garbage", (r.randbytes(r.choice([1, 2, 50])),)),
    ]


def _valid_frames(r: random.Random) -> list[tuple[str, tuple[bytes, ...]]]:
    def frame(*args, **kw) -> bytes:
        return _frame(*args, key=r.randbytes(4), **kw)

    return [
        ("text", (frame(TEXT, b"hello"),)),
        ("binary", (frame(BINARY, bytes(range(200))),)),
        ("ping", (frame(PING, b"are you there"),)),
        ("pong", (frame(PONG, b"unsolicited"),)),  # allowed, RFC 6455 §5.5.3
        ("fragmented text", (frame(TEXT, b"hel", fin=False), frame(PING, b"mid"),
                             frame(CONT, b"lo"))),
        ("close 3000", (frame(CLOSE, close_payload(3000, b"bye")),)),
    ]


_Builder = Callable[[random.Random, str, str], tuple[str, bytes]]
_HTTP: dict[str, _Builder] = {"request-line": _request_line, "headers": _headers,
                              "smuggling": _smuggling, "oversize": _oversize,
                              "query": _query, "garbage": _garbage, "valid": _valid}
#: families by endpoint kind, in the order cases cycle through them
FAMILIES = {
    "http": tuple(_HTTP),
    "ws": (*_HTTP, "upgrade", "frames", "valid-frames"),
    "tcp": ("garbage", "since"),
}


def generate(kind: str, path: str, n: int, seed: int, host: str = "127.0.0.1",
             max_message: int = 2**21) -> Iterator[Case]:
    """``n`` seeded cases for an endpoint of ``kind`` (``"http"``, ``"ws"`` or
    ``"tcp"``) at ``path``; ``max_message`` is the size the oversize frames
    exceed. The cases cycle through `FAMILIES`\\ [kind]."""
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not isinstance(n, int) or n < 0 or n > 10_000_000:
        raise ConfigError(f"n must be an integer in 0..10000000, not {n!r}")
    r = random.Random(seed)
    families = FAMILIES[kind]
    handshake = upgrade_request(host, f"{path}?since={FAR}", key=_key(r))
    for k in range(n):
        family = families[k % len(families)]
        if kind == "tcp":
            body = r.randbytes(r.choice([0, 3, 100]) if family == "garbage" else 8)
            if family == "since":  # a valid preamble: a seq, maybe one the stream has
                body = r.choice([0, 1, FAR, 2**64 - 1]).to_bytes(8, "big")
            yield Case(family, f"{len(body)} bytes", body, eof=True, raw=True)
        elif family == "frames":
            name, frames = r.choice(_frame_cases(r, max_message))
            yield Case(family, name, handshake, frames)
        elif family == "valid-frames":
            name, frames = r.choice(_valid_frames(r))
            yield Case(family, name, handshake, frames)
        elif family == "upgrade":
            name, data = _upgrade(r, path, host)
            yield Case(family, name, data)
        else:
            name, data = _HTTP[family](r, path, host)
            yield Case(family, name, data, eof=family == "garbage")
