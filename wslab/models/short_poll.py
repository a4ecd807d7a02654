"""Short polling, one client: latency T/2 + one transit, and what a poll carries.

Source: RFC 6202 (Loreto et al., 2011) §1 (polling) and §2.2 ("Header
Overhead"). The aggregate load of many polling clients is in
`wslab.models.bandwidth`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ConfigError
from ._checks import _as_float_array, _non_negative, _out, _positive

__all__ = [
    "short_poll_latency_mean",
    "short_poll_latency_quantile",
    "short_poll_latency_cdf",
    "empty_poll_fraction",
    "events_per_poll",
    "short_poll_requests_per_event",
]

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
