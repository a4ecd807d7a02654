"""Analytic predictions for polling versus push transports.

Every function here is pure (no I/O, no global state) and most accept either
Python scalars or NumPy arrays.  Scalar inputs give a Python ``float`` (or
``int``) back; array inputs give a NumPy array back, so the models can be laid
directly over measured data (e.g. an ECDF of observed latencies).

Units: times in seconds, sizes in bytes, rates in events per second, unless a
name says otherwise (``*_bits_per_s``, ``*_mbps``). Bad input raises
`wslab.ConfigError` (a ``ValueError``) naming what is allowed.

Vocabulary
----------
transit
    One-way transit time ``d`` (client -> server, or server -> client): what a
    message takes to cross the network and the stacks at both ends. Every
    model here takes transits, never round trips; a round trip is ``2 * d`` on
    a symmetric path. Measured with wslab, a transit is estimated by
    `wslab.analysis.transit_us` (the median one-way latency of push runs).
push, pull
    As defined once by `wslab.transports.base.Delivery`: push transports send
    each event when it is published; pull transports answer requests.

Sources
-------
* RFC 6202 (Loreto et al., 2011), "Known Issues and Best Practices for the Use
  of Long Polling and Streaming in Bidirectional HTTP": §1 (polling),
  §2.2 (long-polling latency and header overhead), §3.2 (streaming latency).
* RFC 6455 (Fette & Melnikov, 2011), "The WebSocket Protocol": §5.1-§5.3
  (framing and masking).
* P. Lubbers and F. Greco, "HTML5 Web Sockets: A Quantum Leap in Scalability
  for the Web" (Kaazing / websocket.org, 2010): the header-bandwidth example.
* RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 (TCP), RFC 7323 §3 (TCP
  timestamps option): per-segment header sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .core.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "KAAZING_CLIENTS",
    "KAAZING_FRAME_BYTES",
    "KAAZING_HEADER_BYTES",
    "KAAZING_PAPER_POLLING_MBPS",
    "KAAZING_PAPER_WS_MBPS",
    "TCPIP_HEADER_BYTES_IPV4_TS",
    "TCPIP_HEADER_BYTES_IPV6_TS",
    "ETHERNET_HEADER_BYTES",
    "WS_MAX_PAYLOAD_BYTES",
    "KaazingBandwidth",
    "LongPollBounds",
    "short_poll_latency_mean",
    "short_poll_latency_quantile",
    "short_poll_latency_cdf",
    "empty_poll_fraction",
    "events_per_poll",
    "short_poll_requests_per_event",
    "polls_per_second",
    "polling_header_bandwidth",
    "long_poll_latency_bounds",
    "long_poll_events_per_response",
    "long_poll_batch_size",
    "long_poll_mean_latency",
    "long_poll_latency_cv",
    "push_latency",
    "ws_frame_header_bytes",
    "ws_frame_bytes",
    "kaazing_bandwidth",
    "kaazing_table",
    "tcpip_bytes",
]

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

#: HTTP request + response header bytes per poll in the Kaazing example.
KAAZING_HEADER_BYTES = 871
#: WebSocket framing overhead per message in the Kaazing example (the 2-byte
#: minimal server->client header of RFC 6455 §5.2, unmasked per §5.1).
KAAZING_FRAME_BYTES = 2
#: Client counts used by the three use cases of the Kaazing example.
KAAZING_CLIENTS = (1_000, 10_000, 100_000)
#: Figures as printed in the paper for polling.  The paper's "Mbps" are
#: bits / 2**20 (871*8*1000/2**20 = 6.645 -> "6.6").
KAAZING_PAPER_POLLING_MBPS = (6.6, 66, 665)
#: Figures as printed in the paper for WebSocket (2*8*1000/2**20 = 0.01526 ->
#: "0.015").
KAAZING_PAPER_WS_MBPS = (0.015, 0.153, 1.526)

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
# Helpers (private)
# ---------------------------------------------------------------------------


def _as_float_array(value: Any, name: str) -> np.ndarray:
    """Convert ``value`` to a float ndarray, rejecting NaN."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a real number or array of real numbers") from exc
    if np.any(np.isnan(arr)):
        raise ConfigError(f"{name} must not be NaN")
    return arr


def _positive(value: Any, name: str) -> np.ndarray:
    """Validate a strictly positive, finite quantity."""
    arr = _as_float_array(value, name)
    if np.any(arr <= 0) or not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be positive and finite (> 0), got {value!r}")
    return arr


