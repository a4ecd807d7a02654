"""HPACK on the wire: a few HTTP/2 polls, frame by frame, with the kernel's count beside.

``python -m wslab.transports.h2probe '{"polls": 5, "headers": "browser", "tls": null}'``
starts the ``h2-short-poll`` server (hypercorn) and one httpx client in this
fresh process, both on loopback port 0, makes ``polls`` polls one after the
other on one connection (``since`` advancing, as a poller's does) and prints
one JSON object: every request stream's frame bytes (`wslab.core.h2frames`),
the connection-level bytes (preface, SETTINGS, WINDOW_UPDATE), the frame
tally's totals and the kernel's counters of the same socket, which must
agree in clear, and the protocol ALPN chose over TLS. The first poll pays
literal headers (its HPACK dynamic table is empty); the following ones send
indices (RFC 7541 §2.3, §6.1).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from ..core.events import Event
from ..core.h2frames import FrameTally
from ..core.hub import Hub
from ..core.tls import TlsMaterial, client_context, server_context
from .base import Bind, ClientContext
from .http2 import H2ShortPollTransport, poll

__all__ = ["main", "probe"]


async def probe(polls: int = 5, headers: str = "aiohttp", tls: str | None = None,
                payload: int = 64) -> dict[str, Any]:
    """Run the probe in this process (see the module docstring); returns its record."""
    from ._h2client import join_group

    if not 1 <= int(polls) <= 1000:
        raise ValueError(f"polls must be from 1 to 1000, not {polls!r}")
    transport = H2ShortPollTransport()
    hub = Hub(10_000)
    material = TlsMaterial.make(tls, "127.0.0.1") if tls else None
    bind = Bind(ssl=server_context(material.server_config()) if material else None,
                tls_config=material.server_config() if material else None)
    endpoint = await transport.start_server(hub, bind, {})
    options = transport.validate_options({"headers": headers})
    ctx = ClientContext(0, endpoint.url, options, 0,
                        tls=client_context(material.client_config()) if material else None)
    try:
        async with join_group(ctx, 1, FrameTally) as group:
            for seq in range(1, int(polls) + 1):  # one new event before every poll
                hub.publish(Event.make(seq, time.monotonic_ns(), b"p" * payload))
                await poll(ctx, group, f"{ctx.url}?since={ctx.last_seq}")
            stream = group.backend.current
            ssl_object = stream.get_extra_info("ssl_object") if stream else None
            alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            tally = group.backend.tallies[-1]
        row = ctx.conn.rows[-1]
    finally:
        await endpoint.close()
    origin = "/".join(endpoint.url.split("/", 3)[:3])
    return {"polls": int(polls), "headers": headers, "tls": tls, "alpn": alpn, "origin": origin,
            "delivered": len(ctx.seqs),
            "exchanges": [asdict(x) for x in tally.exchanges()],
            "connection_up_bytes": tally.connection_bytes("up"),
            "connection_down_bytes": tally.connection_bytes("down"),
            "frame_bytes_up": tally.bytes_up, "frame_bytes_down": tally.bytes_down,
            "kernel_bytes_up": row.counters.bytes_up,
            "kernel_bytes_down": row.counters.bytes_down}


async def _many(args: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [await probe(**a) for a in args]


def main(argv: list[str] | None = None) -> None:
    """Entry point: one JSON argument, an object (``polls``, ``headers``, ``tls``,
    ``payload``) or a list of them (one record each, in one process: a fresh
    server and connection per record)."""
    args = json.loads((argv or sys.argv[1:] or ["{}"])[0])
    if isinstance(args, list):
        print(json.dumps(asyncio.run(_many(args))))
    else:
        print(json.dumps(asyncio.run(probe(**args))))


if __name__ == "__main__":
    main()
