"""Notebook 08, part 2 (`wslab.studies.presence.fallback`): the negotiation rule, the per-client
table on synthetic connection rows, the intervals, the plan, and one tiny real run behind a
proxy that strips Upgrade and buffers (the fall-back order ends on long polling)."""

import math

import pandas as pd
import pytest

from wslab.core.errors import ConfigError
from wslab.runner.lab import Lab
from wslab.studies.presence import fallback as fb

FALL, UP = fb.ORDERS.values()


@pytest.mark.parametrize("faults, fall, up", [
    ([], "websocket", "websocket"),
    (["strip_upgrade"], "sse", "long-poll"),
    (["buffer"], "websocket", "websocket"),
    (["strip_upgrade", "buffer:size=1KiB"], "long-poll", "long-poll"),
    (["reset_peer:timeout=1s"], "websocket", "websocket"),
])
def test_the_negotiation_rule_predicts_both_orders(faults, fall, up):
    assert fb.predicted_transport(FALL, faults) == fall
    assert fb.predicted_transport(UP, faults) == up


def test_an_order_with_no_surviving_transport_is_refused():
    with pytest.raises(ConfigError, match="no transport that survives"):
        fb.predicted_transport("websocket,sse", ["strip_upgrade", "buffer"])


def _rows(client, kinds, opened_ms, up, down, requests, fault=None):
    return [{"client_id": client, "kind": k, "opened_ns": int(t * 1e6), "bytes_up": u,
             "bytes_down": d, "requests": r, "responses": r,
             "fault_ns": 0 if fault is None or i < fault else 1}
            for i, (k, t, u, d, r) in enumerate(zip(kinds, opened_ms, up, down, requests,
                                                    strict=True))]


def test_client_table_splits_the_final_transport_from_the_other_attempts():
    conns = pd.DataFrame(
        _rows(0, ["websocket", "sse", "long-poll"], [100, 112, 650], [205, 150, 900],
              [228, 0, 4000], [1, 1, 20])
        + _rows(1, ["long-poll", "websocket", "long-poll", "websocket"], [0, 2, 1000, 1002],
                [155, 200, 155, 200], [145, 900, 300, 800], [1, 1, 1, 1], fault=2))
    msgs = pd.DataFrame({"client_id": [0, 0, 1], "received_ns": [int(900e6), int(950e6),
                                                                  int(400e6)]})
    t = fb.client_table(conns, msgs).set_index("client_id")
    assert t.loc[0, "ends_on"] == "long-poll" and t.loc[1, "ends_on"] == "websocket"
    assert t.loc[0, "switch_ms"] == 550 and t.loc[1, "switch_ms"] == 2
    assert t.loc[0, "first_event_ms"] == 800 and t.loc[1, "first_event_ms"] == 400
    assert (t.loc[0, "failed_up"], t.loc[0, "failed_down"]) == (355, 228)
    assert t.loc[0, "failed_requests"] == 2 and t.loc[0, "failed_bytes"] == 583
    assert t.loc[1, "failed_bytes"] == 155 + 145 + 155 + 300  # the polls before each upgrade
    assert t.loc[1, "reconnects"] == 2 and t.loc[0, "attempts"] == 3


def test_clopper_pearson_matches_the_closed_forms():
    none = fb.clopper_pearson(0, 5)
    assert none.low == 0 and none.high == pytest.approx(1 - 0.025 ** (1 / 5), abs=1e-9)
    every = fb.clopper_pearson(12, 12)
    assert every.high == 1 and every.low == pytest.approx(0.025 ** (1 / 12), abs=1e-9)
    some = fb.clopper_pearson(3, 10)
    assert (some.low, some.high) == (pytest.approx(0.0667, abs=1e-4),
                                     pytest.approx(0.6525, abs=1e-4))
    with pytest.raises(ConfigError, match="0 <= k <= n"):
        fb.clopper_pearson(6, 5)


def _clients(order, profile, runs, values, ends=None):
    rows = []
    for run, seed, vals in zip(runs, range(len(runs)), values, strict=True):
        for cid, v in enumerate(vals):
            rows.append({"order": order, "profile": profile, "run": run, "seed": seed,
                         "client_id": cid, "ends_on": (ends or {}).get((run, cid), "sse"),
                         "predicted": "sse", "first_event_ms": v, "switch_ms": v / 10,
                         "failed_bytes": 433.0, "failed_requests": 1})
    return rows


