"""Tables of the handshake probes: 95 % intervals, sample sizes, the round-trip model, verdicts.

Samples are independent connections (each probe opens its own), so a mean's
interval is the t interval over samples (`wslab.stats.mean_ci`). The model
is `wslab.models.handshake` on the proxy's path (its SYN is answered on
loopback), anchored at the same transport's measured mean with no added
delay: ``model(d) = base + round trips * 2 d``. Its verdict allows a 5 %
tolerance: the proxy releases a delayed chunk on a timer of the event loop,
late by a scheduler tick.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ... import stats
from ...core.machine import machine_info, versions
from ...models import handshake as model
from .probe import STEPS

__all__ = ["TOLERANCE", "conclusions", "resumption_table", "setup_line", "step_table", "ttfe_checks",
           "ttfe_table"]

TOLERANCE = 0.05
_GROUP = ["tls", "transport", "delay_ms"]


def _version(tls: str) -> str | None:
    return None if tls == "clear" else tls


def ttfe_table(df: pd.DataFrame) -> pd.DataFrame:
    """Time to first event per (tls, transport, delay): mean, 95 % interval, n, the
    model's round trips and value (ms), the real network path's (one more round trip)."""
    base = df[df["delay_ms"] == 0].groupby(["tls", "transport"])["event_ms"].mean()
    rows: list[dict[str, Any]] = []
    for (tls, transport, delay), g in df.groupby(_GROUP, sort=False):
        est = stats.mean_ci(g["event_ms"].to_numpy(), unit="ms")
        b = float(base.get((tls, transport), float("nan")))
        one_way = delay / 1e3
        rows.append({"tls": tls, "transport": transport, "delay_ms": delay, "ttfe_ms": est.value,
                     "low": est.low, "high": est.high, "n": est.n,
                     "rtts": model.rtts_to_first_event(transport, _version(tls), "proxy"),
                     "model_ms": 1e3 * model.time_to_first_event(
                         transport, _version(tls), one_way, "proxy", b / 1e3),
                     "network_model_ms": 1e3 * model.time_to_first_event(
                         transport, _version(tls), one_way, "network", b / 1e3),
                     "estimate": est})
    return pd.DataFrame(rows)


def ttfe_checks(table: pd.DataFrame) -> pd.DataFrame:
    """`wslab.stats.check_table` of the delayed points (the 0 ms point is the anchor)."""
    rows = [{"tls": r.tls, "transport": r.transport, "delay_ms": r.delay_ms,
             "quantity": f"time to first event, {r.rtts} RTT (ms)", "measured": r.estimate,
             "model": r.model_ms, "tolerance": TOLERANCE}
            for r in table.itertuples() if r.delay_ms > 0]
    return stats.check_table(rows)


def step_table(df: pd.DataFrame, delay_ms: float) -> pd.DataFrame:
    """Each step's own duration (mean, ms, with its 95 % half-width) and bytes up and
    down (median: the bytes hardly vary) at one delay, per (tls, transport)."""
    sub = df[df["delay_ms"] == delay_ms]
    rows = []
    for (tls, transport), g in sub.groupby(["tls", "transport"], sort=False):
        prev = {"ms": 0.0, "up": 0.0, "down": 0.0}
        for step in STEPS:
            if g[f"{step}_ms"].isna().all():
                continue
            est = stats.mean_ci((g[f"{step}_ms"] - prev["ms"]).to_numpy(), unit="ms")
            up = float((g[f"{step}_up"] - prev["up"]).median())
            down = float((g[f"{step}_down"] - prev["down"]).median())
            rows.append({"tls": tls, "transport": transport, "step": step, "ms": est.value,
                         "ms_pm": est.half_width, "n": est.n, "bytes_up": up, "bytes_down": down})
            prev = {"ms": g[f"{step}_ms"], "up": g[f"{step}_up"], "down": g[f"{step}_down"]}
    return pd.DataFrame(rows).round({"ms": 1, "ms_pm": 1})


def resumption_table(df: pd.DataFrame) -> pd.DataFrame:
    """Full vs resumed handshakes per (tls, delay): mean duration with 95 % interval
    and n, the model (round trips x 2 d, anchored at the 0 ms mean of the same kind),
    its verdict, bytes up/down (median) and the fraction the server resumed."""
    base = df[df["delay_ms"] == 0].groupby(["tls", "kind"])["handshake_ms"].mean()
    rows = []
    for (tls, delay, kind), g in df.groupby(["tls", "delay_ms", "kind"], sort=False):
        est = stats.mean_ci(g["handshake_ms"].to_numpy(), unit="ms")
        rtts = model.tls_rtts(tls, resumed=kind == "resumed")
        expect = float(base.get((tls, kind), 0.0)) + rtts * 2 * delay
        rows.append({"tls": tls, "delay_ms": delay, "kind": kind, "handshake_ms": est.value,
                     "low": est.low, "high": est.high, "n": est.n, "rtts": rtts,
                     "model_ms": expect,
                     "verdict": stats.verdict(est, expect, TOLERANCE) if delay > 0 else "anchor",
                     "bytes_up": g["up"].median(), "bytes_down": g["down"].median(),
                     "resumed": g["reused"].mean()})
    return pd.DataFrame(rows)


def setup_line(**params: Any) -> str:
    """The caption's setup line: machine, versions, and the run's parameters."""
    m, v = machine_info(), versions()
    shown = ", ".join(f"{k}={val}" for k, val in params.items())
    return (f"Setup: {m['cores']} cores, {m['cpu']}, {m['os']} | Python {v['python']}, "
            f"websockets {v.get('websockets', '?')}, aiohttp {v.get('aiohttp', '?')} | {shown}")


def conclusions(checks: pd.DataFrame, steps: pd.DataFrame, subprotocols: pd.DataFrame,
                resumption: pd.DataFrame) -> list[str]:
    """One sentence per finding, each computed from the tables printed above it."""
    agree = (checks["verdict"].str.startswith("model inside")
             | checks["verdict"].str.contains("tolerance"))
    out = [f"Time to first event: {int(agree.sum())} of {len(checks)} delayed points agree with "
           f"the proxy-path round-trip model (inside the 95 % CI or within "
           f"{TOLERANCE:.0%} of it); the others: "
           + ("none" if agree.all() else "; ".join(
               f"{r.transport} {r.tls} {r.delay_ms:g} ms: {r.verdict}"
               for r in checks[~agree].itertuples()))]
    tls_bytes = steps[steps["step"] == "tls"].groupby("tls")[["bytes_up", "bytes_down"]].median()
    for mode, r in tls_bytes.iterrows():
        if mode != "clear":
            out.append(f"TLS {mode} handshake: {r.bytes_up:.0f} B up, {r.bytes_down:.0f} B down "
                       f"(median over transports) before the first request.")
    sub = subprotocols.set_index(["server supports", "client offers"])
    agreed = sub[(sub["status"] == 101) & (sub["chosen"] != "(none)")]
    if len(agreed):
        r = agreed.iloc[0]
        out.append(f"One subprotocol adds {r.added_up} B up and {r.added_down} B down to the "
                   f"opening handshake.")
    for (supported, offered), r in sub[sub["status"] != 101].iterrows():
        out.append(f"Server supports {supported}, client offers {offered}: HTTP {r.status} "
                   f"({r.reason.split(': ', 1)[-1]}), no connection.")
    for (tls, kind), g in resumption.groupby(["tls", "kind"], sort=False):
        out.append(f"TLS {tls} {kind}: session resumed in {g['resumed'].mean():.0%} of "
                   f"{int(g['n'].sum())} handshakes, {g['bytes_up'].median():.0f} B up / "
                   f"{g['bytes_down'].median():.0f} B down; time vs model: "
                   + "; ".join(f"{r.delay_ms:g} ms {r.verdict}" for r in g.itertuples()
                               if r.delay_ms > 0))
    return out
