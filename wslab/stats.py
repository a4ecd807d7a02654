"""Statistics every figure uses: estimates with intervals, model verdicts, run lengths.

Every number a figure or a table shows next to a model is an `Estimate`: a
value, an interval at a stated level, the number of *independent units* the
interval rests on and how it was computed, e.g. ``97.8 [95.1, 100.4] (n=12,
bootstrap over runs)``. NumPy only: the Student t quantile and the binomial
tail are computed here (`t_quantile`, `quantile_ci`), the normal one comes from
the standard library.

Which unit is independent
-------------------------
The rows of a run (one per delivery) are **not** independent observations:

* one event is delivered to every client from one publish, one fan-out loop
  and one moment of the machine's load, so its deliveries move together;
* one client's deliveries share its connection, its poll phase (short
  polling: a client that polls just before events tends to wait little for
  all of them) and its process;
* one run shares a machine state (CPU frequency, other load, page cache, the
  seeded schedule).

An interval that treats 100,000 deliveries as 100,000 independent draws is
far too narrow. Resample (or average over) the unit whose variation the
claim is about:

* **runs** (repeats) — the default for figures. A claim such as "short
  polling at T = 1 s adds T/2" is about what a re-measurement would give, and
  a re-measurement varies from run to run (machine noise, seed, phases). Give
  each run one value (its mean or p99) and use `mean_ci` over those values
  (`Experiment.aggregate`), or resample whole runs with `cluster_bootstrap_ci`
  (``cluster="trial"``) for a pooled statistic. With few runs (< 10) prefer
  the t interval: a bootstrap over 3–5 units under-covers.
* **clients** — for questions *within* one setup (how latency spreads across
  clients, fan-out fairness) or a single run with many clients whose state is
  independent. It ignores run-to-run variation, so it is narrower and only
  supports statements about that run.
* **events** — for a per-event model inside one run: with Poisson arrivals the
  waits of different events are independent (short polling: uniform over the
  interval), while the deliveries of one event to several clients are not.
  `short_poll_duration` and `long_poll_duration` count events.

Comparisons between transports are **paired**: within one repeat every
transport gets the same seed, hence the same event schedule (see
`wslab.experiment`), so `ratio_ci` resamples repeats as pairs.

Precision decides durations
---------------------------
`runs_needed`, `short_poll_duration` and `long_poll_duration` turn "the mean
within ±x % at 95 %" into a number of runs or a publishing duration, so
experiments are as long as the claim needs and no longer.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from .core.errors import ConfigError

__all__ = [
    "Estimate",
    "bootstrap_ci",
    "check_table",
    "cluster_bootstrap_ci",
    "long_poll_duration",
    "mean_ci",
    "median_ci",
    "quantile_ci",
    "ratio_ci",
    "runs_needed",
    "short_poll_duration",
    "t_quantile",
    "verdict",
]

_NORMAL = NormalDist()
#: Bootstrap resamples are evaluated in chunks of at most this many cells.
_CHUNK_CELLS = 2_000_000
#: The BCa acceleration comes from a jackknife over at most this many groups.
_JACK_GROUPS = 200


# -- the estimate ----------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval at ``level``.

    ``n`` is the number of independent units behind the interval (runs,
    clients, events, values), ``method`` says how it was computed. ``low`` and
    ``high`` are NaN when ``n`` is too small for an interval at ``level``.
    """

    value: float
    low: float
    high: float
    n: int
    method: str
    level: float = 0.95

    @property
    def half_width(self) -> float:
        """Half the interval's width (intervals need not be symmetric)."""
        return (self.high - self.low) / 2

    @property
    def relative_half_width(self) -> float:
        """`half_width` over ``|value|`` (NaN when the value is 0)."""
        return self.half_width / abs(self.value) if self.value else math.nan

    def contains(self, x: float) -> bool:
        """True when ``low <= x <= high`` (False when there is no interval)."""
        return bool(self.low <= x <= self.high)

    def __str__(self) -> str:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return f"{self.value:.4g} (n={self.n}, {self.method}; no interval)"
        hw = self.half_width
        # two significant digits of the half-width decide the decimals shown
        digits = max(0, 1 - math.floor(math.log10(hw))) if hw > 0 else 3
        return (f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}] "
                f"(n={self.n}, {self.method})")

    def as_dict(self, prefix: str) -> dict[str, float | int]:
        """Flat columns for tidy tables: ``prefix``, ``prefix_low``, ``prefix_high``,
        ``prefix_n``."""
        return {prefix: self.value, f"{prefix}_low": self.low, f"{prefix}_high": self.high,
                f"{prefix}_n": self.n}


