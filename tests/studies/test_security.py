"""Notebook 10's study (wslab.studies.security): its rules, tables and verdicts on
synthetic frames, and one tiny real server for the new server options (the
Origin allow-list on aiohttp-ws and picows, aiohttp's keepalive_timeout and
picows' open_timeout against a slowloris)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import wslab
from wslab.core.errors import ConfigError
from wslab.net.hostile.campaign import CampaignResult, attackable, hold_half_open, targets
from wslab.net.hostile.origin import cross_origin
from wslab.studies import security as st
from wslab.studies.security import run_sync
from wslab.transports.websocket import MAX_MESSAGE, origin_allowed, origins_option

from ..conftest import TIMEOUT_FACTOR


def _rows(answer=lambda q, o, p: st.expected_answer(q, o, p),
          read=lambda q, o, p: bool(st.expected_read(q, o, p))) -> pd.DataFrame:
    """What `measure_origins` returns, built from the rules (answers may be overridden)."""
    rows = []
    for policy in (False, True):
        for origin in st.ORIGINS:
            for endpoint, requests in (("websocket", ["upgrade"]),
                                       ("sse", ["GET", "OPTIONS preflight"])):
                for q in requests:
                    rows.append({"policy": policy, "origin": origin, "endpoint": endpoint,
                                 "request": q, "answer": answer(q, origin, policy),
                                 "page_can_read": read(q, origin, policy), "body_bytes": 99})
    return pd.DataFrame(rows)


def test_origin_rules():
    assert st.expected_answer("upgrade", "foreign", True) == "HTTP 403"
    assert st.expected_answer("upgrade", "foreign", False) == "HTTP 101"
    assert st.expected_answer("upgrade", "none", True) == "HTTP 101"
    assert st.expected_answer("GET", "foreign", True) == "HTTP 200"  # served, CORS or not
    assert st.expected_answer("OPTIONS preflight", "allowed", True) == "HTTP 405"
    assert st.expected_read("GET", "allowed", True) and not st.expected_read("GET", "allowed", False)
    assert not st.expected_read("GET", "foreign", True)
    assert st.expected_read("upgrade", "foreign", False)  # hijacking without an allow-list
    assert st.expected_read("OPTIONS preflight", "none", True) is None
    opts = st.policy_options()
    assert opts["fallback"] == {"origins": [None, st.ALLOWED], "cors": st.ALLOWED}


def test_origin_tables_compute_their_verdicts():
    rows = _rows()
    answers, reads = st.origin_table(rows), st.read_table(rows)
    assert list(answers["verdict"]) == ["as expected"] * 3
    assert answers.loc[0, "foreign / on"] == "HTTP 403" and answers.loc[0, "foreign / off"] == "HTTP 101"
    assert list(reads["verdict"]) == ["as expected"] * 2
    assert reads.loc[reads["endpoint"] == "sse", "foreign GET served B"].item() == 99
    assert pd.isna(reads.loc[reads["endpoint"] == "websocket", "foreign GET served B"].item())
    # a server that let the foreign page in with the allow-list on is named
    leaky = _rows(answer=lambda q, o, p: "HTTP 101" if q == "upgrade" else
                  st.expected_answer(q, o, p))
    verdict = st.origin_table(leaky).loc[0, "verdict"]
    assert verdict == "foreign / on: HTTP 101 (expected HTTP 403)"


def test_message_cases_bombs_are_small_on_the_wire():
    cases = {c["case"] + str(c["message_B"]): c for c in st.message_cases()}
    bomb = cases[f"deflate bomb{2**26}"]
    assert bomb["wire_B"] * 500 < bomb["message_B"] and bomb["extension"] == "permessage-deflate"
    frags = next(c for c in st.message_cases() if "fragments" in c["case"])
    assert frags["message_B"] == MAX_MESSAGE + 1
    assert all(len(f) < MAX_MESSAGE for f in frags["frames"])  # every frame under the limit


def _slow_rows() -> pd.DataFrame:
    rows = []
    for repeat in range(3):
        for k in range(4):
            rows.append({"series": "a", "endpoint": "websocket", "model_s": 1.0, "max_s": 3.0,
                         "repeat": repeat, "conn": k, "closed_s": 1.0 + 0.01 * k})
            rows.append({"series": "b", "endpoint": "sse", "model_s": 3630.0, "max_s": 3.0,
                         "repeat": repeat, "conn": k, "closed_s": math.nan})
    return pd.DataFrame(rows)


def test_slowloris_model_and_checks():
    df = _slow_rows()
    held = st.held_over_time(df, np.array([0.5, 1.005, 2.0]))
    a = held[held["series"] == "a"]
    assert list(a["held"]) == [4, 3, 0] and list(a["model"]) == [4, 0, 0]
    assert list(held.loc[held["series"] == "b", "held"]) == [4, 4, 4]
    check = st.drop_check(df).set_index("series")
    assert check.loc["a", "quantity"] == "time to drop (s)"
    assert check.loc["a", "measured"] == pytest.approx(1.015) and check.loc["a", "n"] == 3
    assert check.loc["a", "verdict"].endswith("(within 5 % tolerance)")
    assert check.loc["b", "quantity"] == "fraction held at the bound"
    assert check.loc["b", "verdict"] == "model inside 95 % CI"
    quick, full = st.slowloris_plan(True), st.slowloris_plan(False)
    assert quick.options()["long-poll"] == {"keepalive_timeout": quick.aiohttp_s}
    assert "websocket" not in full.options()  # full mode: the libraries' defaults


def test_wilson_interval():
    zero = st.wilson_ci(0, 1000)
    assert zero.value == 0 and zero.low == 0 and 0.003 < zero.high < 0.004
    half = st.wilson_ci(50, 100)
    assert half.low == pytest.approx(0.404, abs=1e-3) and half.high == pytest.approx(0.596, abs=1e-3)
    assert math.isnan(st.wilson_ci(0, 0).value)


def test_fuzz_tables_and_conclusions():
    r = CampaignResult("sse", cases=10, crashes=0, health_checks=1)
    r.labels.update({"HTTP 400": 7, "HTTP 200": 2, "plain close": 1})
    r.by_case.update({("headers", "no colon", "HTTP 200"): 1, ("valid", "GET", "HTTP 200"): 1})
    table = st.fuzz_table([r])
    assert table.loc[0, "HTTP 400"] == 7 and table.loc[0, "served"] == 2
    assert table.loc[0, "malformed served"] == 1 and table.loc[0, "crashes"] == 0
    assert st.malformed_served([r]).to_dict("records") == [
        {"endpoint": "sse", "family": "headers", "case": "no colon", "answer": "HTTP 200",
         "count": 1}]
    run = SimpleNamespace(summary={"expected": 400, "lost": 0, "duplicated": 0})
    checks = st.fuzz_checks([r], run, planned=10)
    assert list(checks["verdict"]) == ["model inside 95 % CI"] * 3 and checks["complete"].all()
    binding = st.binding_table()
    assert (binding["verdict"] == "as expected").all()
    assert binding.set_index("host").loc["0.0.0.0", "outcome"] == "refused"
    rows = _rows()
    lines = st.conclusions(st.origin_table(rows), st.read_table(rows),
                           pd.DataFrame({"verdict": ["as expected", "differs"], "server": ["x", "picows"],
                                         "case": ["c", "5 fragments"], "answer": ["a", "101 + close 1000"]}),
                           pd.DataFrame({"verdict": ["as expected"]}),
                           st.drop_check(_slow_rows()), checks, binding)
    assert lines[0] == "H1 Origin answers: 3 of 3 rows as expected"
    assert lines[2].endswith("1 of 2 rows as expected; differs: picows / 5 fragments: 101 + close 1000")
    assert "2 of 2 servers agree" in lines[4]


def test_origins_option_is_checked():
    assert origins_option({}) is None
    assert origins_option({"origins": [None, "http://a"]}) == (None, "http://a")
    with pytest.raises(ConfigError, match="origins must be a list"):
        origins_option({"origins": "http://a"})
    assert origin_allowed(None, "http://x") and not origin_allowed((None,), "http://x")


def test_allow_list_and_timeouts_on_aiohttp_and_picows():
    """The new server options on a real server: a foreign Origin gets 403 from
    aiohttp-ws and picows (none and the allowed one: 101), and a slowloris is
    dropped by aiohttp's keepalive_timeout and picows' open_timeout."""
    options = {"aiohttp-ws": {"origins": [None, st.ALLOWED]},
               "picows": {"origins": [None, st.ALLOWED], "open_timeout": 0.3},
               "sse": {"keepalive_timeout": 0.3}}
    with wslab.Lab(server_options=options) as lab:
        urls = {n: u for n, u in attackable(lab.urls).items() if n in ("aiohttp-ws", "picows")}
        ts = {t.name: t for t in targets(attackable(lab.urls))}

        async def probe_all():
            return [await cross_origin(urls, origin, 0.5 * TIMEOUT_FACTOR)
                    for origin in (None, st.ALLOWED, st.FOREIGN)]

        answers = [[r["answer"] for r in rows] for rows in run_sync(probe_all())]

        async def hold():
            return [await hold_half_open(ts[name], 3, trickle_s=0.1, max_s=3.0 * TIMEOUT_FACTOR)
                    for name in ("sse", "picows")]

        held = run_sync(hold())
    assert answers == [["HTTP 101"] * 2, ["HTTP 101"] * 2, ["HTTP 403"] * 2]
    assert all(s is not None and s >= 0.25 for closed in held for s in closed), held
