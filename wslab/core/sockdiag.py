"""Kernel counters of TCP sockets this process does not own (Linux sock_diag).

A browser's sockets live in the browser's network process, so the meter's
``getsockopt(TCP_INFO)`` (`wslab.core.meter.tcp_info`) cannot reach them. The
kernel's socket-diagnostics netlink interface (``NETLINK_SOCK_DIAG``, what
``ss -ti`` reads) lists every TCP socket of the network namespace with the
same ``struct tcp_info``; `connections_to` returns the counters of the
sockets connected to one server address, read from the client's end, exactly
as `wslab.core.meter.tcp_info` reads a socket of our own (a test checks the
two agree on one connection).

Like ``getsockopt``, this sees only sockets that still exist: read them
before the connections close.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct

from .meter import ConnCounters

__all__ = ["connections_to"]

NETLINK_SOCK_DIAG = 4  # linux/netlink.h
SOCK_DIAG_BY_FAMILY = 20  # linux/sock_diag.h
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
INET_DIAG_INFO = 2  # linux/inet_diag.h: the attribute that carries struct tcp_info
#: every TCP state but LISTEN (10) and TIME_WAIT (6): sockets that carry a connection
_STATES = (0xFFF & ~(1 << 10) & ~(1 << 6))

_NLMSGHDR = struct.Struct("=IHHII")
# struct inet_diag_req_v2: family, protocol, ext, pad, states, then inet_diag_sockid
_REQ = struct.Struct("=BBBxI48x")
# struct inet_diag_msg: family, state, timer, retrans (4 B), then the sockid:
# sport and dport big endian (offset 4), src and dst 16 B each (8, 24), if,
# cookie; then expires, rqueue, wqueue, uid, inode: 72 B in all
_PORTS = struct.Struct(">HH")
_RTA = struct.Struct("=HH")

# struct tcp_info offsets (include/uapi/linux/tcp.h), as in wslab.core.meter
_OFF_STATE = 0
_OFF_SEGS_OUT, _OFF_SEGS_IN = 136, 140
_OFF_BYTES_RECEIVED = 128
_OFF_BYTES_SENT, _OFF_BYTES_RETRANS = 200, 208
_PEER_FIN_STATES = frozenset({8, 9, 11})  # CLOSE_WAIT, LAST_ACK, CLOSING


def _counters(raw: bytes) -> ConnCounters | None:
    """The meter's counters from a ``struct tcp_info`` (client side)."""
    if len(raw) < _OFF_BYTES_RETRANS + 8:
        return None  # kernel older than 4.19: no tcpi_bytes_sent
    received = struct.unpack_from("=Q", raw, _OFF_BYTES_RECEIVED)[0]
    if raw[_OFF_STATE] in _PEER_FIN_STATES and received:
        received -= 1  # the peer's FIN takes a sequence number, not a byte
    sent, retrans = struct.unpack_from("=QQ", raw, _OFF_BYTES_SENT)
    segs_out, segs_in = struct.unpack_from("=II", raw, _OFF_SEGS_OUT)
    return ConnCounters(sent - retrans, received, segs_out, segs_in)


def _dump(family: int) -> list[bytes]:
    """Every inet_diag message (with its attributes) of TCP sockets of ``family``."""
    messages: list[bytes] = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
        req = _REQ.pack(family, socket.IPPROTO_TCP, 1 << (INET_DIAG_INFO - 1), _STATES)
        nl.send(_NLMSGHDR.pack(_NLMSGHDR.size + len(req), SOCK_DIAG_BY_FAMILY,
                               NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + req)
        while True:
            data = nl.recv(1 << 20)
            off = 0
            while off + _NLMSGHDR.size <= len(data):
                length, kind, _, _, _ = _NLMSGHDR.unpack_from(data, off)
                if kind == NLMSG_DONE:
                    return messages
                if kind == NLMSG_ERROR:
                    errno = -struct.unpack_from("=i", data, off + _NLMSGHDR.size)[0]
                    raise OSError(errno, f"sock_diag: {os.strerror(errno)}")
                messages.append(data[off + _NLMSGHDR.size: off + length])
                off += (length + 3) & ~3


def connections_to(host: str, port: int) -> dict[tuple[str, int], ConnCounters]:
    """Kernel counters of every live TCP socket connected to ``host:port``,
    keyed by its local (address, port): the client ends of that server's
    connections. Raises `OSError` where sock_diag is unavailable (not Linux)."""
    addr = ipaddress.ip_address(host)
    family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    width = 16 if family == socket.AF_INET6 else 4
    found = {}
    for msg in _dump(family):
        sport, dport = _PORTS.unpack_from(msg, 4)
        src, dst = msg[8:8 + width], msg[24:24 + width]
        if dport != port or dst != addr.packed:
            continue
        off = 72  # sizeof(struct inet_diag_msg); attributes follow, 4-aligned
        while off + _RTA.size <= len(msg):
            length, kind = _RTA.unpack_from(msg, off)
            if length < _RTA.size:
                break
            if kind == INET_DIAG_INFO:
                counters = _counters(msg[off + _RTA.size: off + length])
                if counters is not None:
                    found[(str(ipaddress.ip_address(src)), sport)] = counters
            off += (length + 3) & ~3
    return found
