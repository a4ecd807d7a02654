"""What zlib makes of the same event bodies offline: the compression model.

`wire_bytes` rebuilds a run's event bodies exactly (`wslab.core.events`:
the seeded payload pool and the seq and publish time of every delivery) and
compresses them as the transport does:

- websocket permessage-deflate (RFC 7692 §7.2.1): raw deflate at level 6 with
  memLevel 5 (websockets' settings), one ``Z_SYNC_FLUSH`` per message whose
  final 4 bytes (``00 00 ff ff``) are left out; with context takeover one
  compressor for the whole connection, without it a fresh one per message;
  the window is the negotiated ``server_max_window_bits`` (12 by default);
  each message in one frame (RFC 6455 §5.2: 2 B header, 4 B from 126 B,
  10 B from 64 KiB), plus the ``Sec-WebSocket-Extensions`` answer in the
  handshake, spread over the connection's events;
- long-poll gzip (RFC 1952): each response compressed on its own at level 6,
  one event per response (the batch ``[body]``), plus ``Content-Encoding:
  gzip`` and the changed ``Content-Length`` digits.

The model of a compressed run's bytes per event down is the uncompressed run's
measured bytes per event (same seed: same schedule, same payloads) less the
uncompressed framing and body, plus the compressed ones.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...core.events import PayloadPool, encode

__all__ = ["bodies", "extension_header", "gzip_delta", "ws_delta", "ws_frame"]

_LEVEL, _MEM_LEVEL = 6, 5  # zlib's default level; websockets' memLevel


def bodies(seqs: Sequence[int], published_ns: Sequence[int], payload: int, seed: int,
           kind: str) -> list[bytes]:
    """The exact event bodies of a run (its seed, payload size and kind)."""
    pool = PayloadPool(payload, seed, kind=kind)
    return [encode(int(s), int(t), pool.payload(int(s)))
            for s, t in zip(seqs, published_ns, strict=True)]


def ws_frame(n: int) -> int:
    """Bytes of an unmasked server frame carrying ``n`` payload bytes (RFC 6455 §5.2)."""
    return n + (2 if n < 126 else 4 if n < 65_536 else 10)


def _deflate_sizes(messages: Sequence[bytes], bits: int, takeover: bool) -> np.ndarray:
    def new() -> Any:
        return zlib.compressobj(_LEVEL, zlib.DEFLATED, -bits, _MEM_LEVEL)

    comp, out = new(), []
    for m in messages:
        if not takeover:
            comp = new()
        out.append(len(comp.compress(m) + comp.flush(zlib.Z_SYNC_FLUSH)) - 4)
    return np.asarray(out)


def extension_header(options: Mapping[str, Any]) -> int:
    """Bytes of the server's ``Sec-WebSocket-Extensions`` line answering the
    client's offer (websockets' own negotiation, run without a connection)."""
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
    from websockets.headers import build_extension

    from ...transports._deflate import client_extensions, server_factory

    offer = (client_extensions(options)
             or [ClientPerMessageDeflateFactory(compress_settings={"memLevel": _MEM_LEVEL})])[0]
    params, _ = server_factory().process_request_params(offer.get_request_params(), [])
    value = build_extension([("permessage-deflate", params)])  # type: ignore[list-item]
    return len(f"Sec-WebSocket-Extensions: {value}\r\n")


def ws_delta(messages: Sequence[bytes], options: Mapping[str, Any], per_client: int) -> float:
    """Bytes per event down that permessage-deflate with ``options`` adds to
    (negative: saves from) the uncompressed frames of ``messages``, one
    connection receiving ``per_client`` events."""
    bits = int(options.get("server_max_window_bits") or 12)
    takeover = not options.get("server_no_context_takeover", False)
    plain = np.array([ws_frame(len(m)) for m in messages])
    packed = np.array([ws_frame(int(n)) for n in _deflate_sizes(messages, bits, takeover)])
    header = extension_header({**options, "compression": True})
    return float((packed - plain).mean()) + header / max(per_client, 1)


def gzip_delta(messages: Sequence[bytes]) -> float:
    """Bytes per event down that gzip adds to (negative: saves from) long-poll
    responses carrying one event each."""
    deltas = []
    for m in messages:
        batch = b"[" + m + b"]"
        comp = zlib.compressobj(_LEVEL, zlib.DEFLATED, 16 + 15)
        n = len(comp.compress(batch) + comp.flush())
        deltas.append(n - len(batch) + len(str(n)) - len(str(len(batch)))
                      + len("Content-Encoding: gzip\r\n"))
    return float(np.mean(deltas))