# -- input checks ----------------------------------------------------------------
def _level(level: float) -> float:
    if not isinstance(level, int | float) or isinstance(level, bool) or not 0 < level < 1:
        raise ConfigError(f"level must be a number between 0 and 1 (e.g. 0.95), not {level!r}")
    return float(level)


def _values(values: Any, name: str = "values", at_least: int = 1) -> np.ndarray:
    if isinstance(values, Iterable) and not hasattr(values, "__len__"):
        values = list(values)  # a generator
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be numbers, not {type(values).__name__}") from None
    if x.ndim != 1:
        raise ConfigError(f"{name} must be a one-dimensional list of numbers, not of shape "
                          f"{x.shape}")
    if len(x) < at_least:
        raise ConfigError(f"{name} must hold at least {at_least} value(s), not {len(x)}")
    if not np.isfinite(x).all():
        raise ConfigError(f"{name} contain NaN or infinite values: drop them first "
                          f"({np.count_nonzero(~np.isfinite(x))} of {len(x)})")
    return x


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            value > 0 and math.isfinite(value)):
        raise ConfigError(f"{name} must be a positive number, not {value!r}")
    return float(value)


def _n_boot(n_boot: Any) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise ConfigError(f"n_boot must be an integer >= 100, not {n_boot!r}")
    return n_boot


def _method(method: str, allowed: Sequence[str] = ("percentile", "bca")) -> str:
    if method not in allowed:
        raise ConfigError(f"method must be one of {', '.join(allowed)}, not {method!r}")
    return method


# -- distributions without scipy --------------------------------------------------
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


# -- intervals ---------------------------------------------------------------------
def mean_ci(values: Iterable[float], level: float = 0.95, *, unit: str = "values") -> Estimate:
    """The mean with its Student t interval (``unit`` names what one value is,
    e.g. ``"runs"``). One value gives no interval (NaN bounds)."""
    level = _level(level)
    x = _values(values)
    n, m = len(x), float(np.mean(x))
    method = f"t interval over {unit}"
    if n < 2:
        return Estimate(m, math.nan, math.nan, n, method, level)
    h = t_quantile((1 + level) / 2, n - 1) * float(np.std(x, ddof=1)) / math.sqrt(n)
    return Estimate(m, m - h, m + h, n, method, level)


def quantile_ci(values: Iterable[float], q: float, level: float = 0.95, *,
                unit: str = "values") -> Estimate:
    """The ``q`` quantile with a distribution-free interval from order statistics.

    The bounds are the order statistics X(l) and X(u) with
    P(Bin(n, q) <= l-1) <= (1-level)/2 and P(Bin(n, q) >= u) <= (1-level)/2,
    so the interval covers the true quantile with probability >= ``level``
    for any continuous distribution (exactly computed binomial tails). Too
    few values for that level give NaN bounds (a 95 % median interval needs 6).
    The value is ``np.quantile(values, q)``.
    """
    level = _level(level)
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q < 1:
        raise ConfigError(f"q must be between 0 and 1 (0.5 for the median), not {q!r}")
    x = np.sort(_values(values))
    n, alpha = len(x), 1 - level
    ks, cdf = _binom_cdf_window(n, float(q))
    value = float(np.quantile(x, q))
    method = f"order statistics over {unit}"
    # X(l) misses when fewer than l values fall below the quantile: P(Bin <= l-1);
    # X(u) misses when u or more do: P(Bin >= u). Each at most alpha/2.
    below = ks[cdf <= alpha / 2]
    k_lo = int(below[-1]) if len(below) else int(ks[0]) - 1  # cdf(ks[0] - 1) is ~0
    low = float(x[k_lo]) if k_lo >= 0 else math.nan
    above = ks[cdf >= 1 - alpha / 2]
    k_hi = int(above[0]) if len(above) else int(ks[-1]) + 1
    high = float(x[k_hi]) if k_hi < n else math.nan
    return Estimate(value, low, high, n, method, level)


