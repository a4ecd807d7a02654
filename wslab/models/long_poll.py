"""Long polling: RFC 6202 §2.2 latency bounds, the mean latency and its CV, batching.

Source: RFC 6202 (Loreto et al., 2011) §2.1 (long polling) and §2.2 (maximal
latency, message batching). The mean, the CV and the batch size come from one
renewal model of the request cycle (`long_poll_mean_latency`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import _non_negative, _out

__all__ = [
    "LongPollBounds",
    "long_poll_latency_bounds",
    "long_poll_events_per_response",
    "long_poll_batch_size",
    "long_poll_mean_latency",
    "long_poll_latency_cv",
]

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
