"""Student t quantiles and binomial tails without SciPy (NumPy and the standard library).

`t_quantile` serves the t intervals and `runs_needed`; the binomial CDF window
serves the order-statistic intervals of `wslab.stats.quantile_ci`. The
standard normal is the standard library's `statistics.NormalDist`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from ..core.errors import ConfigError

__all__ = ["t_quantile"]

_NORMAL = NormalDist()


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz;
    Press et al., Numerical Recipes, 3rd ed., §6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float, y: float) -> float:
    """Regularized incomplete beta I_x(a, b), with ``y = 1 - x`` given exactly."""
    if x <= 0:
        return 0.0
    if y <= 0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log(y))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, y) / b


def _t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for t >= 0: I_{df/(df+t^2)}(df/2, 1/2) / 2."""
    s = df + t * t
    return 0.5 * _betainc(df / 2, 0.5, df / s, t * t / s)


def _t_pdf(t: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
                    - 0.5 * math.log(df * math.pi) - (df + 1) / 2 * math.log1p(t * t / df))


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom.

    Closed forms for 1 and 2 degrees of freedom; otherwise the Cornish–Fisher
    expansion (Abramowitz & Stegun 26.7.5) refined by safeguarded Newton steps
    on the exact CDF (incomplete beta), to about 1e-12.
    """
    if not 0 < p < 1:
        raise ConfigError(f"p must be between 0 and 1, not {p!r}")
    if not df > 0:
        raise ConfigError(f"df must be positive, not {df!r}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if p == 0.5:
        return 0.0
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = _NORMAL.inv_cdf(p)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    t = z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4
    if df > 1e5:  # the expansion's error, O(df^-5), is below double precision
        return t
    tail = 1 - p
    lo, hi = 0.0, math.inf
    for _ in range(200):
        f = _t_upper_tail(t, df) - tail  # decreasing in t
        if f > 0:
            lo = t
        else:
            hi = t
        step = f / _t_pdf(t, df)
        nxt = t + step
        if not lo < nxt < hi:  # Newton left the bracket: bisect (or grow it)
            nxt = (lo + hi) / 2 if math.isfinite(hi) else 2 * t + 1
        if abs(nxt - t) <= 1e-13 * max(1.0, abs(t)):
            return nxt
        t = nxt
    return t


def _binom_cdf_window(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """(k, P(Bin(n, p) <= k)) for k around the mode; the mass outside the
    window (40 standard deviations each side) is below 1e-300."""
    mode = min(n, int((n + 1) * p))
    half = int(40 * math.sqrt(n * p * (1 - p))) + 40
    lo, hi = max(0, mode - half), min(n, mode + half)
    ks = np.arange(lo, hi + 1)
    log_mode = (math.lgamma(n + 1) - math.lgamma(mode + 1) - math.lgamma(n - mode + 1)
                + mode * math.log(p) + (n - mode) * math.log1p(-p))
    odds = math.log(p) - math.log1p(-p)
    logpmf = np.empty(len(ks))
    i = mode - lo
    logpmf[i] = log_mode
    up = ks[i + 1:]  # log pmf(k) - log pmf(k-1) = log((n-k+1)/k) + log(p/(1-p))
    logpmf[i + 1:] = log_mode + np.cumsum(np.log((n - up + 1) / up) + odds)
    down = ks[:i][::-1]  # log pmf(k) - log pmf(k+1) = log((k+1)/(n-k)) - log(p/(1-p))
    logpmf[:i] = (log_mode + np.cumsum(np.log((down + 1) / (n - down)) - odds))[::-1]
    return ks, np.cumsum(np.exp(logpmf))
