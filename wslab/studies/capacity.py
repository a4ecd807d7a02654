"""Notebook 06 (capacity): latency under offered load, and where each transport breaks.

The question an engineer choosing a transport asks first: how much can it
carry? For each transport, at a fixed number of clients N, the event rate is
raised step by step (a geometric ladder) and every step is a run with the
same open-loop schedule. Offered load is N × rate deliveries per second. A
step *holds* when every event reached every client (lost 0, no stalled
client) and the one-way p99 stays under a limit (100 ms by default); the
first step that does not hold is past the **knee**, and the ladder of that
transport stops there (deeper overload says nothing more, and overload runs
are the slow ones). ``refine`` steps then bisect the last rung
geometrically (a rung of ×2.15 becomes ×1.47 after one).

The capacity is bracketed, not guessed: it lies between the largest offered
load that held and the smallest that did not (``capacity_low``,
``capacity_high``). With repeats, a step holds only if most runs held.

Efficiency along the curve is CPU per delivery (server and client, µs) and
its inverse at the knee, deliveries per CPU-second: the headline of polling
versus push efficiency.

Everything here works on an `Experiment`'s tidy table (one row per run); the
only function that runs anything is `sweep`.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..core.errors import ConfigError

__all__ = [
    "P99_LIMIT_MS",
    "bisect_knee",
    "capacity_ratios",
    "findings",
    "holds",
    "idle_floor",
    "knee_table",
    "ladder",
    "plot_cpu",
    "plot_load_curves",
    "plot_p50_vs_gap",
    "plot_wakeup",
    "step_table",
    "sweep",
    "wakeup_latency",
    "wakeup_table",
    "wakeup_verdict",
]

#: a step holds while the one-way p99 stays under this (ms)
P99_LIMIT_MS = 100.0


def ladder(start: float, stop: float, per_decade: int = 4) -> list[float]:
    """Geometric rates from ``start`` to ``stop`` (both included), rounded to
    3 significant digits so trial names stay readable."""
    if not (0 < start <= stop) or per_decade < 1:
        raise ConfigError("ladder needs 0 < start <= stop and per_decade >= 1")
    n = max(1, math.ceil(per_decade * math.log10(stop / start) - 1e-9))
    out = []
    for k in range(n + 1):
        r = start * (stop / start) ** (k / n)
        out.append(float(f"{r:.3g}"))
    return sorted(set(out))


def holds(row: Mapping[str, Any], p99_limit_ms: float = P99_LIMIT_MS) -> tuple[bool, str]:
    """Whether one run held its offered load, and if not, why."""
    if row.get("lost", 0) > 0:
        return False, f"lost {int(row['lost']):,}"
    if row.get("stalled_clients", 0) > 0:
        return False, f"{int(row['stalled_clients'])} stalled clients"
    # The publisher shares the server's event loop: a saturated server
    # publishes late. Latency counts from when an event actually left, so
    # lateness shows here, not in the p99: publishing that overran the
    # schedule by more than 5 % means the server could not keep up.
    late = row.get("publish_s", 0.0) - row.get("duration", float("inf"))
    if late > 0.05 * row.get("duration", 0.0) + 0.05:
        return False, f"publisher {late:.1f} s behind its schedule (server saturated)"
    p99 = row.get("latency_p99_us", float("nan")) / 1e3
    if not p99 <= p99_limit_ms:  # NaN (no delivery measured) fails too
        return False, f"p99 {p99:,.0f} ms > {p99_limit_ms:g} ms"
    return True, ""


def step_table(table: pd.DataFrame, p99_limit_ms: float = P99_LIMIT_MS) -> pd.DataFrame:
    """One row per run with offered and carried load and CPU per delivery.

    ``offered_per_s`` = clients × the schedule's rate; ``carried_per_s`` =
    deliveries / publishing time (a saturated server publishes late, so
    carried < offered); ``ok``/``why`` from `holds`.
    """
    t = table.copy()
    t["offered_per_s"] = t["clients"] * t["rate"]
    t["carried_per_s"] = t["delivered"] / t["publish_s"]
    t["p99_ms"] = t["latency_p99_us"] / 1e3
    t["p50_ms"] = t["latency_p50_us"] / 1e3
    delivered = t["delivered"].clip(lower=1)
    t["server_cpu_us_per_delivery"] = t["server_cpu_s"] * 1e6 / delivered
    t["client_cpu_us_per_delivery"] = t["client_cpu_s"] * 1e6 / delivered
    t["deliveries_per_cpu_s"] = delivered / (t["server_cpu_s"] + t["client_cpu_s"])
    verdicts = [holds(r, p99_limit_ms) for r in t.to_dict("records")]
    t["ok"] = [v[0] for v in verdicts]
    t["why"] = [v[1] for v in verdicts]
    return t


def _step_ok(group: pd.DataFrame) -> bool:
    """A step (one transport, one rate, several repeats) holds if most runs held."""
    return bool(group["ok"].mean() > 0.5)


def sweep(
    transports: Sequence[str],
    clients: int,
    rates: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    duration: float | Callable[[float], float] = 3.0,
    repeats: int = 1,
    seed: int = 0,
    p99_limit_ms: float = P99_LIMIT_MS,
    refine: int = 0,
    base: Mapping[str, Any] | None = None,
    per_transport: Mapping[str, Mapping[str, Any]] | None = None,
    name: str = "06_capacity",
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Raise the rate per transport up to its first step past the knee, then
    bisect the last rung ``refine`` times.

    ``rates`` is one ladder for all or one per transport; ``duration`` the
    publishing time per run (or a function of the rate); ``per_transport``
    extra parameters for one transport (e.g. ``{"short-poll": {"interval":
    0.05}}``). Runs go to ``runs_dir() / name`` through one resumable
    `Experiment` per step, so an interrupted sweep resumes where it stopped;
    they keep their latency histograms and connections but no per-delivery
    rows (``keep_messages=False``: a ladder delivers millions of events, and
    every figure here needs only summaries). Returns `step_table` over every
    run measured.
    """
    from ..experiment import Experiment

    frames = []

    def step(transport: str, rate: float, *, extra: dict[str, Any]) -> bool:
        d = duration(rate) if callable(duration) else duration
        exp = Experiment(name, repeats=repeats, seed=seed,
                         trials=[{"transport": transport, "rate": rate, "duration": d, **extra}],
                         base={"clients": clients, "keep_messages": False, **(base or {})})
        steps = step_table(exp.run(progress=progress), p99_limit_ms)
        frames.append(steps)
        ok = _step_ok(steps)
        if log is not None:
            why = "; ".join(sorted(set(steps.why) - {""}))
            log(f"{transport:<11} rate {rate:>8g}/s  offered {steps.offered_per_s.iloc[0]:>10,.0f}/s"
                f"  p99 {steps.p99_ms.median():>9.1f} ms  "
                + ("holds" if ok else f"past the knee ({why})"))
        return ok

    for transport in transports:
        ladder_ = rates[transport] if isinstance(rates, Mapping) else rates
        extra = dict((per_transport or {}).get(transport, {}))
        low = high = None
        for rate in ladder_:
            if step(transport, rate, extra=extra):
                low = rate
            else:
                high = rate
                break
        if low is not None and high is not None:
            bisect_knee(low, high, refine, functools.partial(step, transport, extra=extra))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def bisect_knee(low: float, high: float, times: int,
                holds_at: Callable[[float], bool]) -> tuple[float, float]:
    """Narrow the bracket [low, high) ``times`` times at its geometric midpoint.

    ``holds_at(rate)`` measures one step; midpoints are rounded to 3
    significant digits (readable trial names) and the bisection stops when
    rounding leaves no rate strictly inside the bracket.
    """
    for _ in range(times):
        mid = float(f"{math.sqrt(low * high):.3g}")
        if not low < mid < high:
            break
        if holds_at(mid):
            low = mid
        else:
            high = mid
    return low, high