def median_ci(values: Iterable[float], level: float = 0.95, *, unit: str = "values") -> Estimate:
    """The median with a distribution-free interval (`quantile_ci` at 0.5)."""
    return quantile_ci(values, 0.5, level, unit=unit)


def _accepts_axis(statistic: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(statistic).parameters
    except (TypeError, ValueError):
        return False
    return "axis" in params


def _apply(statistic: Callable[..., Any], samples: np.ndarray, vectorised: bool) -> np.ndarray:
    """``statistic`` of each row of ``samples``."""
    if vectorised:
        out = np.asarray(statistic(samples, axis=1), dtype=float)
        if out.shape == (len(samples),):
            return out
    return np.array([float(statistic(row)) for row in samples])


def _jackknife_groups(n: int, rng: np.random.Generator) -> np.ndarray:
    """A group label per unit: one unit per group up to `_JACK_GROUPS` units,
    random groups beyond (a grouped jackknife estimates the same acceleration)."""
    if n <= _JACK_GROUPS:
        return np.arange(n)
    return rng.permutation(n) % _JACK_GROUPS


def _bounds(point: float, reps: np.ndarray, level: float, method: str,
            jack: np.ndarray | None = None) -> tuple[float, float]:
    """Percentile or BCa (Efron 1987) bounds from bootstrap replicates."""
    alpha = 1 - level
    if method == "percentile":
        lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
        return float(lo), float(hi)
    b = len(reps)
    prop = (np.count_nonzero(reps < point) + 0.5 * np.count_nonzero(reps == point)) / b
    z0 = _NORMAL.inv_cdf(min(max(prop, 0.5 / b), 1 - 0.5 / b))
    d = jack.mean() - jack
    den = 6 * float(d @ d) ** 1.5
    a = float((d**3).sum()) / den if den > 0 else 0.0
    probs = []
    for z in (_NORMAL.inv_cdf(alpha / 2), _NORMAL.inv_cdf(1 - alpha / 2)):
        den = 1 - a * (z0 + z)
        probs.append(_NORMAL.cdf(z0 + (z0 + z) / den) if den > 0 else float(z > 0))
    lo, hi = np.quantile(reps, probs)
    return float(lo), float(hi)


def bootstrap_ci(values: Iterable[float], statistic: Callable[..., Any] = np.mean,
                 level: float = 0.95, n_boot: int = 2000, seed: int = 0, *,
                 method: str = "percentile", unit: str = "values") -> Estimate:
    """``statistic(values)`` with a bootstrap interval over the values.

    ``statistic`` is called with ``axis=1`` on a 2-D array of resamples when it
    takes an ``axis`` argument (NumPy reductions do), else once per resample.
    ``method``: ``"percentile"`` or ``"bca"`` (bias-corrected and accelerated,
    the acceleration from a jackknife). Seeded: the same call gives the same
    interval. With few values (< 10) the bootstrap under-covers; for a mean
    prefer `mean_ci`.
    """
    level, n_boot, method = _level(level), _n_boot(n_boot), _method(method)
    x = _values(values)
    n = len(x)
    point = float(statistic(x))
    label = f"bootstrap over {unit}" + (" (BCa)" if method == "bca" else "")
    if n < 2:
        return Estimate(point, math.nan, math.nan, n, label, level)
    rng = np.random.default_rng(seed)
    vec = _accepts_axis(statistic)
    reps = np.empty(n_boot)
    chunk = max(1, min(n_boot, _CHUNK_CELLS // n))
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        reps[start:start + m] = _apply(statistic, x[rng.integers(0, n, (m, n))], vec)
    jack = None
    if method == "bca":
        groups = _jackknife_groups(n, rng)
        jack = np.array([float(statistic(x[groups != g])) for g in range(groups.max() + 1)])
    lo, hi = _bounds(point, reps, level, method, jack)
    return Estimate(point, lo, hi, n, label, level)


def ratio_ci(a: Iterable[float], b: Iterable[float],
             statistic: Callable[..., Any] = np.median, paired: bool = True,
             level: float = 0.95, n_boot: int = 2000, seed: int = 0, *,
             method: str = "percentile", unit: str = "rounds") -> Estimate:
    """``statistic(a) / statistic(b)`` with a bootstrap interval.

    ``paired=True``: ``a[i]`` and ``b[i]`` come from the same round (e.g. two
    transports in one repeat, which share the event schedule), and rounds are
    resampled as pairs, so what the round shares cancels. ``paired=False``
    resamples ``a`` and ``b`` independently (``n`` is then the smaller size;
    only the percentile method). ``statistic`` as in `bootstrap_ci`.
    """
    level, n_boot, method = _level(level), _n_boot(n_boot), _method(method)
    x, y = _values(a, "a"), _values(b, "b")
    if paired and len(x) != len(y):
        raise ConfigError(f"paired ratio needs a and b of the same length (one value per "
                          f"round each), not {len(x)} and {len(y)}")
    if not paired and method == "bca":
        raise ConfigError("method 'bca' needs paired=True; use 'percentile' for unpaired")
    den = float(statistic(y))
    if den == 0:
        raise ConfigError("statistic(b) is 0: the ratio is undefined")
    point = float(statistic(x)) / den
    n = min(len(x), len(y))
    label = (f"{'paired' if paired else 'unpaired'} bootstrap over {unit}"
             + (" (BCa)" if method == "bca" else ""))
    if n < 2:
        return Estimate(point, math.nan, math.nan, n, label, level)
    rng = np.random.default_rng(seed)
    vec = _accepts_axis(statistic)
    reps = np.empty(n_boot)
    chunk = max(1, min(n_boot, _CHUNK_CELLS // max(len(x), len(y))))
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, n_boot, chunk):
            m = min(chunk, n_boot - start)
            ix = rng.integers(0, len(x), (m, len(x)))
            iy = ix if paired else rng.integers(0, len(y), (m, len(y)))
            reps[start:start + m] = _apply(statistic, x[ix], vec) / _apply(statistic, y[iy], vec)
    jack = None
    if method == "bca":
        groups = _jackknife_groups(n, rng)
        jack = np.array([float(statistic(x[groups != g])) / float(statistic(y[groups != g]))
                         for g in range(groups.max() + 1)])
    lo, hi = _bounds(point, reps, level, method, jack)
    return Estimate(point, lo, hi, n, label, level)


# -- resampling whole clusters ------------------------------------------------------
def _cluster_evaluator(vals: np.ndarray, codes: np.ndarray, k: int,
                       statistic: Any) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """A function of a (resamples × clusters) multiplicity matrix giving the
    statistic of each weighted pool, and the largest row width it handles
    per resample (to size chunks)."""
    if isinstance(statistic, str) and statistic not in ("mean", "median"):
        raise ConfigError(f"statistic must be a callable, 'mean', 'median' or a quantile "
                          f"between 0 and 1, not {statistic!r}")
    if statistic is np.mean or statistic == "mean":
        sums = np.bincount(codes, vals, minlength=k)
        counts = np.bincount(codes, minlength=k).astype(float)
        return (lambda w: (w @ sums) / (w @ counts)), k
    q = None
    if statistic is np.median or statistic == "median":
        q = 0.5
    elif isinstance(statistic, int | float) and not isinstance(statistic, bool):
        if not 0 < statistic < 1:
            raise ConfigError(f"a quantile statistic must be between 0 and 1, not {statistic!r}")
        q = float(statistic)
    if q is not None:
        # Weighted inverted-CDF quantile: the smallest pooled value whose
        # cumulative weight reaches q × total. Values are binned by rank into
        # ~sqrt(N) bins so each resample costs O(bins + bin size), not O(N).
        order = np.argsort(vals, kind="stable")
        v, c = vals[order], codes[order]
        big_n = len(v)
        n_bins = max(1, int(math.sqrt(big_n)))
        edges = (np.arange(n_bins + 1) * big_n) // n_bins
        binof = np.repeat(np.arange(n_bins), np.diff(edges))
        counts = np.bincount(c * n_bins + binof, minlength=k * n_bins).reshape(k, n_bins)
        width = int(np.diff(edges).max())
        offsets = np.arange(width)

        def quantile(w: np.ndarray) -> np.ndarray:
            m = len(w)
            cum = np.cumsum(w @ counts, axis=1)
            target = q * cum[:, -1]
            g = np.argmax(cum >= target[:, None], axis=1)
            before = np.where(g > 0, cum[np.arange(m), np.maximum(g - 1, 0)], 0.0)
            start, size = edges[g], edges[g + 1] - edges[g]
            pos = np.minimum(start[:, None] + offsets, big_n - 1)
            within = np.where(offsets < size[:, None], w[np.arange(m)[:, None], c[pos]], 0.0)
            j = np.argmax(before[:, None] + np.cumsum(within, axis=1) >= target[:, None], axis=1)
            return v[start + j]

        return quantile, max(k, n_bins, width)
    if not callable(statistic):
        raise ConfigError(f"statistic must be a callable, 'mean', 'median' or a quantile "
                          f"between 0 and 1, not {statistic!r}")
    order = np.argsort(codes, kind="stable")
    groups = np.split(vals[order], np.cumsum(np.bincount(codes, minlength=k))[:-1])

    def general(w: np.ndarray) -> np.ndarray:
        out = np.empty(len(w))
        for i, row in enumerate(w):
            picks = np.repeat(np.arange(k), row.astype(int))
            out[i] = float(statistic(np.concatenate([groups[j] for j in picks])))
        return out

    return general, k


def _cluster_codes(df: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, int]:
    """A cluster number (0..k-1, in order of appearance) per row, and k."""
    codes = np.zeros(len(df), dtype=np.int64)
    for col in cols:  # combine column by column, renumbering to keep codes small
        own, uniques = pd.factorize(df[col], use_na_sentinel=False)
        codes, _ = pd.factorize(codes * len(uniques) + own)
    return codes, int(codes.max()) + 1 if len(codes) else 0


def _chunked(f: Callable[[np.ndarray], np.ndarray], rows: Iterable[np.ndarray]) -> np.ndarray:
    return np.concatenate([f(w) for w in rows])


def cluster_bootstrap_ci(df: pd.DataFrame, cluster: str | Sequence[str], value: str,
                         statistic: Any = np.mean, level: float = 0.95, n_boot: int = 2000,
                         seed: int = 0, *, method: str = "percentile",
                         unit: str | None = None) -> Estimate:
    """A statistic of the pooled ``value`` column, resampling whole clusters.

    ``cluster`` names the column(s) whose distinct values are the independent
    units: ``"trial"`` for runs, ``["trial", "client_id"]`` for clients,
    ``["trial", "seq"]`` for events (see the module doc for which to choose).
    Each resample draws as many clusters as there are, with replacement, and
    pools their rows. ``statistic``: ``np.mean``/``"mean"``,
    ``np.median``/``"median"`` or a quantile ``q`` in (0, 1) take a fast
    weighted path (quantiles by the inverted-CDF definition: an observed
    value); any other callable is applied to each pooled resample. ``n`` is
    the number of clusters; fewer than 2 give no interval.
    """
    level, n_boot, method = _level(level), _n_boot(n_boot), _method(method)
    cols = [cluster] if isinstance(cluster, str) else list(cluster)
    missing = [c for c in [*cols, value] if c not in df.columns]
    if missing:
        raise ConfigError(f"column(s) {', '.join(map(str, missing))} not in the table; "
                          f"it has {', '.join(map(str, df.columns))}")
    vals = _values(df[value].to_numpy(dtype=float), value)
    codes, k = _cluster_codes(df, cols)
    f, width = _cluster_evaluator(vals, codes, k, statistic)
    point = float(f(np.ones((1, k)))[0])
    label = f"bootstrap over {unit or '+'.join(map(str, cols)) + ' clusters'}" + (
        " (BCa)" if method == "bca" else "")
    if k < 2:
        return Estimate(point, math.nan, math.nan, k, label, level)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, _CHUNK_CELLS // width))
    uniform = np.full(k, 1.0 / k)
    reps = _chunked(f, (rng.multinomial(k, uniform, size=min(chunk, n_boot - s)).astype(float)
                        for s in range(0, n_boot, chunk)))
    jack = None
    if method == "bca":
        groups = _jackknife_groups(k, rng)
        g_all = np.arange(groups.max() + 1)
        jack = _chunked(f, ((groups[None, :] != g_all[s:s + chunk, None]).astype(float)
                            for s in range(0, len(g_all), chunk)))
    lo, hi = _bounds(point, reps, level, method, jack)
    return Estimate(point, lo, hi, k, label, level)


# -- models against measurements ----------------------------------------------------
def _pct(x: float) -> str:
    return f"{x:.1f}" if x >= 0.1 else f"{x:.2g}"


def verdict(measured: Estimate, model: float, tolerance: float = 0.0) -> str:
    """Where ``model`` lies relative to ``measured``'s interval, in words.

    ``"model inside 95 % CI"``, or ``"model above CI by 3.1 %"`` /
    ``"model below CI by 0.8 %"`` where the percentage is the gap to the
    nearest bound relative to that bound. ``tolerance`` (a fraction, e.g. 0.05)
    is how far outside still counts as agreement; such verdicts end in
    ``"(within 5 % tolerance)"``. No interval gives ``"no interval (n=1)"``.
    """
    model = float(model)
    if not math.isfinite(model):
        raise ConfigError(f"model must be a finite number, not {model!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
        raise ConfigError(f"tolerance must be a fraction >= 0 (e.g. 0.05), not {tolerance!r}")
    if not (math.isfinite(measured.low) and math.isfinite(measured.high)):
        return f"no interval (n={measured.n})"
    if measured.contains(model):
        return f"model inside {measured.level * 100:g} % CI"
    side, bound = ("above", measured.high) if model > measured.high else ("below", measured.low)
    gap = abs(model - bound) / (abs(bound) if bound else abs(model))
    text = f"model {side} CI by {_pct(gap * 100)} %"
    if gap <= tolerance:
        text += f" (within {tolerance * 100:g} % tolerance)"
    return text


def check_table(rows: Mapping[str, Any] | Iterable[Any]) -> pd.DataFrame:
    """Measured estimates next to model values, one row each, for notebooks.

    ``rows``: a mapping ``{quantity: (Estimate, model[, tolerance])}``, or an
    iterable of such tuples with the quantity first, or of dicts with keys
    ``measured`` (an `Estimate`), ``model``, optional ``tolerance`` and
    ``quantity``; other keys of a dict (e.g. ``rate``) become leading columns.
    Columns: [extra...], ``quantity``, ``measured``, ``low``, ``high``, ``n``,
    ``model``, ``verdict``, ``method``.
    """
    items: list[dict[str, Any]] = []
    source = rows.items() if isinstance(rows, Mapping) else rows
    for k, row in enumerate(source):
        if isinstance(rows, Mapping):
            name, spec = row
            row = {"quantity": name, **(dict(spec) if isinstance(spec, Mapping) else dict(
                zip(("measured", "model", "tolerance"), spec, strict=False)))}
        elif not isinstance(row, Mapping):
            row = dict(zip(("quantity", "measured", "model", "tolerance"), row, strict=False))
        row = dict(row)
        est = row.pop("measured", None)
        if not isinstance(est, Estimate) or "model" not in row:
            raise ConfigError(f"check_table row {k} needs an Estimate ('measured') and a "
                              f"'model' value, not {row!r}")
        model, tol = float(row.pop("model")), row.pop("tolerance", 0.0)
        name = row.pop("quantity", None)
        items.append({**row, "quantity": name, "measured": est.value, "low": est.low,
                      "high": est.high, "n": est.n, "model": model,
                      "verdict": verdict(est, model, tol), "method": est.method})
    cols = ["quantity", "measured", "low", "high", "n", "model", "verdict", "method"]
    df = pd.DataFrame(items)
    if df.empty:
        return pd.DataFrame(columns=cols)
    return df[[c for c in df.columns if c not in cols] + cols]


# -- precision decides durations -----------------------------------------------------
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
