"""Toxics in Toxiproxy's vocabulary: construction, the CLI and dict forms, and bad input."""

from __future__ import annotations

import pytest

from wslab.net.toxics import (
    Bandwidth,
    Blackhole,
    Latency,
    LimitData,
    ResetPeer,
    load_toxics,
    parse_toxics,
    toxic_from_dict,
    toxics_from_args,
)


def test_toxics_from_args_builds_one_toxic_per_direction():
    toxics = toxics_from_args(delay="25ms", jitter="5ms", bandwidth="1MB/s", seed=9)
    latency = [t for t in toxics if isinstance(t, Latency)]
    assert sorted(t.stream for t in latency) == ["downstream", "upstream"]
    assert all(t.latency == pytest.approx(25) and t.jitter == pytest.approx(5) and t.seed == 9
               for t in latency)
    assert [t.rate for t in toxics if isinstance(t, Bandwidth)] == [1000, 1000]  # KB/s
    one_way = toxics_from_args(delay="25ms", direction="upstream")
    assert [(type(t), t.stream) for t in one_way] == [(Latency, "upstream")]
    assert toxics_from_args() == []


def test_toxic_strings_and_dicts_round_trip():
    toxics = parse_toxics("latency@both:latency=25ms,jitter=5ms,distribution=normal",
                          "bandwidth:rate=1MB/s", "drop@upstream:after=1s",
                          "limit_data:bytes=64KiB", "timeout:timeout=30s", "reset_peer")
    assert [t.type for t in toxics] == ["latency", "latency", "bandwidth", "blackhole",
                                        "limit_data", "idle_cut", "reset_peer"]
    assert toxics[3] == Blackhole(after=1000, stream="upstream")
    assert toxics[4] == LimitData(65536)
    assert toxics[6] == ResetPeer()
    assert parse_toxics(*map(str, toxics)) == toxics
    assert [toxic_from_dict(t.to_dict()) for t in toxics] == toxics
    toxiproxy_style = {"name": "lag", "type": "latency", "stream": "upstream", "toxicity": 1.0,
                       "attributes": {"latency": 50, "jitter": 0}}
    assert toxic_from_dict(toxiproxy_style) == Latency(50, stream="upstream")
    assert load_toxics([{"type": "latency", "latency": 5, "stream": "both"}], seed=4) == [
        Latency(5, stream="upstream", seed=4), Latency(5, stream="downstream", seed=4)]



@pytest.mark.parametrize("make, message", [
    (lambda: parse_toxics("latncy:latency=5"),
     r"unknown toxic type 'latncy'; allowed: latency, bandwidth, idle_cut, reset_peer, "
     r"blackhole, limit_data"),
    (lambda: toxic_from_dict({"type": "latency", "latency": 5, "jiter": 1}),
     r"unknown attribute 'jiter'; allowed: latency, jitter, distribution, stream"),
    (lambda: toxic_from_dict({"type": "latency"}), r"missing attribute 'latency'"),
    (lambda: Latency(-5), r"must not be negative"),
    (lambda: toxics_from_args(delay="-5ms"), r"must not be negative"),
    (lambda: Latency(5, stream="sideways"), r"allowed: upstream, downstream"),
    (lambda: Latency(5, distribution="cauchy"), r"allowed: uniform, normal"),
    (lambda: Latency(5, toxicity=2), r"between 0 and 1"),
    (lambda: Bandwidth(0), r"rate must be positive"),
    (lambda: toxics_from_args(jitter="5ms"), r"jitter needs a delay"),
    (lambda: toxics_from_args(delay="5ms", direction="left"), r"allowed: upstream, downstream, both"),
])
def test_bad_input_is_refused_with_a_clear_message(make, message):
    with pytest.raises(ValueError, match=message):
        make()
