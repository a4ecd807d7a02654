"""Section 1 of notebook 10: who answers a page from another origin (C10).

Every endpoint of one server gets what a browser page would send (the
WebSocket opening handshake, or a ``GET`` and a CORS preflight ``OPTIONS``;
`wslab.net.hostile.origin`) with three ``Origin`` values: none (a
non-browser client), the allowed page's and a foreign page's; once on a
server without an allow-list and once on a server whose three WebSocket
libraries (and the fallback's ``/ws``) carry one. Before the probes a short
run gives the stream a history, so a ``GET`` that is served returns events.

`expected_answer` is the rule under test: an allow-list refuses a foreign
``Origin`` with 403 before the upgrade (RFC 6455 §4.2.2 item 4); nothing
else looks at ``Origin``; the HTTP endpoints answer the ``GET`` (no CORS
headers: the browser hides the answer from the page, after the server has
served it) and have no preflight handler (405).
"""

from __future__ import annotations

import asyncio

import pandas as pd

from ...net.hostile.campaign import ENDPOINTS
from ...net.hostile.origin import cross_origin
from ...runner.lab import Lab
from ...runner.store import Run
from ._sync import run_sync
from .paths import run_out

__all__ = ["ALLOWED", "FOREIGN", "ORIGINS", "WS_SERVERS", "allow_list_options", "attackable",
           "expected_answer", "measure_origins", "origin_table"]

ALLOWED = "http://127.0.0.1:8000"  # the site's own page (in the allow-list)
FOREIGN = "http://evil.example"  # another site's page
#: the Origin header sent, by column: none (no header), the allowed page's, a foreign page's
ORIGINS: dict[str, str | None] = {"none": None, "allowed": ALLOWED, "foreign": FOREIGN}
#: the servers an allow-list applies to (server option ``origins``)
WS_SERVERS = ("websocket", "aiohttp-ws", "picows", "fallback")


def allow_list_options() -> dict[str, dict[str, list[str | None]]]:
    """Server options with the allow-list on every WebSocket server: the allowed
    page, and ``None`` for clients that send no Origin (the kit's own)."""
    return {name: {"origins": [None, ALLOWED]} for name in WS_SERVERS}


def attackable(urls: dict[str, str]) -> dict[str, str]:
    """The endpoints of ``urls`` (``Lab.urls``) the hostile probes know how to
    attack (`wslab.net.hostile.campaign.ENDPOINTS`), in their order."""
    return {name: urls[name] for name in ENDPOINTS if name in urls}


def expected_answer(request: str, origin: str, allow_list: bool) -> str:
    """The answer the rule predicts for ``request`` (``upgrade``, ``GET`` or
    ``OPTIONS preflight``) with Origin column ``origin`` (a key of `ORIGINS`)."""
    if request == "upgrade":
        return "HTTP 403" if allow_list and origin == "foreign" else "HTTP 101"
    return "HTTP 200" if request == "GET" else "HTTP 405"


async def _probe_all(urls: dict[str, str], timeout: float) -> list[dict]:
    found = await asyncio.gather(*(cross_origin(urls, origin, timeout)
                                   for origin in ORIGINS.values()))
    # "origin": the column's key; "origin_sent": the header's value (None: absent)
    return [{**row, "origin_sent": row["origin"], "origin": key}
            for key, rows in zip(ORIGINS, found, strict=True) for row in rows]


def measure_origins(timeout: float = 0.3, seed: int = 1) -> tuple[pd.DataFrame, Run]:
    """Probe every endpoint with every Origin column, allow-list off then on.
    One row per (allow_list, origin, endpoint, request): `cross_origin`'s
    columns. Returns the rows and the history run of the last server."""
    rows = []
    for allow in (False, True):
        with Lab(server_options=allow_list_options() if allow else None) as lab:
            run = lab.run("websocket", clients=1, rate=50, duration=0.2, seed=seed,
                          progress=False, out=run_out(f"origins_history_{allow}"))
            rows += [{"allow_list": allow, **r} for r in run_sync(_probe_all(
                attackable(lab.urls), timeout))]
    return pd.DataFrame(rows), run


def origin_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per endpoint and request: the answer with each Origin, allow-list
    off and on, whether a browser page could read a foreign-Origin answer
    (CORS), and a computed verdict against `expected_answer`."""
    df = rows.copy()
    df["expected"] = [expected_answer(q, o, a) for q, o, a in
                      zip(df["request"], df["origin"], df["allow_list"], strict=True)]
    df["col"] = df["origin"] + df["allow_list"].map({False: " / off", True: " / on"})
    keys = list(dict.fromkeys(zip(df["endpoint"], df["request"], strict=True)))
    wide = df.set_index(["endpoint", "request", "col"])["answer"].unstack("col")
    wide = wide.loc[keys, [f"{o} / {a}" for a in ("off", "on") for o in ORIGINS]]
    wide.columns.name = None
    foreign = df[df["origin"] == "foreign"].set_index(["endpoint", "request", "allow_list"])
    for allow, tag in ((False, "off"), (True, "on")):
        # what a browser lets a foreign page read (CORS), from the measured answer
        wide[f"foreign page reads / {tag}"] = foreign["page_can_read"].xs(allow, level=2)
    served = foreign["body_bytes"].where(foreign["answer"] == "HTTP 200").xs(True, level=2)
    wide["foreign GET served B"] = served.astype("Int64")  # <NA>: not a served GET
    wide["ACAO sent"] = df.groupby(["endpoint", "request"], sort=False)[
        "access-control-allow-origin"].apply(lambda s: s.notna().any())
    wrong = df[df["answer"] != df["expected"]].groupby(["endpoint", "request"], sort=False)
    bad = wrong.apply(lambda g: ", ".join(f"{c}: {a} (expected {e})" for c, a, e in
                                          zip(g["col"], g["answer"], g["expected"], strict=True)))
    wide["verdict"] = [("as expected" if key not in bad.index else bad[key])
                       for key in wide.index]
    return wide.reset_index()
