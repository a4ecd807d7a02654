"""Transport fallback (claims C7, C11): what a negotiating client ends on behind a middlebox.

Notebook 08, its fallback sections. The `fallback` transport serves one stream
as ``/ws``, ``/sse`` and ``/long-poll`` and its client negotiates in one of two
orders (`ORDERS`): SignalR's *fall back* (try WebSocket, then SSE, then long
polling; the first that works carries the stream) or Engine.IO's *upgrade*
(poll at once, then try to upgrade to a WebSocket). Each order runs through
each proxy profile (`profiles`): no proxy fault, a proxy that strips
``Upgrade`` (RFC 9110 §7.8: it is hop-by-hop), a buffering proxy (nginx's
``proxy_buffering on``), both (nginx without WebSocket configuration), and a
proxy that resets every connection a fixed time after it opened.

`client_table` turns one run into one row per client: the transport it ended
on (its last connection row), the time from its first attempt to the first
connection of that transport (``switch_ms``) and to its first delivery
(``first_event_ms``), and the bytes and requests of its rows whose kind is not
the one it ended on (``failed_*``). `summary_table` sets these beside the
negotiation rule's prediction (`predicted_transport`) with intervals;
`check_models` compares them with the models: behind a buffering proxy the
fallback takes at least ``probe_timeout``; a refused WebSocket handshake costs
its request (websockets' own sans-I/O request for the run's URL) plus the
400 aiohttp answers without ``Upgrade`` (`refusal_bytes`, from a real aiohttp
server); a held SSE probe receives nothing.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...core.errors import ConfigError
from ...stats import Estimate, check_table, mean_ci

if TYPE_CHECKING:
    from ...experiment import Experiment
    from ...runner.store import Run

__all__ = ["BREAKS", "ORDERS", "FallbackPlan", "bytes_models", "check_models", "compact", "client_table", "clients_of",
           "clopper_pearson", "failed_bytes_model", "fallback_caption", "fallback_conclusions",
           "fallback_figure", "fallback_model_table", "fallback_plan", "predicted_transport",
           "profiles", "refusal_bytes", "request_bytes", "summary_table"]

#: the two negotiation orders, by the library whose order each is
ORDERS = {"fall back (SignalR)": "websocket,sse,long-poll",
          "upgrade (Engine.IO)": "long-poll,websocket"}
#: what each proxy fault breaks (tests/runner/test_faults.py shows each one)
BREAKS = {"strip_upgrade": frozenset({"websocket"}), "buffer": frozenset({"sse"})}
#: seconds a run takes besides publishing (Lab, proxy and fleet start, drain, write;
#: measured on a 2-core machine, for the wall-time estimate only)
RUN_OVERHEAD_S = 1.5


def profiles(reset_s: float) -> dict[str, list[str]]:
    """Proxy profile name -> faults; ``reset_s``: the periodic reset's period (s).

    ``none`` is the proxy with a zero-delay toxic: every profile then has the same
    hop and the same start (the Lab arms a proxy 0.2 s before publishing), so their
    times compare."""
    return {"none": ["latency:latency=0"], "strip_upgrade": ["strip_upgrade"], "buffer": ["buffer"],
            "strip_upgrade+buffer": ["strip_upgrade", "buffer"],
            f"reset every {reset_s:g} s": [f"reset_peer:timeout={reset_s:g}s"]}


def predicted_transport(order: str, faults: Iterable[str]) -> str:
    """The transport the negotiation rule ends on when ``faults`` break `BREAKS`.

    Fall back: the first kind in ``order`` not broken. Upgrade (``order``
    starts with long-poll): the first upgrade target not broken, else long
    polling (a failed upgrade leaves the client polling). A buffering proxy
    passes a long-poll response whole, so long polling is never broken here.
    """
    broken: set[str] = set()
    for fault in faults:
        broken |= BREAKS.get(fault.partition(":")[0], frozenset())
    kinds = order.split(",")
    if kinds[0] == "long-poll" and len(kinds) > 1:
        return next((k for k in kinds[1:] if k not in broken), "long-poll")
    works = [k for k in kinds if k not in broken]
    if not works:
        raise ConfigError(f"order {order!r} has no transport that survives {sorted(broken)}")
    return works[0]


# -- plan ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FallbackPlan:
    """Run sizes of the fallback sweep: every order x profile, ``repeats`` times."""

    quick: bool
    clients: int
    duration: float  # s of publishing per run
    rate: float  # events/s
    repeats: int
    probe_timeout: float  # s, the client's option
    reset_s: float  # the periodic reset's period
    seed: int

    @property
    def runs(self) -> int:
        return len(ORDERS) * len(profiles(self.reset_s)) * self.repeats

    def wall_s(self) -> float:
        """Estimated wall time: each run's publishing and overhead, plus the probe
        timeouts of the runs whose SSE probe is held back."""
        held = sum(1 for f in profiles(self.reset_s).values() if "buffer" in f
                   and "strip_upgrade" in f) * self.repeats
        return self.runs * (self.duration + RUN_OVERHEAD_S) + held * self.probe_timeout

    def describe(self) -> list[str]:
        mode = "QUICK mode (indicative only)" if self.quick else "full mode"
        unit = "runs (repeats)" if self.repeats > 1 else f"the {self.clients} clients of one run"
        return [f"{mode}: {len(ORDERS)} orders x {len(profiles(self.reset_s))} proxy profiles x "
                f"{self.repeats} repeat(s) = {self.runs} runs, {self.clients} clients each, "
                f"{self.duration:g} s at {self.rate:g} events/s, probe_timeout "
                f"{self.probe_timeout:g} s",
                f"intervals: t over {unit}; shares: Clopper-Pearson over clients",
                f"expected wall time ≈ {self.wall_s():.0f} s"]

    def experiment(self, name: str = "08_fallback", root: Any = None) -> Experiment:
        """The sweep as a resumable `Experiment` (one seed per repeat, shared by every trial)."""
        from ...experiment import Experiment

        trials: list[Mapping[str, Any]] = [
            {"options": {"order": order, "probe_timeout": self.probe_timeout}, "faults": faults}
            for order in ORDERS.values() for faults in profiles(self.reset_s).values()]
        return Experiment(name, trials=trials, repeats=self.repeats, seed=self.seed, root=root,
                          base={"transport": "fallback", "clients": self.clients,
                                "rate": self.rate, "duration": self.duration})


def fallback_plan(quick: bool, seed: int = 1) -> FallbackPlan:
    """Quick: one repeat of 4 clients for 1.5 s (about 30 s); full: 3 repeats of 8 clients
    for 4 s (about 3 min). Resets every 1 s: each client resets at least once while the
    stream flows (the same period in both modes keeps the profile names, hence the
    model table, the same)."""
    if quick:
        return FallbackPlan(True, 4, 1.5, 20.0, 1, 0.5, 1.0, seed)
    return FallbackPlan(False, 8, 4.0, 20.0, 3, 0.5, 1.0, seed)


# -- per client -----------------------------------------------------------------------------
def client_table(connections: pd.DataFrame, messages: pd.DataFrame) -> pd.DataFrame:
    """One row per client of one run.

    ``ends_on``: the kind of its last connection row; ``attempts``: its rows;
    ``switch_ms``: from its first row's opening to the first row of the kind it
    ended on (0 when the first attempt carried the stream); ``first_event_ms``:
    from its first row's opening to its first delivery (NaN without one);
    ``failed_bytes`` (up + down), ``failed_up``, ``failed_down`` and
    ``failed_requests``: over its rows of another kind than ``ends_on``;
    ``reconnects``: rows opened after a fault.
    """
    need = {"client_id", "opened_ns", "kind", "bytes_up", "bytes_down", "requests"}
    if not need <= set(connections.columns):
        raise ConfigError(f"connections need columns {sorted(need)}")
    first = messages.groupby("client_id").received_ns.min() if len(messages) else pd.Series()
    rows = []
    for cid, c in connections.sort_values(["client_id", "opened_ns"]).groupby("client_id"):
        final = c.kind.iloc[-1]
        other = c[c.kind != final]
        start = int(c.opened_ns.iloc[0])
        got = first.get(cid)
        rows.append({"client_id": int(cid), "ends_on": final, "attempts": len(c),
                     "switch_ms": (int(c.opened_ns[c.kind == final].iloc[0]) - start) / 1e6,
                     "first_event_ms": (int(got) - start) / 1e6 if got is not None else math.nan,
                     "failed_up": int(other.bytes_up.sum()),
                     "failed_down": int(other.bytes_down.sum()),
                     "failed_requests": int(other.requests.sum()),
                     "reconnects": int((c.fault_ns > 0).sum()) if "fault_ns" in c else 0})
    out = pd.DataFrame(rows)
    if len(out):
        out["failed_bytes"] = out.failed_up + out.failed_down
    return out


def _labels(run: Run, reset_s: float) -> tuple[str, str]:
    params = run.manifest["parameters"]
    order = params["options"]["order"]
    faults = list(params.get("faults") or [])
    found = [n for n, f in profiles(reset_s).items() if f == faults]
    orders = [n for n, o in ORDERS.items() if o == order]
    if not found or not orders:
        raise ConfigError(f"{run.path.name}: order {order!r} / faults {faults} is not in the plan")
    return orders[0], found[0]


def clients_of(runs: Sequence[Run], reset_s: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clients, runs): `client_table` of every run with ``order``, ``profile``, ``run``
    and ``predicted`` columns, and one row per run with its summary's loss counts."""
    per_client, per_run = [], []
    for k, run in enumerate(runs):
        order, profile = _labels(run, reset_s)
        faults = profiles(reset_s)[profile]
        t = client_table(run.connections, run.messages)
        t.insert(0, "seed", run.manifest["parameters"]["seed"])  # one per repeat
        t.insert(0, "run", k)
        t.insert(0, "profile", profile)
        t.insert(0, "order", order)
        t["predicted"] = predicted_transport(ORDERS[order], faults)
        per_client.append(t)
        s = run.summary
        url = run.manifest.get("netem", {}).get("proxied_url", "")
        per_run.append({"order": order, "profile": profile, "run": k,
                        "seed": run.manifest["parameters"]["seed"], "url": url,
                        "published": s["published"], "delivered": s["delivered"],
                        "lost": s["lost"], "duplicated": s["duplicated"]})
    return pd.concat(per_client, ignore_index=True), pd.DataFrame(per_run)


