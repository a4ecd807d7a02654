"""Notebook 11's tables from the experiment's tidy table: every figure a mean
over repeats with a t interval and its n, model checks with computed verdicts.

`tidy` adds, per run, what the summary does not hold as a scalar: request
header bytes per poll (kernel-counted bytes up per request of the page's or
client's connections: a GET has no body, so that is the request line and
headers), the sockets the kernel saw, the mean recovery after a reset, the
WebSocket extensions negotiated, and client CPU per delivery (Chromium: its
own processes, `browser_cpu_us_per_event`; Python: the fleet process).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ... import stats
from ...models import faults as fm
from ...runner.store import load
from .plan import SESSION_COOKIE_BYTES, label_of

__all__ = ["COOKIE_LINE_BYTES", "EVENTSOURCE_RETRY_S", "PAGE_BACKOFF_BASE_S", "clock_table",
           "compare_table", "conclusions", "fault_table", "header_checks", "header_table", "recovery_checks",
           "run_extras", "tidy"]

#: "Cookie: " and CRLF around the jar's bytes in a request head (RFC 9112 section 5)
COOKIE_LINE_BYTES = len("Cookie: ") + 2
#: Chromium's EventSource reconnection time when the server sends no ``retry:``
EVENTSOURCE_RETRY_S = 3.0
#: the page's WebSocket backoff, attempt 0: 100 ms times U(0.5, 1) ("equal" jitter)
PAGE_BACKOFF_BASE_S = 0.1

METRICS = {"latency_p50_us": "latency p50 (ms)", "latency_p99_us": "latency p99 (ms)",
           "bytes_down_per_event": "bytes down / event", "bytes_up_per_event": "bytes up / event",
           "cpu_us_per_delivery": "client CPU / delivery (µs)"}


def run_extras(run: Any) -> dict[str, Any]:
    """Per-run figures from a run's tables (see the module docstring)."""
    s, c = run.summary, run.connections
    own = c[c.client_id >= 0]
    per_client = own.groupby("client_id")[["bytes_up", "requests"]].sum()
    per_client = per_client[per_client.requests > 0]
    back = c[c.fault_ns > 0]
    rec = _recoveries(run) if len(back) else np.array([])
    return {
        "header_bytes_per_poll": float((per_client.bytes_up / per_client.requests).median())
        if len(per_client) else float("nan"),
        "kernel_sockets": int(((c.bytes_up > 0) | (c.bytes_down > 0)).sum()),
        "page_reconnects": int(len(back)),
        "recovery_ms_mean": float(rec.mean() * 1e3) if len(rec) else float("nan"),
        "recovery_n": int(len(rec)),
        "transit_ms": float(s["latency_us"].get("p50", np.nan)) / 1e3,
        "ws_extensions": "; ".join(s.get("ws_extensions", [])) or "-",
        "browser": s.get("browser", "-"),
    }


def _recoveries(run: Any) -> np.ndarray:
    """Seconds from each reconnection's fault to its client's next delivery."""
    faults = run.connections.loc[run.connections.fault_ns > 0, ["client_id", "fault_ns"]]
    got = run.messages[["client_id", "received_ns"]].astype(np.int64).sort_values("received_ns")
    back = pd.merge_asof(faults.astype(np.int64).sort_values("fault_ns"), got,
                         left_on="fault_ns", right_on="received_ns", by="client_id",
                         direction="forward").dropna()
    return (back.received_ns - back.fault_ns).to_numpy(float) / 1e9


def tidy(table: pd.DataFrame) -> pd.DataFrame:
    """The experiment's table with ``group`` (`label_of`), ``cpu_us_per_delivery``
    and `run_extras` per run (each run loaded from its ``path``)."""
    t = table.copy()
    t["group"] = [label_of(r) for r in t.to_dict("records")]
    browser = t.get("browser_cpu_us_per_event", pd.Series(np.nan, index=t.index))
    python = t.client_cpu_s * 1e6 / t.delivered.clip(lower=1)
    t["cpu_us_per_delivery"] = np.where(t.client == "chromium", browser, python)
    extras = pd.DataFrame([run_extras(load(p)) for p in t.path], index=t.index)
    return pd.concat([t, extras], axis=1)


def _ci_rows(t: pd.DataFrame, by: list[str], metrics: dict[str, str]) -> pd.DataFrame:
    rows = []
    for key, g in t.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for col, name in metrics.items():
            scale = 1e-3 if col.endswith("_us") and "latency" in col else 1.0
            e = stats.mean_ci(g[col].dropna() * scale, unit="runs")
            rows.append({**dict(zip(by, key, strict=True)), "quantity": name,
                         "mean": e.value, "low": e.low, "high": e.high, "n": e.n})
    return pd.DataFrame(rows)


def compare_table(t: pd.DataFrame) -> pd.DataFrame:
    """Chromium beside the Python clients per transport: latency p50 and p99,
    bytes per event, client CPU per delivery; mean over runs [95 % t], n runs."""
    return _ci_rows(t[t.group == "compare"], ["transport", "client"], METRICS)


def _header_label(r: pd.Series) -> str:
    if r.client == "python":
        return ("python, replayed Chromium profile" if r.get("option_headers") == "browser"
                else "python (aiohttp)")
    return f"chromium, {int(r.cookies)} B of cookies" if r.cookies else "chromium, no cookie"


