"""Toxics in Toxiproxy's vocabulary: construction, the CLI and dict forms, and bad input."""

from __future__ import annotations

import itertools
import math

import pytest

from wslab.net.toxics import (
    Bandwidth,
    Blackhole,
    Buffer,
    Latency,
    LimitData,
    Outage,
    ResetPeer,
    StripUpgrade,
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
     r"blackhole, limit_data, strip_upgrade, buffer, outage"),
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


def test_middlebox_toxics_parse_round_trip_and_default_streams():
    toxics = parse_toxics("strip_upgrade", "buffer", "buffer:size=8KiB",
                          "outage:at=5s,mode=stall,duration=1s",
                          "outage:at=1s,mode=reset,duration=200ms,every=2s,seed=3",
                          "outage:at=0,mode=blackhole")
    assert toxics[0] == StripUpgrade() and toxics[0].stream == "upstream"
    assert toxics[1] == Buffer() and toxics[1].size == 4096  # nginx: one x86-64 page
    assert toxics[2].size == 8192
    assert toxics[3] == Outage(5000, "stall", duration=1000)
    assert str(toxics[0]) == "strip_upgrade@upstream"
    assert parse_toxics(*map(str, toxics)) == toxics
    assert [toxic_from_dict(t.to_dict()) for t in toxics] == toxics
    assert load_toxics([{"type": "buffer", "attributes": {"size": "1KiB"}}]) == [Buffer(size=1024)]
    assert list(itertools.islice(toxics[4].windows(), 3)) == [
        (1000, 1200), (3000, 3200), (5000, 5200)]
    assert list(toxics[5].windows()) == [(0, math.inf)]  # a blackhole for ever


@pytest.mark.parametrize("spec, message", [
    ("strip_upgrade@downstream", r"strip_upgrade toxic: stream 'downstream' is not allowed; "
                                 r"allowed: upstream"),
    ("strip_upgrade@both", r"stream 'both' is not allowed; allowed: upstream"),
    ("buffer@upstream", r"buffer toxic: stream 'upstream' is not allowed; allowed: downstream"),
    ("buffer:size=0", r"size must be positive"),
    ("buffer:bytes=5", r"unknown attribute 'bytes'; allowed: size, head, stream, toxicity, seed"),
    ("outage:at=1s", r"missing attribute 'mode' \(allowed: reset, stall, blackhole\)"),
    ("outage:mode=reset", r"missing attribute 'at'"),
    ("outage:at=1s,mode=crash", r"'crash' is not allowed; allowed: reset, stall, blackhole"),
    ("outage:at=-1s,mode=reset", r"outage toxic: at: must not be negative"),
    ("outage:at=1s,mode=stall", r"mode 'stall' needs a positive duration"),
    ("outage:at=1s,mode=reset,duration=2s,every=1s", r"must be shorter than every"),
    ("outage:at=1s,mode=blackhole,every=1s", r"a blackhole for ever .* cannot repeat"),
    ("outage@both:at=1s,mode=reset", r"stream 'both' is not allowed"),
])
def test_bad_middlebox_toxics_are_refused_with_a_clear_message(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_toxics(spec)
