"""How much the harness adds: three ratios measured side by side in one run.

1. one-way latency p50 of the harness's ``websocket`` transport / its ``tcp``
   floor (both through ``wslab.run``);
2. the harness's ``tcp`` p50 / a bare asyncio TCP push (a publisher process and
   a subscriber process from ``benchmarks/_bare.py``: same rate, payload,
   event body, client count, warm-up, TCP_NODELAY);
3. the harness's ``websocket`` delivery rate / a bare websockets broadcast
   (``serve`` + ``broadcast`` and one fleet process of ``connect`` clients,
   compression off) to the same number of clients, at an offered load above
   what either can deliver; delivery rate = delivered / (last receive - first
   publish).

Two more variants explain the ratios (printed under "context"): a bare
websockets latency run (the library's own cost next to bare TCP) and the
bare TCP run without ``_bare.warm_malloc`` (glibc's mmap threshold left at its
default, which costs every asyncio read three syscalls; the harness's
processes escape that by the accident of their imports, so the bare floor is
run in the same state on purpose). The delivery rate is wall-clock and so at
the mercy of whatever else the machine runs; the CPU time per delivery of
each side (server + client fleet) is printed beside it as a steadier view.

The machine is shared and noisy: every measurement is repeated, the repeats
are interleaved (each round runs every variant, in an order rotated from
round to round) and the table shows medians of repeats. Every child process
binds or connects to 127.0.0.1 only, gets PR_SET_PDEATHSIG (it dies with this
process), has a hard time limit, and is stopped in a ``finally``.

    .venv/bin/python benchmarks/overhead.py            # full: about four minutes
    .venv/bin/python benchmarks/overhead.py --quick    # smoke run: about half a minute
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BARE = Path(__file__).resolve().with_name("_bare.py")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn``: the kernel SIGKILLs the child when this process dies."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved now, not after fork
    except (OSError, AttributeError):  # not Linux: the children's time limit still holds
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return preexec


_PREEXEC = _die_with_parent()


class Bare:
    """One ``_bare.py`` process: JSON lines on stdout, stderr kept for errors."""

    def __init__(self, cmd: str, limit: float, *flags: str, **args: object) -> None:
        argv = [sys.executable, str(BARE), cmd, "--limit", f"{limit:g}",
                "--parent", str(os.getpid()), *flags]
        for k, v in args.items():
            argv += [f"--{k}", str(v)]
        self.cmd = cmd
        self.limit = limit
        self._err = tempfile.TemporaryFile()
        self._buf = b""
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._err, preexec_fn=_PREEXEC, close_fds=True)

    def reply(self, timeout: float | None = None) -> dict:
        """The next JSON line, waiting at most ``timeout`` (default: the time limit)."""
        deadline = time.monotonic() + (timeout or self.limit)
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"bare {self.cmd} did not answer in time{self._tail()}")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self.proc.wait()
                    raise RuntimeError(
                        f"bare {self.cmd} exited with status {self.proc.returncode}{self._tail()}"
                    )
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def _tail(self) -> str:
        self._err.seek(0)
        tail = self._err.read().decode(errors="replace")[-2000:].strip()
        return f"\n--- stderr ---\n{tail}" if tail else ""

    def close(self) -> None:
        """Let it exit by itself briefly, then terminate, then kill."""
        for stop in (None, self.proc.terminate, self.proc.kill):
            if self.proc.poll() is not None:
                break
            if stop is not None:
                stop()
            try:
                self.proc.wait(5 if stop is None else 3)
            except subprocess.TimeoutExpired:
                pass
        self.proc.stdout.close()
        self._err.close()


WARNINGS: list[str] = []
#: per delivery run: CPU µs per delivery of the server and of the client fleet
CPU: dict[str, list[tuple[float, float]]] = {"hdel": [], "bdel": []}


def _check(what: str, ok: bool, detail: str) -> None:
    if not ok:
        WARNINGS.append(f"{what}: {detail}")


# -- the measurements -----------------------------------------------------------
def warmup_s(duration: float) -> float:
    """The harness's default warm-up (RunConfig.validate), used on the bare side too."""
    return min(1.0, 0.1 * duration)