def _non_negative(value: Any, name: str) -> np.ndarray:
    """Validate a non-negative, finite quantity."""
    arr = _as_float_array(value, name)
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be non-negative and finite (>= 0), got {value!r}")
    return arr


def _out(arr: np.ndarray) -> float | np.ndarray:
    """Return a Python float for 0-d results, the array otherwise."""
    arr = np.asarray(arr)
    return float(arr) if arr.ndim == 0 else arr


# ---------------------------------------------------------------------------
# 1. Short polling
# ---------------------------------------------------------------------------
# RFC 6202 §1: in traditional ("short") polling the client sends a request at
# a fixed interval and the server answers at once, with or without data.  An
# event that becomes available at a random phase of the polling cycle waits
# for the next poll to *reach the server* (uniform on [0, T)), then the
# response transits back: T/2 + one transit on average.  Not a round trip: an
# event published while a poll travels to the server is caught by that poll,
# so the request's outbound transit lies inside the uniform wait.


def short_poll_latency_mean(interval: Any, transit: Any = 0.0) -> float | np.ndarray:
    """Mean event-to-client latency of short polling: ``T/2 + transit``.

    The wait until the next poll *reaches the server* is uniform on
    ``[0, T)`` (mean ``T/2``); the response then travels back, one transit.
    The usual statement "T/2 plus one request round trip" counts the
    request's outbound transit twice: an event published while a request is
    on its way to the server is caught by that very request, so that transit
    is already inside the uniform wait. (Measured with wslab's fixed poll
    grid: T = 200 ms with 25 ms added each way gives a mean of 125 ms, not
    150 ms.)

    Args:
        interval: Polling interval ``T`` in seconds (> 0).
        transit: One-way transit ``d`` of the response, in seconds (>= 0);
            server time included when it is measured (`wslab.analysis.transit_us`).

    Returns:
        Mean latency in seconds (float, or ndarray for array input).

    Raises:
        ConfigError: if ``interval`` is not positive or ``transit`` is negative.
    """
    t = _positive(interval, "interval")
    d = _non_negative(transit, "transit")
    return _out(t / 2.0 + d)


def short_poll_latency_quantile(q: Any, interval: Any, transit: Any = 0.0) -> float | np.ndarray:
    """Quantile function of short-polling latency: ``Q(q) = q*T + transit``.

    Latency is ``U*T + d`` with ``U ~ Uniform[0, 1)`` (RFC 6202 §1 polling
    cycle, event phase uniform) and ``d`` one transit, so the quantile is
    linear in ``q``.

    Args:
        q: Probability level(s) in ``[0, 1]``; scalar or array.
        interval: Polling interval ``T`` in seconds (> 0).
        transit: One-way transit ``d`` in seconds (>= 0).

    Returns:
        Latency quantile(s) in seconds.

    Raises:
        ConfigError: if any ``q`` is outside ``[0, 1]`` or other inputs invalid.
    """
    qa = _as_float_array(q, "q")
    if np.any((qa < 0) | (qa > 1)):
        raise ConfigError(f"q must lie in [0, 1], got {q!r}")
    t = _positive(interval, "interval")
    d = _non_negative(transit, "transit")
    return _out(qa * t + d)


def short_poll_latency_cdf(x: Any, interval: Any, transit: Any = 0.0) -> float | np.ndarray:
    """Cumulative distribution of short-polling latency, for ECDF overlays.

    ``F(x) = clip((x - d) / T, 0, 1)``: zero below one transit ``d``, rising
    linearly to one at ``T + d``.

    Args:
        x: Latency value(s) in seconds; any real numbers.
        interval: Polling interval ``T`` in seconds (> 0).
        transit: One-way transit ``d`` in seconds (>= 0).

    Returns:
        Probability ``P(L <= x)`` in ``[0, 1]``.

    Raises:
        ConfigError: if ``x`` is NaN, ``interval`` not positive, ``transit``
            negative.
    """
    xa = _as_float_array(x, "x")
    t = _positive(interval, "interval")
    d = _non_negative(transit, "transit")
    return _out(np.clip((xa - d) / t, 0.0, 1.0))


