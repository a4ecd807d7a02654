"""Bytes per message on the wire: RFC 6455 frame sizes and TCP/IP segment headers.

Sources: RFC 6455 (Fette & Melnikov, 2011) §5.1-§5.3 (framing and masking);
RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 (TCP), RFC 7323 §3 (TCP timestamps
option) for the per-segment header sizes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ConfigError
from ._checks import _as_float_array, _non_negative, _out

__all__ = [
    "TCPIP_HEADER_BYTES_IPV4_TS",
    "TCPIP_HEADER_BYTES_IPV6_TS",
    "ETHERNET_HEADER_BYTES",
    "WS_MAX_PAYLOAD_BYTES",
    "ws_frame_header_bytes",
    "ws_frame_bytes",
    "tcpip_bytes",
]

#: Per-segment TCP/IP header bytes on Linux with IPv4 and TCP timestamps:
#: IPv4 header 20 B (RFC 791 §3.1, no options) + TCP header 20 B (RFC 9293
#: §3.1, no options) + timestamps option 10 B padded with 2 NOPs to 12 B
#: (RFC 7323 §3.2; Linux enables timestamps by default).
TCPIP_HEADER_BYTES_IPV4_TS = 52
#: Same with IPv6: fixed header 40 B (RFC 8200 §3) + 20 B TCP + 12 B timestamps.
TCPIP_HEADER_BYTES_IPV6_TS = 72
#: Ethernet II header (dst MAC 6 + src MAC 6 + EtherType 2) added on a real
#: wire; not present on the loopback interface.  (Preamble, FCS and
#: inter-frame gap add a further 24 B of wire time, ignored here.)
ETHERNET_HEADER_BYTES = 14

#: RFC 6455 §5.2: the 64-bit extended payload length's most significant bit
#: MUST be 0, so the largest legal payload is 2**63 - 1 bytes.
WS_MAX_PAYLOAD_BYTES = 2**63 - 1


# ---------------------------------------------------------------------------
# RFC 6455 frame sizes
# ---------------------------------------------------------------------------


def ws_frame_header_bytes(payload_len: Any, masked: Any) -> int | np.ndarray:
    """Size of a WebSocket frame header for a given payload length.

    RFC 6455 §5.2 (base framing protocol): 2 bytes (FIN/RSV/opcode, MASK bit +
    7-bit length) for payloads of 0..125 bytes; length code 126 adds a 16-bit
    extended length (4 bytes total) for 126..65535; code 127 adds a 64-bit
    extended length (10 bytes total) above that.  A masked frame carries a
    further 4-byte masking key (§5.2, §5.3).  Per §5.1 a client MUST mask every
    frame it sends to the server and a server MUST NOT mask its frames.

    Args:
        payload_len: Payload length(s) in bytes, integers in
            ``[0, 2**63 - 1]``; scalar or array.
        masked: Whether the frame is masked (client -> server); bool or
            bool array broadcastable with ``payload_len``.

    Returns:
        Header size in bytes (``int`` for scalar input, int64 array otherwise).

    Raises:
        ConfigError: if a length is negative, non-integer, or above 2**63 - 1.
    """
    n = _as_float_array(payload_len, "payload_len")
    if np.any(n < 0):
        raise ConfigError(
            f"payload_len must be a non-negative integer (0 .. 2**63 - 1), got {payload_len!r}"
        )
    if np.any(n != np.floor(n)) or not np.all(np.isfinite(n)):
        raise ConfigError(f"payload_len must be an integer number of bytes, got {payload_len!r}")
    # Compare exactly on Python ints for scalars (float64 cannot hold 2**63-1).
    raw = np.asarray(payload_len)
    too_big = (
        int(raw) > WS_MAX_PAYLOAD_BYTES
        if raw.ndim == 0
        else bool(np.any(n > float(WS_MAX_PAYLOAD_BYTES)))
    )
    if too_big:
        raise ConfigError(
            f"payload_len must be at most 2**63 - 1 (RFC 6455 §5.2), got {payload_len!r}"
        )
    m = np.asarray(masked, dtype=bool)
    # §5.2: 7-bit length 0..125; 126 -> +2 B; 127 -> +8 B.
    base = np.where(n <= 125, 2, np.where(n <= 65_535, 4, 10))
    # §5.2/§5.3: Masking-key, 4 bytes, present iff MASK bit is set.
    total = (base + np.where(m, 4, 0)).astype(np.int64)
    return int(total) if total.ndim == 0 else total


def ws_frame_bytes(payload_len: Any, masked: Any) -> int | np.ndarray:
    """Total WebSocket frame size: header (RFC 6455 §5.2) + payload.

    Args:
        payload_len: Payload length(s) in bytes (see
            :func:`ws_frame_header_bytes` for what is allowed).
        masked: Whether the frame is masked (client -> server, RFC 6455 §5.1).

    Returns:
        Frame size in bytes (``int`` for scalar input, int64 array otherwise).

    Raises:
        ConfigError: as :func:`ws_frame_header_bytes`.
    """
    header = ws_frame_header_bytes(payload_len, masked)
    if isinstance(header, int):
        return header + int(np.asarray(payload_len))
    return header + np.asarray(payload_len, dtype=np.int64)


# ---------------------------------------------------------------------------
# TCP/IP overhead
# ---------------------------------------------------------------------------


def tcpip_bytes(
    payload_bytes: Any,
    segments: Any,
    header_bytes_per_segment: Any = TCPIP_HEADER_BYTES_IPV4_TS,
) -> float | np.ndarray:
    """Bytes on the wire for a payload split into TCP segments.

    ``payload + segments * header_bytes_per_segment``.  The default 52 B is
    what each segment carries on Linux loopback with IPv4: 20 B IPv4 header
    (RFC 791 §3.1) + 20 B TCP header (RFC 9293 §3.1) + 12 B timestamps option
    (RFC 7323 §3.2, 10 B padded to 12).  On a real Ethernet wire add
    :data:`ETHERNET_HEADER_BYTES` (14 B) per segment; with IPv6 use
    :data:`TCPIP_HEADER_BYTES_IPV6_TS` (40 + 20 + 12 = 72 B).

    Args:
        payload_bytes: Application bytes (>= 0).
        segments: Number of TCP segments, including pure ACKs if they are to
            be counted (>= 0).
        header_bytes_per_segment: Header bytes per segment (>= 0).

    Returns:
        Total bytes.

    Raises:
        ConfigError: if any argument is negative.
    """
    p = _non_negative(payload_bytes, "payload_bytes")
    s = _non_negative(segments, "segments")
    h = _non_negative(header_bytes_per_segment, "header_bytes_per_segment")
    return _out(p + s * h)