def harness_latency(transport: str, a: argparse.Namespace, out: Path) -> float:
    import wslab

    run = wslab.run(transport, clients=a.clients, rate=a.rate, duration=a.duration,
                    payload=a.payload, schedule="fixed", progress=False, out=str(out))
    s = run.summary
    _check(f"harness {transport}", s["lost"] == 0 and s["duplicated"] == 0,
           f"lost {s['lost']}, duplicated {s['duplicated']}")
    return float(s["latency_us"]["p50"])


def _bare_pair(pub_cmd: str, sub_cmd: str, clients: int, rate: float, duration: float,
               payload: int, malloc: str, *sub_flags: str, **sub_args: object) -> tuple[dict, dict]:
    """Start a bare publisher, then its subscriber(s); both replies, both processes gone."""
    limit = duration + 120
    procs: list[Bare] = []
    try:
        pub = Bare(pub_cmd, limit, clients=clients, rate=rate, duration=duration,
                   payload=payload, malloc=malloc)
        procs.append(pub)
        port = pub.reply(30)["port"]
        sub = Bare(sub_cmd, limit, *sub_flags, clients=clients, port=port, malloc=malloc,
                   **sub_args)
        procs.append(sub)
        done, res = pub.reply(), sub.reply()
        if pub_cmd == "ws-pub":  # its CPU time, once every client has closed
            done.update(pub.reply(60))
        expected = done["published"] * clients
        _check(f"bare {sub_cmd}", res["delivered"] == expected,
               f"delivered {res['delivered']} of {expected}")
        return done, res
    finally:
        for p in reversed(procs):
            p.close()


def bare_tcp_latency(a: argparse.Namespace, malloc: str = "warm") -> float:
    _, res = _bare_pair("tcp-pub", "tcp-sub", a.clients, a.rate, a.duration, a.payload, malloc,
                        warmup=warmup_s(a.duration))
    return float(res["p50_us"])


def bare_ws_latency(a: argparse.Namespace) -> float:
    _, res = _bare_pair("ws-pub", "ws-fleet", a.clients, a.rate, a.duration, a.payload, "warm",
                        "--record", warmup=warmup_s(a.duration),
                        events=int(a.rate * a.duration), drain=a.duration + 60)
    return float(res["p50_us"])


def harness_delivery(a: argparse.Namespace, out: Path) -> float:
    import wslab

    run = wslab.run("websocket", clients=a.fanout_clients, rate=a.fanout_rate,
                    duration=a.fanout_duration, payload=a.payload, schedule="fixed",
                    progress=False, out=str(out))
    m = run.messages
    span_ns = int(m.received_ns.max()) - int(m.published_ns.min())
    delivered = int(run.summary["delivered"])
    _check("harness websocket fan-out", delivered == run.summary["expected"],
           f"delivered {delivered} of {run.summary['expected']}")
    s = run.summary
    CPU["hdel"].append((s["server_cpu_s"] * 1e6 / delivered, s["client_cpu_s"] * 1e6 / delivered))
    return delivered / (span_ns / 1e9)


def bare_delivery(a: argparse.Namespace) -> float:
    done, res = _bare_pair("ws-pub", "ws-fleet", a.fanout_clients, a.fanout_rate,
                           a.fanout_duration, a.payload, "warm",
                           events=int(a.fanout_rate * a.fanout_duration),
                           drain=a.fanout_duration + 60)
    n = max(res["delivered"], 1)
    CPU["bdel"].append((done["cpu_s"] * 1e6 / n, res["cpu_s"] * 1e6 / n))
    return res["delivered"] / ((res["last_recv_ns"] - done["first_pub_ns"]) / 1e9)


