"""How far the harness scales on this machine, and what its fan-out costs.

(a) Largest N: a ladder of websocket runs (fixed schedule, low rate, a few
    seconds each); a step passes when all N clients are connected at publish
    start, every client receives every event exactly once (``lost`` and
    ``duplicated`` 0) and no client errored. Past the open-file limit of one
    server process (hard limit less a reserve) the runs use two server workers
    sharing the port with SO_REUSEPORT. The ladder stops at the first failure
    and prints why.
(b) Fan-out delivery rate: the harness's websocket fleet vs a bare websockets
    broadcast (``benchmarks/_bare.py``: ``serve`` + ``broadcast`` and one process
    of ``connect`` clients, compression off) to the same N at an offered load
    above what either delivers, interleaved in this one invocation; delivery
    rate = delivered / (last receive - first publish). Ratio harness / bare,
    target >= 0.8. Reuses ``overhead.harness_delivery`` / ``bare_delivery``.

Every child binds or connects to 127.0.0.1 only, dies with this process
(PR_SET_PDEATHSIG in both wslab and _bare), has a time limit, and every run
directory is a temporary one removed afterwards.

    .venv/bin/python benchmarks/scale.py              # full: about seven minutes
    .venv/bin/python benchmarks/scale.py --quick      # smoke run: under a minute
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import overhead  # noqa: E402  (benchmarks/overhead.py: bare fan-out helpers)

LADDER = (1_000, 5_000, 10_000, 20_000, 30_000, 40_000, 50_000, 59_000)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: ladder 200, 1,000")
    p.add_argument("--ladder", type=int, nargs="+", default=list(LADDER),
                   help="client counts to try, in order")
    p.add_argument("--rate", type=float, default=2.0, help="events/s on the ladder")
    p.add_argument("--duration", type=float, default=3.0, help="s per ladder run")
    p.add_argument("--fanout-clients", type=int, default=1000)
    p.add_argument("--fanout-rate", type=float, default=200.0, help="events/s")
    p.add_argument("--fanout-duration", type=float, default=3.0, help="s per run")
    p.add_argument("--fanout-repeats", type=int, default=3)
    p.add_argument("--payload", type=int, default=64)
    p.add_argument("--target-delivery", type=float, default=0.8)
    a = p.parse_args(argv)
    if a.quick:
        a.ladder, a.fanout_clients, a.fanout_repeats = [200, 1_000], 200, 1
    if any(n < 1 for n in a.ladder) or a.fanout_clients < 1 or a.fanout_repeats < 0:
        p.error("client counts must be >= 1 and repeats >= 0")
    return a


def ladder_step(n: int, a: argparse.Namespace, out: Path) -> tuple[bool, str, dict]:
    """One websocket run at N; (passed, reason, facts)."""
    import wslab
    from wslab.runner.config import max_clients

    workers = 1 if n <= max_clients() else -(-n // max_clients())
    t0 = time.monotonic()
    try:
        run = wslab.run("websocket", clients=n, rate=a.rate, duration=a.duration,
                        payload=a.payload, schedule="fixed", workers=workers,
                        progress=False, out=str(out))
    except Exception as exc:  # the reason is the report
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}", {
            "workers": workers, "wall_s": time.monotonic() - t0}
    s = run.summary
    facts = {"workers": workers, "wall_s": time.monotonic() - t0, "live": s[
        "live_connections_at_start"], "lost": s["lost"], "dup": s["duplicated"],
        "errors": s["client_errors"], "ramp_s": s["ramp_s"],
        "kib": s["server_rss_per_client_bytes"] / 1024, "p99_ms": s["latency_us"]["p99"] / 1e3,
        "spread_ms": s.get("fanout_spread_us", {}).get("p99", float("nan")) / 1e3}
    problems = []
    if s["live_connections_at_start"] != n:
        problems.append(f"{s['live_connections_at_start']} of {n} connected at publish start")
    if s["lost"] or s["duplicated"]:
        problems.append(f"lost {s['lost']}, duplicated {s['duplicated']}")
    if s["client_errors"]:
        problems.append(f"{s['client_errors']} client errors")
    return not problems, "; ".join(problems) or "ok", facts


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from importlib.metadata import version

    from wslab.runner.config import max_clients

    command = shlex.join([sys.executable, *(sys.argv if argv is None else ["scale.py", *argv])])
    print(f"command: {command}")
    print(f"machine: {os.cpu_count()} cores, {overhead._cpu_model()}, {platform.system()} "
          f"{platform.release()}; load average at start {overhead._loadavg()}; "
          f"clients per server worker <= {max_clients():,} (open-file hard limit less reserve)")
    print(f"versions: python {platform.python_version()}, websockets {version('websockets')}, "
          f"wslab {version('wslab')}")
    print(flush=True)
    t0 = time.monotonic()
    rows, largest, failure = [], 0, None
    print(f"(a) websocket ladder: {a.rate:g} events/s fixed, {a.duration:g} s, "
          f"{a.payload} B payload", flush=True)
    with tempfile.TemporaryDirectory(prefix="wslab-scale-") as tmp:
        for n in a.ladder:
            out = Path(tmp) / f"ladder-{n}"
            try:
                ok, why, f = ladder_step(n, a, out)
            finally:
                shutil.rmtree(out, ignore_errors=True)
            rows.append((n, ok, why, f))
            print(f"  N={n:>6,}  workers {f['workers']}  {'PASS' if ok else 'FAIL'}  "
                  f"{why}  [{f['wall_s']:.0f} s]", flush=True)
            if not ok:
                failure = (n, why)
                break
            largest = n

        # (b) harness vs bare fan-out, interleaved
        ns = argparse.Namespace(fanout_clients=a.fanout_clients, fanout_rate=a.fanout_rate,
                                fanout_duration=a.fanout_duration, payload=a.payload)
        rates: dict[str, list[float]] = {"harness": [], "bare": []}
        print(f"\n(b) fan-out: {a.fanout_clients:,} clients, {a.fanout_rate:g} events/s fixed "
              f"(offered {a.fanout_rate * a.fanout_clients:,.0f} deliveries/s), "
              f"{a.fanout_duration:g} s, {a.fanout_repeats} repeats", flush=True)
        for r in range(a.fanout_repeats):
            order = ["harness", "bare"] if r % 2 == 0 else ["bare", "harness"]
            for side in order:
                out = Path(tmp) / f"{side}-{r}"
                try:
                    value = (overhead.harness_delivery(ns, out) if side == "harness"
                             else overhead.bare_delivery(ns))
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                rates[side].append(value)
                print(f"  round {r + 1}  {side:<8} {value:>9,.0f} deliveries/s", flush=True)
    elapsed = time.monotonic() - t0

    print("\nresults")
    print(f"  {'N':>7} {'workers':>7} {'result':>6} {'live':>7} {'lost':>5} {'dup':>4} "
          f"{'ramp s':>7} {'KiB/conn':>9} {'p99 ms':>8} {'spread p99 ms':>14} {'wall s':>7}")
    for n, ok, _, f in rows:
        if "live" in f:
            print(f"  {n:>7,} {f['workers']:>7} {'PASS' if ok else 'FAIL':>6} {f['live']:>7,} "
                  f"{f['lost']:>5} {f['dup']:>4} {f['ramp_s']:>7.1f} {f['kib']:>9.1f} "
                  f"{f['p99_ms']:>8.1f} {f['spread_ms']:>14.1f} {f['wall_s']:>7.0f}")
        else:
            print(f"  {n:>7,} {f['workers']:>7} {'FAIL':>6}   (no run: see reason below)")
    tried = "every step passed" if failure is None else \
        f"first failure at N={failure[0]:,}: {failure[1]}"
    print(f"  largest N held with every client receiving every event: {largest:,} ({tried})")
    if failure is not None and "Cannot assign requested address" in failure[1]:
        print("  why: EADDRNOTAVAIL = no free ephemeral port (32768-60999: 28,232 ports). The "
              "fleet connects clients 0-24,999 from 127.0.0.1 (ports picked by connect) and "
              "later ones bind() 127.0.0.2 with port 0 first; Linux keeps ports taken by an "
              "explicit bind() out of connect()'s choice on every address, so both blocks "
              "share one range. Fix (wslab/fleet.py): IP_BIND_ADDRESS_NO_PORT before bind.")
    if rates["harness"] and rates["bare"]:
        h, b = statistics.median(rates["harness"]), statistics.median(rates["bare"])
        ok = h / b >= a.target_delivery
        print(f"  fan-out delivery rate, harness / bare websockets (medians): {h:,.0f}/s / "
              f"{b:,.0f}/s = {h / b:.2f}   target >= {a.target_delivery:g}   "
              f"{'ok' if ok else 'MISS'}")
        for key, who in (("hdel", "harness"), ("bdel", "bare")):
            cpu = overhead.CPU[key]
            if cpu:
                print(f"  {who} CPU per delivery (median): server "
                      f"{statistics.median(c[0] for c in cpu):.1f} µs + fleet "
                      f"{statistics.median(c[1] for c in cpu):.1f} µs")
    for w in overhead.WARNINGS:
        print(f"  WARNING {w}")
    print(f"  total {elapsed:.0f} s; load average at end {overhead._loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
