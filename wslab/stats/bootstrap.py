"""Bootstrap intervals: over values, over paired rounds, over whole clusters of rows.

Seeded, so the same call gives the same interval; percentile or BCa (Efron
1987) bounds. Which clusters to resample is explained in `wslab.stats`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import ConfigError
from ._checks import _level, _method, _n_boot, _values
from .distributions import _NORMAL
from .estimate import Estimate

__all__ = ["bootstrap_ci", "cluster_bootstrap_ci", "ratio_ci"]

#: Bootstrap resamples are evaluated in chunks of at most this many cells.
_CHUNK_CELLS = 2_000_000
#: The BCa acceleration comes from a jackknife over at most this many groups.
_JACK_GROUPS = 200


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

