"""One tree's harness for ``benchmarks/overhead.py``: a `wslab.Lab` kept across runs.

Started by overhead.py with the tree to measure as working directory and
``PYTHONPATH`` (so ``import wslab`` and the Lab's ``python -m wslab.runner...``
children load that tree: the current one, or a ``git worktree`` of an older
commit for a before/after comparison). Only wslab's public API is used, so an
older tree works as well as the current one.

Protocol: one JSON line per request on stdin (``wslab.Lab.run`` keyword
arguments, with ``transport``), one JSON line per answer on stdout; the first
line out says which ``wslab`` was imported. ``--server-cores`` and
``--fleet-cores`` pin the processes: this process takes the server's cores
while the Lab starts its server (a child inherits its parent's CPU affinity),
then the fleet's, which every fleet process of every run inherits.

Every process binds 127.0.0.1 only; this one exits by itself after
``--limit`` seconds and at once if its parent is gone (the parent also sets
PR_SET_PDEATHSIG, and the Lab's children die with this process).
Run on its own without arguments, it only prints what it is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _cores(text: str) -> set[int] | None:
    return {int(c) for c in text.split(",")} if text else None


def _guard(limit_s: float, parent: int) -> None:
    if parent and os.getppid() != parent:
        os._exit(1)

    def expire() -> None:
        time.sleep(limit_s)
        sys.stderr.write(f"_harness.py: time limit of {limit_s:.0f} s reached\n")
        os._exit(3)

    threading.Thread(target=expire, daemon=True).start()


def _measure(lab, request: dict) -> dict:
    transport = request.pop("transport")
    out = request["out"]
    try:
        run = lab.run(transport, progress=False, schedule="fixed", **request)
        s, m = run.summary, run.messages
        # Quantiles the summary does not keep, over the same events (those
        # published after the warm-up), floored to whole µs as the summary's.
        cutoff = run.manifest["publish"]["start_ns"] + run.manifest["parameters"]["warmup"] * 1e9
        kept = m[m.published_ns >= cutoff]
        us = ((kept.received_ns - kept.published_ns) // 1000).to_numpy()
        q10, q25 = np.percentile(us, [10, 25]) if len(us) else (np.nan, np.nan)
        return {
            "transport": transport,
            "p10_us": float(q10),
            "p25_us": float(q25),
            "p50_us": float(s["latency_us"]["p50"]),
            "p90_us": float(s["latency_us"]["p90"]),
            "mean_us": float(s["latency_us"]["mean"]),
            "published": int(s["published"]),
            "delivered": int(s["delivered"]),
            "expected": int(s["expected"]),
            "lost": int(s["lost"]),
            "duplicated": int(s["duplicated"]),
            "server_cpu_s": float(s["server_cpu_s"]),
            "client_cpu_s": float(s["client_cpu_s"]),
            "first_pub_ns": int(m.published_ns.min()),
            "last_recv_ns": int(m.received_ns.max()),
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server-cores", default="", help="comma-separated CPU numbers (none: any)")
    p.add_argument("--fleet-cores", default="")
    p.add_argument("--limit", type=float, default=0.0, help="hard time limit (s)")
    p.add_argument("--parent", type=int, default=0, help="expected parent pid")
    a = p.parse_args(argv)
    if not a.limit:
        print("benchmarks/_harness.py: helper process of benchmarks/overhead.py; nothing to run")
        return
    _guard(a.limit, a.parent)
    global np
    import numpy as np

    import wslab

    server_cores, fleet_cores = _cores(a.server_cores), _cores(a.fleet_cores)
    if server_cores:
        os.sched_setaffinity(0, server_cores)
    with wslab.Lab() as lab:
        if fleet_cores:
            os.sched_setaffinity(0, fleet_cores)
        _emit({"wslab": wslab.__file__, "server_pid": lab.server.pid,
               "server_cores": sorted(os.sched_getaffinity(lab.server.pid)),
               "fleet_cores": sorted(os.sched_getaffinity(0))})
        for line in sys.stdin:
            try:
                _emit(_measure(lab, json.loads(line)))
            except Exception as exc:  # one failed run must not end the others
                _emit({"error": f"{type(exc).__name__}: {exc}"[:2000]})


if __name__ == "__main__":
    main()
