"""What the long-polling modules share: the transport's name, the sweep's
grouping columns, completed responses per row and a mean over runs with its
t interval (`wslab.stats.mean_ci`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ... import stats

__all__ = ["LP"]

#: the transport under study
LP = "long-poll"

_GROUP = ["delay", "rate"]
_RUNS = "t interval over runs"


def _estimate(values: pd.Series) -> stats.Estimate:
    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return stats.Estimate(math.nan, math.nan, math.nan, 0, _RUNS)
    return stats.mean_ci(v, unit="runs")


def _responses(table: pd.DataFrame) -> pd.Series:
    """Completed responses per row (``requests`` for runs stored before
    ``responses`` existed, when no request could be told from a response)."""
    return table["responses"] if "responses" in table else table["requests"]
