"""Fuzzing campaign against every endpoint of the kit's server, with a bystander (claim C10).

One `wslab.Lab` server (every transport in one process, 127.0.0.1). For each
endpoint (``websocket``, ``aiohttp-ws``, ``picows``, ``sse``, ``long-poll``,
``short-poll``, the three paths of ``fallback``, raw ``tcp``) the script:

1. starts a well-behaved *bystander*: a real `Lab.run` of that endpoint's
   transport (2 clients, 50 events/s) in a thread, and waits until the server
   holds its connections (psutil: established sockets on the endpoint's port);
2. sends ``--cases`` seeded hostile cases (`wslab.net.hostile.cases`:
   malformed request lines and headers, smuggling, oversize heads, bad
   queries, bad Upgrade requests, invalid frames, garbage) from
   ``--concurrency`` connections at once, each case bounded by ``--timeout``;
   every 250 cases and at the end the endpoint must still serve a
   well-formed request and the server process must be alive, else a crash
   is counted;
3. joins the bystander's run and reads what it lost (``lost`` from the run's
   own delivery table) and its reconnections.

Printed per endpoint: cases run, cases/s, answers grouped (HTTP 400, 431,
other 4xx, 5xx; close 1002/1007/1009/other; plain close; served; no answer
within the bound), malformed cases served as if valid, crashes and the
bystander's lost events. Crashes and lost events must be 0 (exit status 1
otherwise). The run length of each bystander comes from a calibration
campaign (not counted), so the fuzzing ends while the bystander still runs.

    .venv/bin/python benchmarks/fuzz.py [--cases 10000] [--quick] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections import Counter

import psutil

import wslab
from wslab.net.hostile.campaign import (
    KINDS_OF_ANSWER,
    CampaignResult,
    Target,
    answer_kind,
    attackable,
    campaign,
    targets,
)

GROUPS = KINDS_OF_ANSWER
group = answer_kind  # the refusal kind of a probe's label


def _established(pid: int, port: int) -> int:
    return sum(1 for c in psutil.Process(pid).net_connections("tcp")
               if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)


def _bystander(lab: wslab.Lab, t: Target, duration: float, out: str, box: dict) -> None:
    transport = t.name.split()[0]
    options: dict[str, object] = {"interval": 0.1} if transport == "short-poll" else {}
    if transport == "fallback":  # the path under attack is the one the bystander uses
        order = {"/ws": "websocket,sse,long-poll", "/sse": "sse,long-poll",
                 "/long-poll": "long-poll"}[t.path]
        options = {"order": order}
    try:
        box["run"] = lab.run(transport, clients=2, rate=50, duration=duration, out=out,
                             progress=False, options=options)
    except BaseException as exc:  # reported by the main thread
        box["error"] = exc


def fuzz_endpoint(lab: wslab.Lab, t: Target, n: int, seed: int, concurrency: int,
                  timeout: float) -> tuple[CampaignResult, dict]:
    """One endpoint's campaign beside its bystander; returns the campaign and
    the bystander's summary (``lost``, ``delivered``, ...)."""
    assert lab.server is not None and lab.server.pid is not None
    pid = lab.server.pid
    calib = asyncio.run(campaign(t, n=min(200, n), seed=seed + 10_000,
                                 concurrency=concurrency, timeout=timeout))
    rate = calib.cases / max(calib.seconds, 1e-3)
    duration = min(3_000.0, n / rate * 2 + 6)  # the bystander shares the CPU
    box: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        thread = threading.Thread(target=_bystander, args=(lab, t, duration, f"{tmp}/run", box))
        thread.start()
        deadline = time.monotonic() + 60
        while _established(pid, t.port) < 2 and "error" not in box:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{t.name}: the bystander never connected")
            time.sleep(0.02)
        started = time.monotonic()
        result = asyncio.run(campaign(t, n=n, seed=seed, concurrency=concurrency,
                                      timeout=timeout, alive=lab.server.alive,
                                      deadline_s=duration - 4))
        thread.join(timeout=duration + 120)
        if "error" in box:
            raise RuntimeError(f"{t.name}: the bystander's run failed: {box['error']}")
        summary = dict(box["run"].summary)
    summary["fuzz_s"] = time.monotonic() - started
    return result, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--cases", type=int, default=10_000, help="cases per endpoint")
    ap.add_argument("--quick", action="store_true", help="300 cases per endpoint")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=1.0, help="bound on one case, s")
    ap.add_argument("--endpoints", default="", help="comma-separated names (default: all)")
    args = ap.parse_args()
    n = 300 if args.quick else args.cases
    wanted = set(filter(None, args.endpoints.split(",")))
    totals: Counter[str] = Counter()
    bad = 0
    header = (f"{'endpoint':<20}{'cases':>7}{'/s':>6}  " + "".join(f"{g:>12}" for g in GROUPS)
              + f"{'bad-served':>11}{'crashes':>8}{'by-lost':>8}{'by-conns':>9}")
    with wslab.Lab() as lab:
        print(f"server pid {lab.server.pid if lab.server else '?'}; {n} cases per endpoint, "
              f"seed {args.seed}, concurrency {args.concurrency}, bound {args.timeout} s/case")
        print(header)
        for t in targets(attackable(lab.urls)):
            if wanted and t.name not in wanted and t.name.split()[0] not in wanted:
                continue
            r, s = fuzz_endpoint(lab, t, n, args.seed, args.concurrency, args.timeout)
            groups: Counter[str] = Counter()
            for label, k in r.labels.items():
                groups[group(label)] += k
            totals.update(groups)
            print(f"{t.name:<20}{r.cases:>7}{r.cases / r.seconds:>6.0f}  "
                  + "".join(f"{groups[g]:>12}" for g in GROUPS)
                  + f"{sum(r.served_malformed().values()):>11}{r.crashes:>8}{s['lost']:>8}"
                  f"{s['connections']:>9}", flush=True)
            bad += r.crashes + s["lost"] + (r.cases < n)
            odd = sorted({f"{f}/{name}" for f, name, _ in r.served_malformed()})
            if odd:
                print(f"{'':<20}malformed cases served: {', '.join(odd)}")
        alive = lab.server is not None and lab.server.alive()
    print("all endpoints: " + ", ".join(f"{g} {totals[g]}" for g in GROUPS if totals[g]))
    print(f"server alive at the end: {alive}; crashes + lost events + short campaigns: {bad}")
    return 0 if bad == 0 and alive else 1


if __name__ == "__main__":
    sys.exit(main())