def empty_poll_fraction(interval: Any, rate: Any) -> float | np.ndarray:
    """Probability that a poll returns no event, for Poisson arrivals.

    With events arriving as a Poisson process of rate ``λ``, the number of
    events accumulated during one polling interval ``T`` is Poisson(``λT``),
    so ``P(0 events) = exp(-λT)``.  Each empty poll is a full request/response
    whose headers carry no data (RFC 6202 §2.2, "Header Overhead").

    Args:
        interval: Polling interval ``T`` in seconds (> 0).
        rate: Event rate ``λ`` in events per second (>= 0).

    Returns:
        Fraction of polls that come back empty, in ``(0, 1]``.

    Raises:
        ConfigError: if ``interval`` is not positive or ``rate`` is negative.
    """
    t = _positive(interval, "interval")
    lam = _non_negative(rate, "rate")
    return _out(np.exp(-lam * t))


def events_per_poll(interval: Any, rate: Any) -> float | np.ndarray:
    """Expected events carried by one poll response: ``λT``.

    Args:
        interval: Polling interval ``T`` in seconds (> 0).
        rate: Event rate ``λ`` in events per second (>= 0).

    Returns:
        Mean number of events per poll.

    Raises:
        ConfigError: if ``interval`` is not positive or ``rate`` is negative.
    """
    t = _positive(interval, "interval")
    lam = _non_negative(rate, "rate")
    return _out(lam * t)


def short_poll_requests_per_event(interval: Any, rate: Any) -> float | np.ndarray:
    """HTTP requests per delivered event in steady state: ``(1/T) / λ = 1/(λT)``.

    A client polls ``1/T`` times per second whatever happens and receives
    ``λ`` events per second, so each delivered event costs ``1/(λT)``
    requests -- for every ``λT``, not only when polls are mostly empty. Below
    ``λT = 1`` an event costs more than one request (most polls are empty,
    fraction ``exp(-λT)``); above it one request carries ``λT`` events on
    average (`events_per_poll`) and shares its headers among them
    (RFC 6202 §2.2, "Header Overhead"). A finite run adds the polls made
    before its first event and while its clients collect the last one, which
    matters only when the run lasts a few intervals.

    Args:
        interval: Polling interval ``T`` in seconds (> 0).
        rate: Event rate ``λ`` in events per second (> 0).

    Returns:
        Requests per delivered event (> 0).

    Raises:
        ConfigError: if ``interval`` or ``rate`` is not positive.
    """
    t = _positive(interval, "interval")
    lam = _positive(rate, "rate")
    return _out(1.0 / (lam * t))


# ---------------------------------------------------------------------------
# 2. Request load of N polling clients
# ---------------------------------------------------------------------------
# RFC 6202 §2.2 "Header Overhead": every poll is a complete HTTP request and
# response, so header bytes are paid per poll, whether or not data flows.


def polls_per_second(clients: Any, interval: Any) -> float | np.ndarray:
    """Aggregate request rate of ``N`` clients each polling every ``T``: ``N/T``.

    Args:
        clients: Number of clients ``N`` (>= 0).
        interval: Polling interval ``T`` in seconds (> 0).

    Returns:
        Requests per second arriving at the server.

    Raises:
        ConfigError: if ``clients`` is negative or ``interval`` not positive.
    """
    n = _non_negative(clients, "clients")
    t = _positive(interval, "interval")
    return _out(n / t)


def polling_header_bandwidth(clients: Any, interval: Any, header_bytes: Any) -> float | np.ndarray:
    """Header bytes per second spent by ``N`` polling clients: ``N/T * H``.

    Args:
        clients: Number of clients ``N`` (>= 0).
        interval: Polling interval ``T`` in seconds (> 0).
        header_bytes: Request + response header bytes per poll ``H`` (>= 0).

    Returns:
        Header bandwidth in bytes per second.

    Raises:
        ConfigError: on negative ``clients``/``header_bytes`` or non-positive
            ``interval``.
    """
    h = _non_negative(header_bytes, "header_bytes")
    return _out(np.asarray(polls_per_second(clients, interval)) * h)


# ---------------------------------------------------------------------------
# 3. Long polling
# ---------------------------------------------------------------------------
# RFC 6202 §2.1 defines long polling: the server holds each request open and
# answers only when it has data; the client then immediately re-issues a
# request.  RFC 6202 §2.2 "Maximal Latency": the average latency is close to
# one network transit, but after a response is sent the server must wait for
# the next request before it can send again, so the maximal latency is about
# three transits (response, next request, response).