def knee_table(steps: pd.DataFrame) -> pd.DataFrame:
    """Per transport: the capacity bracket and the efficiency at the last step that held.

    ``capacity_low`` is the largest offered load (deliveries/s, median over
    repeats) that held; ``capacity_high`` the smallest that did not (NaN:
    the ladder never broke it, so the capacity is at least ``capacity_low``).
    CPU figures are means over the repeats of the last step that held, with
    a 95 % interval (Student t over runs) and the number of runs.
    """
    from ..stats import mean_ci
    from ..transports import delivery

    rows = []
    for transport, g in steps.groupby("transport", sort=False):
        per_step = g.groupby("rate", sort=True)
        ok = per_step.apply(_step_ok, include_groups=False)
        offered = per_step["offered_per_s"].median()
        held = ok[ok].index
        # the knee is the first step that failed; steps after it do not count
        failed = ok[~ok].index
        first_fail = failed.min() if len(failed) else None
        held = [r for r in held if first_fail is None or r < first_fail]
        row: dict[str, Any] = {"transport": transport, "steps": len(ok),
                               "capacity_low": float(offered[held[-1]]) if held else 0.0,
                               "capacity_high": (float(offered[first_fail])
                                                 if first_fail is not None else float("nan")),
                               "knee_rate": held[-1] if held else float("nan")}
        if held:
            last = g[g.rate == held[-1]]
            row["p99_ms"] = float(last.p99_ms.median())
            for col in ("server_cpu_us_per_delivery", "client_cpu_us_per_delivery",
                        "deliveries_per_cpu_s"):
                est = mean_ci(last[col].to_numpy())
                row.update(est.as_dict(col))
            if delivery(str(transport)) == "pull" and "requests_per_event" in last:
                # batching: polls answered per delivered event, inverted
                est = mean_ci(1.0 / last["requests_per_event"].to_numpy())
                row.update(est.as_dict("events_per_response"))
        rows.append(row)
    return pd.DataFrame(rows)


