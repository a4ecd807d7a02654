"""Section 6 of notebook 11: the per-host connection limit, by `wslab.runner.connlimit`.

The probe drives Chromium with ``asyncio.run``, which cannot run inside a
notebook's own event loop: `measure_connlimit` runs it in a worker thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from ...runner import connlimit

__all__ = ["connlimit_frame", "measure_connlimit"]


def measure_connlimit(streams: int, bound: float) -> list[connlimit.StreamResult]:
    """`wslab.runner.connlimit.run` in a thread of its own (its own event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(connlimit.run, streams, bound).result()


def connlimit_frame(results: list[Any], bound: float) -> pd.DataFrame:
    """Probe results per kind: streams, how many got an event within ``bound``
    s, the first stalled stream and what was negotiated."""
    rows = []
    for kind in dict.fromkeys(r.kind for r in results):
        rs = [r for r in results if r.kind == kind]
        stalled = [r.index for r in rs if r.stalled]
        rows.append({"kind": kind, "streams": len(rs), "got_events": len(rs) - len(stalled),
                     "first_stalled": stalled[0] if stalled else "-", "bound_s": bound,
                     "negotiated": rs[0].negotiated})
    return pd.DataFrame(rows)