# -- intervals ----------------------------------------------------------------------------
def _binom_tail(k: int, n: int, p: float) -> float:
    """P(Bin(n, p) >= k)."""
    return float(sum(math.comb(n, i) * p**i * (1 - p)**(n - i) for i in range(k, n + 1)))


def _solve(f: Any, target: float) -> float:
    lo, hi = 0.0, 1.0  # f increases in p
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return (lo + hi) / 2


def clopper_pearson(k: int, n: int, level: float = 0.95, *,
                    unit: str = "clients") -> Estimate:
    """The share ``k / n`` with its exact (Clopper-Pearson) binomial interval."""
    if not (isinstance(n, int) and isinstance(k, int) and 0 <= k <= n and n > 0):
        raise ConfigError(f"need integers 0 <= k <= n, n > 0, not k={k!r}, n={n!r}")
    a = (1 - level) / 2
    low = 0.0 if k == 0 else _solve(lambda p: _binom_tail(k, n, p), a)
    high = 1.0 if k == n else _solve(lambda p: _binom_tail(k + 1, n, p), 1 - a)
    return Estimate(k / n, low, high, n, f"Clopper-Pearson over {unit}", level)


def _mean(group: pd.DataFrame, column: str) -> Estimate:
    """Mean of ``column`` with its t interval over runs (each run's mean over its
    clients is one value: clients of one run share its start and machine state),
    or over the clients when the group has one run."""
    g = group.dropna(subset=[column])
    if g.run.nunique() > 1:
        return mean_ci(g.groupby("run")[column].mean(), unit="runs")
    return mean_ci(g[column], unit="clients of one run")