def capacity_ratios(knees: pd.DataFrame, reference: str = "short-poll") -> pd.DataFrame:
    """Each transport's capacity bracket divided by ``reference``'s.

    The ratio's bounds come from the brackets: low = low / high_ref, high =
    high / low_ref (NaN where a bracket is open), so the printed interval is
    as honest as the ladders' resolution.
    """
    ref = knees.set_index("transport").loc[reference]
    out = knees[["transport", "capacity_low", "capacity_high"]].copy()
    out["ratio"] = out["capacity_low"] / ref["capacity_low"]
    out["ratio_low"] = out["capacity_low"] / ref["capacity_high"]
    out["ratio_high"] = out["capacity_high"] / ref["capacity_low"]
    return out


def plot_load_curves(ax, steps: pd.DataFrame, knees: pd.DataFrame | None = None,
                     p99_limit_ms: float = P99_LIMIT_MS) -> None:
    """p99 one-way latency against offered load, one line per transport.

    Markers are the median over repeats with the range of the repeats as
    error bars; filled where the step held, hollow past the knee; the
    dashed line is the p99 limit; a vertical tick marks each knee.
    """
    from ..plots import transport_colors

    colors = transport_colors()
    for transport, g in steps.groupby("transport", sort=False):
        per = g.groupby("rate", sort=True).agg(
            x=("offered_per_s", "median"), y=("p99_ms", "median"), lo=("p99_ms", "min"),
            hi=("p99_ms", "max"), ok=("ok", "mean"), n=("p99_ms", "size"))
        c = colors.get(transport)
        ax.errorbar(per.x, per.y, yerr=[per.y - per.lo, per.hi - per.y], color=c, lw=1.5,
                    marker=None, label=f"{transport} (n={int(per.n.max())} per step)")
        good, bad = per[per.ok > 0.5], per[per.ok <= 0.5]
        ax.plot(good.x, good.y, "o", color=c, ms=6)
        ax.plot(bad.x, bad.y, "o", mfc="white", mec=c, ms=6)
        if knees is not None:
            k = knees.set_index("transport")
            if transport in k.index and k.loc[transport, "capacity_low"] > 0:
                ax.axvline(k.loc[transport, "capacity_low"], color=c, ls=":", lw=1)
    ax.axhline(p99_limit_ms, color="gray", ls="--", lw=1, label=f"p99 limit {p99_limit_ms:g} ms")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered load (deliveries/s = clients × events/s)")
    ax.set_ylabel("one-way latency p99 (ms)")
    ax.legend(fontsize="small")


def plot_cpu(ax, steps: pd.DataFrame, which: Iterable[str] = ("server", "client")) -> None:
    """CPU per delivery (µs) against offered load: server solid, client dashed."""
    from ..plots import transport_colors

    colors = transport_colors()
    styles = {"server": "-", "client": "--"}
    for transport, g in steps.groupby("transport", sort=False):
        for side in which:
            col = f"{side}_cpu_us_per_delivery"
            per = g.groupby("rate", sort=True).agg(x=("offered_per_s", "median"),
                                                   y=(col, "median"))
            ax.plot(per.x, per.y, styles[side], marker="o", ms=4, color=colors.get(transport),
                    label=f"{transport} ({side})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered load (deliveries/s)")
    ax.set_ylabel("CPU per delivered event (µs)")
    ax.legend(fontsize="x-small", ncol=2)


def _wakeup_child(conn) -> None:  # runs in a fresh interpreter (spawn)
    out = []
    conn.send_bytes(b"ready")
    while True:
        data = conn.recv_bytes()
        now = time.monotonic_ns()
        if data == b"stop":
            break
        out.append(now - int(data))
    conn.send(out)


