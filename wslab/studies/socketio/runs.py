"""Notebook 12's measurements: every section's runs, on real servers and clients.

Section 1 (`measure_compare`) runs the same seeded stream on every variant in
one server, `Plan.repeats` seeds. Section 2 (`measure_memory`) runs every
variant at several N (in full mode each run in a fresh server, as notebook 05
does: RSS a previous run grew would hide the next run's cost). Section 3
times the connection set-up (`measure_upgrade`) and the heartbeat
(`measure_heartbeat`), section 4 the faults (`measure_faults`).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from ...core.errors import WslabError
from ...runner.lab import Lab
from ...transports.base import ClientContext
from ...transports.socketio import connect_timed
from .planning import FAULT_CASES, MODES, VARIANTS, WS_PAIR, Plan, run_out, run_row

__all__ = ["ROOMS", "measure_compare", "measure_faults", "measure_heartbeat", "measure_memory",
           "measure_rooms", "measure_upgrade"]

#: section 1b: every event emitted to one room holding every client, or to this many rooms
#: (one ``emit(to=[...])``, the clients spread over them round robin)
ROOMS = (1, 10)


def measure_compare(p: Plan, seed: int = 1) -> pd.DataFrame:
    """Section 1: one row per run (`run_row`); within a repeat every variant
    gets the same seed, so they compare on the same Poisson stream."""
    rows = []
    with Lab() as lab:
        for k in range(p.repeats):
            for v in VARIANTS:
                run = lab.run(v.transport, clients=p.clients, rate=p.rate, duration=p.duration,
                              seed=seed + k, options=dict(v.options), progress=False,
                              out=run_out("compare", f"{v.name}-rep{k}"))
                rows.append(run_row(run, v.name, repeat=k, seed=seed + k))
    return pd.DataFrame(rows)


def measure_rooms(p: Plan, seed: int = 1) -> pd.DataFrame:
    """Section 1b: Socket.IO over WebSocket with its clients in one room or
    spread over `ROOMS`[1] rooms, every event emitted to all of them (the
    same deliveries: what the room bookkeeping costs); `Plan.repeats` seeds,
    at least 10 clients (a client per room)."""
    rows = []
    for rooms in ROOMS:
        with Lab(server_options={"socketio": {"rooms": rooms}}) as lab:
            for k in range(p.repeats):
                run = lab.run("socketio", clients=max(p.clients, 10), rate=p.rate,
                              duration=p.duration, seed=seed + k, options={"mode": "websocket"},
                              progress=False, out=run_out("rooms", f"rooms{rooms}-rep{k}"))
                rows.append(run_row(run, f"{rooms} room(s)", rooms=rooms, repeat=k,
                                    seed=seed + k))
    return pd.DataFrame(rows)


def measure_memory(p: Plan, seed: int = 1) -> pd.DataFrame:
    """Section 2: server RSS growth at each N (a low rate; the clients idle
    between events), in a fresh server per run in full mode."""
    sizes = [(v, n) for v in VARIANTS for n in p.ns]
    sizes += [(v, n) for v in VARIANTS if v.name in WS_PAIR for n in p.ns_pair]
    rows = []

    def one(lab: Lab, v: Any, n: int) -> dict[str, Any]:
        run = lab.run(v.transport, clients=n, rate=5.0, duration=2.0, seed=seed,
                      options=dict(v.options), keep_messages=False, progress=False,
                      out=run_out("memory", f"{v.name}-n{n}"))
        return run_row(run, v.name, repeat=0, seed=seed)

    if p.fresh_servers:
        for v, n in sizes:
            with Lab() as lab:
                rows.append(one(lab, v, n))
    else:
        with Lab() as lab:
            rows = [one(lab, v, n) for v, n in sizes]
    return pd.DataFrame(rows)


def measure_upgrade(p: Plan) -> pd.DataFrame:
    """Section 3a: `Plan.upgrade_samples` connections per mode, set up and
    closed one after another (`wslab.transports.socketio.connect_timed`): the
    seconds to the namespace's CONNECT and the kernel-counted bytes until then."""
    with Lab() as lab:
        url = lab.urls["socketio"]

        async def sample() -> list[dict[str, Any]]:
            out = []
            for i in range(p.upgrade_samples):
                for mode in MODES:  # interleaved: a drift in the machine hits every mode alike
                    ctx = ClientContext(i, url, {}, seed=i)
                    out.append({"sample": i, **await connect_timed(url, mode, ctx)})
            return out

        # its own thread: a notebook's kernel already runs an event loop in this one
        with ThreadPoolExecutor(1) as pool:
            return pd.DataFrame(pool.submit(asyncio.run, sample()).result())