def _ends_on(group: pd.DataFrame) -> str:
    counts = group.ends_on.value_counts()
    if len(counts) == 1:
        return f"{counts.index[0]} for every client ({counts.iloc[0]}/{len(group)})"
    return ", ".join(f"{kind} {n}/{len(group)}" for kind, n in counts.items())


def summary_table(clients: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per order x profile: what the clients ended on (computed), the share
    ending on the predicted transport with its interval, time to first event,
    switch time, failed-attempt bytes and requests per client (mean, 95 % CI, n),
    and the runs' lost and duplicated events."""
    rows = []
    for (order, profile), g in clients.groupby(["order", "profile"], sort=False):
        r = runs[(runs.order == order) & (runs.profile == profile)]
        share = clopper_pearson(int((g.ends_on == g.predicted).sum()), len(g))
        row: dict[str, Any] = {"order": order, "profile": profile, "ends_on": _ends_on(g),
                               "predicted": g.predicted.iloc[0],
                               **share.as_dict("as_predicted")}
        for col in ("first_event_ms", "switch_ms", "failed_bytes", "failed_requests"):
            row.update(_mean(g, col).as_dict(col))
        row.update(runs=len(r), lost=int(r["lost"].sum()),
                   duplicated=int(r["duplicated"].sum()))
        rows.append(row)
    return pd.DataFrame(rows)


# -- models ---------------------------------------------------------------------------------
def request_bytes(url: str, since: int = 0, compression: bool = False) -> int:
    """Bytes of the opening handshake the kit's websockets client sends to ``url``
    (``http://host:port/``), from websockets' own sans-I/O client with the
    headers `websockets.asyncio.client.connect` adds (its User-Agent; the
    permessage-deflate offer only with ``compression``: the fallback client,
    like the websocket transport, connects without it)."""
    from websockets.client import ClientProtocol
    from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
    from websockets.http11 import USER_AGENT
    from websockets.uri import parse_uri

    ws = url.rstrip("/").replace("http://", "ws://", 1) + f"/ws?since={since}"
    proto = ClientProtocol(parse_uri(ws), extensions=enable_client_permessage_deflate(None)
                           if compression else None)
    request = proto.connect()
    request.headers["User-Agent"] = USER_AGENT
    proto.send_request(request)
    return len(b"".join(proto.data_to_send()))


async def _refusal(url: str) -> tuple[int, int]:
    from aiohttp import web
    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    from ...net.http1 import Head, strip_upgrade

    async def ws(request: web.Request) -> web.StreamResponse:
        response = web.WebSocketResponse()
        await response.prepare(request)  # 400 without Upgrade, as the kit's /ws
        return response

    app = web.Application()
    app.router.add_get("/ws", ws)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws?since=0"))
        req = proto.connect()
        head = Head(f"GET {req.path} HTTP/1.1".encode(),
                    [(k.encode(), v.encode()) for k, v in req.headers.raw_items()], b"")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(strip_upgrade(head).render())  # what the proxy forwards
        response = await reader.readuntil(b"\r\n\r\n")
        length = next(int(v) for k, _, v in (line.partition(b":") for line in
                                              response.split(b"\r\n"))
                      if k.strip().lower() == b"content-length")
        response += await reader.readexactly(length)
        writer.close()
        return request_bytes(url), len(response)
    finally:
        await runner.cleanup()


def refusal_bytes(url: str) -> tuple[int, int]:
    """(up, down) bytes of a WebSocket handshake refused behind a proxy that strips
    ``Upgrade``: the client's request for ``url`` (`request_bytes`) and the
    response a real aiohttp server (127.0.0.1, port 0) gives the stripped request.
    Runs its own event loop in a thread (a notebook's kernel has one running)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _refusal(url)).result(timeout=30)


def fallback_model_table(reset_s: float, url: str = "http://127.0.0.1:40000/") -> pd.DataFrame:
    """Model only: per order and profile, what the proxy breaks, the transport the
    negotiation rule ends on, and the bytes per client spent on other kinds of attempt
    where that model is complete (`failed_bytes_model`; ``url``: a 5-digit port, as
    every ephemeral port is)."""
    up, down = refusal_bytes(url)
    rows = []
    for name, order in ORDERS.items():
        for profile, faults in profiles(reset_s).items():
            broken = sorted(set().union(*(BREAKS.get(f.partition(":")[0], set())
                                          for f in faults)))
            rows.append({"order": name, "profile": profile, "breaks": ",".join(broken) or "-",
                         "predicted": predicted_transport(order, faults),
                         "failed_bytes_model": failed_bytes_model(order, faults, up + down)})
    return pd.DataFrame(rows)


def fallback_caption(runs: Sequence[Run], plan: FallbackPlan) -> str:
    """The setup line of the figure: machine, versions, run parameters, client options."""
    from ...analysis import setup_caption

    return (f"{setup_caption(list(runs))} | fallback client probe_timeout "
            f"{plan.probe_timeout:g} s; {len(runs)} runs ({plan.repeats} per order x profile)")


def _shift(e: Estimate, by: float) -> Estimate:
    return Estimate(e.value + by, e.low + by, e.high + by, e.n, e.method, e.level)


def _rows_vs_model(excess: pd.Series) -> str:
    """How many rows equal the model, and by how many bytes the others miss."""
    counts = excess.astype(int).value_counts().sort_index()
    return ", ".join(f"{n}/{len(excess)} rows " + ("equal model" if d == 0 else f"at {d:+d} B")
                     for d, n in counts.items())


def _over_clean(clients: pd.DataFrame, g: pd.DataFrame) -> pd.DataFrame:
    """``g``'s time to first event minus the clean path's (profile ``none``, same order,
    same repeat: same schedule), per client, in s (``delta_s``)."""
    clean = clients[(clients.order == g.order.iloc[0]) & (clients.profile == "none")]
    base = clean.groupby("seed").first_event_ms.mean()
    return g.assign(delta_s=(g.first_event_ms - g.seed.map(base)) / 1e3)


def _bound(values: pd.Series, low: float) -> str:
    below = int((values < low).sum())
    return (f"all {len(values)} >= model" if not below
            else f"{below}/{len(values)} below model")


def check_models(clients: pd.DataFrame, runs: pd.DataFrame,
                 connections: Mapping[int, pd.DataFrame], probe_timeout: float) -> pd.DataFrame:
    """Measured against the models, with computed verdicts (see the module docstring).

    ``connections``: run index -> that run's connection rows. Rows: the switch
    time where the SSE probe is held (model: ``probe_timeout``, a lower bound:
    ``bounds`` checks every client); the time to first event over the clean path
    behind ``strip_upgrade+buffer`` (paired by repeat: same schedule), at least
    ``probe_timeout`` for the fall-back order and below it for the upgrade order,
    whose events flow from its first poll; the refused handshake's up and down bytes
    (model: `refusal_bytes` of the run's proxy URL; ``bounds`` counts the rows
    equal to it); the bytes a held SSE probe received (model 0).
    """
    out = []
    held = clients[(clients.predicted == "long-poll") & (clients.order == next(iter(ORDERS)))]
    for order, g in held.groupby("order"):
        est = _mean(g.assign(switch_s=g.switch_ms / 1e3), "switch_s")
        out.append({"order": order, "profile": g.profile.iloc[0], "bound": "lower",
                    "quantity": "switch time (s)", "measured": est,
                    "model": probe_timeout, "bounds": _bound(g.switch_ms / 1e3, probe_timeout)})
    for order, g in clients[clients.profile == "strip_upgrade+buffer"].groupby("order", sort=False):
        delta = _over_clean(clients, g).dropna(subset=["delta_s"])
        if delta.empty:  # no clean path measured in the same repeat
            continue
        fall = order == next(iter(ORDERS))
        out.append({"order": order, "profile": g.profile.iloc[0],
                    "bound": "lower" if fall else "upper",
                    "quantity": "time to first event over none (s)",
                    "measured": _mean(delta, "delta_s"), "model": probe_timeout,
                    "bounds": _bound(delta.delta_s, probe_timeout) if fall
                    else _bound(-delta.delta_s, -probe_timeout).replace(">=", "<")})
    down_model = None
    for (order, profile), r in runs.groupby(["order", "profile"], sort=False):
        rows = pd.concat([connections[k].assign(run=k) for k in r.run], ignore_index=True)
        # behind strip_upgrade every WebSocket handshake is refused
        refused = rows[rows.kind == "websocket"] if "strip_upgrade" in profile else rows[:0]
        if len(refused):
            if down_model is None:
                down_model = refusal_bytes(r.url.iloc[0])[1]
            # the request names the proxy's port: its model is per run
            up = refused.run.map({k: request_bytes(u) for k, u in zip(r.run, r.url,
                                                                       strict=True)})
            for side, model in (("up", up), ("down", pd.Series(down_model, index=up.index))):
                col = f"bytes_{side}"
                excess = refused.assign(x=refused[col] - model)
                out.append({"order": order, "profile": profile, "bound": "",
                            "quantity": f"refused handshake, bytes {side}",
                            "measured": _shift(_mean(excess, "x"), float(model.mean())),
                            "model": float(model.mean()),
                            "bounds": _rows_vs_model(excess.x)})
        probes = rows[(rows.kind == "sse") & (rows.responses == 0)]
        if len(probes):
            est = _mean(probes, "bytes_down")
            out.append({"order": order, "profile": profile, "bound": "",
                        "quantity": "held SSE probe, bytes down", "measured": est,
                        "model": 0.0, "bounds": _rows_vs_model(probes.bytes_down)})
    table = check_table(out)
    for i, r in table[table.bound != ""].iterrows():
        table.loc[i, "verdict"] = _bound_verdict(r.low, r.high, r.model, r.bound)
    return table


def _bound_verdict(low: float, high: float, bound: float, side: str) -> str:
    """Where a bound lies relative to the interval: the model is a ``side`` bound."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "no interval"
    holds = low >= bound if side == "lower" else high <= bound
    broken = high < bound if side == "lower" else low > bound
    return (f"{side} bound holds (CI {'above' if side == 'lower' else 'below'} it)" if holds
            else f"{side} bound violated" if broken else f"{side} bound inside 95 % CI")


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """`summary_table` for printing: each estimate as ``mean [low, high]``, n apart."""
    def fmt(r: Any, col: str, digits: int) -> str:
        lo, hi = r[f"{col}_low"], r[f"{col}_high"]
        ci = f" [{lo:.{digits}f}, {hi:.{digits}f}]" if math.isfinite(lo) else ""
        return f"{r[col]:.{digits}f}{ci}"

    out = table[["order", "profile", "ends_on"]].copy()
    for col, name, digits in (("as_predicted", "share as predicted", 2),
                              ("first_event_ms", "first event ms", 1),
                              ("switch_ms", "switch ms", 1), ("failed_bytes", "other-kind B", 1),
                              ("failed_requests", "other-kind requests", 2)):
        out[name] = [fmt(r, col, digits) for _, r in table.iterrows()]
    out["n"] = table.first_event_ms_n
    out["lost dup"] = [f"{a} {b}" for a, b in zip(table["lost"], table["duplicated"],
                                                  strict=True)]
    return out


def bytes_models(runs: pd.DataFrame, reset_s: float) -> dict[tuple[str, str], float]:
    """(order, profile) -> `failed_bytes_model`, the refusal's bytes from the first
    run's proxy URL."""
    up, down = refusal_bytes(runs.url.iloc[0])
    return {(name, profile): failed_bytes_model(order, faults, up + down)
            for name, order in ORDERS.items() for profile, faults in profiles(reset_s).items()}


# -- figure and conclusions -------------------------------------------------------------------
def failed_bytes_model(order: str, faults: Iterable[str], refusal: int) -> float:
    """Bytes per client on attempts not ended on, where the model is complete: each
    attempt before the predicted transport is a WebSocket handshake refused behind
    ``strip_upgrade`` (``refusal`` bytes, `refusal_bytes` up + down) and the client
    makes no other (a reset path's reconnections negotiate the same way again, on
    the same kind). NaN where another kind of attempt comes first (a held SSE probe,
    the upgrade order's opening poll)."""
    faults = list(faults)
    final = predicted_transport(order, faults)
    kinds = order.split(",")
    if kinds[0] == "long-poll" and len(kinds) > 1:
        if final != "long-poll":
            return math.nan  # the opening poll is an attempt of another kind
        before = kinds[1:]
    else:
        before = kinds[:kinds.index(final)]
    if any(k != "websocket" for k in before):
        return math.nan
    return float(refusal * len(before))


def fallback_figure(table: pd.DataFrame, probe_timeout: float,
                    bytes_model: Mapping[tuple[str, str], float]) -> Any:
    """Two panels, proxy profile on x and one marker per order: time to first event and
    bytes on attempts not ended on, per client, each a mean with its 95 % interval (n in
    the legend), beside the models: the clean path plus ``probe_timeout`` as a lower
    bound where the SSE probe is held, and ``bytes_model`` ((order, profile) -> bytes,
    `failed_bytes_model`) where it is complete."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    names = list(dict.fromkeys(table.profile))
    x = np.arange(len(names))
    models: dict[str, list[tuple[float, float]]] = {"time": [], "bytes": []}
    for k, (order, g) in enumerate(table.groupby("order", sort=False)):
        g = g.set_index("profile").reindex(names)
        dx = x + (k - 0.5) * 0.2
        unit = "runs" if g["runs"].iloc[0] > 1 else "clients of one run"
        for ax, col in zip(axes, ("first_event_ms", "failed_bytes"), strict=True):
            y = g[col].to_numpy(float)
            err = np.vstack([y - g[f"{col}_low"], g[f"{col}_high"] - y])
            ax.errorbar(dx, y, yerr=np.nan_to_num(err), fmt="os"[k], capsize=4,
                        label=f"{order}: mean, 95 % CI, n={int(g[f'{col}_n'].min())} {unit}")
        held = (g.predicted == "long-poll") & (order == next(iter(ORDERS)))
        clean = g.first_event_ms.iloc[0]
        models["time"] += [(d, clean + probe_timeout * 1e3) for d in dx[held.to_numpy()]]
        models["bytes"] += [(d, bytes_model.get((order, p), math.nan)) for d, p in zip(dx, names,
                                                                                      strict=True)]
    for ax, key, label in ((axes[0], "time", f"model lower bound: clean path + probe_timeout "
                            f"({probe_timeout:g} s)"),
                           (axes[1], "bytes", "model: refused handshakes (request + 400)")):
        pts = np.array([p for p in models[key] if math.isfinite(p[1])]).reshape(-1, 2)
        ax.scatter(pts[:, 0], pts[:, 1], marker="_", s=500, color="grey", zorder=0, label=label)
    axes[0].set_ylabel("first attempt → first delivery (ms)")
    axes[0].set_title("time to first event")
    axes[1].set_ylabel("bytes per client (up + down)")
    axes[1].set_title("spent on attempts of another kind than the final one")
    for ax in axes:
        ax.set_xticks(x, names, rotation=15)
        ax.set_xlabel("proxy profile")
        ax.set_ylim(0, 1.45 * ax.get_ylim()[1])  # room for the legend
        ax.legend(fontsize=8, loc="upper left")
    return fig


def fallback_conclusions(table: pd.DataFrame, checks: pd.DataFrame) -> list[str]:
    """Summary lines computed from `summary_table` and `check_models`."""
    ok = table[table.as_predicted_n > 0]
    agree = ok[ok.as_predicted == 1.0]
    lines = [f"{len(agree)}/{len(ok)} order x profile cells: every client ended on the "
             "transport the negotiation rule predicts"
             + ("" if len(agree) == len(ok) else "; not: " + "; ".join(
                 f"{r.order} / {r.profile}: {r.ends_on}" for r in ok[ok.as_predicted < 1]
                 .itertuples()))]
    lossy = table[(table["lost"] > 0) | (table["duplicated"] > 0)]
    lines.append(f"lost/duplicated: 0 0 in all {int(table.runs.sum())} runs" if lossy.empty
                 else "lost/duplicated not 0 0 in: " + "; ".join(
                     f"{r.order} / {r.profile} ({r.lost} {r.duplicated})"
                     for r in lossy.itertuples()))
    for r in checks.itertuples():
        where = f"{r.order} / {r.profile}"
        lines.append(f"{r.quantity} ({where}): {r.verdict}; {r.bounds}")
    return lines