def wakeup_latency(gaps_s: Sequence[float], samples: int = 100) -> pd.DataFrame:
    """How long a process blocked in the kernel takes to see a message, by idle gap.

    One child process waits on a pipe (``recv`` blocks in the kernel, as an
    event loop blocks in ``epoll_wait``); the parent sleeps ``gap`` seconds,
    then writes its CLOCK_MONOTONIC time; the child subtracts it from its own
    on waking. No sockets, no library: only the operating system's and the
    machine's wake-up path. If the latency grows with the gap, an idle
    receiver pays a wake-up cost that a busy one does not, and a push
    transport's latency falls as the event rate rises. Returns one row per
    message: ``gap_s``, ``latency_us``.
    """
    ctx = multiprocessing.get_context("spawn")  # never fork a notebook kernel
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_wakeup_child, args=(child,), daemon=True)
    proc.start()
    order = []
    try:
        if not parent.poll(60) or parent.recv_bytes() != b"ready":
            raise RuntimeError("the wake-up probe's child did not start")
        for _ in range(samples):
            for gap in gaps_s:  # interleaved, so drift hits every gap alike
                time.sleep(gap)
                parent.send_bytes(str(time.monotonic_ns()).encode())
                order.append(gap)
        parent.send_bytes(b"stop")
        latencies = parent.recv() if parent.poll(60) else []
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    if len(latencies) != len(order):
        raise RuntimeError("the wake-up probe's child did not report every message")
    return pd.DataFrame({"gap_s": order, "latency_us": [x / 1e3 for x in latencies]})


def wakeup_table(wake: pd.DataFrame) -> pd.DataFrame:
    """Per idle gap: the median wake-up latency (µs) with its 95 % interval.

    Each probe message is one independent unit (one wake-up, gaps
    interleaved), so the distribution-free order-statistic interval of the
    median applies; ``n`` messages per gap.
    """
    from ..stats import median_ci

    rows = []
    for gap, g in wake.groupby("gap_s", sort=True):
        est = median_ci(g["latency_us"].to_numpy(), unit="wake-ups")
        rows.append({"gap_ms": gap * 1e3, **est.as_dict("p50_us"),
                     "p90_us": float(g["latency_us"].quantile(0.9))})
    return pd.DataFrame(rows)


def wakeup_verdict(table: pd.DataFrame) -> str:
    """Does the wake-up latency grow with the idle gap, beyond the intervals?

    Compares the longest gap's median with the shortest gap's: "grows" when
    the longest gap's interval lies wholly above the shortest's.
    """
    first, last = table.iloc[0], table.iloc[-1]
    if last["p50_us_low"] > first["p50_us_high"]:
        return (f"grows: p50 {last['p50_us']:.0f} µs [{last['p50_us_low']:.0f}, "
                f"{last['p50_us_high']:.0f}] after {last['gap_ms']:g} ms idle vs "
                f"{first['p50_us']:.0f} µs [{first['p50_us_low']:.0f}, {first['p50_us_high']:.0f}] "
                f"after {first['gap_ms']:g} ms ({last['p50_us'] / first['p50_us']:.1f}x)")
    return (f"no growth beyond the intervals: p50 {first['p50_us']:.0f} µs after "
            f"{first['gap_ms']:g} ms, {last['p50_us']:.0f} µs after {last['gap_ms']:g} ms")


def plot_wakeup(ax, table: pd.DataFrame) -> None:
    """Median wake-up latency (95 % interval as error bars) against the idle gap."""
    y = table["p50_us"]
    ax.errorbar(table["gap_ms"], y, yerr=[y - table["p50_us_low"], table["p50_us_high"] - y],
                fmt="o-", capsize=3, label=f"p50, 95 % CI (n={int(table['p50_us_n'].min())} per gap)")
    ax.plot(table["gap_ms"], table["p90_us"], "s--", ms=4, alpha=0.7, label="p90")
    ax.set_xscale("log")
    ax.set_xlabel("idle gap before the message (ms)")
    ax.set_ylabel("wake-up latency (µs)")
    ax.set_title("A blocked process woken after an idle gap (pipe, no network)")
    ax.legend(fontsize="small")


