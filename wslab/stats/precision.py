"""Precision decides durations: runs or events for a mean within ±x %, and the
publishing duration that gives them for short and long polling."""

from __future__ import annotations

import math

from ..core.errors import ConfigError
from ._checks import _level, _positive
from .distributions import _NORMAL, t_quantile

__all__ = ["long_poll_duration", "runs_needed", "short_poll_duration"]


def runs_needed(cv: float, rel_half_width: float, level: float = 0.95) -> int:
    """Independent units (runs, or events) for a mean within ±``rel_half_width``.

    The smallest n >= 2 with t(level, n-1) · cv / sqrt(n) <= rel_half_width,
    where ``cv`` is the units' coefficient of variation (standard deviation
    over mean, e.g. from a pilot). The achieved half-width is random (it uses
    the sample's standard deviation); it meets the target on average.
    """
    level = _level(level)
    h = _positive("rel_half_width", rel_half_width)
    if isinstance(cv, bool) or not isinstance(cv, int | float) or not (
            cv >= 0 and math.isfinite(cv)):
        raise ConfigError(f"cv must be a number >= 0, not {cv!r}")
    p = (1 + level) / 2
    n = max(2, math.ceil((_NORMAL.inv_cdf(p) * cv / h) ** 2))
    if n > 10**12:
        raise ConfigError(f"a ±{h:g} relative half-width with cv {cv:g} needs {n:.3g} units")
    while t_quantile(p, n - 1) * cv / math.sqrt(n) > h:
        n += 1
    return n


def _publishing(measured: float, warmup: float | None) -> float:
    """Publishing duration whose events after the warm-up span ``measured``
    seconds, rounded up to three significant digits. ``warmup=None`` is
    wslab's default, min(1 s, 10 % of the duration) (`RunConfig.validate`)."""
    if warmup is None:
        total = measured / 0.9 if measured <= 9.0 else measured + 1.0
    else:
        if isinstance(warmup, bool) or not isinstance(warmup, int | float) or warmup < 0:
            raise ConfigError(f"warmup must be a number of seconds >= 0, not {warmup!r}")
        total = measured + float(warmup)
    digits = 2 - math.floor(math.log10(total))
    if digits >= 0:
        return math.ceil(total * 10**digits - 1e-9) / 10**digits
    return float(math.ceil(total / 10**-digits - 1e-9) * 10**-digits)


def short_poll_duration(rate: float, interval: float, rel_half_width: float,
                        clients: int = 1, level: float = 0.95, *, transit: float = 0.0,
                        phases: str = "any", warmup: float | None = None) -> float:
    """Publishing duration (s) that pins the mean short-poll latency to
    ±``rel_half_width`` × (T/2 + transit) at ``level``.

    Model: with Poisson arrivals (``schedule="poisson"``) an event waits
    Uniform(0, T) for a client's next poll (T = ``interval``), then one
    ``transit`` (seconds, taken as constant: it is much smaller than T).
    Events are the independent unit: the arrivals in disjoint stretches of a
    Poisson stream are independent, and given their number they are uniform,
    so the waits of different events are independent Uniform(0, T) for any
    rate. The deliveries of *one* event to several clients are not
    independent (they depend on one arrival time), so each event counts once,
    through the mean over clients of its latency. Its variance is at most
    T²/12 (an average cannot vary more than its parts):

    * ``phases="any"`` (default) assumes that bound: exact for one client or
      clients polling in step, conservative otherwise;
    * ``phases="random"`` assumes independent uniform poll phases (as wslab's
      short-poll clients draw them): the variance is T²/(12·clients) on
      average over phase draws — not for every draw.

    The events needed are `runs_needed` with cv = sd/(T/2 + transit); the
    measured window is events / ``rate``, plus the warm-up (wslab's default
    when ``warmup`` is None). The result is rounded up to 3 significant digits.
    """
    rate = _positive("rate", rate)
    T = _positive("interval", interval)
    if isinstance(clients, bool) or not isinstance(clients, int) or clients < 1:
        raise ConfigError(f"clients must be an integer >= 1, not {clients!r}")
    if isinstance(transit, bool) or not isinstance(transit, int | float) or transit < 0:
        raise ConfigError(f"transit must be seconds >= 0, not {transit!r}")
    if phases not in ("any", "random"):
        raise ConfigError(f"phases must be 'any' or 'random', not {phases!r}")
    var = T * T / 12 / (clients if phases == "random" else 1)
    cv = math.sqrt(var) / (T / 2 + transit)
    return _publishing(runs_needed(cv, rel_half_width, level) / rate, warmup)


def long_poll_duration(rate: float, cv: float, rel_half_width: float, level: float = 0.95, *,
                       warmup: float | None = None) -> float:
    """Publishing duration (s) that pins the mean long-poll latency to
    ±``rel_half_width`` of itself at ``level``.

    Long-poll latency has no closed-form spread (one transit while a request
    is held, up to three when the event falls in the re-poll gap, batching at
    high rates), so ``cv`` is measured: the coefficient of variation of the
    per-event latency (mean over clients per event) in a pilot run, e.g.
    ``g = lat.groupby("seq").latency_us.mean(); cv = g.std() / g.mean()``.
    Events count as independent units, which holds while events rarely share
    a response (``rate`` × round trip ≪ 1); at higher rates the events of one
    batch share their return time, the effective count is smaller and the
    duration found here is a lower bound. Events needed: `runs_needed`; the
    measured window is events / ``rate`` plus the warm-up.
    """
    rate = _positive("rate", rate)
    return _publishing(runs_needed(cv, rel_half_width, level) / rate, warmup)
