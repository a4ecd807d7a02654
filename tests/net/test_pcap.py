"""The pcap parser (wslab.net.pcap) on synthetic files: link types, byte orders,
IPv4/IPv6, options, truncation and bad input. No traffic is sent: the packets
are built in memory."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from wslab.net.pcap import ConnectionCounts, parse_pcap

SERVER_PORT = 8765
CLIENT = ("10.0.0.1", 40000)
SERVER = ("10.0.0.2", SERVER_PORT)
CLIENT6 = ("2001:db8::1", 40001)
SERVER6 = ("2001:db8::2", SERVER_PORT)
SYN, ACK, PSH = 0x02, 0x10, 0x08


# ---------------------------------------------------------------------------
# Synthetic pcap builders
# ---------------------------------------------------------------------------


def tcp_header(sport: int, dport: int, flags: int, options: bytes = b"") -> bytes:
    assert len(options) % 4 == 0
    doff = (20 + len(options)) // 4
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, doff << 4, flags, 65535, 0, 0) + options


def ipv4_tcp(
    src: tuple[str, int],
    dst: tuple[str, int],
    payload_len: int,
    flags: int = ACK | PSH,
    ip_options: bytes = b"",
    tcp_options: bytes = b"",
) -> bytes:
    tcp = tcp_header(src[1], dst[1], flags, tcp_options) + b"p" * payload_len
    ihl = (20 + len(ip_options)) // 4
    total = ihl * 4 + len(tcp)
    ip = struct.pack(">BBHHHBBH", 0x40 | ihl, 0, total, 0, 0x4000, 64, 6, 0)
    ip += socket.inet_aton(src[0]) + socket.inet_aton(dst[0]) + ip_options
    return ip + tcp


def ipv6_tcp(
    src: tuple[str, int], dst: tuple[str, int], payload_len: int, hop_by_hop: bool = False
) -> bytes:
    tcp = tcp_header(src[1], dst[1], ACK | PSH) + b"q" * payload_len
    ext = b""
    next_header = 6
    if hop_by_hop:
        ext = bytes([6, 0]) + b"\x01\x04\x00\x00\x00\x00"  # HBH header, PadN option
        next_header = 0
    ip = struct.pack(">IHBB", 6 << 28, len(ext) + len(tcp), next_header, 64)
    ip += socket.inet_pton(socket.AF_INET6, src[0]) + socket.inet_pton(socket.AF_INET6, dst[0])
    return ip + ext + tcp


def ipv4_udp(payload_len: int) -> bytes:
    udp = struct.pack(">HHHH", 5353, SERVER_PORT, 8 + payload_len, 0) + b"u" * payload_len
    ip = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0)
    return ip + socket.inet_aton(CLIENT[0]) + socket.inet_aton(SERVER[0]) + udp


def ethernet(ip_packet: bytes, ethertype: int | None = None) -> bytes:
    if ethertype is None:
        ethertype = 0x0800 if ip_packet[0] >> 4 == 4 else 0x86DD
    return b"\x00" * 12 + struct.pack(">H", ethertype) + ip_packet


def frame_for(link_type: int, ip_packet: bytes) -> bytes:
    """Wrap an IP packet in the link-layer header of ``link_type``."""
    v6 = ip_packet[0] >> 4 == 6
    ethertype = 0x86DD if v6 else 0x0800
    if link_type == 1:
        return ethernet(ip_packet)
    if link_type == 113:  # packet type, ARPHRD, addr len, addr[8], protocol
        return struct.pack(">HHH8sH", 0, 772, 6, b"", ethertype) + ip_packet
    if link_type == 276:  # protocol, reserved, ifindex, ARPHRD, pkttype, addr len, addr[8]
        return struct.pack(">HHIHBB8s", ethertype, 0, 1, 772, 0, 6, b"") + ip_packet
    if link_type in (101, 12):
        return ip_packet
    if link_type == 0:  # AF_* in the capturing host's byte order (Linux x86 here)
        return struct.pack("<I", 10 if v6 else 2) + ip_packet
    raise AssertionError(link_type)


MAGICS = {
    ("<", "us"): 0xA1B2C3D4,
    (">", "us"): 0xA1B2C3D4,
    ("<", "ns"): 0xA1B23C4D,
    (">", "ns"): 0xA1B23C4D,
}


def pcap(
    frames: list[bytes],
    link_type: int = 1,
    snaplen: int = 128,
    order: str = "<",
    resolution: str = "us",
) -> bytes:
    """A classic pcap with each frame cut to ``snaplen`` (orig_len keeps the full size)."""
    out = struct.pack(order + "IHHiIII", MAGICS[order, resolution], 2, 4, 0, 0, snaplen, link_type)
    for i, frame in enumerate(frames):
        kept = frame[:snaplen]
        out += struct.pack(order + "IIII", 1_700_000_000 + i, 0, len(kept), len(frame)) + kept
    return out


def conversation(link_type: int = 1) -> list[bytes]:
    """SYN / SYN-ACK / ACK, 1000 bytes up (truncated by snaplen), 300 down, one IPv6 exchange."""
    return [
        frame_for(link_type, ipv4_tcp(CLIENT, SERVER, 0, SYN)),
        frame_for(link_type, ipv4_tcp(SERVER, CLIENT, 0, SYN | ACK)),
        frame_for(link_type, ipv4_tcp(CLIENT, SERVER, 0, ACK)),
        frame_for(link_type, ipv4_tcp(CLIENT, SERVER, 1000)),
        frame_for(link_type, ipv4_tcp(SERVER, CLIENT, 300)),
        frame_for(link_type, ipv6_tcp(CLIENT6, SERVER6, 700)),
        frame_for(link_type, ipv6_tcp(SERVER6, CLIENT6, 50)),
    ]


def assert_conversation(res) -> None:
    assert res.bytes_to_server == 1000 + 700
    assert res.bytes_from_server == 300 + 50
    assert res.segments_to_server == 3 + 1
    assert res.segments_from_server == 2 + 1  # SYN-ACK counts as a segment
    assert res.packets == 7
    assert res.per_connection == {
        CLIENT: ConnectionCounts(1000, 300, 3, 2),
        CLIENT6: ConnectionCounts(700, 50, 1, 1),
    }


# ---------------------------------------------------------------------------
# parse_pcap unit tests
# ---------------------------------------------------------------------------


def test_ethernet_ipv4_payload_from_ip_length_not_snaplen() -> None:
    frames = [ethernet(ipv4_tcp(CLIENT, SERVER, 1000))]
    data = pcap(frames, snaplen=128)
    assert len(data) == 24 + 16 + 128  # the record really is truncated
    res = parse_pcap(data, SERVER_PORT)
    assert (res.bytes_to_server, res.segments_to_server) == (1000, 1)
    assert (res.bytes_from_server, res.segments_from_server) == (0, 0)
    assert res.link_type == 1
    assert res.packets == 1
    assert res.per_connection == {CLIENT: ConnectionCounts(1000, 0, 1, 0)}


def test_syn_counts_a_segment_but_no_bytes() -> None:
    res = parse_pcap(pcap([ethernet(ipv4_tcp(CLIENT, SERVER, 0, SYN))]), SERVER_PORT)
    assert res.segments_to_server == 1
    assert res.bytes_to_server == 0
    assert res.per_connection[CLIENT] == ConnectionCounts(0, 0, 1, 0)


def test_ipv6_packet() -> None:
    res = parse_pcap(pcap([ethernet(ipv6_tcp(SERVER6, CLIENT6, 4321))]), SERVER_PORT)
    assert (res.bytes_from_server, res.segments_from_server) == (4321, 1)
    assert res.bytes_to_server == 0
    assert res.per_connection == {CLIENT6: ConnectionCounts(0, 4321, 0, 1)}


def test_ipv6_extension_header_is_skipped() -> None:
    res = parse_pcap(pcap([ethernet(ipv6_tcp(CLIENT6, SERVER6, 99, hop_by_hop=True))]), SERVER_PORT)
    assert (res.bytes_to_server, res.segments_to_server) == (99, 1)


def test_ip_and_tcp_options_are_excluded_from_payload() -> None:
    packet = ipv4_tcp(CLIENT, SERVER, 512, ip_options=b"\x01" * 4, tcp_options=b"\x01" * 12)
    res = parse_pcap(pcap([ethernet(packet)]), SERVER_PORT)
    assert res.bytes_to_server == 512


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("resolution", ["us", "ns"])
def test_byte_orders_and_timestamp_resolutions(order: str, resolution: str) -> None:
    data = pcap(conversation(), order=order, resolution=resolution)
    assert_conversation(parse_pcap(data, SERVER_PORT))


@pytest.mark.parametrize("link_type", [1, 113, 276, 101, 12, 0])
def test_link_types(link_type: int) -> None:
    res = parse_pcap(pcap(conversation(link_type), link_type=link_type), SERVER_PORT)
    assert res.link_type == link_type
    assert_conversation(res)


def test_vlan_tagged_ethernet() -> None:
    tagged = b"\x00" * 12 + struct.pack(">HHH", 0x8100, 5, 0x0800) + ipv4_tcp(CLIENT, SERVER, 77)
    assert parse_pcap(pcap([tagged]), SERVER_PORT).bytes_to_server == 77


def test_non_tcp_and_other_ports_are_skipped_but_counted_as_packets() -> None:
    frames = [
        ethernet(ipv4_udp(100)),  # UDP to the server port
        ethernet(b"\x00" * 28, ethertype=0x0806),  # ARP
        ethernet(ipv4_tcp(CLIENT, ("10.0.0.2", 9999), 100)),  # another TCP port
        ethernet(ipv4_tcp(CLIENT, SERVER, 5)),
    ]
    res = parse_pcap(pcap(frames), SERVER_PORT)
    assert res.packets == 4
    assert (res.bytes_to_server, res.segments_to_server, res.segments_from_server) == (5, 1, 0)
    assert list(res.per_connection) == [CLIENT]


def test_reads_from_path(tmp_path: Path) -> None:
    path = tmp_path / "conv.pcap"
    path.write_bytes(pcap(conversation()))
    assert_conversation(parse_pcap(path, SERVER_PORT))
    assert_conversation(parse_pcap(str(path), SERVER_PORT))


def test_empty_capture() -> None:
    res = parse_pcap(pcap([]), SERVER_PORT)
    assert (res.packets, res.bytes_to_server, res.per_connection) == (0, 0, {})


def test_result_is_frozen() -> None:
    res = parse_pcap(pcap(conversation()), SERVER_PORT)
    with pytest.raises(AttributeError):
        res.bytes_to_server = 1  # type: ignore[misc]


def test_rejects_pcapng() -> None:
    with pytest.raises(ValueError, match="pcapng"):
        parse_pcap(b"\x0a\x0d\x0d\x0a" + b"\x00" * 40, SERVER_PORT)


def test_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="not a classic pcap"):
        parse_pcap(b"GIF89a" + b"\x00" * 40, SERVER_PORT)
    with pytest.raises(ValueError, match="not a classic pcap"):
        parse_pcap(b"", SERVER_PORT)


def test_rejects_unsupported_link_type() -> None:
    with pytest.raises(ValueError, match="link type 105"):
        parse_pcap(pcap([], link_type=105), SERVER_PORT)


def test_rejects_truncated_file() -> None:
    data = pcap(conversation())
    with pytest.raises(ValueError, match="truncated"):
        parse_pcap(data[:-10], SERVER_PORT)
    with pytest.raises(ValueError, match="truncated"):
        parse_pcap(data[:30], SERVER_PORT)


def test_rejects_snaplen_that_cuts_the_tcp_header() -> None:
    with pytest.raises(ValueError, match="snaplen"):
        parse_pcap(pcap([ethernet(ipv4_tcp(CLIENT, SERVER, 10))], snaplen=40), SERVER_PORT)
