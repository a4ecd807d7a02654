"""How much the harness adds, with 95 % intervals over interleaved rounds.

Three ratios, measured side by side in one run:

1. one-way latency p50 of the harness's ``websocket`` transport / its ``tcp``
   floor (both through ``wslab.Lab.run``);
2. the harness's ``tcp`` p50 / a bare asyncio TCP push (a publisher process and
   a subscriber process from ``benchmarks/_bare.py``: same rate, payload,
   event body, client count, warm-up, TCP_NODELAY);
3. the harness's ``websocket`` delivery rate / a bare websockets broadcast
   (``serve`` + ``broadcast`` and one fleet process of ``connect`` clients,
   compression off) to the same number of clients, at an offered load above
   what either can deliver; delivery rate = delivered / (last receive - first
   publish).

and the CPU time per delivery (µs) of the server and of the client fleet of
every harness run, which is steadier than any wall-clock figure.

``--compare REF`` measures a second tree too: a temporary ``git worktree`` of
commit REF, whose harness runs are interleaved with the current tree's (same
machine state for both), and prints now / before for every figure, paired by
round. That is how a change to the harness's hot path is judged.

Noise, and what is done about it. The machine is small (2 cores) and often
shared; three sources were found (measured with this script's helpers):

- Placement. Left to itself, the kernel ran the server and the client fleet
  on one core for 69-99 % of a run (sampled every 10 ms), a share that changed
  from run to run; on one core a delivery waits for the server to yield, on
  two it does not, and the ratio's level follows (8 interleaved rounds under
  the same load: websocket/tcp 1.35 pinned to two cores, 1.55 unpinned). So by
  default (``--pin on``) servers run on CPU 0 and clients on CPU 1, harness
  and bare alike.
- Other work on the machine. Its run-queue waits land in every latency; with
  a load average of 2-4 the per-round ratio spread about ±20 % pinned or not
  (its log's standard deviation 0.16 pinned, 0.17 unpinned). Nothing here can
  remove that; it can only be paired off and shown: every variant runs once
  per round, in an order rotated from round to round (and the two trees' runs
  of one variant next to each other, alternating which goes first), each
  ratio is taken within a round, and each figure is the median over rounds
  with a 95 % bootstrap interval over rounds (`wslab.stats`). The load
  average of every round is printed, and a busy machine is named as such.
- CPU time counted in 10 ms clock ticks (/proc), 5-10 % of a short run's CPU
  time; `wslab.core.meter.ProcessMeter` now reads CLOCK_PROCESS_CPUTIME_ID
  (a tree older than that still counts ticks: its CPU figures are coarser,
  not biased).

Every child process binds or connects to 127.0.0.1 only, gets
PR_SET_PDEATHSIG (it dies with this process), has a hard time limit, and is
stopped in a ``finally``.

    .venv/bin/python benchmarks/overhead.py                  # about three minutes
    .venv/bin/python benchmarks/overhead.py --compare HEAD~4 # about five minutes
    .venv/bin/python benchmarks/overhead.py --quick          # smoke run: under a minute
"""

from __future__ import annotations

import argparse
import contextlib
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BARE = HERE / "_bare.py"
HARNESS = HERE / "_harness.py"
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


