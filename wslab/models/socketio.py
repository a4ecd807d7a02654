"""Socket.IO's bytes on the wire: Engine.IO / Socket.IO framing, the upgrade probe, heartbeats.

Sources: the Socket.IO protocol v5 and Engine.IO protocol v4 specifications
(socket.io/docs/v4/socket-io-protocol, engine-io-protocol): an event is the
Socket.IO packet ``2["<name>",<arg>]`` (type ``2`` EVENT, then the JSON
array of the name and arguments) carried in an Engine.IO packet of type
``4`` MESSAGE; over polling, packets of one HTTP body are separated by the
record separator ``\\x1e``; the heartbeat is the server's ``2`` PING answered
by the client's ``3`` PONG; the upgrade is ``2probe`` (client), ``3probe``
(server) and ``5`` UPGRADE (client) on the new WebSocket. RFC 6455 §5.2 for
the WebSocket frame around each packet (client frames masked, §5.1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ConfigError
from ._checks import _non_negative, _positive
from .framing import ws_frame_bytes

__all__ = [
    "SIO_UPGRADE_PROBE_BYTES",
    "SIO_WS_HEARTBEAT_BYTES",
    "heartbeat_bytes_per_s",
    "sio_message_bytes",
    "sio_polling_event_bytes",
    "sio_ws_event_bytes",
]


def _name_len(event: str) -> int:
    if not isinstance(event, str) or not event or not event.isascii() or '"' in event \
            or "\\" in event:
        raise ConfigError(f"event must be a non-empty ASCII name without quotes or "
                          f"backslashes, not {event!r}")
    return len(event)


def sio_message_bytes(body_len: Any, event: str = "e") -> int | np.ndarray:
    """Bytes of the Engine.IO packet carrying one Socket.IO event whose single
    argument is a JSON value of ``body_len`` bytes: ``4`` + ``2`` + ``["`` +
    name + ``",`` + body + ``]``, i.e. ``body_len + len(event) + 7``."""
    n = _non_negative(body_len, "body_len")
    out = n + _name_len(event) + 7
    return int(out) if out.ndim == 0 else out.astype(np.int64)


def sio_ws_event_bytes(body_len: Any, event: str = "e") -> int | np.ndarray:
    """Bytes down per event over the WebSocket transport: the message in one
    unmasked server frame (RFC 6455 §5.2: 2 B header up to 125 B, 4 B to 65,535 B)."""
    return ws_frame_bytes(sio_message_bytes(body_len, event), masked=False)


def sio_polling_event_bytes(body_len: Any, events_per_response: Any, request_bytes: Any,
                            response_header_bytes: Any, event: str = "e") -> float | np.ndarray:
    """Bytes both ways per event over Engine.IO long polling: each response
    carries ``k = events_per_response`` packets separated by ``\\x1e`` and
    costs one ``GET`` of ``request_bytes`` and a response head of
    ``response_header_bytes`` (both measured: they depend on the client and
    server), so per event ``message + (request + head + k - 1) / k``."""
    k = _positive(events_per_response, "events_per_response")
    if np.any(k < 1):
        raise ConfigError(f"events_per_response must be at least 1, not {events_per_response!r}")
    req = _non_negative(request_bytes, "request_bytes")
    head = _non_negative(response_header_bytes, "response_header_bytes")
    out = sio_message_bytes(body_len, event) + (req + head + k - 1) / k
    return float(out) if np.ndim(out) == 0 else np.asarray(out, dtype=float)


#: one heartbeat over the WebSocket transport: PING ``2`` in an unmasked
#: frame (3 B down) and PONG ``3`` in a masked one (7 B up)
SIO_WS_HEARTBEAT_BYTES = int(ws_frame_bytes(1, masked=False) + ws_frame_bytes(1, masked=True))
#: the upgrade's probe exchange on the new WebSocket: ``2probe`` (12 B up,
#: masked), ``3probe`` (8 B down), ``5`` (7 B up, masked)
SIO_UPGRADE_PROBE_BYTES = int(ws_frame_bytes(6, masked=True) + ws_frame_bytes(6, masked=False)
                              + ws_frame_bytes(1, masked=True))


def heartbeat_bytes_per_s(exchange_bytes: Any, ping_interval: Any) -> float | np.ndarray:
    """Heartbeat bytes per second of one idle client: one PING/PONG exchange
    of ``exchange_bytes`` every ``ping_interval`` s (Socket.IO's default 25 s)."""
    out = _non_negative(exchange_bytes, "exchange_bytes") / _positive(ping_interval,
                                                                       "ping_interval")
    return float(out) if out.ndim == 0 else out