@dataclass(frozen=True)
class LongPollBounds:
    """Latency bounds of long polling (RFC 6202 §2.2), in seconds.

    Attributes:
        min: Best case, a request is held at the server: one transit.
        mean: Ideal-network (low event rate) mean: one transit.
        max: Worst case, the event just missed a response: three transits
            (response, next request, response).
    """

    min: float
    mean: float
    max: float


def long_poll_latency_bounds(transit: float, server_time: float = 0.0) -> LongPollBounds:
    """Latency bounds of long polling for one-way transit time ``d``.

    Returns ``LongPollBounds(min=d, mean=d, max=3d)`` following RFC 6202 §2.2.
    Use :func:`long_poll_mean_latency` for a rate-dependent mean.

    ``server_time`` ``s`` is what one request cycle spends outside the two
    transits (client handling the response and sending the next request,
    server handling it): the gap with no request held is then ``2d + s`` and
    the maximum ``3d + s``. RFC 6202's bound is ``s = 0``.

    Args:
        transit: One-way transit time ``d`` in seconds (>= 0).
        server_time: Time per request cycle beyond two transits, seconds (>= 0).

    Returns:
        A frozen :class:`LongPollBounds`.

    Raises:
        ConfigError: if ``transit`` or ``server_time`` is negative.
    """
    d = float(_non_negative(transit, "transit"))
    s = float(_non_negative(server_time, "server_time"))
    return LongPollBounds(min=d, mean=d, max=3.0 * d + s)


def long_poll_events_per_response(
    rate: Any, transit: Any, server_time: Any = 0.0
) -> float | np.ndarray:
    """Approximate number of events batched into one long-poll response.

    After each response the server holds no request for one cycle
    ``c = 2*transit + server_time`` (response travels out, next request travels
    back, server handles it).  Events arriving in that gap are batched into the
    next response (RFC 6202 §2.2 notes this message batching).  At high rate a
    response therefore carries about ``λc`` events; at low rate each response
    carries exactly one.  This function returns the asymptote
    ``max(1, λc)``.

    Approximation: under the renewal model of :func:`long_poll_mean_latency`
    the exact mean is ``λc + exp(-λc)`` (the gap's Poisson(``λc``) events plus
    one more if the gap was empty and the request had to be held).  The
    ``max`` form agrees at both ends and under-estimates by at most
    ``exp(-1) ≈ 0.37`` events, at ``λc = 1``.

    Args:
        rate: Event rate ``λ`` in events per second (>= 0).
        transit: One-way transit time in seconds (>= 0).
        server_time: Server time per request cycle in seconds (>= 0).

    Returns:
        Expected events per response (>= 1).

    Raises:
        ConfigError: if any argument is negative.
    """
    lam = _non_negative(rate, "rate")
    d = _non_negative(transit, "transit")
    s = _non_negative(server_time, "server_time")
    cycle = 2.0 * d + s
    return _out(np.maximum(1.0, lam * cycle))


def long_poll_batch_size(
    rate: Any, transit: Any, server_time: Any = 0.0
) -> float | np.ndarray:
    """Mean events per long-poll response under the renewal model: ``λc + exp(-λc)``.

    The exact value behind :func:`long_poll_events_per_response`'s asymptote
    ``max(1, λc)``, with the same cycle ``c = 2*transit + server_time``: each
    response is followed by a gap of length ``c`` with no request held; its
    Poisson(``λc``) events travel in the next response, and when the gap was
    empty (probability ``exp(-λc)``) the next request is held until one event
    arrives and answers with it alone. So a response carries ``λc`` events
    on average plus ``exp(-λc)``: 1 as ``λ -> 0``, ``λc`` at high rate, and
    ``1 + e^-1 ≈ 1.37`` at ``λc = 1``. Per client; every response counted
    here is a completed one that carried at least one event (a request held
    when a run stops is not a response).

    Args:
        rate: Event rate ``λ`` in events per second (>= 0).
        transit: One-way transit time in seconds (>= 0).
        server_time: Server time per request cycle in seconds (>= 0).

    Returns:
        Expected events per non-empty response (>= 1).

    Raises:
        ConfigError: if any argument is negative.
    """
    x = _gap_events(rate, transit, server_time)
    return _out(x + np.exp(-x))


def _gap_events(rate: Any, transit: Any, server_time: Any) -> np.ndarray:
    """``λ·(2d + s)``: the expected number of events in one gap with no request held."""
    lam = _non_negative(rate, "rate")
    d = _non_negative(transit, "transit")
    s = _non_negative(server_time, "server_time")
    return lam * (2.0 * d + s)