class Helper:
    """One helper process speaking JSON lines (stdout; stdin too if ``talk``),
    stderr kept for errors."""

    def __init__(self, name: str, argv: list[str], limit: float, talk: bool = False,
                 cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.limit = limit
        self._err = tempfile.TemporaryFile()
        self._buf = b""
        self.proc = subprocess.Popen(
            [sys.executable, *argv, "--limit", f"{limit:g}", "--parent", str(os.getpid())],
            stdin=subprocess.PIPE if talk else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._err, preexec_fn=_PREEXEC, close_fds=True, cwd=cwd, env=env)

    def send(self, obj: dict) -> None:
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def reply(self, timeout: float | None = None) -> dict:
        """The next JSON line, waiting at most ``timeout`` (default: the time limit)."""
        deadline = time.monotonic() + (timeout or self.limit)
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{self.name} did not answer in time{self._tail()}")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self.proc.wait()
                    raise RuntimeError(
                        f"{self.name} exited with status {self.proc.returncode}{self._tail()}")
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def _tail(self) -> str:
        self._err.seek(0)
        tail = self._err.read().decode(errors="replace")[-2000:].strip()
        return f"\n--- stderr ---\n{tail}" if tail else ""

    def close(self) -> None:
        """Close its stdin (a harness then stops its Lab), let it exit briefly,
        then terminate, then kill."""
        if self.proc.stdin:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        for stop in (None, self.proc.terminate, self.proc.kill):
            if self.proc.poll() is not None:
                break
            if stop is not None:
                stop()
            try:
                self.proc.wait(10 if stop is None else 3)
            except subprocess.TimeoutExpired:
                pass
        self.proc.stdout.close()
        self._err.close()


# -- where processes run --------------------------------------------------------
@dataclass(frozen=True)
class Pinning:
    """CPU sets of servers and of clients (None: wherever the kernel likes)."""

    server: frozenset[int] | None = None
    clients: frozenset[int] | None = None

    def text(self, which: frozenset[int] | None) -> str:
        return ",".join(map(str, sorted(which))) if which else ""

    def describe(self) -> str:
        if not self.server:
            return "not pinned (the kernel places every process)"
        return (f"servers on CPU {self.text(self.server)}, clients on CPU "
                f"{self.text(self.clients)} (os.sched_setaffinity, inherited by children)")


@contextlib.contextmanager
def affinity(cores: frozenset[int] | None) -> Iterator[None]:
    """Run the block on ``cores``: a process started inside inherits them."""
    if not cores:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


# -- the trees measured -----------------------------------------------------------
def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@dataclass
class Tree:
    """A source tree of wslab whose harness is measured, behind one `_harness.py`."""

    label: str
    path: Path
    describe: str
    helper: Helper | None = None

    def start(self, pin: Pinning, limit: float) -> None:
        env = dict(os.environ, PYTHONPATH=str(self.path))
        # cwd too: ``python -m`` puts the working directory first on sys.path,
        # so the Lab's children load this tree's wslab, not the installed one.
        self.helper = Helper(f"harness ({self.label})",
                             [str(HARNESS), "--server-cores", pin.text(pin.server),
                              "--fleet-cores", pin.text(pin.clients)],
                             limit, talk=True, cwd=self.path, env=env)
        hello = self.helper.reply(120)
        where = Path(hello["wslab"]).resolve()
        if not where.is_relative_to(self.path.resolve()):
            raise RuntimeError(f"tree {self.label}: imported {where}, not from {self.path}")

    def run(self, timeout: float, **request: object) -> dict:
        self.helper.send(request)
        res = self.helper.reply(timeout)
        if "error" in res:
            raise RuntimeError(res["error"])
        return res


def current_tree() -> Tree:
    head = _git("rev-parse", "--short", "HEAD")
    dirty = " + uncommitted changes" if _git("status", "--porcelain", "--untracked-files=no") else ""
    return Tree("now", ROOT, f"working tree at {head}{dirty}")


@contextlib.contextmanager
def worktree(ref: str) -> Iterator[Tree]:
    """A temporary ``git worktree`` of ``ref`` (removed afterwards)."""
    commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    tmp = Path(tempfile.mkdtemp(prefix="wslab-overhead-tree-"))
    path = tmp / "tree"
    _git("worktree", "add", "--detach", str(path), commit)
    try:
        subject = _git("log", "-1", "--format=%h %s", commit)
        yield Tree("before", path, f"commit {subject[:90]}")
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            _git("worktree", "remove", "--force", str(path))
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(subprocess.CalledProcessError):
            _git("worktree", "prune")


# -- the measurements -----------------------------------------------------------
WARNINGS: list[str] = []


def _check(what: str, ok: bool, detail: str) -> None:
    if not ok:
        WARNINGS.append(f"{what}: {detail}")


def warmup_s(duration: float) -> float:
    """The harness's default warm-up (RunConfig.validate), used on the bare side too."""
    return min(1.0, 0.1 * duration)


@dataclass
class Result:
    value: float  # the variant's figure: p50 µs or deliveries/s
    server_us: float | None = None  # CPU per delivery
    client_us: float | None = None


def harness_latency(tree: Tree, transport: str, a: argparse.Namespace, out: Path) -> Result:
    r = tree.run(a.duration + 90, transport=transport, clients=a.clients, rate=a.rate,
                 duration=a.duration, payload=a.payload, out=str(out))
    _check(f"harness {transport} ({tree.label})", r["lost"] == 0 and r["duplicated"] == 0,
           f"lost {r['lost']}, duplicated {r['duplicated']}")
    n = max(r["delivered"], 1)
    return Result(r["p50_us"], r["server_cpu_s"] * 1e6 / n, r["client_cpu_s"] * 1e6 / n)


def harness_delivery(tree: Tree, a: argparse.Namespace, out: Path) -> Result:
    r = tree.run(a.fanout_duration + 150, transport="websocket", clients=a.fanout_clients,
                 rate=a.fanout_rate, duration=a.fanout_duration, payload=a.payload, out=str(out))
    _check(f"harness websocket fan-out ({tree.label})", r["delivered"] == r["expected"],
           f"delivered {r['delivered']} of {r['expected']}")
    n = max(r["delivered"], 1)
    rate = r["delivered"] / ((r["last_recv_ns"] - r["first_pub_ns"]) / 1e9)
    return Result(rate, r["server_cpu_s"] * 1e6 / n, r["client_cpu_s"] * 1e6 / n)


def _bare_pair(pin: Pinning, pub_cmd: str, sub_cmd: str, clients: int, rate: float,
               duration: float, payload: int, malloc: str, *sub_flags: str,
               **sub_args: object) -> tuple[dict, dict]:
    """Start a bare publisher, then its subscriber(s); both replies, both processes gone."""
    limit = duration + 120

    def argv(cmd: str, *flags: str, **args: object) -> list[str]:
        out = [str(BARE), cmd, *flags]
        for k, v in args.items():
            out += [f"--{k}", str(v)]
        return out

    procs: list[Helper] = []
    try:
        with affinity(pin.server):
            pub = Helper(f"bare {pub_cmd}", argv(pub_cmd, clients=clients, rate=rate,
                                                 duration=duration, payload=payload,
                                                 malloc=malloc), limit)
        procs.append(pub)
        port = pub.reply(30)["port"]
        with affinity(pin.clients):
            sub = Helper(f"bare {sub_cmd}", argv(sub_cmd, *sub_flags, clients=clients, port=port,
                                                 malloc=malloc, **sub_args), limit)
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


def bare_tcp_latency(pin: Pinning, a: argparse.Namespace, malloc: str = "warm") -> Result:
    _, res = _bare_pair(pin, "tcp-pub", "tcp-sub", a.clients, a.rate, a.duration, a.payload,
                        malloc, warmup=warmup_s(a.duration))
    return Result(float(res["p50_us"]))


def bare_ws_latency(pin: Pinning, a: argparse.Namespace) -> Result:
    _, res = _bare_pair(pin, "ws-pub", "ws-fleet", a.clients, a.rate, a.duration, a.payload,
                        "warm", "--record", warmup=warmup_s(a.duration),
                        events=int(a.rate * a.duration), drain=a.duration + 60)
    return Result(float(res["p50_us"]))


def bare_delivery(pin: Pinning, a: argparse.Namespace) -> Result:
    done, res = _bare_pair(pin, "ws-pub", "ws-fleet", a.fanout_clients, a.fanout_rate,
                           a.fanout_duration, a.payload, "warm",
                           events=int(a.fanout_rate * a.fanout_duration),
                           drain=a.fanout_duration + 60)
    n = max(res["delivered"], 1)
    rate = res["delivered"] / ((res["last_recv_ns"] - done["first_pub_ns"]) / 1e9)
    return Result(rate, done["cpu_s"] * 1e6 / n, res["cpu_s"] * 1e6 / n)


# -- statistics -------------------------------------------------------------------
def estimate(values: list[float]):
    """Median over rounds with a 95 % bootstrap interval over rounds."""
    from wslab.stats import bootstrap_ci

    return bootstrap_ci(values, np.median, unit="rounds")


def paired(num: list[float | None], den: list[float | None]) -> list[float]:
    """Per-round ratios, over the rounds where both variants succeeded."""
    return [n / d for n, d in zip(num, den, strict=True) if n is not None and d]


def fmt(e, digits: int = 2) -> str:
    if not (np.isfinite(e.low) and np.isfinite(e.high)):
        return f"{e.value:.{digits}f} (no interval: {e.n} round{'s' * (e.n != 1)})"
    return f"{e.value:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


# -- driver ---------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 2 rounds of 1 s runs, 200 fan-out clients")
    p.add_argument("--rounds", type=int, default=6, help="interleaved rounds")
    p.add_argument("--compare", metavar="REF",
                   help="also measure commit REF (a temporary git worktree), interleaved")
    p.add_argument("--pin", choices=("on", "off"), default="on",
                   help="servers on CPU 0 and clients on CPU 1 (on), or anywhere (off)")
    g = p.add_argument_group("latency (ratios 1 and 2)")
    g.add_argument("--clients", type=int, default=10)
    g.add_argument("--rate", type=float, default=200.0, help="events/s")
    g.add_argument("--duration", type=float, default=2.0, help="s per run")
    g.add_argument("--transports", default="websocket,tcp",
                   help="harness transports measured for latency and CPU (tcp is the floor)")
    g.add_argument("--context-rounds", type=int, default=2,
                   help="rounds that also run the two explanatory variants (bare websockets, "
                   "bare tcp without warm_malloc); 0 skips them")
    g = p.add_argument_group("delivery rate (ratio 3)")
    g.add_argument("--fanout-clients", type=int, default=1000)
    g.add_argument("--fanout-rate", type=float, default=200.0,
                   help="events/s (x clients = offered deliveries/s)")
    g.add_argument("--fanout-duration", type=float, default=2.0, help="s per run")
    g.add_argument("--fanout-rounds", type=int, default=None,
                   help="rounds with the fan-out runs (default: every round; 0 skips them)")
    p.add_argument("--payload", type=int, default=64, help="payload bytes per event")
    for name, target in (("ws-tcp", 1.25), ("tcp-bare", 1.2), ("delivery", 0.8)):
        p.add_argument(f"--target-{name}", type=float, default=target)
    a = p.parse_args(argv)
    if a.quick:
        a.rounds, a.duration, a.context_rounds = 2, 1.0, 1
        a.fanout_clients, a.fanout_rate, a.fanout_duration = 200, 800.0, 1.0
    if a.fanout_rounds is None:
        a.fanout_rounds = a.rounds
    for name in ("clients", "fanout_clients", "payload", "rounds", "fanout_rounds",
                 "context_rounds"):
        if getattr(a, name) < (1 if name in ("clients", "fanout_clients", "rounds") else 0):
            p.error(f"--{name.replace('_', '-')} is too small")
    for name in ("rate", "duration", "fanout_rate", "fanout_duration"):
        if not 0 < getattr(a, name) <= 3600:
            p.error(f"--{name.replace('_', '-')} must be > 0 and <= 3600")
    if a.clients > 5000 or a.fanout_clients > 5000:
        p.error("at most 5,000 clients (one fleet process per side)")
    a.transports = [t.strip() for t in a.transports.split(",") if t.strip()]
    if "tcp" not in a.transports or "websocket" not in a.transports:
        p.error("--transports must include websocket and tcp (ratio 1)")
    sys.path.insert(0, str(ROOT))
    from wslab import transport_names

    unknown = set(a.transports) - set(transport_names())
    if unknown:
        p.error(f"unknown transport(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(transport_names())}")
    if a.pin == "on" and (not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2):
        p.error("--pin on needs Linux and 2 CPUs; use --pin off")
    return a


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


SHORT = {"websocket": "ws", "long-poll": "lp", "short-poll": "sp"}


def _order(r: int, a: argparse.Namespace, trees: list[Tree]) -> list[tuple[str, str | None]]:
    """The variants of round ``r`` as ``(kind, tree label or None)``: kinds in
    an order rotated from round to round, the trees' runs of one kind side by
    side, which tree goes first alternating."""
    kinds = [*a.transports, "bare"]
    if r < a.context_rounds:
        kinds += ["bws", "naive"]
    if r < a.fanout_rounds:
        kinds += ["hdel", "bdel"]
    k = r % len(kinds)
    kinds = kinds[k:] + kinds[:k]
    labels = [t.label for t in trees][:: (-1 if r % 2 else 1)]
    order: list[tuple[str, str | None]] = []
    for kind in kinds:
        if kind in ("bare", "bws", "naive", "bdel"):
            order.append((kind, None))
        else:
            order += [(kind, label) for label in labels]
    return order


def _label(kind: str, tree: str | None) -> str:
    name = {"bare": "bare tcp p50", "bws": "bare websockets p50",
            "naive": "bare tcp p50, no warm_malloc", "hdel": "harness ws delivery",
            "bdel": "bare ws delivery"}.get(kind, f"harness {kind} p50")
    return f"{name} ({tree})" if tree else name


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from importlib.metadata import version

    from wslab.core.machine import machine_info

    pin = Pinning(frozenset({0}), frozenset({1})) if a.pin == "on" else Pinning()
    command = shlex.join([".venv/bin/python", "benchmarks/overhead.py",
                          *(sys.argv[1:] if argv is None else argv)])
    print(f"command: {command}")
    print(f"machine: {os.cpu_count()} cores, {machine_info()['cpu']}, {platform.system()} "
          f"{platform.release()}; load average at start {_loadavg()}")
    print(f"versions: python {platform.python_version()}, websockets {version('websockets')}, "
          f"aiohttp {version('aiohttp')}")
    print(f"placement: {pin.describe()}")
    print(f"latency: {a.clients} clients, {a.rate:g} events/s fixed, {a.duration:g} s per run, "
          f"{a.payload} B payload, warm-up {warmup_s(a.duration):g} s; harness transports "
          f"{', '.join(a.transports)}")
    offered = a.fanout_rate * a.fanout_clients
    print(f"delivery: {a.fanout_clients} clients, {a.fanout_rate:g} events/s fixed "
          f"(offered {offered:,.0f} deliveries/s), {a.fanout_duration:g} s per run")
    print(f"rounds: {a.rounds} ({a.fanout_rounds} with fan-out, {min(a.context_rounds, a.rounds)}"
          " with the context variants)")

    with contextlib.ExitStack() as stack:
        trees = [current_tree()]
        if a.compare:
            trees.append(stack.enter_context(worktree(a.compare)))
        for tree in trees:
            print(f"tree {tree.label}: {tree.describe}")
        print(flush=True)
        # a harness's hard time limit: every run of every round at its slowest
        limit = 300 + a.rounds * (len(a.transports) * (a.duration + 90)
                                  + a.fanout_duration + 150)
        for tree in trees:
            stack.callback(lambda t=tree: t.helper and t.helper.close())
            tree.start(pin, limit)
        by_label = {t.label: t for t in trees}
        rounds, elapsed, loads = _measure(a, pin, trees, by_label)
    _report(a, trees, rounds, elapsed, loads, offered, command)
    return 0


def _measure(a, pin, trees, by_label):
    jobs: dict[str, Callable[[str | None, Path], Result]] = {
        "bare": lambda tree, out: bare_tcp_latency(pin, a),
        "bws": lambda tree, out: bare_ws_latency(pin, a),
        "naive": lambda tree, out: bare_tcp_latency(pin, a, malloc="naive"),
        "hdel": lambda tree, out: harness_delivery(by_label[tree], a, out),
        "bdel": lambda tree, out: bare_delivery(pin, a),
    }
    for t in a.transports:
        jobs[t] = lambda tree, out, t=t: harness_latency(by_label[tree], t, a, out)
    #: (kind, tree) -> one Result (or None: failed, or not run) per round
    rounds: dict[tuple[str, str | None], list[Result | None]] = {}
    loads: list[float] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wslab-overhead-") as tmp:
        for r in range(a.rounds):
            loads.append(os.getloadavg()[0])
            for kind, tree in _order(r, a, trees):
                series = rounds.setdefault((kind, tree), [None] * a.rounds)
                label = _label(kind, tree)
                out = Path(tmp) / f"{kind}-{tree}-{r}"
                try:
                    res = jobs[kind](tree, out)
                except Exception as exc:  # one failed run must not lose the others
                    WARNINGS.append(f"round {r + 1} {label} failed: {exc}")
                    print(f"  round {r + 1}  {label:<36} FAILED: {str(exc)[:300]}", flush=True)
                    continue
                series[r] = res
                unit = "/s" if kind.endswith("del") else "µs"
                cpu = (f"   CPU/delivery server {res.server_us:5.1f} µs, clients "
                       f"{res.client_us:5.1f} µs" if res.server_us is not None else "")
                print(f"  round {r + 1}  {label:<36} {res.value:>9,.0f} {unit}{cpu}"
                      f"   [{time.monotonic() - t0:4.0f} s]", flush=True)
    return rounds, time.monotonic() - t0, loads


def _report(a, trees, rounds, elapsed, loads, offered, command) -> None:
    def series(kind: str, tree: str | None, field: str = "value") -> list[float | None]:
        return [None if x is None else getattr(x, field)
                for x in rounds.get((kind, tree), [None] * a.rounds)]

    def ok(values: list[float | None]) -> list[float]:
        return [v for v in values if v is not None]

    # The benchmark's own server and client keep the 1-minute load near 1 (the
    # previous round's processes still weigh in at the next round's start), so
    # only load beyond that marks other work on the machine.
    busy = max(loads) > 1.0 + 0.25 * (os.cpu_count() or 1)
    print()
    print("load average (1 min) at the start of each round: "
          + " ".join(f"{x:.2f}" for x in loads)
          + ("   BUSY machine: other work shares the cores, expect wide intervals" if busy
             else ""))
    print()
    print("medians over rounds, [95 % bootstrap interval over rounds]:")
    for (kind, tree), values in rounds.items():
        vals = ok([None if x is None else x.value for x in values])
        if not vals:
            continue
        unit = "/s" if kind.endswith("del") else "µs"
        print(f"  {_label(kind, tree):<40} {fmt(estimate(vals), 0)} {unit}   "
              f"(n={len(vals)}: {' '.join(f'{v:,.0f}' for v in vals)})")

    print()
    print("CPU per delivery, µs (median over rounds [95 % interval]):")
    for (kind, tree), values in rounds.items():
        server = ok([None if x is None else x.server_us for x in values])
        client = ok([None if x is None else x.client_us for x in values])
        if server:
            print(f"  {_label(kind, tree):<40} server {fmt(estimate(server), 1):<22} "
                  f"clients {fmt(estimate(client), 1)}")

    rows: list[tuple[str, object, str]] = []  # (what, estimate, detail) for the table
    print()
    print("ratios within a round, median over rounds [95 % bootstrap interval over rounds]:")
    for tree in trees:
        lab = tree.label
        for t in a.transports:
            if t == "tcp":
                continue
            r = paired(series(t, lab), series("tcp", lab))
            if r:
                e = estimate(r)
                print(f"  harness {t} p50 / harness tcp p50 ({lab}):".ljust(52) + fmt(e))
                if t == "websocket":
                    rows.append((f"ws-tcp:{lab}", e, ""))
        r = paired(series("tcp", lab), series("bare", None))
        if r:
            e = estimate(r)
            print(f"  harness tcp p50 / bare tcp p50 ({lab}):".ljust(52) + fmt(e))
            rows.append((f"tcp-bare:{lab}", e, ""))
        r = paired(series("hdel", lab), series("bdel", None))
        if r:
            e = estimate(r)
            print(f"  harness / bare ws delivery rate ({lab}):".ljust(52) + fmt(e))
            rows.append((f"delivery:{lab}", e, ""))
    r = paired(series("bws", None), series("bare", None))
    if r:
        print("  bare websockets p50 / bare tcp p50 (the library):".ljust(52) + fmt(estimate(r)))
    r = paired(series("naive", None), series("bare", None))
    if r:
        print("  bare tcp p50 without / with warm_malloc:".ljust(52) + fmt(estimate(r)))
    if ok(series("hdel", "now")) and ok(series("bdel", None)):
        best = max(statistics.median(ok(series("hdel", "now"))),
                   statistics.median(ok(series("bdel", None)))) / offered
        print(f"  delivery: the better side achieved {best:.0%} of the offered load"
              + (" (saturated)" if best < 0.95 else " (NOT saturated: raise --fanout-rate)"))

    cmp_rows: list[tuple[str, object]] = []
    if len(trees) > 1:
        print()
        print("now / before, within a round (below 1: the current tree is faster or cheaper):")
        for kind in [*a.transports, "hdel"]:
            for field, what in (("value", "p50" if kind != "hdel" else "delivery rate"),
                                ("server_us", "server CPU per delivery"),
                                ("client_us", "client CPU per delivery")):
                r = paired(series(kind, "now", field), series(kind, "before", field))
                if r:
                    e = estimate(r)
                    name = f"{'ws fan-out' if kind == 'hdel' else kind} {what}"
                    print(f"  {name:<44} {fmt(e)}   (n={e.n})")
                    cmp_rows.append((name, e))
    print(f"  total {elapsed:.0f} s; load average at end {_loadavg()}")
    for w in WARNINGS:
        print(f"  WARNING {w}")

    # -- the README's rows, ready to paste -------------------------------------
    def med(kind: str, tree: str | None) -> float:
        return statistics.median(ok(series(kind, tree)))

    targets = {"ws-tcp": ("<=", a.target_ws_tcp), "tcp-bare": ("<=", a.target_tcp_bare),
               "delivery": (">=", a.target_delivery)}
    cell = f"`{command}`"
    machine = (f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores"
               + (" (busy)" if busy else ""))
    print()
    print("README rows (current tree):")
    for key, e, _ in rows:
        name, tree = key.split(":")
        if tree != "now":
            continue
        op, target = targets[name]
        met = e.value <= target if op == "<=" else e.value >= target
        verdict = f"{'≤' if op == '<=' else '≥'} {target:g} " + ("✓" if met else "— **missed**")
        interval = (f"[{e.low:.2f}, {e.high:.2f}], {e.n} rounds, {machine}"
                    if np.isfinite(e.low) else f"{e.n} round(s), {machine}")
        if name == "ws-tcp":
            what = (f"harness `websocket` p50 / harness `tcp` p50 ({a.clients} clients, "
                    f"{a.rate:g} events/s)")
            result = (f"{med('websocket', 'now'):,.0f} µs / {med('tcp', 'now'):,.0f} µs; "
                      f"per round **{e.value:.2f}** {interval}")
        elif name == "tcp-bare":
            what = "harness `tcp` p50 / bare asyncio TCP push p50"
            result = (f"{med('tcp', 'now'):,.0f} µs / {med('bare', None):,.0f} µs; "
                      f"per round **{e.value:.2f}** {interval}")
            cell = "same run"
        else:
            what = (f"harness websocket fleet delivery rate / bare websockets clients "
                    f"({a.fanout_clients:,} clients, {a.fanout_rate:g} events/s offered)")
            hcpu = ok(series("hdel", "now", "server_us"))
            hcl = ok(series("hdel", "now", "client_us"))
            bcpu = ok(series("bdel", None, "server_us"))
            bcl = ok(series("bdel", None, "client_us"))
            result = (f"{med('hdel', 'now'):,.0f}/s / {med('bdel', None):,.0f}/s; per round "
                      f"**{e.value:.2f}** {interval} (CPU per delivery "
                      f"{statistics.median(hcpu) + statistics.median(hcl):.1f} vs "
                      f"{statistics.median(bcpu) + statistics.median(bcl):.1f} µs)")
            cell = "same run"
        print(f"| {what} | {cell} | {result} | {verdict} |")
        cell = "same run"
    if cmp_rows:
        print()
        print(f"README rows (now / before {a.compare}, within a round):")
        cell = f"`{command}`"
        for name, e in cmp_rows:
            interval = f"[{e.low:.2f}, {e.high:.2f}]" if np.isfinite(e.low) else "(no interval)"
            print(f"| {name}, now / before | {cell} | **{e.value:.2f}** {interval}, "
                  f"{e.n} rounds, {machine} | |")
            cell = "same run"


if __name__ == "__main__":
    sys.exit(main())
