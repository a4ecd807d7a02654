"""The size of the coverage checks shared by the wslab.stats tests."""

from __future__ import annotations

import numpy as np

SIMS = 400  # simulated data sets per coverage check: a 95 % rate is known to ±2.2 % (2 sd)


def coverage(hits) -> float:
    """The fraction of intervals that contained the truth."""
    return float(np.mean(hits))