def idle_floor(rates: Sequence[float], *, repeats: int = 3, events: int = 60,
               min_duration: float = 2.0, transports: Sequence[str] = ("tcp",),
               seed: int = 0, name: str = "06_idle_floor", progress: bool = False) -> pd.DataFrame:
    """One client, push transports, rising rate: the floor's latency against the idle gap.

    With one subscriber there is no fan-out and no queueing, so what changes
    with the rate is only how long the receiver sat idle between events.
    Each rate runs ``max(min_duration, events / rate)`` seconds (at least
    ``events`` events), ``repeats`` times with distinct seeds. Returns one row
    per (transport, rate) with ``latency_p50_us`` and its 95 % interval over
    the runs (`Experiment.aggregate`), plus ``gap_ms`` = 1000 / rate.
    """
    from ..experiment import Experiment

    trials: list[Mapping[str, Any]] = [
        {"transport": tr, "rate": r, "duration": max(min_duration, events / r)}
        for tr in transports for r in rates]
    exp = Experiment(name, trials=trials, repeats=repeats, seed=seed,
                     base={"clients": 1, "schedule": "poisson"})
    exp.run(progress=progress)
    agg = exp.aggregate(by=["transport", "rate"], metrics=["latency_p50_us", "latency_p99_us"])
    agg["gap_ms"] = 1e3 / agg["rate"]
    return agg.sort_values(["transport", "rate"]).reset_index(drop=True)


def plot_p50_vs_gap(ax, floor: pd.DataFrame) -> None:
    """The one-client floor's median latency (95 % interval over runs) against
    the mean gap between events, 1/rate."""
    from ..plots import transport_colors

    colors = transport_colors()
    for transport, g in floor.groupby("transport", sort=False):
        y = g["latency_p50_us"]
        ax.errorbar(g["gap_ms"], y, yerr=[y - g["latency_p50_us_low"],
                                          g["latency_p50_us_high"] - y],
                    fmt="o-", capsize=3, color=colors.get(transport),
                    label=f"{transport}, 1 client (n={int(g['latency_p50_us_n'].min())} runs "
                          "per point)")
    ax.set_xscale("log")
    ax.set_xlabel("mean gap between events, 1/rate (ms)")
    ax.set_ylabel("one-way latency p50 (µs)")
    ax.set_title("The push floor against the idle gap")
    ax.legend(fontsize="small")


def findings(knees: pd.DataFrame, ratios: pd.DataFrame, wake: pd.DataFrame,
             floor: pd.DataFrame | None = None) -> list[str]:
    """The notebook's closing numbers, each printed from the data."""
    out = []
    order = knees.sort_values("capacity_low", ascending=False)
    for r in order.itertuples():
        high = ("not reached" if not math.isfinite(r.capacity_high)
                else f"{r.capacity_high:,.0f}")
        eff = ""
        if hasattr(r, "deliveries_per_cpu_s") and math.isfinite(r.deliveries_per_cpu_s):
            eff = (f"; {r.deliveries_per_cpu_s:,.0f} deliveries per CPU-second "
                   f"[{r.deliveries_per_cpu_s_low:,.0f}, {r.deliveries_per_cpu_s_high:,.0f}] "
                   f"(n={int(r.deliveries_per_cpu_s_n)} runs)")
        batch = ""
        epr = getattr(r, "events_per_response", float("nan"))
        if isinstance(epr, float) and math.isfinite(epr):
            batch = (f"; {epr:,.1f} events per response there "
                     f"[{r.events_per_response_low:,.1f}, {r.events_per_response_high:,.1f}]")
        out.append(f"{r.transport}: held {r.capacity_low:,.0f} deliveries/s, broke at {high}"
                   f"{eff}{batch}")
    for r in ratios.itertuples():
        if r.transport == "short-poll" or not math.isfinite(r.ratio):
            continue
        hi = "open" if not math.isfinite(r.ratio_high) else f"{r.ratio_high:.1f}"
        lo = "n/a" if not math.isfinite(r.ratio_low) else f"{r.ratio_low:.1f}"
        out.append(f"capacity {r.transport} / short-poll: {r.ratio:.1f}x (bracket {lo}..{hi})")
    out.append("wake-up verdict: " + wakeup_verdict(wake))
    if floor is not None:
        for transport, g in floor.groupby("transport", sort=False):
            g = g.sort_values("rate")
            lo, hi = g.iloc[0], g.iloc[-1]
            apart = lo["latency_p50_us_low"] > hi["latency_p50_us_high"]
            out.append(f"{transport}, one client: p50 {lo['latency_p50_us']:.0f} µs "
                       f"[{lo['latency_p50_us_low']:.0f}, {lo['latency_p50_us_high']:.0f}] at "
                       f"{lo['rate']:g} events/s vs {hi['latency_p50_us']:.0f} µs "
                       f"[{hi['latency_p50_us_low']:.0f}, {hi['latency_p50_us_high']:.0f}] at "
                       f"{hi['rate']:g} events/s: "
                       + ("falls with rate beyond the intervals" if apart
                          else "no fall beyond the intervals"))
    return out