def test_summary_table_takes_runs_as_the_unit_and_counts_what_clients_ended_on():
    order = next(iter(fb.ORDERS))
    clients = pd.DataFrame(_clients(order, "strip_upgrade", [0, 1, 2],
                                    [[300, 310], [320, 330], [340, 350]],
                                    ends={(2, 1): "long-poll"}))
    runs = pd.DataFrame({"order": order, "profile": "strip_upgrade", "run": [0, 1, 2],
                         "lost": [0, 0, 1], "duplicated": 0})
    row = fb.summary_table(clients, runs).iloc[0]
    assert row.first_event_ms == 325 and row.first_event_ms_n == 3  # runs, not clients
    assert row.first_event_ms_low < 325 < row.first_event_ms_high
    assert row.ends_on == "sse 5/6, long-poll 1/6"
    assert row.as_predicted == pytest.approx(5 / 6) and row.as_predicted_n == 6
    assert (row["lost"], row["duplicated"]) == (1, 0)
    lines = fb.fallback_conclusions(fb.summary_table(clients, runs),
                                    pd.DataFrame(columns=["order", "profile", "quantity",
                                                          "verdict", "bounds"]))
    assert lines[0].startswith("0/1 order x profile cells") and "long-poll 1/6" in lines[0]
    assert "(1 0)" in lines[1]


def test_the_failed_bytes_model_is_complete_only_for_refused_handshakes():
    assert fb.failed_bytes_model(FALL, ["strip_upgrade"], 433) == 433
    assert fb.failed_bytes_model(FALL, [], 433) == 0
    assert fb.failed_bytes_model(FALL, ["reset_peer:timeout=1s"], 433) == 0
    assert math.isnan(fb.failed_bytes_model(FALL, ["strip_upgrade", "buffer"], 433))
    assert fb.failed_bytes_model(UP, ["strip_upgrade", "buffer"], 433) == 433
    assert math.isnan(fb.failed_bytes_model(UP, [], 433))  # the opening poll


def test_bound_verdicts_name_the_side():
    assert fb._bound_verdict(0.51, 0.52, 0.5, "lower") == "lower bound holds (CI above it)"
    assert fb._bound_verdict(0.01, 0.02, 0.5, "upper") == "upper bound holds (CI below it)"
    assert fb._bound_verdict(0.4, 0.6, 0.5, "lower") == "lower bound inside 95 % CI"
    assert fb._bound_verdict(0.6, 0.7, 0.5, "upper") == "upper bound violated"


def test_the_plans_stay_within_their_budgets_and_pair_the_trials(tmp_path):
    quick, full = fb.fallback_plan(True), fb.fallback_plan(False)
    assert quick.wall_s() <= 40 and full.wall_s() <= 240
    assert list(fb.profiles(quick.reset_s)) == list(fb.profiles(full.reset_s))
    exp = full.experiment(root=tmp_path / "never")
    assert len(exp.trials) == full.runs == 30
    seeds = {t.repeat: set() for t in exp.trials}
    for t in exp.trials:
        seeds[t.repeat].add(t.seed)
    assert all(len(s) == 1 for s in seeds.values()) and len(set.union(*seeds.values())) == 3


def test_a_refused_handshake_and_a_held_probe_cost_what_the_models_say(tmp_path):
    # Behind strip_upgrade + buffer the fall-back order is refused (WebSocket), held
    # (SSE) and ends on long polling; the upgrade order polls and stays polling.
    probe = 0.3
    with Lab() as lab:
        runs = [lab.run("fallback", clients=2, rate=20, duration=1, seed=3,
                        faults=["strip_upgrade", "buffer"],
                        options={"order": order, "probe_timeout": probe},
                        out=str(tmp_path / str(k)), progress=False)
                for k, order in enumerate((FALL, UP))]
    profile = "strip_upgrade+buffer"
    clients, per_run = fb.clients_of(runs, 1.0)
    assert set(clients.profile) == {profile} and set(clients.ends_on) == {"long-poll"}
    assert (per_run["lost"].sum(), per_run["duplicated"].sum()) == (0, 0)
    fall = clients[clients.order == next(iter(fb.ORDERS))]
    assert (fall.switch_ms >= probe * 1e3).all() and (fall.failed_requests == 2).all()
    up, down = fb.refusal_bytes(per_run.url.iloc[0])
    assert up == fb.request_bytes(per_run.url.iloc[0])
    for run in runs:
        refused = run.connections[run.connections.kind == "websocket"]
        assert len(refused) == 2 and (refused.bytes_up == up).all()
        # exactly the 400 reply: the server's FIN after websockets closed is not a byte
        # (ConnTracker.finish(closed_first=True))
        assert (refused.bytes_down == down).all()
    checks = fb.check_models(clients, per_run, {k: r.connections for k, r in enumerate(runs)},
                             probe)
    held = checks[checks.quantity == "held SSE probe, bytes down"]
    assert held.bounds.tolist() == ["2/2 rows equal model"]
    switch = checks[checks.quantity == "switch time (s)"].iloc[0]
    assert switch.bounds == "all 2 >= model" and switch.verdict.startswith("lower bound")
