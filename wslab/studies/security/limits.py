"""Section 2 of notebook 10: size limits, per WebSocket library (C10).

Each WebSocket server of one Lab (websockets, aiohttp, picows; the limit is
`MAX_MESSAGE`, 2 MiB, on all three) gets, after a valid opening handshake:

- one frame one byte over the limit (RFC 6455 §7.4.1: close 1009, "message
  too big"); a server that refuses from the frame header may close while
  most of the frame is unread, and its kernel's RST can overtake the close
  frame, so a plain close also counts as a refusal;
- the same size as five fragments of at most 512 KiB (each frame is under
  the limit, the message is not);
- permessage-deflate (RFC 7692) messages: one that inflates to just under
  the limit (served) and compression bombs that inflate past it (a few KiB
  on the wire), to see that the limit applies to the *inflated* size;

and every server (the three, and aiohttp's HTTP endpoints via ``sse``) gets
request heads with one oversized header field and with too many fields.
`expected` is the issue's rule; `verdict` compares it with the answer.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...net.hostile.campaign import Target, attackable, targets
from ...net.hostile.cases import FAR, Case
from ...net.hostile.probe import probe
from ...net.hostile.wire import BINARY, CONT, deflate_message, frame, request, upgrade_request
from ...runner.lab import Lab
from ...transports.websocket import MAX_MESSAGE
from ._sync import run_sync

__all__ = ["BOMBS", "HEAD_SERVERS", "LIMIT_SERVERS", "header_cases", "measure_limits",
           "message_cases"]

LIMIT_SERVERS = ("websocket", "aiohttp-ws", "picows")
HEAD_SERVERS = ("websocket", "aiohttp-ws", "picows", "sse")
#: inflated sizes of the deflate messages: just under the limit, then bombs past it
BOMBS = (MAX_MESSAGE - 100, MAX_MESSAGE + 1, 2**26)
_REFUSED = ("101 + close 1009", "101 + plain close")
_DEFLATE = "permessage-deflate"


def message_cases() -> list[dict]:
    """The messages sent after the handshake: name, frames, wire bytes, the
    message's (inflated) size, the extension offered and the answers expected."""
    size = MAX_MESSAGE + 1
    chunk = 2**19
    parts = [chunk] * (size // chunk) + [size % chunk]
    fragments = tuple(frame(BINARY if k == 0 else CONT, b"b" * n, fin=k == len(parts) - 1)
                      for k, n in enumerate(parts))
    cases: list[dict[str, Any]] = [dict(case="one frame over the limit", frames=(frame(BINARY, b"b" * size),),
                  message_B=size, extension=None, expected=_REFUSED),
             dict(case=f"{len(parts)} fragments over the limit", frames=fragments,
                  message_B=size, extension=None, expected=_REFUSED)]
    for inflated in BOMBS:
        data = frame(BINARY, deflate_message(b"a" * inflated), rsv=4)  # RSV1: compressed
        ok = inflated <= MAX_MESSAGE
        cases.append(dict(case=("deflate, under the limit" if ok else "deflate bomb"),
                          frames=(data,), message_B=inflated, extension=_DEFLATE,
                          expected=("101 + close 1000",) if ok else _REFUSED))
    for c in cases:
        c["wire_B"] = sum(len(f) for f in c["frames"])  # bytes after the handshake
    return cases


def header_cases() -> list[dict]:
    """Request heads within and over the servers' limits (8 KiB lines, about
    100 fields on aiohttp and websockets): name, extra fields, refused?"""
    return [dict(case="field 8,000 B", extra=[("X-Pad", "a" * 8000)], refuse=False),
            dict(case="100 fields", extra=[(f"X-{k}", "v") for k in range(100)], refuse=False),
            dict(case="field 65,000 B", extra=[("X-Pad", "a" * 65_000)], refuse=True),
            dict(case="200 fields", extra=[(f"X-{k}", "v") for k in range(200)], refuse=True)]


def _handshake(t: Target, extension: str | None = None, extra=None) -> bytes:
    return upgrade_request(f"{t.host}:{t.port}", f"{t.path}?since={FAR}",
                           extensions=extension, extra=extra)


async def _messages(ts: dict[str, Target], timeout: float) -> list[dict]:
    rows = []
    for name in LIMIT_SERVERS:
        t = ts[name]
        offer = await probe(t.host, t.port, Case("limit", "offer", _handshake(t, _DEFLATE)),
                            timeout)
        deflate = offer.header("sec-websocket-extensions") is not None  # accepted (RFC 7692 §5)
        for c in message_cases():
            if c["extension"] is None or deflate:
                answer = (await probe(t.host, t.port, Case("limit", c["case"], _handshake(
                    t, c["extension"]), c["frames"]), timeout)).label
            else:
                answer = "extension not negotiated"  # nothing sent: RSV1 would be a violation
            expected = c["expected"] if c["extension"] is None or name != "picows" else (
                "extension not negotiated",)  # picows has no permessage-deflate
            rows.append({"server": name, "case": c["case"], "wire_B": c["wire_B"],
                         "message_B": c["message_B"],
                         "inflation": round(c["message_B"] / c["wire_B"], 1),
                         "limit_B": MAX_MESSAGE,
                         "answer": answer,
                         "expected": " or ".join(e.removeprefix("101 + ") for e in expected),
                         "verdict": "as expected" if answer in expected else "differs"})
    return rows


async def _heads(ts: dict[str, Target], timeout: float) -> list[dict]:
    rows = []
    for name in HEAD_SERVERS:
        t = ts[name]
        ok = "HTTP 101" if t.kind == "ws" else "HTTP 200"
        for c in header_cases():
            data = (_handshake(t, extra=c["extra"]) if t.kind == "ws" else request(
                "GET", f"{t.path}?since={FAR}", [("Host", f"{t.host}:{t.port}"), *c["extra"]]))
            label = (await probe(t.host, t.port, Case("head", c["case"], data), timeout)).label
            refused = label != ok and label != "no answer"
            rows.append({"server": name, "case": c["case"], "answer": label,
                         "expected": "refused" if c["refuse"] else ok,
                         "verdict": "as expected" if refused == c["refuse"] else "differs"})
    return rows


def measure_limits(timeout: float = 5.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables on one fresh Lab: (messages, heads). ``timeout`` bounds each probe."""
    with Lab() as lab:
        ts = {t.name: t for t in targets(attackable(lab.urls))}

        async def both() -> tuple[list[dict], list[dict]]:
            return await _messages(ts, timeout), await _heads(ts, timeout)

        messages, heads = run_sync(both())
    return pd.DataFrame(messages), pd.DataFrame(heads)