def long_poll_mean_latency(rate: Any, transit: Any, server_time: Any = 0.0) -> float | np.ndarray:
    """Mean long-polling latency for Poisson events at rate ``λ``.

    Model (RFC 6202 §2.1/§2.2 mechanics, no loss):

    * While a request is held at the server an event is answered at once and
      reaches the client after **one transit** ``d``.
    * After each response there is a **gap** of ``g = 2d + s`` (response out,
      next request in, and ``server_time`` ``s`` of handling; RFC 6202's
      ideal is ``s = 0``) with no request held.  An event arriving in the
      gap waits for the next request -- uniform over the gap, mean ``g/2``
      -- and then one transit: at most ``d + g`` (``3d`` when ``s = 0``).

    Fraction of events that fall in a gap: each cycle has one gap holding on
    average ``λg`` events.  If the gap is empty (probability ``exp(-λg)``)
    the next request is held until exactly one event arrives; otherwise it is
    answered immediately.  So per cycle there are ``λg`` gap events and
    ``exp(-λg)`` held events, and

    ``p = λg / (λg + exp(-λg))``,

    ``E[L] = (1 - p)·d + p·(d + g/2) = d + p·g/2``, which is ``d·(1 + p)``
    for ``s = 0``.

    Limits (``s = 0``): ``λ -> 0`` gives ``d`` (RFC 6202's one-transit mean);
    ``λ -> ∞`` gives ``2d``; it always lies in ``[d, 2d]``, below the
    ``3d`` maximum.

    Args:
        rate: Event rate ``λ`` in events per second (>= 0).
        transit: One-way transit time ``d`` in seconds (>= 0).
        server_time: Time per request cycle beyond two transits, seconds (>= 0).

    Returns:
        Mean event-to-client latency in seconds.

    Raises:
        ConfigError: if ``rate``, ``transit`` or ``server_time`` is negative.
    """
    d = _non_negative(transit, "transit")
    x = _gap_events(rate, transit, server_time)
    gap = 2.0 * d + _non_negative(server_time, "server_time")
    p = x / (x + np.exp(-x))  # denominator >= exp(-x) > 0 for finite x
    return _out(d + p * gap / 2.0)


