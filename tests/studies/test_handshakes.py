"""studies.handshakes: the step-timed probe against the kit's servers, and its tables.

One tiny real run (every transport once, clear and TLS 1.3, no added delay)
checks what does not depend on timing: the steps' order, the bytes each step
moves, that TLS adds its handshake's bytes and a resumed session is resumed.
The tables are checked on synthetic frames whose answers are known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wslab.core.errors import ConfigError
from wslab.models import handshake as model
from wslab.studies import handshakes as hs


def _synthetic(noise: float = 0.5) -> pd.DataFrame:
    """Probe rows that follow the model exactly (base 1 ms), with a little spread."""
    rng = np.random.default_rng(1)
    rows = []
    for tls in ("clear", "1.3"):
        for t in ("websocket", "short-poll"):
            rtts = model.rtts_to_first_event(t, None if tls == "clear" else tls, "proxy")
            for d in (0.0, 25.0, 100.0):
                for s in range(6):
                    e = 1.0 + rtts * 2 * d + rng.normal(0, noise)
                    rows.append({"tls": tls, "transport": t, "delay_ms": d, "sample": s,
                                 "tcp_ms": 0.1, "tcp_up": 0, "tcp_down": 0,
                                 "tls_ms": 0.1 + (2 * d if tls != "clear" else 0),
                                 "tls_up": 300 if tls != "clear" else 0, "tls_down": 0,
                                 "head_ms": e, "head_up": 400, "head_down": 500,
                                 "event_ms": e, "event_up": 400, "event_down": 600,
                                 "next_ms": e + 2 * d if t == "short-poll" else np.nan,
                                 "next_up": 450, "next_down": 700})
    return pd.DataFrame(rows)


def test_tables_put_the_model_beside_intervals_and_verdicts():
    table = hs.ttfe_table(_synthetic())
    assert set(table["n"]) == {6}
    assert (table["low"] <= table["ttfe_ms"]).all() and (table["ttfe_ms"] <= table["high"]).all()
    row = table[(table.tls == "1.3") & (table.delay_ms == 100.0)].iloc[0]
    assert row["rtts"] == 2 and row["network_model_ms"] - row["model_ms"] == pytest.approx(200)
    checks = hs.ttfe_checks(table)
    assert len(checks) == 8  # the delayed points; the 0 ms ones anchor the model
    agree = checks["verdict"].str.startswith("model inside") | checks["verdict"].str.contains(
        "within 5 % tolerance")
    assert agree.all()
    steps = hs.step_table(_synthetic(), 25.0)
    ws = steps[(steps.tls == "clear") & (steps.transport == "websocket")].set_index("step")
    assert list(ws.index) == ["tcp", "tls", "head", "event"]  # no "next" for push
    assert ws.loc["event", "bytes_down"] == 100 and ws.loc["head", "bytes_up"] == 400


def test_a_model_off_by_a_round_trip_is_called_out():
    df = _synthetic()
    df.loc[df.delay_ms > 0, "event_ms"] += 2 * df.loc[df.delay_ms > 0, "delay_ms"]
    verdicts = hs.ttfe_checks(hs.ttfe_table(df))["verdict"]
    assert verdicts.str.startswith("model below CI").all()
    assert not verdicts.str.contains("tolerance").any()  # a round trip is far beyond 5 %


def test_bad_arguments_are_refused_before_any_process():
    with pytest.raises(ConfigError, match="transports must be among"):
        hs.measure(transports=["udp"])
    with pytest.raises(ConfigError, match="tls must be one of"):
        hs.measure(tls=["1.1"])
    with pytest.raises(ConfigError, match="delays_ms must lie"):
        hs.measure(delays_ms=[-1])
    with pytest.raises(ConfigError, match="versions must be among"):
        hs.measure_resumption(versions=[None])


def test_one_real_probe_per_transport_clear_and_tls13():
    df = hs.measure(tls=(None, "1.3"), delays_ms=(0.0,), samples=1)
    assert len(df) == 10 and set(df["transport"]) == set(model.TRANSPORTS)
    ordered = df[["tcp_ms", "tls_ms", "head_ms", "event_ms"]].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all()  # the steps in order
    clear, tls = (df[df.tls == m].set_index("transport") for m in ("clear", "1.3"))
    assert (clear["tls_up"] == 0).all() and (tls["tls_version"] == "TLSv1.3").all()
    assert (tls["tls_down"] > 500).all()  # the certificate came down
    assert clear.loc["tcp", "event_up"] == 8  # raw TCP's only request: the 8-byte since
    polls = clear.loc[["long-poll", "short-poll"]]
    # a second poll on the kept-alive connection: its request and answer once more
    assert ((polls["next_up"] - polls["event_up"]) == polls["event_up"]).all()
    assert ((polls["next_down"] - polls["event_down"]) == polls["event_down"]).all()


def test_resumption_is_real_and_saves_the_certificate():
    df = hs.measure_resumption(versions=("1.2", "1.3"), delays_ms=(0.0,), samples=1)
    full, resumed = (df[df.kind == k].set_index("tls") for k in ("full", "resumed"))
    assert not full["reused"].any() and resumed["reused"].all()
    assert (resumed["down"] < full["down"] / 2).all()  # no certificate the second time
    table = hs.resumption_table(df)
    assert set(table["verdict"]) == {"anchor"} and (table["resumed"].isin([0.0, 1.0])).all()


def test_conclusions_and_plan_follow_from_the_tables():
    table = hs.ttfe_table(_synthetic())
    checks, steps = hs.ttfe_checks(table), hs.step_table(_synthetic(), 25.0)
    subs = pd.DataFrame([
        {"server supports": "(none)", "client offers": "(none)", "status": 101,
         "chosen": "(none)", "reason": "", "added_up": 0, "added_down": 0},
        {"server supports": "a", "client offers": "a", "status": 101, "chosen": "a",
         "reason": "", "added_up": 27, "added_down": 27},
        {"server supports": "a", "client offers": "b", "status": 400, "chosen": "(refused)",
         "reason": "Failed to open a WebSocket connection: invalid subprotocol", "added_up": 27,
         "added_down": -24}])
    res = pd.DataFrame([{"tls": "1.2", "delay_ms": 25.0, "kind": "resumed", "n": 4,
                         "verdict": "model inside 95 % CI", "bytes_up": 600.0,
                         "bytes_down": 290.0, "resumed": 1.0}])
    lines = hs.conclusions(checks, steps, subs, res)
    assert lines[0].startswith(f"Time to first event: {len(checks)} of {len(checks)} delayed")
    assert "One subprotocol adds 27 B up and 27 B down" in " ".join(lines)
    assert any("HTTP 400 (invalid subprotocol)" in line for line in lines)
    assert lines[-1].startswith("TLS 1.2 resumed: session resumed in 100% of 4 handshakes")
    # the plan: round trips x 2 d per probe, one more per poll, plus the children's start
    assert hs.wall_s(["tcp"], [None], [0.0, 50.0], samples=2, start_s=0.0) == pytest.approx(
        2 * 1 * 0.1 + 0.01 * 2)