# -- driver ---------------------------------------------------------------------
#: key: (label, unit)
VARIANTS = {
    "ws": ("harness websocket p50", "µs"),
    "tcp": ("harness tcp p50", "µs"),
    "bare": ("bare tcp p50", "µs"),
    "bws": ("bare websockets p50", "µs"),
    "naive": ("bare tcp p50, no warm_malloc", "µs"),
    "hdel": ("harness ws delivery", "/s"),
    "bdel": ("bare ws delivery", "/s"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 repeat, 2 s runs, 200 fan-out clients")
    g = p.add_argument_group("latency (ratios 1 and 2)")
    g.add_argument("--clients", type=int, default=10)
    g.add_argument("--rate", type=float, default=200.0, help="events/s")
    g.add_argument("--duration", type=float, default=4.0, help="s per run")
    g.add_argument("--repeats", type=int, default=5)
    g.add_argument("--context-repeats", type=int, default=3,
                   help="repeats of the two explanatory latency variants (bare websockets, "
                   "bare tcp without warm_malloc); 0 skips them")
    g = p.add_argument_group("delivery rate (ratio 3)")
    g.add_argument("--fanout-clients", type=int, default=1000)
    g.add_argument("--fanout-rate", type=float, default=200.0,
                   help="events/s (x clients = offered deliveries/s)")
    g.add_argument("--fanout-duration", type=float, default=3.0, help="s per run")
    g.add_argument("--fanout-repeats", type=int, default=5)
    p.add_argument("--payload", type=int, default=64, help="payload bytes per event")
    for name, target in (("ws-tcp", 1.25), ("tcp-bare", 1.2), ("delivery", 0.8)):
        p.add_argument(f"--target-{name}", type=float, default=target)
    a = p.parse_args(argv)
    if a.quick:
        a.duration, a.repeats, a.context_repeats = 2.0, 1, 1
        a.fanout_clients, a.fanout_rate, a.fanout_duration, a.fanout_repeats = 200, 800.0, 2.0, 1
    for name in ("clients", "fanout_clients", "repeats", "fanout_repeats", "context_repeats",
                 "payload"):
        if getattr(a, name) < (1 if "clients" in name else 0):
            p.error(f"--{name.replace('_', '-')} is too small")
    if a.repeats + a.fanout_repeats == 0:
        p.error("nothing to measure: --repeats and --fanout-repeats are both 0")
    for name in ("rate", "duration", "fanout_rate", "fanout_duration"):
        if not 0 < getattr(a, name) <= 3600:
            p.error(f"--{name.replace('_', '-')} must be > 0 and <= 3600")
    if a.clients > 5000 or a.fanout_clients > 5000:
        p.error("at most 5,000 clients (one fleet process per side)")
    return a


def _cpu_model() -> str:
    from wslab.core.machine import machine_info

    return machine_info()["cpu"]


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _order(r: int, a: argparse.Namespace) -> list[str]:
    """The variants of round ``r``, in an order rotated from round to round."""
    order: list[str] = []
    if r < a.repeats:
        keys = ["ws", "tcp", "bare"] + (["bws", "naive"] if r < a.context_repeats else [])
        k = r % len(keys)
        order += keys[k:] + keys[:k]
    if r < a.fanout_repeats:
        order += ["hdel", "bdel"] if r % 2 == 0 else ["bdel", "hdel"]
    return order


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from importlib.metadata import version

    command = shlex.join([sys.executable, *(sys.argv if argv is None else ["overhead.py", *argv])])
    print(f"command: {command}")
    print(f"machine: {os.cpu_count()} cores, {_cpu_model()}, {platform.system()} "
          f"{platform.release()}; load average at start {_loadavg()}")
    print(f"versions: python {platform.python_version()}, websockets {version('websockets')}, "
          f"wslab {version('wslab')}")
    print(f"latency: {a.clients} clients, {a.rate:g} events/s fixed, {a.duration:g} s per run, "
          f"{a.payload} B payload, warm-up {warmup_s(a.duration):g} s, {a.repeats} repeats "
          f"({min(a.context_repeats, a.repeats)} of the context variants)")
    offered = a.fanout_rate * a.fanout_clients
    print(f"delivery: {a.fanout_clients} clients, {a.fanout_rate:g} events/s fixed "
          f"(offered {offered:,.0f} deliveries/s), {a.fanout_duration:g} s per run, "
          f"{a.fanout_repeats} repeats")
    print(flush=True)

    jobs: dict[str, Callable[[Path], float]] = {
        "ws": lambda out: harness_latency("websocket", a, out),
        "tcp": lambda out: harness_latency("tcp", a, out),
        "bare": lambda out: bare_tcp_latency(a),
        "bws": lambda out: bare_ws_latency(a),
        "naive": lambda out: bare_tcp_latency(a, malloc="naive"),
        "hdel": lambda out: harness_delivery(a, out),
        "bdel": lambda out: bare_delivery(a),
    }
    results: dict[str, list[float]] = {k: [] for k in VARIANTS}
    rounds: dict[str, list[float | None]] = {k: [] for k in VARIANTS}  # None: failed run
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wslab-overhead-") as tmp:
        for r in range(max(a.repeats, a.fanout_repeats)):
            for key in _order(r, a):
                label, unit = VARIANTS[key]
                out = Path(tmp) / f"{key}-{r}"
                try:
                    value = jobs[key](out)
                except Exception as exc:  # one failed run must not lose the others
                    WARNINGS.append(f"round {r + 1} {label} failed: {exc}")
                    print(f"  round {r + 1}  {label:<29} FAILED: {str(exc)[:200]}", flush=True)
                    rounds[key].append(None)
                    continue
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                results[key].append(value)
                rounds[key].append(value)
                print(f"  round {r + 1}  {label:<29} {value:>9,.0f} {unit}"
                      f"   [{time.monotonic() - t0:4.0f} s]", flush=True)
    elapsed = time.monotonic() - t0
    med = {k: statistics.median(v) for k, v in results.items() if v}

    print()
    print("per repeat (in round order):")
    for key, values in results.items():
        if values:
            label, unit = VARIANTS[key]
            print(f"  {label:<29} " + "  ".join(f"{v:,.0f}" for v in values) + f" {unit}")

    print()
    print("context (medians):")
    for num, den, what in (("ws", "tcp", "harness websocket / tcp"),
                           ("tcp", "bare", "harness tcp / bare tcp"),
                           ("hdel", "bdel", "harness / bare delivery")):
        paired = [n / d for n, d in zip(rounds[num], rounds[den], strict=False) if n and d]
        if paired:
            print(f"  {what:<25} median of the per-round ratios {statistics.median(paired):.2f}"
                  f"  ({' '.join(f'{x:.2f}' for x in paired)})")
    if "hdel" in med and "bdel" in med:
        sat = max(med["hdel"], med["bdel"]) / offered
        print(f"  delivery: the better side achieved {sat:.0%} of the offered load"
              + (" (saturated)" if sat < 0.95 else " (NOT saturated: raise --fanout-rate)"))
        total = {}
        for key, who in (("hdel", "harness"), ("bdel", "bare   ")):
            server = statistics.median(c[0] for c in CPU[key])
            fleet = statistics.median(c[1] for c in CPU[key])
            total[key] = statistics.median(c[0] + c[1] for c in CPU[key])
            print(f"  {who} ws fan-out CPU per delivery: server {server:.1f} µs + client fleet "
                  f"{fleet:.1f} µs = {total[key]:.1f} µs")
        print(f"  CPU-bound capacity, harness / bare = {total['bdel']:.1f} / {total['hdel']:.1f}"
              f" = {total['bdel'] / total['hdel']:.2f}   (steadier than the wall-clock rate)")
    if {"bws", "bare", "ws"} <= med.keys():
        print(f"  bare websockets p50 / bare tcp p50      {med['bws']:,.0f} µs / "
              f"{med['bare']:,.0f} µs = {med['bws'] / med['bare']:.2f}   "
              "(the websockets library itself)")
        print(f"  harness websocket p50 / bare ws p50     {med['ws']:,.0f} µs / "
              f"{med['bws']:,.0f} µs = {med['ws'] / med['bws']:.2f}   (the harness on websocket)")
    if {"naive", "bare"} <= med.keys():
        print(f"  bare tcp p50 without / with warm_malloc {med['naive']:,.0f} µs / "
              f"{med['bare']:,.0f} µs = {med['naive'] / med['bare']:.2f}   "
              "(glibc mmap threshold; see _bare.warm_malloc)")
    print(f"  total {elapsed:.0f} s; load average at end {_loadavg()}")
    for w in WARNINGS:
        print(f"  WARNING {w}")

    print()
    print(f"medians of interleaved repeats ({a.repeats} latency, {a.fanout_repeats} delivery):")
    rows = [
        ("websocket p50 / tcp p50 (harness)", "ws", "tcp", " µs", "<=", a.target_ws_tcp),
        ("harness tcp p50 / bare tcp p50", "tcp", "bare", " µs", "<=", a.target_tcp_bare),
        ("harness ws delivery rate / bare", "hdel", "bdel", "/s", ">=", a.target_delivery),
    ]
    for name, num, den, unit, op, target in rows:
        if num not in med or den not in med:
            print(f"{name:<41} not measured")
            continue
        ratio = med[num] / med[den]
        ok = ratio <= target if op == "<=" else ratio >= target
        print(f"{name:<41} {med[num]:,.0f}{unit} / {med[den]:,.0f}{unit} = {ratio:.2f}   "
              f"target {op} {target:g}   {'ok' if ok else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
