"""wslab.analysis: tables built from real runs (one websocket, one short-poll)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import wslab
from wslab import analysis
from wslab.core.errors import ConfigError
from wslab.core.events import encode

RATE, DURATION, CLIENTS, INTERVAL = 50, 1, 2, 0.1


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two real runs of the same fixed event stream, made once for the module."""
    out = tmp_path_factory.mktemp("analysis-runs")
    common = dict(clients=CLIENTS, rate=RATE, duration=DURATION, schedule="fixed",
                  seed=3, progress=False)
    with wslab.Lab() as lab:
        return {
            "websocket": lab.run("websocket", out=str(out / "ws"), **common),
            "short-poll": lab.run("short-poll", interval=INTERVAL, out=str(out / "sp"),
                                  **common),
        }


def test_as_runs_accepts_one_run_a_list_or_a_dict(runs):
    ws = runs["websocket"]
    assert analysis.as_runs(ws) == [ws]
    assert analysis.as_runs(list(runs.values())) == list(runs.values())
    assert analysis.as_runs(runs) == list(runs.values())
    with pytest.raises(TypeError, match="wslab.Run"):
        analysis.as_runs(["not a run"])
    with pytest.raises(ConfigError, match="no runs"):
        analysis.as_runs({})


def test_runs_table_has_one_row_per_run_matching_the_summaries(runs):
    t = analysis.runs_table(runs)
    assert list(t.columns) == analysis.RUN_COLUMNS
    assert list(t.transport) == ["websocket", "short-poll"]
    for row, run in zip(t.itertuples(), runs.values(), strict=True):
        s = run.summary
        assert row.published == s["published"] == math.floor(RATE * DURATION)
        assert row.expected == s["expected"] == s["published"] * CLIENTS
        assert (row.delivered, row.lost, row.duplicated) == (
            s["delivered"], s["lost"], s["duplicated"])
        assert row.latency_p50_us == s["latency_us"]["p50"]
        assert row.latency_p99_us == s["latency_us"]["p99"]
        assert row.latency_mean_us == s["latency_us"]["mean"]
        assert row.bytes_per_event == pytest.approx(
            (s["bytes_up"] + s["bytes_down"]) / s["delivered"])
        # completed responses: a poll still in flight at stop is a request, not a response
        assert row.requests_per_event == pytest.approx(s["responses"] / s["delivered"])
        assert row.server_cpu_us_per_event == s["server_cpu_us_per_event"]
        assert row.bytes_up_per_request == pytest.approx(s["bytes_up"] / s["requests"])
        assert row.clients == CLIENTS and row.schedule == "fixed" and row.seed == 3
    ws, sp = t.iloc[0], t.iloc[1]
    assert pd.isna(ws.interval) and ws.label == "websocket"
    assert sp.interval == INTERVAL and sp.label == "short-poll (T = 100 ms)"
    # a polling client pays at least one request per poll; websocket one per connection
    assert sp.requests_per_event > ws.requests_per_event
    assert 0 <= sp.empty_fraction <= 1
    # a GET carries no body: every byte up is a request line and headers
    assert 50 < sp.bytes_up_per_request < 2_000


def test_body_bytes_is_the_encoded_event_size(runs):
    run = runs["websocket"]
    m = run.messages.drop_duplicates(["client_id", "seq"])
    payload = b"x" * run.manifest["parameters"]["payload"]
    sizes = [len(encode(s, t, payload)) for s, t in zip(m.seq, m.published_ns, strict=True)]
    assert analysis.body_bytes_per_event(run) == pytest.approx(np.mean(sizes))
    # every transport carries the body, so it bounds the bytes down per event
    row = analysis.runs_table(run).iloc[0]
    assert row.bytes_down_per_event > row.body_bytes_per_event


def test_loss_table_is_exact_and_timing_independent(runs):
    t = analysis.loss_table(runs)
    assert list(t.columns) == analysis.LOSS_COLUMNS
    assert list(t.transport) == ["websocket", "short-poll"]
    assert (t.scheduled == math.floor(RATE * DURATION)).all()
    assert (t.published == t.scheduled).all()
    assert (t.expected == t.published * CLIENTS).all()
    assert (t.delivered + t.lost == t.expected).all()
    for row, run in zip(t.itertuples(), runs.values(), strict=True):
        assert (row.lost, row.duplicated) == (run.summary["lost"], run.summary["duplicated"])


