"""Cross-origin requests: what each endpoint answers a page from another origin.

A browser sends ``Origin`` on a WebSocket opening handshake (RFC 6455 §4.1
item 8, §10.2) and on cross-origin fetches (Fetch standard, "CORS
protocol"). CORS protects *reading*: without an
``Access-Control-Allow-Origin`` that names the page's origin, the browser
hides the response from the page, but the request was still made and its
side effects (a stream opened, a long poll held, events handed out)
happened. A WebSocket is not covered by CORS at all: once the server
answers ``101``, the foreign page reads every message (cross-site
WebSocket hijacking), so the server's own ``Origin`` check is what stops it.

`cross_origin` sends, to each endpoint, what such a page would send (the
handshake, or a ``GET``, and a CORS preflight ``OPTIONS``) and records the
status, the CORS headers and whether data came back; `format_rows` prints
them as a table.
"""

from __future__ import annotations

from .campaign import Target, attackable, targets
from .cases import Case
from .probe import Outcome, probe
from .wire import request, upgrade_request

__all__ = ["CORS_HEADERS", "cross_origin", "format_rows"]

CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials",
                "access-control-allow-methods")


def _requests(t: Target, origin: str | None) -> list[tuple[str, Case]]:
    host = f"{t.host}:{t.port}"
    sent = [] if origin is None else [("Origin", origin)]  # None: no Origin header
    if t.kind == "ws":
        # since=0: the whole history, as a page's own client would ask for it
        return [("upgrade", Case("origin", "upgrade", upgrade_request(
            host, f"{t.path}?since=0", origin=origin)))]
    get = request("GET", f"{t.path}?since=0&timeout=0.2",
                  [("Host", host), *sent, ("Accept", "*/*")])
    preflight = request("OPTIONS", f"{t.path}?since=0",
                        [("Host", host), *sent,
                         ("Access-Control-Request-Method", "GET"),
                         ("Access-Control-Request-Headers", "last-event-id")])
    return [("GET", Case("origin", "GET", get, read_body=True)),
            ("OPTIONS preflight", Case("origin", "OPTIONS", preflight))]


def _row(t: Target, what: str, o: Outcome, origin: str | None) -> dict:
    row = {"endpoint": t.name, "request": what, "origin": origin, "answer": o.label,
           "body_bytes": len(o.body)}
    for h in CORS_HEADERS:
        row[h] = o.header(h)
    # would a browser let the page read it? (CORS; never asked for a WebSocket);
    # without an Origin the client is no browser page: it reads what it gets
    row["page_can_read"] = (o.status == 101 if what == "upgrade" else
                            o.status == 200 if origin is None else
                            o.header("access-control-allow-origin") in (origin, "*"))
    return row


async def cross_origin(urls: dict[str, str], origin: str | None = "http://evil.example",
                       timeout: float = 0.5) -> list[dict]:
    """One row per endpoint and request: the answer (``HTTP 101`` is an opened
    WebSocket, ``HTTP 403`` a refusal), the CORS headers (``None``: absent),
    the bytes of data that came back within ``timeout`` and whether a page on
    ``origin`` could read them (``origin=None``: requests without an ``Origin``,
    as a non-browser client sends them). ``urls`` maps transport names to loopback
    URLs (``Lab.urls``); raw TCP is skipped (a browser cannot open it), and so
    is any transport `attackable` leaves out."""
    rows = []
    for t in targets({n: u for n, u in attackable(urls).items() if n != "tcp"}):
        for what, case in _requests(t, origin):
            rows.append(_row(t, what, await probe(t.host, t.port, case, timeout), origin))
    return rows


def format_rows(rows: list[dict]) -> str:
    """``rows`` of `cross_origin` as a fixed-width text table."""
    cols = ["endpoint", "request", "answer", "access-control-allow-origin", "body_bytes",
            "page_can_read"]
    cells = [[str(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)

