"""Handshakes: the round trips from nothing to the first event, per transport and TLS.

Pure functions (no I/O). Times in seconds; ``one_way`` is the one-way delay
``d`` of a symmetric path, so a round trip (RTT) is ``2 d``.

What "time to first event" means here (the measurement in
`wslab.studies.handshakes` times the same interval): from the instant the
client calls ``connect()`` to the instant it holds the whole first event,
where that event was published *before* the client connected, so it waits
in the server's history and the client asks for everything after seq 0 (as a
client resuming after ``last_seq`` does). No publisher wait is in it: only the
protocol's own round trips, the event's transit included (it travels with,
or right behind, the answer to the client's first request).

Round trips (a step that ends when the client *receives* something costs one
RTT; sending alone costs nothing):

=================  =========================================================
step               round trips
=================  =========================================================
``tcp``            1: SYN, SYN-ACK (RFC 9293 §3.5); ``connect()`` returns
                   when the SYN-ACK arrives
``tls``            TLS 1.3: 1 (ClientHello; ServerHello .. Finished, RFC 8446
                   §2); TLS 1.2: 2 (RFC 5246 §7.3: the server's Finished
                   comes a second round trip later); a resumed TLS 1.2
                   session: 1 (abbreviated handshake, RFC 5246 §7.3 Fig. 2);
                   a resumed TLS 1.3 session without early data: 1 (RFC 8446
                   §2.2: it saves the certificate, not a round trip)
``request``        1: the WebSocket Upgrade answered by ``101`` (RFC 6455
                   §4.1), the SSE or polling ``GET`` answered by its head;
                   raw TCP: the client's 8-byte ``since`` up, the history down
``first event``    0 more: the server sends the history right behind the
                   ``101`` / response head, so it arrives in the same round
                   trip (its one-way transit down is that round trip's second
                   half)
``next poll``      1 per further poll on the kept-alive connection (pull only)
=================  =========================================================

So on a real path every transport reaches its first event after
``2 + tls`` round trips (TLS 1.3: 3, TLS 1.2: 4): the transports differ in
bytes, and in what every *later* event costs, not in the first.

Through wslab's impairment proxy (`wslab.net.proxy`; there is no ``tc
netem`` here) the client's TCP handshake is with the proxy on loopback,
which answers the SYN at once: the delay applies to bytes only, so the
``tcp`` step costs no delayed round trip (``path="proxy"``, one fewer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.errors import ConfigError

__all__ = ["PATHS", "STEPS", "TLS_RTTS", "TRANSPORTS", "Step", "handshake_steps",
           "next_poll_rtts", "rtts_to_first_event", "time_to_first_event", "tls_rtts"]

#: transports the model knows (wslab's five baselines)
TRANSPORTS = ("tcp", "websocket", "sse", "long-poll", "short-poll")
PULL = ("long-poll", "short-poll")
#: "network": a real path (the SYN is delayed too); "proxy": wslab's userspace proxy
PATHS = ("network", "proxy")
STEPS = ("tcp", "tls", "request", "first event")
#: round trips of a full TLS handshake, by version (None: clear text)
TLS_RTTS: dict[str | None, int] = {None: 0, "1.2": 2, "1.3": 1}
_RESUMED_RTTS: dict[str | None, int] = {None: 0, "1.2": 1, "1.3": 1}


@dataclass(frozen=True)
class Step:
    """One step of the way to the first event and the round trips it costs."""

    name: str
    rtts: int


def _check(transport: str, tls: str | None, path: str) -> str | None:
    if transport not in TRANSPORTS:
        raise ConfigError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
    if path not in PATHS:
        raise ConfigError(f"path must be one of {', '.join(PATHS)}, not {path!r}")
    version = None if tls in (None, False, "", "none") else str(tls)
    if version not in TLS_RTTS:
        raise ConfigError(f"tls must be None, '1.2' or '1.3', not {tls!r}")
    return version


def tls_rtts(tls: str | None, resumed: bool = False) -> int:
    """Round trips of a TLS handshake: full (1.3: 1, 1.2: 2) or resumed (1 each)."""
    version = _check("tcp", tls, "network")
    return (_RESUMED_RTTS if resumed else TLS_RTTS)[version]


def handshake_steps(transport: str, tls: str | None = None, path: str = "network",
                    resumed: bool = False) -> list[Step]:
    """The steps from ``connect()`` to the first event, each with its round trips."""
    version = _check(transport, tls, path)
    return [Step("tcp", 1 if path == "network" else 0),
            Step("tls", tls_rtts(version, resumed)),
            Step("request", 1),
            Step("first event", 0)]


def rtts_to_first_event(transport: str, tls: str | None = None, path: str = "network",
                        resumed: bool = False) -> int:
    """Round trips from ``connect()`` to the first event (the sum of `handshake_steps`)."""
    return sum(s.rtts for s in handshake_steps(transport, tls, path, resumed))


def next_poll_rtts(transport: str) -> int:
    """Round trips of a further poll on the kept-alive connection: 1 (pull), 0 (push:
    there is no further request)."""
    _check(transport, None, "network")
    return 1 if transport in PULL else 0


def time_to_first_event(transport: str, tls: str | None, one_way: float,
                        path: str = "network", base: float = 0.0) -> float:
    """``rtts_to_first_event * 2 * one_way + base`` seconds (``base``: the same
    interval measured with no added delay, the stacks' and servers' own time)."""
    for name, value in (("one_way", one_way), ("base", base)):
        if not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
            raise ConfigError(f"{name} must be a non-negative number of seconds, not {value!r}")
    return rtts_to_first_event(transport, tls, path) * 2.0 * one_way + base