def measure_heartbeat(p: Plan, seed: int = 1, clients: int = 4) -> pd.DataFrame:
    """Section 3b: the same slow stream (2 events/s) with Socket.IO's default
    heartbeat (25 s: none happens in the run) and with ``ping_interval``
    scaled down to `Plan.ping_interval`; one row per client: its bytes after
    set-up and its connected seconds."""
    rows = []
    for label, interval in (("default", 25.0), ("scaled", p.ping_interval)):
        opts = {} if label == "default" else {"ping_interval": interval,
                                             "ping_timeout": max(interval, 0.5)}
        with Lab(server_options={"socketio": opts}) as lab:
            for mode in ("websocket", "polling"):
                run = lab.run("socketio", clients=clients, rate=2.0, duration=p.idle_duration,
                              schedule="fixed", seed=seed, options={"mode": mode},
                              progress=False, out=run_out("heartbeat", f"{mode}-{label}"))
                c = run.connections
                for cid, g in c.groupby("client_id"):
                    rows.append({"mode": mode, "heartbeat": label, "ping_interval_s": interval,
                                 "client_id": int(cid),
                                 "bytes": int((g.bytes_up + g.bytes_down - g.setup_bytes).sum()),
                                 "connected_s": float(((g.closed_ns - g.opened_ns) / 1e9).sum()),
                                 "lost": int(run.summary["lost"])})
    return pd.DataFrame(rows)


def _fault_run(case: tuple[str, str, dict[str, Any], list[str]], p: Plan, seed: int
               ) -> dict[str, Any]:
    fault, transport, options, faults = case
    variant = transport + (f"/{options['mode']}" if "mode" in options else "")
    variant += " + resume" if options.get("resume") else ""
    row: dict[str, Any] = {"fault": fault, "variant": variant}
    try:
        with Lab() as lab:
            run = lab.run(transport, clients=3, rate=20.0, duration=p.fault_duration,
                          schedule="fixed", seed=seed, options=dict(options), faults=faults,
                          progress=False, out=run_out("faults", f"{fault}-{variant}"))
    except WslabError as exc:  # it could not connect at all: the reason is the result
        return {**row, "connected": False, "reason": str(exc).splitlines()[0][:80]}
    c, s = run.connections, run.summary
    return {**row, "connected": True, "reason": "",
            "published": int(s["published"]), "lost": int(s["lost"]),
            "lost_fraction": s["lost"] / max(s["published"] * s["clients"], 1),
            "duplicated": int(s["duplicated"]), "reconnects": int((c.fault_ns > 0).sum()),
            "failed_attempts": int(c.failed_attempts.sum()), "sessions": len(c)}


def measure_faults(p: Plan, seed: int = 1, workers: int = 3) -> pd.DataFrame:
    """Section 4: the plan's cases of `FAULT_CASES` once each, each on its own server
    (``workers`` at a time: losses and counts do not depend on timing noise)."""
    with ThreadPoolExecutor(workers) as pool:
        rows = list(pool.map(lambda k: _fault_run(FAULT_CASES[k], p, seed), p.fault_cases))
    return pd.DataFrame(rows)