def test_loss_check_says_yes_for_complete_runs_and_no_otherwise(runs):
    check = analysis.loss_check(runs)
    assert list(check.index) == ["websocket", "short-poll"]
    assert list(check.columns) == ["all published", "all delivered", "none lost",
                                   "none duplicated"]
    assert (check == "yes").all().all()  # these short loopback runs lose nothing
    ws = runs["websocket"]
    broken = dataclasses.replace(ws, summary={**ws.summary, "lost": 1,
                                              "delivered": ws.summary["delivered"] - 1})
    row = analysis.loss_check(broken).loc["websocket"]
    assert (row["all delivered"], row["none lost"], row["none duplicated"]) == ("NO", "NO", "yes")


def test_overhead_table_is_indexed_by_transport(runs):
    t = analysis.overhead_table(runs)
    assert list(t.index) == ["websocket", "short-poll"]
    assert list(t.columns) == analysis.OVERHEAD_COLUMNS


def test_latency_frame_has_one_row_per_measured_delivery(runs):
    f = analysis.latency_frame(runs)
    assert list(f.columns) == ["transport", "label", "latency_us"]
    assert list(f.transport.cat.categories) == ["websocket", "short-poll"]
    for name, run in runs.items():
        part = f[f.transport == name]
        assert len(part) == run.summary["latency_count"] == len(run.latency_us())
        assert (part.latency_us > 0).all()
        assert part.latency_us.max() == pytest.approx(run.latency_us().max())


def test_setup_caption_states_machine_versions_and_parameters(runs):
    text = analysis.setup_caption(runs)
    m = runs["websocket"].manifest
    assert "\n" not in text
    for needle in (f"{m['machine']['cores']} cores", m["machine"]["cpu"],
                   f"Python {m['versions']['python']}",
                   f"websockets {m['versions']['websockets']}",
                   f"aiohttp {m['versions']['aiohttp']}",
                   f"{CLIENTS} clients", f"{RATE:g} events/s", f"for {DURATION:g} s",
                   "fixed schedule", "seed 3", "short-poll T = 100 ms"):
        assert needle in text, needle
    assert "T =" not in analysis.setup_caption(runs["websocket"])


def test_push_is_what_the_transport_says(runs):
    ws, sp = runs["websocket"], runs["short-poll"]
    assert analysis.is_push(ws) and not analysis.is_push(sp)


def test_push_runs_give_the_transit_estimate(runs):
    ws, sp = runs["websocket"], runs["short-poll"]
    p50 = ws.summary["latency_us"]["p50"]
    assert analysis.transit_us(runs) == p50  # short-poll left out: it is pull
    assert analysis.transit_us(analysis.runs_table(runs)) == p50  # a table works too
    with pytest.raises(ConfigError, match="no push run"):
        analysis.transit_us(sp)
    with pytest.raises(ConfigError, match="reference must be a push transport"):
        analysis.transit_us(runs, reference="short-poll")


def test_transit_is_the_median_of_push_medians_per_group():
    t = pd.DataFrame({
        "transport": ["websocket", "sse", "tcp", "long-poll", "websocket", "sse", "long-poll"],
        "delay": [0.0, 0.0, 0.0, 0.0, 0.1, 0.1, 0.1],
        "latency_p50_us": [100.0, 300.0, 50.0, 1.0, 100_100.0, 100_300.0, 5.0],
    })
    # long-poll is pull: never part of the estimate
    assert analysis.transit_us(t) == pytest.approx(300.0)  # median of 50, 100, 300, ...
    by = analysis.transit_us(t, by="delay")
    assert by.name == "transit_us"
    assert by.to_dict() == {0.0: pytest.approx(100.0), 0.1: pytest.approx(100_200.0)}
    # a reference transport alone where it ran; the others stand in elsewhere
    ref = analysis.transit_us(t, by="delay", reference="tcp")
    assert ref.to_dict() == {0.0: pytest.approx(50.0), 0.1: pytest.approx(100_200.0)}
    assert analysis.transit_us(t, reference="sse") == pytest.approx(300.0 / 2 + 100_300.0 / 2)
    with pytest.raises(ConfigError, match="no push run to estimate the transit from at delay"):
        analysis.transit_us(pd.concat([t, t.assign(delay=0.5, transport="long-poll")]),
                            by="delay")