def header_table(t: pd.DataFrame) -> pd.DataFrame:
    """Request line + headers per short poll (bytes up per request), per client kind."""
    sp = t[(t.transport == "short-poll") & (t.group != "faults")].copy()
    sp["who"] = [_header_label(r) for _, r in sp.iterrows()]
    out = _ci_rows(sp, ["who"], {"header_bytes_per_poll": "request head per poll (B)"})
    return out.drop(columns="quantity")


def header_checks(t: pd.DataFrame) -> pd.DataFrame:
    """Model checks on the request head per poll: a cookie jar of N bytes adds
    N + `COOKIE_LINE_BYTES` to every poll's head (model from the measured head
    without cookies); and Chromium with the replayed profile's one cookie beside
    the replay's measured head (`wslab.core.profiles`, ``headers=browser``)."""
    sp = t[(t.transport == "short-poll") & (t.group != "faults")]
    real = sp[sp.client == "chromium"]
    bare = real[real.cookies == 0].header_bytes_per_poll.mean()
    replay = sp[(sp.client == "python") & (sp.get("option_headers") == "browser")]
    rows = []
    for n, g in real[real.cookies > 0].groupby("cookies"):
        measured = stats.mean_ci(g.header_bytes_per_poll, unit="runs")
        rows.append({"quantity": f"chromium head with {int(n)} B of cookies (B)",
                     "measured": measured, "model": bare + n + COOKIE_LINE_BYTES})
        if n == SESSION_COOKIE_BYTES and len(replay):
            rows.append({"quantity": f"chromium head with {int(n)} B vs the replayed profile (B)",
                         "measured": measured, "model": replay.header_bytes_per_poll.mean()})
    return stats.check_table(rows)


def clock_table(t: pd.DataFrame) -> pd.DataFrame:
    """Clock alignment bound and drift of the browser runs, per transport (µs)."""
    b = t[t.client == "chromium"]
    return _ci_rows(b, ["transport"], {"clock_alignment_us": "alignment bound (µs)",
                                       "clock_drift_us": "drift before/after (µs)"})


def fault_table(t: pd.DataFrame) -> pd.DataFrame:
    """Per transport, Chromium under resets: runs, lost and duplicated (sums),
    reconnections the pages saw, sockets the kernel saw, recoveries."""
    f = t[t.group == "faults"]
    g = f.groupby("transport", sort=False)
    sums = g[["published", "lost", "duplicated", "page_reconnects", "kernel_sockets",
              "clients", "recovery_n"]].sum()
    out = pd.concat([g.size().rename("runs"), sums], axis=1).rename(
        columns={"clients": "pages", "recovery_n": "recoveries"})
    out["exact"] = np.where((out["lost"] == 0) & (out["duplicated"] == 0), "lost 0, duplicated 0",
                            "LOSS")
    return out.reset_index()


def recovery_checks(t: pd.DataFrame) -> pd.DataFrame:
    """Mean recovery after a reset (per run, then over runs) beside
    `wslab.models.faults.recovery_mean`: WebSocket with the page's backoff,
    SSE with EventSource's retry; handshake = 2 round trips + one transit,
    the transit being the median latency of the same transport's fault-free
    Chromium runs (the faulty runs' own latency includes the outages)."""
    f = t[(t.group == "faults") & t.transport.isin(["websocket", "sse"])]
    rows = []
    for transport, g in f.groupby("transport", sort=False):
        base, jitter = ((PAGE_BACKOFF_BASE_S, "equal") if transport == "websocket"
                        else (EVENTSOURCE_RETRY_S, "none"))
        # the transit of the same transport in Chromium without faults: a faulty
        # run's own median latency carries the outages it is meant to explain
        calm = t[(t.group == "compare") & (t.client == "chromium") & (t.transport == transport)]
        h = 5 * float((calm if len(calm) else g).transit_ms.mean()) / 1e3
        rows.append({"quantity": f"{transport} recovery after a reset (ms)",
                     "measured": stats.mean_ci(g.recovery_ms_mean.dropna(), unit="runs"),
                     "model": fm.recovery_mean(base, jitter, 1 / float(g.rate.iloc[0]), h) * 1e3,
                     "tolerance": 0.05})
    return stats.check_table(rows)


def conclusions(faults: pd.DataFrame, heads: pd.DataFrame, limit: pd.DataFrame,
                recovery: pd.DataFrame) -> list[str]:
    """Sentences that follow from the printed tables (each computed from them)."""
    out = []
    for r in faults.itertuples():
        out.append(f"{r.transport} in Chromium under resets: {r.exact} over {r.runs} run(s), "
                   f"{r.page_reconnects} reconnections seen by the pages, "
                   f"{r.kernel_sockets} sockets seen by the kernel for {r.pages} pages.")
    for r in heads.itertuples():
        out.append(f"{r.quantity}: {r.verdict}.")
    for r in recovery.itertuples():
        out.append(f"{r.quantity}: {r.verdict}.")
    for r in limit.itertuples():
        out.append(f"{r.kind}: {r.got_events} of {r.streams} concurrent streams in one page got "
                   f"events within {r.bound_s:g} s (first stalled: {r.first_stalled}).")
    return out
