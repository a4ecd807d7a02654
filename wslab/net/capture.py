"""Packet-capture cross-check for the kit's kernel byte counters.

The kit reads per-socket byte counters from the kernel (``TCP_INFO``).  This
module provides an *independent* measurement of the same traffic: it runs
``tcpdump`` on the loopback interface while an experiment runs and counts the
TCP payload bytes and segments that actually crossed the wire, in each
direction and per client connection.

Two layers:

* :func:`parse_pcap` is a pure, dependency-free parser for classic pcap files
  (not pcapng).  Payload sizes are derived from the IP length fields, not from
  the captured length, so a small snaplen (headers only) is enough.
* :class:`Capture` is a context manager that runs ``tcpdump`` for the duration
  of a ``with`` block and parses the result on exit.  It needs ``tcpdump`` on
  ``PATH`` and capture privileges (in practice: root).

Example::

    with Capture(port) as cap:
        run_experiment(port)
    print(cap.result.bytes_to_server, cap.result.bytes_from_server)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

__all__ = [
    "ALLOWED_INTERFACES",
    "Capture",
    "CaptureResult",
    "ConnectionCounts",
    "parse_pcap",
    "tcpdump_available",
]

#: Interfaces :class:`Capture` may listen on.  The kit only ever measures
#: loopback traffic; refusing anything else keeps it from sniffing real networks.
ALLOWED_INTERFACES: tuple[str, ...] = ("lo",)

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


# --------------------------------------------------------------------------
# Running tcpdump
# --------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_prctl: Callable[..., int] | None = None


def tcpdump_available() -> bool:
    """Return True if a ``tcpdump`` executable is on ``PATH``.

    This does not check privileges; :class:`Capture` reports those failures
    (with tcpdump's own message) when it starts.
    """
    return shutil.which("tcpdump") is not None


def _die_with_parent_fn() -> Callable[[], None]:
    """Build a ``preexec_fn`` that makes the child get SIGKILL when we die.

    The ctypes lookup happens here, in the parent: a ``preexec_fn`` runs
    between fork and exec, where loading libraries or taking locks is unsafe.
    """
    global _prctl
    if _prctl is None:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.prctl
        fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        fn.restype = ctypes.c_int
        _prctl = fn
    prctl = _prctl
    parent = os.getpid()

    def preexec() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_SET_PDEATHSIG): {os.strerror(err)}")
        # If the parent died before prctl took effect, no signal will come.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


class Capture:
    """Run tcpdump on loopback for the duration of a ``with`` block.

    ``with Capture(port) as cap: ...`` starts
    ``tcpdump -i lo -w <tmp>.pcap -U -s <snaplen> -n 'tcp port <port> or <barrier>'``,
    returns once tcpdump reports "listening on" (so traffic after ``__enter__``
    is captured), and on exit flushes it with a barrier packet, stops it with
    SIGINT, parses the file into :attr:`result` and deletes the temporary file.

    Why a barrier: tcpdump reacts to SIGINT by breaking out of its capture
    loop, and packets the kernel has queued for it but it has not read yet are
    discarded (its exit statistics then show "received by filter" > "captured";
    in testing a whole short exchange was lost this way a few percent of the
    time).  So before SIGINT we send one UDP datagram carrying a random token to
    a private loopback socket, which the filter also matches, and wait until the
    token shows up in the file.  The kernel queues packets in order and
    tcpdump (``-U``) writes them in order, so everything sent before the barrier
    is on disk by then.  Only the payload-bearing packets the application
    already saw delivered are guaranteed to precede it; a final pure ACK racing
    the end of the block may or may not be in the file.

    Notes:
        * Entering and leaving block the calling thread (typically a few
          milliseconds each); from asyncio code that is usually acceptable.
        * ``--immediate-mode`` makes libpcap deliver each packet at once rather
          than in ring-buffer blocks (which otherwise can take up to 1 s to be
          handed over), so the barrier completes promptly.
        * tcpdump is started with ``PR_SET_PDEATHSIG=SIGKILL`` so it cannot
          outlive this process.  The kernel ties that to the *thread* that
          started it: enter the context on a long-lived thread (normally the
          main thread), not in a short-lived executor thread.
        * When running as root, ``-Z root`` keeps tcpdump from switching to the
          ``tcpdump`` user: that user could not write into our private temp
          directory, and the credential change would also clear the
          parent-death signal.

    Args:
        port: Server port; segments to/from it are counted.
        iface: Capture interface; only ``"lo"`` is allowed.
        snaplen: Bytes kept per packet; only headers are needed.
        ready_timeout: Seconds to wait for tcpdump to start listening.
        stop_timeout: Seconds to wait for the barrier packet to reach the file,
            and again for tcpdump to exit after SIGINT.
        tcpdump: tcpdump executable (name on ``PATH`` or a path).

    Raises:
        ValueError: Disallowed interface, bad port or too small snaplen.
        RuntimeError: tcpdump is missing, fails to start (e.g. not root) or
            does not flush/stop cleanly.  Packets dropped by the kernel only
            warn (see :attr:`kernel_dropped`).
    """

    #: Smallest snaplen that keeps Ethernet + IPv6 + the TCP data-offset field
    #: (and therefore also the barrier datagram's token).
    MIN_SNAPLEN = 14 + 40 + 13

    def __init__(
        self,
        port: int,
        iface: str = "lo",
        snaplen: int = 128,
        *,
        ready_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        tcpdump: str = "tcpdump",
    ) -> None:
        if iface not in ALLOWED_INTERFACES:
            raise ValueError(
                f"refusing to capture on interface {iface!r}: only loopback is allowed "
                f"({', '.join(ALLOWED_INTERFACES)})"
            )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port must be an int in 1..65535, got {port!r}")
        if snaplen < self.MIN_SNAPLEN:
            raise ValueError(f"snaplen must be at least {self.MIN_SNAPLEN}, got {snaplen}")
        self.port = port
        self.iface = iface
        self.snaplen = snaplen
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.tcpdump = tcpdump
        #: Everything tcpdump wrote to stderr (complete after exit).
        self.stderr = ""
        #: "packets dropped by kernel" from tcpdump's exit statistics, if reported.
        self.kernel_dropped: int | None = None
        self._result: CaptureResult | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: str | None = None
        self._barrier_sock: socket.socket | None = None
        self._barrier_token = os.urandom(16)
        self._stderr_buf = bytearray()
        self._used = False

    @property
    def result(self) -> CaptureResult:
        """The parsed capture, available once the ``with`` block exited cleanly.

        ``packets`` does not include the barrier datagram.
        """
        if self._result is None:
            raise RuntimeError("no capture result yet (it is set when the with-block exits)")
        return self._result

    @property
    def pcap_path(self) -> str | None:
        """Path of the temporary pcap while the capture is active, else None."""
        return os.path.join(self._tmpdir, "capture.pcap") if self._tmpdir else None

    def command(self, pcap_path: str, barrier_port: int) -> list[str]:
        """The tcpdump command line for writing to ``pcap_path``."""
        exe = shutil.which(self.tcpdump) or self.tcpdump
        cmd = [exe, "-i", self.iface, "-w", pcap_path, "-U", "-s", str(self.snaplen), "-n"]
        cmd.append("--immediate-mode")
        if os.geteuid() == 0:
            cmd += ["-Z", "root"]
        cmd.append(
            f"tcp port {self.port} or (udp and dst host 127.0.0.1 and dst port {barrier_port})"
        )
        return cmd

    def __enter__(self) -> Capture:
        if self._used:
            raise RuntimeError("a Capture can only be used once")
        self._used = True
        if shutil.which(self.tcpdump) is None:
            raise RuntimeError(f"{self.tcpdump!r} not found on PATH (install tcpdump)")
        try:
            # Private directory: nobody else can swap the file under tcpdump.
            # The .pcap suffix also suits distro AppArmor profiles for tcpdump.
            self._tmpdir = tempfile.mkdtemp(prefix="wslab-capture-")
            # Bound receiver so the barrier datagram is not answered by ICMP.
            self._barrier_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._barrier_sock.bind(("127.0.0.1", 0))
            barrier_port = self._barrier_sock.getsockname()[1]
            self._proc = subprocess.Popen(
                self.command(self.pcap_path, barrier_port),  # type: ignore[arg-type]
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=_die_with_parent_fn(),
            )
            self._wait_listening()
        except BaseException:
            self._kill()
            self._cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # On an exception in the block, still stop and clean up, but do not
        # mask the original exception with capture errors.
        ok = exc_type is None
        try:
            barrier_seen = self._flush(raise_errors=ok)
            self._stop(raise_errors=ok)
            if ok:
                result = parse_pcap(self.pcap_path, self.port)  # type: ignore[arg-type]
                self._result = replace(result, packets=result.packets - barrier_seen)
        finally:
            self._kill()  # no-op unless something above failed half-way
            self._cleanup()

    # -- internals ---------------------------------------------------------

    def _wait_listening(self) -> None:
        """Read tcpdump's stderr until "listening on", EOF (exit) or timeout."""
        assert self._proc is not None and self._proc.stderr is not None
        fd = self._proc.stderr.fileno()
        deadline = time.monotonic() + self.ready_timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"listening on" not in self._stderr_buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._kill()
                    raise RuntimeError(
                        f"tcpdump did not start listening within {self.ready_timeout:g}s; "
                        f"stderr: {self._stderr_text()!r}"
                    )
                if not sel.select(remaining):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:  # EOF: tcpdump exited (bad filter, no permission, ...)
                    rc = self._proc.wait()
                    raise RuntimeError(
                        f"tcpdump exited with status {rc} before listening "
                        f"(capturing needs root or CAP_NET_RAW); stderr: {self._stderr_text()!r}"
                    )
                self._stderr_buf += chunk

    def _flush(self, raise_errors: bool) -> bool:
        """Send the barrier datagram and wait until tcpdump has written it.

        Returns whether it was seen.  Polls the file's new bytes with short,
        growing pauses: a wait for a condition with a deadline, not a settle.
        """
        proc, sock, path = self._proc, self._barrier_sock, self.pcap_path
        if proc is None or sock is None or path is None or proc.poll() is not None:
            return False  # _stop reports a dead tcpdump
        sock.sendto(self._barrier_token, sock.getsockname())
        token, keep = self._barrier_token, len(self._barrier_token) - 1
        deadline = time.monotonic() + self.stop_timeout
        pause, pos, tail = 0.0005, 0, b""
        with open(path, "rb") as f:
            while True:
                f.seek(pos)
                new = f.read()
                pos += len(new)
                window = tail + new
                if token in window:
                    return True
                tail = window[-keep:]
                if time.monotonic() >= deadline or proc.poll() is not None:
                    break
                time.sleep(pause)
                pause = min(pause * 2, 0.02)
        if raise_errors:
            self._kill()
            raise RuntimeError(
                f"tcpdump did not write the barrier packet within {self.stop_timeout:g}s; "
                f"the capture may be incomplete; stderr: {self._stderr_text()!r}"
            )
        return False

    def _stop(self, raise_errors: bool) -> None:
        """SIGINT tcpdump (it then closes the file cleanly) and reap it."""
        proc = self._proc
        if proc is None:
            return
        error: str | None = None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                _, err = proc.communicate(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._kill()
                error = f"tcpdump did not exit within {self.stop_timeout:g}s of SIGINT"
                err = b""
        else:
            _, err = proc.communicate()
            error = f"tcpdump exited early with status {proc.returncode}"
        self._stderr_buf += err or b""
        self.stderr = self._stderr_text()
        if error is None and proc.returncode != 0:
            error = f"tcpdump exited with status {proc.returncode}"
        m = re.search(r"(\d+) packets? dropped by kernel", self.stderr)
        self.kernel_dropped = int(m.group(1)) if m else None
        if error is not None:
            if raise_errors:
                raise RuntimeError(f"{error}; stderr: {self.stderr!r}")
        elif self.kernel_dropped:
            warnings.warn(
                f"tcpdump reports {self.kernel_dropped} packets dropped by kernel; "
                "capture totals are incomplete",
                RuntimeWarning,
                stacklevel=3,
            )

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def _cleanup(self) -> None:
        if self._proc is not None and self._proc.stderr is not None:
            self._proc.stderr.close()
        if self._barrier_sock is not None:
            self._barrier_sock.close()
            self._barrier_sock = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _stderr_text(self) -> str:
        return self._stderr_buf.decode(errors="replace").strip()
