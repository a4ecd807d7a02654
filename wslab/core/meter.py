"""Metering: kernel byte counts per connection, CPU and memory per process,
latency histograms.

Bytes are what the kernel counted on the socket (Linux ``TCP_INFO``), never
sizes estimated from payloads: they include HTTP headers, WebSocket framing
and handshakes. They exclude TCP/IP headers (``segs_*`` give those) and the
close handshake (the counters are read last thing before close, because
``getsockopt`` on a closed socket is impossible).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np
import psutil

__all__ = [
    "ConnCounters",
    "ProcessMeter",
    "decode_histogram",
    "encode_histogram",
    "histogram_percentiles",
    "latency_histogram",
    "tcp_info",
]

# struct tcp_info (include/uapi/linux/tcp.h): these fields sit at fixed
# offsets since Linux 4.1/4.2; the struct is at least 232 bytes since 5.x.
_TCP_INFO_LEN = 232
_OFF_BYTES_ACKED = 120  # tcpi_bytes_acked, u64: bytes we sent that the peer ACKed
_OFF_BYTES_RECEIVED = 128  # tcpi_bytes_received, u64: bytes the peer sent us
_OFF_SEGS_OUT = 136  # tcpi_segs_out, u32 (SYN and pure ACKs included)
_OFF_SEGS_IN = 140  # tcpi_segs_in, u32
_OFF_BYTES_SENT = 200  # tcpi_bytes_sent, u64 (Linux 4.19+): data bytes sent, retransmits included
_OFF_BYTES_RETRANS = 208  # tcpi_bytes_retrans, u64
_OFF_STATE = 0  # tcpi_state, u8
#: TCP states (include/net/tcp_states.h) in which the peer's FIN has arrived:
#: the FIN takes one sequence number, which tcpi_bytes_received counts.
_PEER_FIN_STATES = frozenset({8, 9, 11})  # CLOSE_WAIT, LAST_ACK, CLOSING
_TCP_CLOSE = 7


@dataclass(frozen=True, slots=True)
class ConnCounters:
    """Cumulative kernel counters of one TCP connection, client side."""

    bytes_up: int = 0  # client -> server, sent once
    bytes_down: int = 0  # server -> client
    segs_up: int = 0
    segs_down: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def tcp_info(sock: socket.socket, active_open: bool = True,
             peer_fin: bool | None = None, closed_first: bool = False) -> ConnCounters:
    """Read the kernel's byte and segment counters of a connected socket.

    Bytes up are ``tcpi_bytes_sent - tcpi_bytes_retrans``: what left this
    socket once. ``tcpi_bytes_acked`` would miss a request still in flight
    when a client stops (a held long poll is ACKed only after the delayed-ACK
    timer), and on the side that opened the connection (``active_open``) it
    also counts the SYN's sequence number (10,000 bytes read back as 10,001);
    it is the fallback on kernels older than 4.19.

    ``peer_fin``: whether the peer's FIN has arrived (None: read it from the
    socket's state, which cannot tell once the socket is fully closed).
    ``closed_first``: our side sent its FIN first, so a fully closed socket
    (CLOSE) got there by the peer's FIN (FIN_WAIT2 -> CLOSE; a reset would
    also end in CLOSE, which the caller rules out if it can).
    """
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    if len(raw) < _OFF_SEGS_IN + 4:
        raise OSError(f"TCP_INFO is {len(raw)} bytes; this kernel is too old for byte counters")
    acked, received = struct.unpack_from("=QQ", raw, _OFF_BYTES_ACKED)
    # The peer's FIN takes one sequence number, which tcpi_bytes_received
    # counts; it is not a byte of data. The state shows it while our side is
    # open; once both FINs are through the socket is CLOSE (its TIME_WAIT
    # lives on in a separate mini-socket), so the caller, who saw the EOF,
    # says so with ``peer_fin``.
    if peer_fin is None:
        state = raw[_OFF_STATE]
        peer_fin = state in _PEER_FIN_STATES or (closed_first and state == _TCP_CLOSE)
    if peer_fin and received:
        received -= 1
    segs_out, segs_in = struct.unpack_from("=II", raw, _OFF_SEGS_OUT)
    if len(raw) >= _OFF_BYTES_RETRANS + 8:
        sent, retrans = struct.unpack_from("=QQ", raw, _OFF_BYTES_SENT)
        up = sent - retrans
    else:
        up = acked - 1 if active_open and acked else acked
    return ConnCounters(up, received, segs_out, segs_in)


class ProcessMeter:
    """CPU seconds and RSS of this process over a measured window.

    ``start()`` marks the window's start (after ramp-up), ``stop()`` its end.
    A daemon thread samples RSS every ``period`` seconds to catch the peak;
    it wakes rarely so it does not disturb the measured event loop.
    """

    def __init__(self, period: float = 0.1) -> None:
        self._proc = psutil.Process()
        self._period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu0 = 0.0
        self.rss_start = self.rss_end = self.rss_peak = 0
        self.cpu_s = 0.0

    def rss(self) -> int:
        """Resident set size now, in bytes."""
        return self._proc.memory_info().rss

    def _cpu(self) -> float:
        # CLOCK_PROCESS_CPUTIME_ID (user + system, every thread), in ns. Not
        # psutil's cpu_times(): /proc/<pid>/stat counts in 10 ms clock ticks,
        # which is 5-10 % of a short run's CPU time (benchmarks/overhead.py).
        return time.process_time()

    def _sample(self) -> None:
        while not self._stop.wait(self._period):
            self.rss_peak = max(self.rss_peak, self._proc.memory_info().rss)

    def start(self) -> None:
        self._cpu0 = self._cpu()
        self.rss_start = self.rss_peak = self._proc.memory_info().rss
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """End the window; returns ``cpu_s``, ``rss_start``, ``rss_end``, ``rss_peak``."""
        self.cpu_s = self._cpu() - self._cpu0
        self.rss_end = self._proc.memory_info().rss
        self.rss_peak = max(self.rss_peak, self.rss_end)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.snapshot()

    def snapshot(self) -> dict[str, float]:
        return {
            "cpu_s": self.cpu_s,
            "rss_start": self.rss_start,
            "rss_end": self.rss_end,
            "rss_peak": self.rss_peak,
        }


def latency_histogram(latency_ns: np.ndarray):
    """An HdrHistogram (1 µs .. 1 h, 3 significant digits) of latencies in ns.

    Values are recorded in microseconds; equal values are recorded once with
    their count, so a million deliveries cost a few thousand calls.
    """
    from hdrh.histogram import HdrHistogram

    hist = HdrHistogram(1, 3_600_000_000, 3)
    us = np.maximum(np.asarray(latency_ns, dtype=np.int64) // 1000, 1)
    values, counts = np.unique(us, return_counts=True)
    for v, c in zip(values.tolist(), counts.tolist(), strict=True):
        hist.record_value(v, c)
    return hist


def histogram_percentiles(hist) -> dict[str, float]:
    """``p50 p90 p99 p999 max mean`` in microseconds (NaN when empty)."""
    if hist.get_total_count() == 0:
        nan = float("nan")
        return dict.fromkeys(("p50", "p90", "p99", "p999", "max", "mean"), nan)
    return {
        "p50": float(hist.get_value_at_percentile(50)),
        "p90": float(hist.get_value_at_percentile(90)),
        "p99": float(hist.get_value_at_percentile(99)),
        "p999": float(hist.get_value_at_percentile(99.9)),
        "max": float(hist.get_max_value()),
        "mean": float(hist.get_mean_value()),
    }


def encode_histogram(hist) -> str:
    """HdrHistogram's compressed base64 form, so runs can be merged later."""
    data = hist.encode()
    return data.decode() if isinstance(data, bytes) else data


def decode_histogram(text: str):
    """The inverse of `encode_histogram`."""
    from hdrh.histogram import HdrHistogram

    return HdrHistogram.decode(text.encode())
