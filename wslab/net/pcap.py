"""A pure parser for classic pcap files: TCP payload bytes and segments to and from a port.

`parse_pcap` reads a capture (a path or its bytes; no other I/O) and counts,
in each direction and per client connection, the TCP payload bytes and
segments to and from one server port. It is the independent measurement
that `wslab.net.capture.Capture` (tcpdump on loopback) feeds, to check the
kit's kernel byte counters (``TCP_INFO``).

Classic pcap only (not pcapng). Payload sizes are derived from the IP length
fields (RFC 791 §3.1 Total Length, RFC 8200 §3 Payload Length) minus the IP
and TCP header lengths (RFC 9293 §3.1 Data Offset), not from the captured
length, so a small snaplen (headers only) is enough.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CaptureResult", "ConnectionCounts", "parse_pcap"]

# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionCounts:
    """Payload bytes and segments of one client connection, per direction.

    ``*_to_server`` counts segments whose destination port is the server port,
    ``*_from_server`` those whose source port is the server port.  Bytes are TCP
    payload bytes (IP and TCP headers excluded); SYN/FIN/pure ACK segments count
    as segments with 0 bytes.
    """

    bytes_to_server: int = 0
    bytes_from_server: int = 0
    segments_to_server: int = 0
    segments_from_server: int = 0


@dataclass(frozen=True)
class CaptureResult:
    """Totals from one capture, as returned by :func:`parse_pcap`.

    Attributes:
        server_port: The port that defines the "server" side.
        link_type: pcap link-layer type of the file (1 = Ethernet, which is
            what tcpdump reports for Linux ``lo``).
        bytes_to_server / bytes_from_server: TCP payload bytes per direction.
        segments_to_server / segments_from_server: TCP segments per direction,
            including those without payload (SYN, FIN, pure ACK).  On loopback
            with GSO one captured segment can be larger than the MTU, so these
            are captured packets, not MSS-sized wire segments.
        packets: Number of records in the file, including any that were not
            TCP on ``server_port`` (and therefore counted nowhere else).
        per_connection: Client ``(ip, port)`` -> :class:`ConnectionCounts`.
            Treat as read-only (kept a plain dict so results pickle).
    """

    server_port: int
    link_type: int
    bytes_to_server: int
    bytes_from_server: int
    segments_to_server: int
    segments_from_server: int
    packets: int
    per_connection: dict[tuple[str, int], ConnectionCounts] = field(hash=False)


# --------------------------------------------------------------------------
# pcap parsing
# --------------------------------------------------------------------------

# Raw magic bytes at the start of a file -> (struct byte order, label).
_PCAP_MAGICS: dict[bytes, str] = {
    b"\xd4\xc3\xb2\xa1": "<",  # microsecond, little endian
    b"\xa1\xb2\xc3\xd4": ">",  # microsecond, big endian
    b"\x4d\x3c\xb2\xa1": "<",  # nanosecond, little endian
    b"\xa1\xb2\x3c\x4d": ">",  # nanosecond, big endian
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_GLOBAL_HEADER_LEN = 24
_RECORD_HEADER_LEN = 16

# Link types (LINKTYPE_* values as stored in pcap files).
_DLT_NULL = 0
_DLT_EN10MB = 1
_DLT_RAW_BSD = 12  # DLT_RAW on some BSDs; written as 101 by libpcap, but seen in the wild
_DLT_RAW = 101
_DLT_LOOP = 108  # like DLT_NULL but the AF header is big endian
_DLT_LINUX_SLL = 113
_DLT_IPV4 = 228
_DLT_IPV6 = 229
_DLT_LINUX_SLL2 = 276

_ETHERTYPE_IPV4 = 0x0800
_ETHERTYPE_IPV6 = 0x86DD
_ETHERTYPE_VLAN = (0x8100, 0x88A8, 0x9100)

_IPPROTO_TCP = 6
# IPv6 extension headers we can step over to reach TCP.
_IPV6_HOPOPTS, _IPV6_ROUTING, _IPV6_FRAGMENT, _IPV6_AH, _IPV6_DSTOPTS = 0, 43, 44, 51, 60
_IPV6_EXT_HEADERS = frozenset(
    {_IPV6_HOPOPTS, _IPV6_ROUTING, _IPV6_FRAGMENT, _IPV6_AH, _IPV6_DSTOPTS}
)


class _Truncated(Exception):
    """A record was cut (by snaplen) before the fields we need."""


def _ip_offset(link_type: int, data: bytes) -> int | None:
    """Return the offset of the IP header in one frame, or None if not IP.

    The IP version is taken from the header's version nibble afterwards.
    """
    if link_type == _DLT_EN10MB:
        if len(data) < 14:
            raise _Truncated
        ethertype = struct.unpack_from(">H", data, 12)[0]
        off = 14
        while ethertype in _ETHERTYPE_VLAN:  # 802.1Q / QinQ tags
            if len(data) < off + 4:
                raise _Truncated
            ethertype = struct.unpack_from(">H", data, off + 2)[0]
            off += 4
    elif link_type == _DLT_LINUX_SLL:
        if len(data) < 16:
            raise _Truncated
        ethertype, off = struct.unpack_from(">H", data, 14)[0], 16
    elif link_type == _DLT_LINUX_SLL2:
        if len(data) < 20:
            raise _Truncated
        ethertype, off = struct.unpack_from(">H", data, 0)[0], 20
    elif link_type in (_DLT_RAW, _DLT_RAW_BSD, _DLT_IPV4, _DLT_IPV6):
        return 0
    elif link_type in (_DLT_NULL, _DLT_LOOP):
        # The 4-byte AF_* header is in the *capturing* host's byte order and
        # AF_INET6 differs between OSes, so trust the IP version nibble instead.
        return 4
    else:  # pragma: no cover - rejected in parse_pcap before we get here
        raise ValueError(f"unsupported link type {link_type}")
    return off if ethertype in (_ETHERTYPE_IPV4, _ETHERTYPE_IPV6) else None


def _tcp_segment(data: bytes, off: int, orig_ip_len: int) -> tuple[str, int, str, int, int] | None:
    """Decode the IP+TCP headers at ``data[off:]``.

    Returns ``(src_ip, src_port, dst_ip, dst_port, payload_len)`` or ``None``
    for anything that is not a (first-fragment) TCP segment.  ``orig_ip_len``
    is the on-the-wire length from the IP header on, used only when the IP
    length field is 0 (TSO/BIG TCP super-packets).
    """
    if len(data) < off + 1:
        raise _Truncated
    version = data[off] >> 4
    if version == 4:
        if len(data) < off + 20:
            raise _Truncated
        ihl = (data[off] & 0x0F) * 4
        total_len, frag = struct.unpack_from(">H2xH", data, off + 2)
        if ihl < 20 or data[off + 9] != _IPPROTO_TCP or frag & 0x1FFF:
            return None  # bad header, not TCP, or a non-first fragment (no TCP header)
        if total_len == 0:
            total_len = orig_ip_len
        src = socket.inet_ntop(socket.AF_INET, data[off + 12 : off + 16])
        dst = socket.inet_ntop(socket.AF_INET, data[off + 16 : off + 20])
        tcp = off + ihl
        ip_headers = ihl
    elif version == 6:
        if len(data) < off + 40:
            raise _Truncated
        payload_len, next_header = struct.unpack_from(">HB", data, off + 4)
        # payload_len 0 means a jumbogram (BIG TCP); fall back to the wire length.
        total_len = 40 + payload_len if payload_len else orig_ip_len
        src = socket.inet_ntop(socket.AF_INET6, data[off + 8 : off + 24])
        dst = socket.inet_ntop(socket.AF_INET6, data[off + 24 : off + 40])
        tcp = off + 40
        while next_header in _IPV6_EXT_HEADERS:
            if len(data) < tcp + 8:
                raise _Truncated
            if next_header == _IPV6_FRAGMENT:
                if struct.unpack_from(">H", data, tcp + 2)[0] >> 3:
                    return None  # non-first fragment
                ext_len = 8
            elif next_header == _IPV6_AH:
                ext_len = (data[tcp + 1] + 2) * 4
            else:
                ext_len = (data[tcp + 1] + 1) * 8
            next_header = data[tcp]
            tcp += ext_len
        if next_header != _IPPROTO_TCP:
            return None
        ip_headers = tcp - off
    else:
        return None
    # Need the ports and the data-offset nibble (byte 12 of the TCP header).
    if len(data) < tcp + 13:
        raise _Truncated
    src_port, dst_port = struct.unpack_from(">HH", data, tcp)
    tcp_header_len = (data[tcp + 12] >> 4) * 4
    payload = total_len - ip_headers - tcp_header_len
    if tcp_header_len < 20 or payload < 0:
        raise ValueError(
            f"malformed TCP/IP lengths ({src}:{src_port} -> {dst}:{dst_port}: "
            f"IP length {total_len}, IP headers {ip_headers}, TCP header {tcp_header_len})"
        )
    return src, src_port, dst, dst_port, payload


def parse_pcap(path_or_bytes: str | os.PathLike[str] | bytes, server_port: int) -> CaptureResult:
    """Count TCP payload bytes/segments to and from ``server_port`` in a pcap.

    Args:
        path_or_bytes: A file path, or the file's content as bytes.
        server_port: Segments with this destination port are "to server", with
            this source port "from server"; everything else is only counted in
            ``packets``.

    Supports classic pcap in both byte orders with microsecond or nanosecond
    timestamps, link types Ethernet (1), Linux cooked v1/v2 (113/276), raw IP
    (101, 12, 228, 229) and BSD loopback (0, 108); IPv4 and IPv6.  Payload length
    is computed from the IP length fields minus the IP and TCP header lengths,
    so records truncated by the snaplen still count fully.

    Raises:
        ValueError: pcapng or other unsupported format, an unsupported link
            type, a truncated file, or a TCP/IP header cut off by the snaplen.
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        data = bytes(path_or_bytes)
        name = "<bytes>"
    else:
        data = Path(path_or_bytes).read_bytes()
        name = os.fspath(path_or_bytes)

    magic = data[:4]
    if magic == _PCAPNG_MAGIC:
        raise ValueError(
            f"{name}: pcapng is not supported, only classic pcap "
            "(re-capture with tcpdump -w, or convert with `editcap -F pcap`)"
        )
    if magic not in _PCAP_MAGICS:
        raise ValueError(
            f"{name}: not a classic pcap file (magic {magic.hex() or 'missing'}; "
            "expected a1b2c3d4 or a1b23c4d in either byte order)"
        )
    if len(data) < _GLOBAL_HEADER_LEN:
        raise ValueError(f"{name}: truncated pcap global header ({len(data)} bytes)")
    order = _PCAP_MAGICS[magic]
    # The link-type field's upper bits may carry FCS information; the type is the low 16.
    link_type = struct.unpack_from(order + "I", data, 20)[0] & 0xFFFF
    supported = (
        _DLT_NULL, _DLT_EN10MB, _DLT_RAW_BSD, _DLT_RAW, _DLT_LOOP,
        _DLT_LINUX_SLL, _DLT_IPV4, _DLT_IPV6, _DLT_LINUX_SLL2,
    )  # fmt: skip
    if link_type not in supported:
        raise ValueError(
            f"{name}: unsupported pcap link type {link_type} "
            f"(supported: {', '.join(map(str, sorted(supported)))})"
        )

    record = struct.Struct(order + "8xII")  # skip ts_sec/ts_frac; incl_len, orig_len
    # Mutable accumulators: [to_bytes, from_bytes, to_segs, from_segs].
    totals = [0, 0, 0, 0]
    conns: dict[tuple[str, int], list[int]] = {}
    packets = 0
    pos = _GLOBAL_HEADER_LEN
    while pos < len(data):
        if pos + _RECORD_HEADER_LEN > len(data):
            raise ValueError(f"{name}: truncated record header at offset {pos}")
        incl_len, orig_len = record.unpack_from(data, pos)
        start = pos + _RECORD_HEADER_LEN
        pos = start + incl_len
        if pos > len(data):
            raise ValueError(f"{name}: truncated record data at offset {start}")
        packets += 1
        frame = data[start:pos]
        try:
            off = _ip_offset(link_type, frame)
            if off is None:
                continue
            seg = _tcp_segment(frame, off, orig_len - off)
        except _Truncated:
            raise ValueError(
                f"{name}: record {packets} (captured {incl_len} of {orig_len} bytes) is "
                "truncated inside the IP/TCP headers; capture with a larger snaplen"
            ) from None
        if seg is None:
            continue
        src, sport, dst, dport, payload = seg
        if dport == server_port:
            key, byte_i, seg_i = (src, sport), 0, 2
        elif sport == server_port:
            key, byte_i, seg_i = (dst, dport), 1, 3
        else:
            continue
        counts = conns.setdefault(key, [0, 0, 0, 0])
        counts[byte_i] += payload
        counts[seg_i] += 1
        totals[byte_i] += payload
        totals[seg_i] += 1

    return CaptureResult(
        server_port=server_port,
        link_type=link_type,
        bytes_to_server=totals[0],
        bytes_from_server=totals[1],
        segments_to_server=totals[2],
        segments_from_server=totals[3],
        packets=packets,
        per_connection={k: ConnectionCounts(*v) for k, v in conns.items()},
    )
