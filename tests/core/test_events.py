import json

import numpy as np
import pytest

from wslab.core.errors import ConfigError
from wslab.core.events import (
    PAYLOAD_KINDS,
    SCHEDULES,
    Event,
    PayloadPool,
    check_payload_kind,
    encode,
    json_records,
    schedule_offsets,
)
from wslab.core.wire import decode_header


def test_body_is_json_with_seq_time_and_payload():
    body = encode(17, 123456789012, b"abc")
    assert json.loads(body) == {"seq": 17, "t": 123456789012, "p": "abc"}
    assert decode_header(body) == (17, 123456789012)


def test_event_make_encodes_the_body_once():
    e = Event.make(3, 99, b"xyz")
    assert e.body == encode(3, 99, b"xyz") and e.seq == 3 and e.published_ns == 99


@pytest.mark.parametrize("size", [0, 1, 64, 100_000])
def test_payload_has_requested_size_and_is_seeded(size):
    a, b, c = PayloadPool(size, 1), PayloadPool(size, 1), PayloadPool(size, 2)
    assert len(a.payload(5)) == size
    assert a.payload(5) == b.payload(5)
    if size >= 64:
        assert a.payload(5) != c.payload(5)  # another seed, other bytes
        assert a.payload(5) != a.payload(6)  # events differ (compression is not flattered)
        assert len(set(a.payload(5))) > 20


def test_fixed_schedule_has_rate_times_duration_events():
    t = schedule_offsets("fixed", 200, 3, seed=0)
    assert len(t) == 600
    assert np.allclose(np.diff(t), 1 / 200)


def test_poisson_schedule_is_seeded_with_the_right_mean_rate():
    a = schedule_offsets("poisson", 1000, 20, seed=7)
    b = schedule_offsets("poisson", 1000, 20, seed=7)
    c = schedule_offsets("poisson", 1000, 20, seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a[:100], c[:100])
    assert abs(len(a) - 20_000) < 5 * np.sqrt(20_000)  # Poisson count, 5 sigma
    assert np.all(np.diff(a) > 0) and a[-1] < 20
    gaps = np.diff(a)
    assert abs(gaps.std() / gaps.mean() - 1) < 0.05  # exponential: CV = 1


def test_burst_schedule_groups_events():
    t = schedule_offsets("burst", 100, 2, seed=0, burst=10)
    assert len(t) == 200
    assert len(np.unique(t)) == 20
    assert np.allclose(np.diff(np.unique(t)), 0.1)


def test_bad_schedule_names_the_allowed_ones():
    with pytest.raises(ConfigError, match="fixed, poisson, burst"):
        schedule_offsets("sometimes", 1, 1, 0)
    assert SCHEDULES == ("fixed", "poisson", "burst")


def test_push_recorder_parses_the_same_as_decode_header():
    from wslab.transports.base import ClientContext

    ctx = ClientContext(0, "ws://127.0.0.1:1/", {}, 0)
    record_body = ctx.body_recorder()
    for seq in (1, 2, 10**9):
        body = encode(seq, 1_234_567_890_123_456_789 + seq, PayloadPool(64, 0).payload(seq))
        record_body(body, 42)
        assert (ctx.seqs[-1], ctx.published[-1]) == decode_header(body)
    assert ctx.last_seq == 10**9 and list(ctx.received) == [42, 42, 42]
    ctx.set_target(10**9)
    assert ctx.finished.is_set()


@pytest.mark.parametrize("kind", PAYLOAD_KINDS)
@pytest.mark.parametrize("size", [0, 1, 63, 1000])
def test_every_payload_kind_has_the_size_and_makes_a_json_body(kind, size):
    pool = PayloadPool(size, 4, kind=kind)
    for seq in range(1, 60):
        payload = pool.payload(seq)
        assert len(payload) == size
        assert json.loads(encode(seq, 10**15, payload))["seq"] == seq  # still valid JSON
    assert pool.payload(5) == PayloadPool(size, 4, kind=kind).payload(5)  # seeded


def test_random_kind_is_the_default_and_keeps_earlier_bytes():
    assert PayloadPool(64, 1).payload(9) == PayloadPool(64, 1, kind="random").payload(9)
    # bytes the pool gave before payload kinds existed (runs stored then stay comparable)
    assert PayloadPool(64, 1).payload(1)[:24] == b"Co6ZsiC5xTzRAY9fXhcWLVa4"
    assert PayloadPool(64, 1).payload(500)[:24] == b"75wmnxfErozpuwyh5I8luXj0"


def test_json_payloads_are_records_that_vary_and_repeated_ones_do_not():
    pool, same = PayloadPool(2000, 2, kind="json"), PayloadPool(2000, 2, kind="repeated")
    text = json.loads(b'"%s"' % pool.payload(3))  # the JSON string's contents
    first = json.loads(text[: text.index("}") + 1])
    assert first["type"] in ("trade", "quote", "chat") and "ts" in first
    assert len({pool.payload(s) for s in range(1, 40)}) == 39
    assert {same.payload(s) for s in range(1, 40)} == {same.payload(1)}


def test_json_records_are_seeded_and_varied():
    a, b = json_records(1, 300), json_records(1, 300)
    assert a == b and a != json_records(2, 300)
    assert {r["type"] for r in a} == {"trade", "quote", "chat"}
    assert len({r.get("sym") for r in a}) > 5


def test_unknown_payload_kind_is_refused_naming_the_kinds():
    with pytest.raises(ConfigError, match="random, json, repeated"):
        PayloadPool(10, 0, kind="zeros")
    with pytest.raises(ConfigError, match="payload_kind must be one of"):
        check_payload_kind("JSON")
