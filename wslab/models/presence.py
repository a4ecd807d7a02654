"""Presence: how long after a peer silently vanishes a server knows it is gone.

A peer whose network disappears (no FIN, no RST) is only ever detected by a
*missing* answer: a heartbeat that is not answered, a write that is never
acknowledged, a request that does not come. Each mechanism below waits for
the first heartbeat after the vanish and then for its own timeout, so the
detection time ``D`` (from the vanish to the server declaring the peer gone)
lies in an interval ``[low, high]`` whose width is one heartbeat period; a
vanish at a uniformly random phase of that period makes ``D`` uniform on it,
with mean ``(low + high) / 2`` (`Detection`). Transits are neglected (they
are microseconds here, seconds never).

* WebSocket ping/pong, as websockets (>= 14, ``websockets.asyncio.connection.
  Connection.keepalive``) does it: a Ping every ``ping_interval`` s (measured
  from ping to ping: the sleep is ``ping_interval - latency``); when no Pong
  comes within ``ping_timeout`` s the connection is *failed* (RFC 6455
  §7.1.7: a Close frame 1011 and, on the server, a FIN), and websockets then
  waits up to ``close_timeout`` s for the TCP connection to end before it
  aborts it. A vanished peer never ends it, so the handler (and the
  application) learns of the loss ``close_timeout`` s after the ping timeout:
  ``D in [T + C, I + T + C]`` (`websocket_detection`).
* SSE with a heartbeat comment every ``ping`` s: writes to a vanished peer
  succeed (they land in the send buffer); only TCP notices, when the oldest
  unacknowledged byte is ``user_timeout`` s old (``TCP_USER_TIMEOUT``, tcp(7);
  Linux clamps the retransmission timer to it) -- or, without it, after
  ``tcp_retries2`` retransmissions (`tcp_retries_timeout`, ~924.6 s with the
  defaults): ``D in [U, P + U]`` (`sse_detection`).
* Long polling with a server-side presence tracker: a request is held
  ``timeout`` s; the next one is due right after the answer; the tracker
  declares the client gone ``timeout + grace`` s after its last request:
  ``D in [g, τ + g]`` (`long_poll_detection`).
* TCP keepalive (tcp(7), ``net/ipv4/tcp_timer.c: tcp_keepalive_timer``): after
  ``idle`` s without a received segment a probe goes out, then one every
  ``interval`` s; after ``count`` unanswered probes the next timer expiry
  aborts the connection: ``D in [count * interval, idle + count * interval]``
  (`keepalive_detection`; Linux defaults 7200 s, 75 s, 9).

Heartbeat cost while nobody leaves (`heartbeat_wire_bytes`): bytes on the
wire per heartbeat period and client, payload plus 52 B of IPv4 + TCP header
(with timestamps, RFC 7323) per segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.errors import ConfigError
from ._checks import _positive
from .framing import TCPIP_HEADER_BYTES_IPV4_TS

__all__ = [
    "HEARTBEAT_SEGMENTS",
    "LINUX_KEEPALIVE",
    "PRODUCTION_DEFAULTS",
    "SSE_PING_BYTES",
    "WEBSOCKETS_CLOSE_TIMEOUT",
    "WS_PING_BYTES",
    "WS_PONG_BYTES",
    "Detection",
    "heartbeat_wire_bytes",
    "keepalive_detection",
    "long_poll_detection",
    "sse_detection",
    "tcp_retries_timeout",
    "websocket_detection",
]

#: websockets' default ``close_timeout`` (s), for ``serve`` and ``connect``;
#: the kit's websocket server does not change it.
WEBSOCKETS_CLOSE_TIMEOUT = 10.0
#: RFC 6455 §5.2/§5.5.2: websockets' Ping carries 4 random bytes: 2 B header +
#: 4 B, server to client (unmasked); the Pong echoes them masked (+ 4 B key).
WS_PING_BYTES = 6
WS_PONG_BYTES = 10
#: aiohttp-sse's ``: ping`` comment + CRLF CRLF (10 B) in one HTTP/1.1 chunk
#: (RFC 9112 §7.1: ``a\r\n`` + data + ``\r\n``).
SSE_PING_BYTES = 15
#: segments per heartbeat in steady state (after Linux's quick-ACK start of a
#: connection, which ACKs the first segments at once), both directions: WebSocket ping, pong, the server's
#: ACK of the pong; SSE comment and its ACK; keepalive probe and its ACK; long
#: poll request, response and the server's delayed ACK of the request
#: (the next request carries the client's ACK of the response).
HEARTBEAT_SEGMENTS = {"websocket": 3, "sse": 2, "keepalive": 2, "long-poll": 3}
#: Linux's TCP keepalive defaults (tcp(7): tcp_keepalive_time, _intvl, _probes)
LINUX_KEEPALIVE = {"idle": 7200.0, "interval": 75.0, "count": 9}
#: heartbeat interval and timeout (s) of common WebSocket stacks' defaults:
#: websockets ping_interval/ping_timeout; Socket.IO pingInterval/pingTimeout;
#: ASP.NET Core SignalR KeepAliveInterval/ClientTimeoutInterval; Phoenix
#: channels heartbeat (30 s) and the server's idle timeout (60 s).
PRODUCTION_DEFAULTS = {
    "websockets": (20.0, 20.0),
    "Socket.IO": (25.0, 20.0),
    "SignalR": (15.0, 30.0),
    "Phoenix": (30.0, 60.0),
}


def _pos(value: float, name: str) -> float:
    return float(_positive(value, name))


@dataclass(frozen=True)
class Detection:
    """Detection time after a silent vanish, uniform on ``[low, high]`` (s)."""

    low: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def contains(self, x: float, slack: float = 0.0) -> bool:
        """``low - slack <= x <= high + slack``."""
        return self.low - slack <= x <= self.high + slack


def websocket_detection(ping_interval: float, ping_timeout: float,
                        close_timeout: float = WEBSOCKETS_CLOSE_TIMEOUT) -> Detection:
    """websockets' keepalive: ``[T + C, I + T + C]`` (see the module doc);
    ``close_timeout`` 0 gives the instant the keepalive fails the connection."""
    i, t = _pos(ping_interval, "ping_interval"), _pos(ping_timeout, "ping_timeout")
    c = 0.0 if close_timeout == 0 else _pos(close_timeout, "close_timeout")
    return Detection(t + c, i + t + c)


def sse_detection(ping: float, user_timeout: float) -> Detection:
    """A heartbeat write every ``ping`` s, aborted by TCP ``user_timeout`` s after
    the first unacknowledged one: ``[U, P + U]``."""
    p, u = _pos(ping, "ping"), _pos(user_timeout, "user_timeout")
    return Detection(u, p + u)


def long_poll_detection(timeout: float, grace: float) -> Detection:
    """A presence tracker that waits ``timeout + grace`` after each request: ``[g, τ + g]``."""
    t, g = _pos(timeout, "timeout"), _pos(grace, "grace")
    return Detection(g, t + g)


def keepalive_detection(idle: float, interval: float, count: int) -> Detection:
    """TCP keepalive: ``[count * interval, idle + count * interval]`` (needs ``interval <= idle``:
    then probes of a healthy connection go out every ``idle`` s)."""
    idle, interval = _pos(idle, "idle"), _pos(interval, "interval")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"count must be an integer >= 1, not {count!r}")
    if interval > idle:
        raise ConfigError(f"interval ({interval:g} s) must not exceed idle ({idle:g} s)")
    return Detection(count * interval, idle + count * interval)


def tcp_retries_timeout(retries: int = 15, rto_min: float = 0.2, rto_max: float = 120.0) -> float:
    """Seconds until TCP gives up on unacknowledged data after ``retries``
    retransmissions with exponential backoff from ``rto_min`` capped at ``rto_max``
    (Linux ``tcp_retries2`` = 15, RTO 200 ms .. 120 s: 924.6 s)."""
    rto_min, rto_max = _pos(rto_min, "rto_min"), _pos(rto_max, "rto_max")
    return math.fsum(min(rto_min * 2**k, rto_max) for k in range(int(retries) + 1))


def heartbeat_wire_bytes(mechanism: str, period: float, payload: float = 0.0) -> float:
    """Bytes per second per client on the wire for one heartbeat every ``period`` s.

    ``payload``: data bytes per heartbeat (both directions). The defaults are
    the frame sizes above for ``websocket`` and ``sse`` and 0 for ``keepalive``;
    ``long-poll`` needs its request + response bytes.
    """
    period = _pos(period, "period")
    default = {"websocket": WS_PING_BYTES + WS_PONG_BYTES, "sse": SSE_PING_BYTES,
               "keepalive": 0.0}
    if mechanism not in HEARTBEAT_SEGMENTS:
        raise ConfigError(f"mechanism must be one of {', '.join(HEARTBEAT_SEGMENTS)}, "
                          f"not {mechanism!r}")
    data = payload or default.get(mechanism, 0.0)
    return (data + HEARTBEAT_SEGMENTS[mechanism] * TCPIP_HEADER_BYTES_IPV4_TS) / period
