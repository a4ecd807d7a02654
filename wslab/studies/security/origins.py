"""Section 1 of notebook 10: who answers a page from another origin (C10).

Every endpoint of one server gets what a browser page would send (the
WebSocket opening handshake, or a ``GET`` and a CORS preflight ``OPTIONS``;
`wslab.net.hostile.origin`) with three ``Origin`` values: none (a
non-browser client), the allowed page's and a foreign page's; once on a
server with its defaults (policy off) and once with the policy on: an
``Origin`` allow-list on the three WebSocket libraries and the fallback's
``/ws`` (server option ``origins``), and CORS for the allowed page on the
HTTP endpoints (server option ``cors``: ``Access-Control-Allow-Origin`` when
the request's ``Origin`` is that page's). Before the probes a short run gives
the stream a history, so a ``GET`` that is served returns events.

The rules under test. `expected_answer`: an allow-list refuses a foreign
``Origin`` with 403 before the upgrade (RFC 6455 §4.2.2 item 4); nothing
else refuses by ``Origin``: the HTTP endpoints serve the ``GET`` whatever
its ``Origin`` and have no preflight handler (405). `expected_read`: what
the browser then lets the page read (a WebSocket once it is open, CORS not
applying; an HTTP answer only with an ``Access-Control-Allow-Origin`` naming
the page); a client without ``Origin`` is no page and reads what it gets.
"""

from __future__ import annotations

import asyncio

import pandas as pd

from ...net.hostile.campaign import attackable
from ...net.hostile.origin import cross_origin
from ...runner.lab import Lab
from ...runner.store import Run
from ._sync import run_sync
from .paths import run_out

__all__ = ["ALLOWED", "FOREIGN", "HTTP_SERVERS", "ORIGINS", "WS_SERVERS", "expected_answer",
           "expected_read", "measure_origins", "origin_table", "policy_options", "read_table"]

ALLOWED = "http://127.0.0.1:8000"  # the site's own page (in the allow-list)
FOREIGN = "http://evil.example"  # another site's page
#: the Origin header sent, by column: none (no header), the allowed page's, a foreign page's
ORIGINS: dict[str, str | None] = {"none": None, "allowed": ALLOWED, "foreign": FOREIGN}
#: the servers an allow-list applies to (server option ``origins``)
WS_SERVERS = ("websocket", "aiohttp-ws", "picows", "fallback")
#: the servers CORS applies to (server option ``cors``)
HTTP_SERVERS = ("sse", "long-poll", "short-poll", "fallback")


def policy_options() -> dict[str, dict[str, object]]:
    """Server options with the policy on: the allow-list on every WebSocket
    server (the allowed page, and ``None`` for clients that send no Origin, as
    the kit's own) and CORS for the allowed page on every HTTP server."""
    opts: dict[str, dict[str, object]] = {n: {"origins": [None, ALLOWED]} for n in WS_SERVERS}
    for name in HTTP_SERVERS:
        opts.setdefault(name, {})["cors"] = ALLOWED
    return opts


def expected_answer(request: str, origin: str, policy: bool) -> str:
    """The answer the rule predicts for ``request`` (``upgrade``, ``GET`` or
    ``OPTIONS preflight``) with Origin column ``origin`` (a key of `ORIGINS`)."""
    if request == "upgrade":
        return "HTTP 403" if policy and origin == "foreign" else "HTTP 101"
    return "HTTP 200" if request == "GET" else "HTTP 405"


def expected_read(request: str, origin: str, policy: bool) -> bool | None:
    """May the requester read the answer? (``None`` for a preflight: its 405
    fails it whatever the headers.)"""
    if request == "upgrade":
        return expected_answer(request, origin, policy) == "HTTP 101"
    if request == "GET":
        return origin == "none" or (policy and origin == "allowed")
    return None