def long_poll_latency_cv(rate: Any, transit: Any, server_time: Any = 0.0) -> float | np.ndarray:
    """Coefficient of variation (sd / mean) of one event's long-poll latency.

    Same renewal model as :func:`long_poll_mean_latency`: with probability
    ``1 - p`` the latency is ``d``, with probability ``p`` it is
    ``d + g·U`` with ``U`` uniform on (0, 1) and ``g = 2d + s``. So
    ``Var[L] = g²·(p/3 - p²/4)`` (``d²·(4p/3 - p²)`` for ``s = 0``), at most
    about 0.44 of the mean. It is the spread of an ideal network; a real
    stack adds its own jitter, so use it as the lower end of a pilot CV
    (`wslab.stats.long_poll_duration`). 0 when ``λ = 0`` or ``d = s = 0``.

    Args:
        rate: Event rate ``λ`` in events per second (>= 0).
        transit: One-way transit time ``d`` in seconds (>= 0).
        server_time: Time per request cycle beyond two transits, seconds (>= 0).

    Returns:
        The coefficient of variation (>= 0).

    Raises:
        ConfigError: if any argument is negative.
    """
    d = _non_negative(transit, "transit")
    x = _gap_events(rate, transit, server_time)
    gap = 2.0 * d + _non_negative(server_time, "server_time")
    p = x / (x + np.exp(-x))
    mean = d + p * gap / 2.0
    sd = gap * np.sqrt(np.maximum(p / 3.0 - p * p / 4.0, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean > 0, sd / np.where(mean > 0, mean, 1.0), 0.0)
    return _out(cv)


# ---------------------------------------------------------------------------
# 4. Streaming: SSE and WebSocket
# ---------------------------------------------------------------------------
# RFC 6202 §3.2 "Maximal Latency": on a perfect network the average and
# maximal latency of HTTP streaming is one network transit, since the server
# never has to wait for a new request.  SSE is HTTP streaming; a WebSocket
# connection (RFC 6455 §1.5) likewise lets the server send at any time.


def push_latency(transit: Any) -> float | np.ndarray:
    """Latency of server push (HTTP streaming, SSE, WebSocket): one transit.

    Args:
        transit: One-way transit time ``d`` in seconds (>= 0).

    Returns:
        ``d`` seconds (mean and maximum on an ideal network).

    Raises:
        ConfigError: if ``transit`` is negative.
    """
    return _out(_non_negative(transit, "transit"))


# ---------------------------------------------------------------------------
# 5. RFC 6455 frame sizes
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
# 6. Kaazing bandwidth example (Lubbers & Greco)
# ---------------------------------------------------------------------------
# Not an RFC: the paper's example assumes every client receives one message
# per second; polling pays the full HTTP header (871 B) per message, a
# WebSocket pays the 2-byte RFC 6455 §5.2 frame header (server -> client,
# unmasked per §5.1).  The paper's "Mbps" divide bits by 2**20.


@dataclass(frozen=True)
class KaazingBandwidth:
    """Aggregate bandwidth for the Kaazing example.

    Attributes:
        bits_per_s: Bits per second, ``N * bytes * 8 * messages_per_second``.
        paper_mbps: ``bits_per_s / 2**20`` -- the unit the paper calls "Mbps".
        si_mbps: ``bits_per_s / 1e6`` -- SI megabits per second.
    """

    bits_per_s: float | np.ndarray
    paper_mbps: float | np.ndarray
    si_mbps: float | np.ndarray


def kaazing_bandwidth(
    clients: Any, bytes_per_message: Any, messages_per_second: Any = 1.0
) -> KaazingBandwidth:
    """Bandwidth of ``N`` clients each receiving messages of a given overhead.

    ``bits/s = N * bytes_per_message * 8 * messages_per_second``.  With
    ``bytes_per_message = KAAZING_HEADER_BYTES`` this is the paper's polling
    figure; with ``KAAZING_FRAME_BYTES`` its WebSocket figure.

    Args:
        clients: Number of clients ``N`` (>= 0); scalar or array.
        bytes_per_message: Overhead bytes per message (>= 0).
        messages_per_second: Messages per client per second (>= 0).

    Returns:
        A :class:`KaazingBandwidth` with ``bits_per_s``, ``paper_mbps``
        (bits / 2**20) and ``si_mbps`` (bits / 1e6).

    Raises:
        ConfigError: if any argument is negative.
    """
    n = _non_negative(clients, "clients")
    b = _non_negative(bytes_per_message, "bytes_per_message")
    r = _non_negative(messages_per_second, "messages_per_second")
    bits = n * b * 8.0 * r
    return KaazingBandwidth(
        bits_per_s=_out(bits),
        paper_mbps=_out(bits / 2**20),
        si_mbps=_out(bits / 1e6),
    )


def kaazing_table(
    header_bytes: Any = KAAZING_HEADER_BYTES,
    frame_bytes: Any = KAAZING_FRAME_BYTES,
    clients: Any = KAAZING_CLIENTS,
) -> pd.DataFrame:
    """Reproduce the Kaazing polling-vs-WebSocket bandwidth table.

    One message per client per second.  Columns: ``clients``,
    ``polling_paper_mbps``, ``polling_si_mbps``, ``websocket_paper_mbps``,
    ``websocket_si_mbps`` ("paper" = bits / 2**20, "si" = bits / 1e6).

    Args:
        header_bytes: HTTP header bytes per polled message (>= 0).
        frame_bytes: WebSocket overhead bytes per message (>= 0).
        clients: Sequence of client counts (each >= 0).

    Returns:
        A pandas DataFrame with one row per client count.

    Raises:
        ConfigError: if any argument is negative.
    """
    import pandas as pd  # project dependency; imported lazily to keep import cheap

    n = np.atleast_1d(_non_negative(clients, "clients"))
    poll = kaazing_bandwidth(n, header_bytes)
    ws = kaazing_bandwidth(n, frame_bytes)
    return pd.DataFrame(
        {
            "clients": np.asarray(clients, dtype=np.int64).reshape(-1),
            "polling_paper_mbps": np.atleast_1d(poll.paper_mbps),
            "polling_si_mbps": np.atleast_1d(poll.si_mbps),
            "websocket_paper_mbps": np.atleast_1d(ws.paper_mbps),
            "websocket_si_mbps": np.atleast_1d(ws.si_mbps),
        }
    )


# ---------------------------------------------------------------------------
# 7. TCP/IP overhead
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
