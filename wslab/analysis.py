"""Tidy tables built from runs, so notebook cells stay thin.

Every function takes *runs*: one `wslab.Run`, a sequence of runs, or a dict
whose values are runs (``{"websocket": run, ...}`` as a notebook builds it).
Rows keep the order the runs were given in, so figures list transports in the
order the notebook ran them.

Units: latency in microseconds (``*_us``), sizes in bytes, CPU in
microseconds per *delivered* event (one event reaching one client), bytes as
the kernel counted them on each connection (``TCP_INFO``), handshakes
included.

Push and pull are what the transport says (`wslab.transports.base.Delivery`):
push transports (tcp, websocket, sse) send each event when it is published,
so their median one-way latency is one transit (RFC 6202 §3.2).
`transit_us` is the kit's one estimate of that transit, which the short-poll
model adds to ``T/2`` and the long-poll bounds multiply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from math import nan
from typing import Any, overload

import pandas as pd

from . import transports
from .core.errors import ConfigError
from .core.events import schedule_offsets
from .runner.store import Run

__all__ = [
    "BODY_FIXED_BYTES",
    "LOSS_COLUMNS",
    "OVERHEAD_COLUMNS",
    "RUN_COLUMNS",
    "Runs",
    "as_runs",
    "body_bytes_per_event",
    "is_push",
    "latency_frame",
    "loss_check",
    "loss_table",
    "machine_caption",
    "overhead_table",
    "runs_table",
    "scheduled_events",
    "setup_caption",
    "transit_us",
    "transport_label",
]

#: What the functions below accept: one run, a dict of runs (its values) or an iterable.
Runs = Run | Mapping[Any, Run] | Iterable[Run]

#: Columns of `runs_table`, in order.
RUN_COLUMNS = [
    "run_id", "transport", "label", "clients", "rate", "duration", "payload", "schedule",
    "seed", "interval", "warmup_s", "published", "expected", "delivered", "lost",
    "duplicated", "out_of_order", "latency_count", "latency_p50_us", "latency_p90_us",
    "latency_p99_us", "latency_mean_us", "bytes_up_per_event", "bytes_down_per_event",
    "bytes_per_event", "body_bytes_per_event", "requests_per_event", "empty_fraction",
    "bytes_up_per_request", "bytes_down_per_request",
    "server_cpu_us_per_event", "client_errors", "stalled_clients",
]
#: Columns of `loss_table`, in order.
LOSS_COLUMNS = ["transport", "scheduled", "published", "expected", "delivered", "lost",
                "duplicated"]
#: Columns of `overhead_table`, in order.
OVERHEAD_COLUMNS = ["label", "bytes_up_per_event", "bytes_down_per_event", "bytes_per_event",
                    "body_bytes_per_event", "requests_per_event", "empty_fraction"]

#: Bytes of the event body around its numbers and payload:
#: ``{"seq":``, ``,"t":``, ``,"p":"`` and ``"}`` (see `wslab.core.events.encode`).
BODY_FIXED_BYTES = len('{"seq":') + len(',"t":') + len(',"p":"') + len('"}')


def as_runs(runs: Runs) -> list[Run]:
    """A list of runs from one run, a dict of runs (its values) or an iterable."""
    if isinstance(runs, Run):
        return [runs]
    out = list(runs.values() if isinstance(runs, Mapping) else runs)
    bad = [type(r).__name__ for r in out if not isinstance(r, Run)]
    if bad:
        raise TypeError(f"expected wslab.Run objects, got {', '.join(sorted(set(bad)))}")
    if not out:
        raise ConfigError("no runs given")
    return out


def _params(run: Run) -> dict[str, Any]:
    return run.manifest["parameters"]


def transport_label(run: Run) -> str:
    """The transport's name for legends: short-poll states its interval.

    >>> transport_label(short_poll_run)          # doctest: +SKIP
    'short-poll (T = 100 ms)'
    """
    interval = _params(run).get("interval")
    if interval:
        return f"{run.transport} (T = {_fmt_s(interval)})"
    return run.transport


def _fmt_s(seconds: float) -> str:
    """``0.1`` -> ``'100 ms'``, ``2`` -> ``'2 s'``."""
    return f"{seconds * 1e3:g} ms" if seconds < 1 else f"{seconds:g} s"


def scheduled_events(run: Run) -> int:
    """How many events the run's schedule holds (``floor(rate*duration)`` if fixed).

    Recomputed from the seeded schedule, so it checks the server's
    ``published`` count independently.
    """
    p = _params(run)
    return len(schedule_offsets(p["schedule"], p["rate"], p["duration"], p["seed"],
                                p.get("burst", 10)))


def body_bytes_per_event(run: Run) -> float:
    """Mean size of the event body itself (what every transport must carry), in bytes.

    The body is ``{"seq":N,"t":NS,"p":"<payload>"}`` (`wslab.core.events.encode`);
    its size depends on the digits of ``seq`` and ``published_ns``, so it is
    computed from the run's deliveries. Bytes per delivered event above this
    are the transport's own overhead.
    """
    m = run.messages.drop_duplicates(["client_id", "seq"])
    if m.empty:
        return float("nan")
    digits = m.seq.astype(str).str.len() + m.published_ns.astype(str).str.len()
    return float(digits.mean()) + BODY_FIXED_BYTES + _params(run)["payload"]


def is_push(run: Run) -> bool:
    """True if the run's transport is a push transport (`wslab.transports.base.Delivery`)."""
    return run.transport in transports.names("push")