async def _probe_all(urls: dict[str, str], timeout: float) -> list[dict]:
    # every (Origin, endpoint) at once: each probe waits up to ``timeout`` for data
    jobs = [(key, name) for key in ORIGINS for name in urls]
    found = await asyncio.gather(*(cross_origin({name: urls[name]}, ORIGINS[key], timeout)
                                   for key, name in jobs))
    # "origin": the column's key; "origin_sent": the header's value (None: absent)
    return [{**row, "origin_sent": row["origin"], "origin": key}
            for (key, _), rows in zip(jobs, found, strict=True) for row in rows]


def measure_origins(timeout: float = 0.3, seed: int = 1) -> tuple[pd.DataFrame, Run]:
    """Probe every endpoint with every Origin column, policy off then on. One
    row per (policy, origin, endpoint, request): `cross_origin`'s columns.
    Returns the rows and the history run (of the policy-on server)."""
    rows = []
    for policy in (False, True):
        with Lab(server_options=policy_options() if policy else None) as lab:
            if policy:  # a history, so that a served GET returns events (bytes shown)
                run = lab.run("websocket", clients=1, rate=50, duration=0.2, seed=seed,
                              progress=False, out=run_out("origins_history"))
            rows += [{"policy": policy, **r} for r in run_sync(_probe_all(
                attackable(lab.urls), timeout))]
    return pd.DataFrame(rows), run


def _wide(df: pd.DataFrame, value: str, origins: tuple[str, ...]) -> pd.DataFrame:
    keys = list(dict.fromkeys(zip(df["endpoint"], df["request"], strict=True)))
    col = df["origin"] + df["policy"].map({False: " / off", True: " / on"})
    wide = df.assign(col=col).set_index(["endpoint", "request", "col"])[value].unstack("col")
    wide = wide.loc[keys, [f"{o} / {a}" for a in ("off", "on") for o in origins]]
    wide.columns.name = None
    return wide


def _verdicts(df: pd.DataFrame, measured: str, expected: str) -> pd.Series:
    """Per (endpoint, request): "as expected", or the cells that differ."""
    col = df["origin"] + df["policy"].map({False: " / off", True: " / on"})
    bad = df[expected].notna() & (df[measured] != df[expected])
    out = {}
    for key, g in df.assign(col=col, bad=bad).groupby(["endpoint", "request"], sort=False):
        wrong = g[g["bad"]]
        out[key] = ("as expected" if wrong.empty else ", ".join(
            f"{c}: {m} (expected {e})" for c, m, e in
            zip(wrong["col"], wrong[measured], wrong[expected], strict=True)))
    return pd.Series(out)


def origin_table(rows: pd.DataFrame) -> pd.DataFrame:
    """What the server answered: one row per endpoint and request, a column per
    Origin (none, allowed, foreign) and policy (off, on), and a computed
    verdict against `expected_answer`."""
    df = rows.assign(expected=[expected_answer(q, o, p) for q, o, p in zip(
        rows["request"], rows["origin"], rows["policy"], strict=True)])
    wide = _wide(df, "answer", tuple(ORIGINS))
    wide["verdict"] = _verdicts(df, "answer", "expected")
    return wide.reset_index()


def read_table(rows: pd.DataFrame) -> pd.DataFrame:
    """What a browser page may read of those answers (CORS, from the measured
    ``Access-Control-Allow-Origin``; a WebSocket once it is open), for the
    allowed and the foreign page, policy off and on; the bytes of events a
    foreign page's ``GET`` was served (policy on) whether it may read them or
    not; and a computed verdict against `expected_read` (preflights: none)."""
    df = rows.assign(expected=[expected_read(q, o, p) for q, o, p in zip(
        rows["request"], rows["origin"], rows["policy"], strict=True)])
    df = df[df["request"] != "OPTIONS preflight"]
    wide = _wide(df, "page_can_read", ("allowed", "foreign"))
    foreign = df[(df["origin"] == "foreign") & df["policy"]].set_index(["endpoint", "request"])
    served = foreign["body_bytes"].where(foreign["answer"] == "HTTP 200")
    wide["foreign GET served B"] = served.astype("Int64")  # <NA>: not an HTTP GET
    wide["verdict"] = _verdicts(df, "page_can_read", "expected")
    return wide.reset_index()
