"""Section 4 of notebook 10: a fuzzing campaign with a bystander (C10).

One Lab server; a well-behaved *bystander* (a real `Lab.run` of the
``websocket`` transport, 2 clients) stays connected while seeded hostile
cases (`wslab.net.hostile.cases`) go to every endpoint in turn, from
``concurrency`` connections, each bounded by ``timeout``; after every
``check_every`` cases and at the end the endpoint must still serve a
well-formed request and the server process must be alive, else a crash is
counted (`wslab.net.hostile.campaign.campaign`). The answers are grouped by
kind (`answer_kind`). A smaller run than ``benchmarks/fuzz.py`` (10,000
cases per endpoint, a bystander of each endpoint's own transport).

Zero crashes and zero lost events are counts; their 95 % intervals (Wilson
score, over cases and over expected deliveries) bound the rates that zero
of that many is compatible with.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pandas as pd
import psutil

from ...core.errors import RunError
from ...net.hostile.campaign import (
    KINDS_OF_ANSWER,
    CampaignResult,
    answer_kind,
    attackable,
    campaign,
    targets,
)
from ...runner.lab import Lab
from ...runner.store import Run
from ...stats import Estimate, check_table
from ._sync import run_sync
from .paths import run_out

__all__ = ["BENCHMARK_COMMAND", "FuzzPlan", "fuzz_checks", "fuzz_plan", "fuzz_table",
           "malformed_served", "measure_fuzz", "wilson_ci"]

BENCHMARK_COMMAND = ".venv/bin/python benchmarks/fuzz.py --cases 10000"


@dataclass(frozen=True)
class FuzzPlan:
    """Cases per endpoint, connections at once, bound per case (s), the
    bystander's run length (s) and the seed of the cases."""

    cases: int
    concurrency: int
    timeout: float
    bystander_s: float
    seed: int = 1

    def wall_s(self) -> float:
        """Planned wall time: the bystander's run plus a server start and its drain."""
        return self.bystander_s + 4.0


def fuzz_plan(quick: bool, seed: int = 1) -> FuzzPlan:
    """Quick: 50 cases per endpoint, 32 at a time, each bounded by 0.3 s, beside a
    5 s bystander; full: 1,000 per endpoint (10,000 in all), 16 at a time, 0.5 s
    each, beside a 60 s one. The campaign stops 2 s before the bystander does;
    the check table says whether every endpoint ran all its cases."""
    return (FuzzPlan(50, 32, 0.3, 5.0, seed) if quick
            else FuzzPlan(1000, 16, 0.5, 60.0, seed))


def wilson_ci(k: int, n: int, level: float = 0.95, unit: str = "cases") -> Estimate:
    """The proportion ``k / n`` with its Wilson score interval (it stays
    inside [0, 1] and is informative at k = 0, where a Wald interval is not)."""
    if n <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0, f"Wilson score over {unit}", level)
    z = {0.9: 1.6449, 0.95: 1.96, 0.99: 2.5758}[level]
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n,
                    f"Wilson score over {unit}", level)


def _established(pid: int, port: int) -> int:
    return sum(1 for c in psutil.Process(pid).net_connections("tcp")
               if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)


def measure_fuzz(plan: FuzzPlan) -> tuple[list[CampaignResult], Run]:
    """The campaign on every endpoint beside the bystander; returns the
    campaigns (in endpoint order) and the bystander's run."""
    box: dict = {}
    with Lab() as lab:
        server = lab.server
        assert server is not None and server.pid is not None
        ts = targets(attackable(lab.urls))

        def bystander() -> None:
            try:
                box["run"] = lab.run("websocket", clients=2, rate=50, duration=plan.bystander_s,
                                     seed=plan.seed, progress=False, out=run_out("bystander"))
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                box["error"] = exc

        thread = threading.Thread(target=bystander)
        thread.start()
        try:
            port = next(t.port for t in ts if t.name == "websocket")
            deadline = time.monotonic() + 60
            while _established(server.pid, port) < 2 and "error" not in box:
                if time.monotonic() > deadline:
                    raise RunError("the bystander never connected")
                time.sleep(0.02)
            stop_at = time.monotonic() + plan.bystander_s - 2

            async def fuzz() -> list[CampaignResult]:
                return [await campaign(t, n=plan.cases, seed=plan.seed, timeout=plan.timeout,
                                       concurrency=plan.concurrency, check_every=100,
                                       alive=server.alive,
                                       deadline_s=max(0.1, stop_at - time.monotonic()))
                        for t in ts]

            results = run_sync(fuzz()) if "error" not in box else []
        finally:
            thread.join(timeout=plan.bystander_s + 120)
    if "error" in box:
        raise RunError(f"the bystander's run failed: {box['error']}")
    return results, box["run"]


def fuzz_table(results: list[CampaignResult]) -> pd.DataFrame:
    """One row per endpoint: cases run, answers by kind (columns of
    `KINDS_OF_ANSWER` that occurred), malformed cases served, crashes."""
    rows = []
    for r in results:
        kinds: Counter[str] = Counter()
        for label, k in r.labels.items():
            kinds[answer_kind(label)] += k
        rows.append({"endpoint": r.target, "cases": r.cases, **kinds,
                     "malformed served": sum(r.served_malformed().values()),
                     "crashes": r.crashes, "health checks": r.health_checks})
    df = pd.DataFrame(rows).fillna(0)
    kinds_seen = [k for k in KINDS_OF_ANSWER if k in df.columns]
    cols = ["endpoint", "cases", *kinds_seen, "malformed served", "crashes", "health checks"]
    return df[cols].astype({c: int for c in cols[1:]})


def malformed_served(results: list[CampaignResult]) -> pd.DataFrame:
    """The malformed cases an endpoint served as if they were fine
    (`CampaignResult.served_malformed`): endpoint, family, case, answer, count."""
    rows = [{"endpoint": r.target, "family": f, "case": name, "answer": label, "count": k}
            for r in results for (f, name, label), k in sorted(r.served_malformed().items())]
    return pd.DataFrame(rows, columns=["endpoint", "family", "case", "answer", "count"])


def fuzz_checks(results: list[CampaignResult], bystander: Run, planned: int) -> pd.DataFrame:
    """Computed verdicts: per endpoint, the crash rate per case (model 0; the
    ``complete`` column says whether all ``planned`` cases ran); for the
    bystander, lost and duplicated deliveries per expected delivery (model 0)."""
    rows: list[dict] = []
    for r in results:
        rows.append({"who": r.target, "complete": r.cases == planned,
                     "quantity": "crashes per case", "measured": wilson_ci(r.crashes, r.cases),
                     "model": 0.0})
    s = bystander.summary
    expected = int(s["expected"])
    for what in ("lost", "duplicated"):
        rows.append({"who": "bystander (websocket, 2 clients)", "complete": True,
                     "quantity": f"{what} per expected delivery",
                     "measured": wilson_ci(int(s[what]), expected, unit="deliveries"),
                     "model": 0.0})
    return check_table(rows)