def runs_table(runs: Runs) -> pd.DataFrame:
    """One row per run: parameters, loss accounting, latency, overhead (`RUN_COLUMNS`).

    Latency percentiles come from the run's summary (HdrHistogram, after the
    warm-up); ``bytes_per_event`` is up + down; ``requests_per_event`` and
    ``empty_fraction`` are HTTP requests per delivered event and the share of
    responses that carried no event; ``bytes_up_per_request`` (a request's
    line and headers, handshakes included) and ``bytes_down_per_request`` are
    NaN without requests; ``server_cpu_us_per_event`` is server CPU time per
    delivered event.
    """
    rows = []
    for run in as_runs(runs):
        s, p = run.summary, _params(run)
        lat = s["latency_us"]
        rows.append({
            "run_id": run.manifest.get("run_id", run.path.name),
            "transport": run.transport,
            "label": transport_label(run),
            "clients": p["clients"], "rate": p["rate"], "duration": p["duration"],
            "payload": p["payload"], "schedule": p["schedule"], "seed": p["seed"],
            "interval": p.get("interval"), "warmup_s": s["warmup_s"],
            **{k: s[k] for k in ("published", "expected", "delivered", "lost",
                                 "duplicated", "out_of_order", "latency_count")},
            **{f"latency_{q}_us": lat[q] for q in ("p50", "p90", "p99", "mean")},
            "bytes_up_per_event": s["bytes_up_per_event"],
            "bytes_down_per_event": s["bytes_down_per_event"],
            "bytes_per_event": s["bytes_up_per_event"] + s["bytes_down_per_event"],
            "body_bytes_per_event": body_bytes_per_event(run),
            "requests_per_event": s["requests_per_event"],
            "empty_fraction": s["empty_fraction"],
            "bytes_up_per_request": s["bytes_up"] / s["requests"] if s["requests"] else nan,
            "bytes_down_per_request": (s["bytes_down"] / s["requests"] if s["requests"]
                                       else nan),
            "server_cpu_us_per_event": s["server_cpu_us_per_event"],
            "client_errors": s["client_errors"],
            "stalled_clients": s["stalled_clients"],
        })
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def loss_table(runs: Runs) -> pd.DataFrame:
    """Loss accounting per run (`LOSS_COLUMNS`), indexed by nothing (plain rows).

    ``scheduled`` is recomputed from the seeded schedule, ``published`` is what
    the server emitted, ``expected = published x clients``. With a fixed
    schedule every column is independent of timing.
    """
    rows = [{"transport": r.transport, "scheduled": scheduled_events(r),
             **{k: r.summary[k] for k in LOSS_COLUMNS[2:]}} for r in as_runs(runs)]
    return pd.DataFrame(rows, columns=LOSS_COLUMNS)


def loss_check(runs: Runs) -> pd.DataFrame:
    """Yes/no loss checks per transport: the same text whatever the run size.

    Columns ``all published`` (published == scheduled), ``all delivered``
    (delivered == expected: every event reached every client), ``none lost``
    and ``none duplicated``. Values are ``"yes"``/``"NO"`` so that a notebook
    can print it under ``# NBVAL_CHECK_OUTPUT`` in quick and full mode alike.
    """
    t = loss_table(runs)
    checks = pd.DataFrame({
        "transport": t["transport"],
        "all published": t["published"] == t["scheduled"],
        "all delivered": t["delivered"] == t["expected"],
        "none lost": t["lost"] == 0,
        "none duplicated": t["duplicated"] == 0,  # (t.duplicated is a method)
    }).set_index("transport")
    return checks.replace({True: "yes", False: "NO"})


def overhead_table(runs: Runs) -> pd.DataFrame:
    """Overhead per delivered event (`OVERHEAD_COLUMNS`), indexed by transport."""
    t = runs_table(runs)
    return t.set_index("transport")[OVERHEAD_COLUMNS]


def latency_frame(runs: Runs) -> pd.DataFrame:
    """Long table of one-way latencies: ``transport``, ``label``, ``latency_us``.

    One row per first delivery after the warm-up (`Run.latency_us`), for
    ECDFs. ``transport`` is an ordered categorical in the order of the runs.
    """
    run_list = as_runs(runs)
    parts = [pd.DataFrame({"transport": r.transport, "label": transport_label(r),
                           "latency_us": r.latency_us().to_numpy(dtype=float)})
             for r in run_list]
    frame = pd.concat(parts, ignore_index=True)
    order = list(dict.fromkeys(r.transport for r in run_list))
    frame["transport"] = pd.Categorical(frame.transport, categories=order, ordered=True)
    return frame


