"""Subprotocol negotiation (``Sec-WebSocket-Protocol``, RFC 6455 §4.1, §4.2.2): bytes and refusals.

The client offers a list, the server answers with the one it picks, or, with
the websockets library, refuses the handshake when it supports some and none
is offered or shared (``NegotiationError``: HTTP 400). `subprotocol_table`
runs the kit's websocket server (`wslab.transports.websocket`, its
``subprotocols`` server option) on loopback and the websockets client with
each offer, and reads the handshake's bytes from the kernel's counters.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from ... import transports
from ...core.hub import Hub
from ...core.meter import tcp_info
from ...transports import Bind

__all__ = ["CASES", "subprotocol_table"]

#: (server supports, client offers): None is "no header"
CASES: tuple[tuple[Sequence[str] | None, Sequence[str] | None], ...] = (
    (None, None),
    (None, ("wslab.v1",)),
    (("wslab.v2", "wslab.v1"), ("wslab.v1",)),
    (("wslab.v2", "wslab.v1"), ("wslab.v1", "wslab.v2")),
    (("wslab.v2", "wslab.v1"), ("other.v1",)),
    (("wslab.v2", "wslab.v1"), None),
)


async def _one(url: str, offered: Sequence[str] | None) -> dict[str, Any]:
    host, port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    loop = asyncio.get_running_loop()
    raw = socket.socket()
    raw.setblocking(False)
    await loop.sock_connect(raw, (host, int(port)))
    held = raw.dup()  # the counters after websockets closed its socket
    try:
        try:
            ws = await connect(url, sock=raw, open_timeout=10, subprotocols=None if offered
                               is None else [Subprotocol(o) for o in offered])
        except InvalidStatus as exc:  # the server refused the handshake
            await asyncio.sleep(0.05)  # its response fully in (it closes after it)
            c = tcp_info(held)
            return {"status": exc.response.status_code, "chosen": "(refused)",
                    "reason": exc.response.body.decode(errors="replace").strip()[:120],
                    "bytes_up": c.bytes_up, "bytes_down": c.bytes_down}
        c = tcp_info(held)  # the 101 has been read: the handshake, both ways
        await ws.close()
        return {"status": 101, "chosen": ws.subprotocol or "(none)", "reason": "",
                "bytes_up": c.bytes_up, "bytes_down": c.bytes_down}
    finally:
        held.close()
        raw.close()


async def _table(cases) -> list[dict[str, Any]]:
    rows = []
    for supported, offered in cases:
        ep = await transports.get("websocket").start_server(
            Hub(10), Bind(), {"subprotocols": list(supported) if supported else None})
        try:
            row = await _one(ep.url, list(offered) if offered else None)
        finally:
            await ep.close()
        rows.append({"server supports": ", ".join(supported) if supported else "(none)",
                     "client offers": ", ".join(offered) if offered else "(none)", **row})
    return rows


def subprotocol_table(cases=CASES) -> pd.DataFrame:
    """One row per (server supports, client offers): the HTTP status (101 or the
    refusal's), the subprotocol chosen, the refusal's text, the handshake's bytes
    up and down (kernel counters; the 101 or the refusal fully read) and what
    each adds to the first case's (no header either way)."""
    # a thread of its own: a notebook's kernel already runs an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        df = pd.DataFrame(pool.submit(asyncio.run, _table(cases)).result(timeout=60))
    df["added_up"] = df["bytes_up"] - df["bytes_up"].iloc[0]
    df["added_down"] = df["bytes_down"] - df["bytes_down"].iloc[0]
    return df