def machine_caption(runs: Runs) -> str:
    """``Setup: <machine> | <versions>``, from the first run's manifest (a note
    is added if the runs were measured on different machines)."""
    run_list = as_runs(runs)
    first = run_list[0].manifest
    mach, ver = first["machine"], first["versions"]
    machine = f"{mach['cores']} cores, {mach['cpu']}, {mach['os']}"
    if any(r.manifest["machine"] != mach for r in run_list[1:]):
        machine += " (runs on different machines!)"
    versions = (f"Python {ver['python']}, websockets {ver.get('websockets', '?')}, "
                f"aiohttp {ver.get('aiohttp', '?')}, wslab {ver.get('wslab', '?')}")
    return f"Setup: {machine} | {versions}"


def setup_caption(runs: Runs) -> str:
    """One line stating machine, versions and parameters, from the manifests.

    Machine and versions as `machine_caption`; parameters shared by all runs
    are stated once, and a short-poll interval is named with its transport.
    """
    run_list = as_runs(runs)

    def shared(key: str) -> str:
        values = {_params(r)[key] for r in run_list}
        return _join(values)

    params = (f"{shared('clients')} clients, {shared('schedule')} schedule at "
              f"{shared('rate')} events/s for {shared('duration')} s, "
              f"{shared('payload')} B payload, seed {shared('seed')}, "
              f"first {_join({r.summary['warmup_s'] for r in run_list})} s excluded as warm-up")
    intervals = list(dict.fromkeys(  # each distinct interval once, in order
        f"{r.transport} T = {_fmt_s(_params(r)['interval'])}"
        for r in run_list if _params(r).get("interval")))
    if intervals:
        params += ", " + ", ".join(intervals)
    return f"{machine_caption(run_list)} | {params}"


def _join(values: set[Any]) -> str:
    # numbers in numeric order (1000 before 2500 before 10000), then the rest
    def order(v: Any) -> tuple[int, float, str]:
        return (0, v, "") if isinstance(v, int | float) else (1, 0, str(v))

    return " / ".join(f"{v:g}" if isinstance(v, float) else str(v)
                      for v in sorted(values, key=order))


@overload
def transit_us(data: Runs | pd.DataFrame, by: None = None,
               reference: str | None = None) -> float: ...


@overload
def transit_us(data: Runs | pd.DataFrame, by: str | Sequence[str],
               reference: str | None = None) -> pd.Series: ...


def transit_us(data: Runs | pd.DataFrame, by: str | Sequence[str] | None = None,
               reference: str | None = None) -> float | pd.Series:
    """The kit's one estimate of a one-way transit, in µs: the median, over the
    push runs, of each run's median one-way latency.

    A push transport sends each event when it is published, so its one-way
    latency is one transit (RFC 6202 §3.2): the network (or the impairment
    proxy), both stacks and the library's framing. That is the ``d`` of
    `wslab.models` (short poll: ``T/2 + d``; long poll: ``d`` to ``3d``).

    Args:
        data: runs (anything `as_runs` accepts) or a table with columns
            ``transport`` and ``latency_p50_us`` (`runs_table`,
            `wslab.Experiment.run`).
        by: column(s) to group by (``"rate"``, ``"delay"``): the result is
            then a Series indexed by them, named ``transit_us``; else a float.
        reference: a push transport whose runs alone make the estimate (the
            other push runs stand in for a group that has none).

    Raises:
        ConfigError: if there is no push run (in some group).
    """
    table = data if isinstance(data, pd.DataFrame) else runs_table(data)
    push = table[table["transport"].isin(transports.names("push"))]
    if reference is not None and reference not in transports.names("push"):
        raise ConfigError(f"reference must be a push transport "
                          f"({', '.join(transports.names('push'))}), not {reference!r}")
    if push.empty:
        raise ConfigError(f"no push run ({', '.join(transports.names('push'))}) "
                          "to estimate the transit from")
    if by is None:
        chosen = push[push["transport"] == reference] if reference else push
        return float((chosen if len(chosen) else push)["latency_p50_us"].median())
    keys = [by] if isinstance(by, str) else list(by)
    everyone = push.groupby(keys)["latency_p50_us"].median()
    missing = table[keys].drop_duplicates().set_index(keys).index.difference(everyone.index)
    if len(missing):
        raise ConfigError(f"no push run to estimate the transit from at {by} = "
                          f"{', '.join(map(str, missing))}")
    if reference:
        ref = push[push["transport"] == reference].groupby(keys)["latency_p50_us"].median()
        everyone = ref.reindex(everyone.index).fillna(everyone)
    return everyone.rename("transit_us")
