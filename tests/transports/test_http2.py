"""HTTP/2 transports: real hypercorn servers and httpx clients on loopback port 0,
in clear (h2c, prior knowledge) and over TLS (ALPN h2); exactly-once delivery
from the run's own tables; frames counted on the wire equal the kernel's bytes."""

import asyncio

import pytest

from wslab import transports
from wslab.core.errors import ConfigError
from wslab.runner.lab import Lab
from wslab.transports.h2probe import probe

H2 = ["h2-short-poll", "h2-long-poll", "h2-sse"]


def _run(lab, tmp_path, name, tls=None, **options):
    interval = {"interval": 0.1} if name == "h2-short-poll" else {}
    return lab.run(name, clients=3, rate=40, duration=0.6, tls=tls, progress=False,
                   out=str(tmp_path / f"{name}-{len(options)}"), options=options, **interval)


@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


@pytest.mark.parametrize("name, multiplex", [("h2-short-poll", 1), ("h2-long-poll", 3),
                                             ("h2-sse", 1)])
def test_h2c_delivers_exactly_once(lab, tmp_path, name, multiplex):
    assert lab.urls[name].startswith("http://")
    run = _run(lab, tmp_path, name, multiplex=multiplex)
    s = run.summary
    assert s["published"] > 0 and s["delivered"] == s["published"] * 3
    assert (s["lost"], s["duplicated"], s["out_of_order"]) == (0, 0, 0)
    assert (run.connections.bytes_up > 0).all()
    # multiplex=3: three subscriptions share one TCP connection (one row)
    assert len(run.connections) == 3 // multiplex
    assert run.connections.requests.sum() >= 3


def test_over_tls_alpn_negotiates_h2_and_delivers():
    with Lab(tls="1.3") as lab:
        assert lab.urls["h2-sse"].startswith("https://")
        run = lab.run("h2-sse", clients=2, rate=40, duration=0.6, tls="1.3", progress=False)
        assert (run.summary["lost"], run.summary["duplicated"]) == (0, 0)
        assert run.summary["delivered"] == 2 * run.summary["published"] > 0
    record = asyncio.run(probe(polls=2, tls="1.3"))
    assert record["alpn"] == "h2"
    # TLS records add bytes the frames do not see
    assert record["kernel_bytes_up"] > record["frame_bytes_up"]


def test_frames_on_the_wire_add_up_to_the_kernel_counters_and_hpack_indexes_repeats():
    record = asyncio.run(probe(polls=4, headers="browser"))
    assert record["alpn"] is None and record["delivered"] == 4
    assert record["frame_bytes_up"] == record["kernel_bytes_up"]
    assert record["frame_bytes_down"] == record["kernel_bytes_down"]
    first, *rest = [x["request_header_bytes"] for x in record["exchanges"]]
    # the first request carries literals; the repeats are indices plus the new :path
    assert first > 5 * rest[0] and len(set(rest)) == 1


def test_options_are_checked_and_h2_is_not_a_baseline_transport():
    for name in H2:
        assert name in transports.names() and name not in transports.names(baseline_only=True)
    assert transports.delivery("h2-sse") == "push"
    assert transports.delivery("h2-long-poll") == "pull"
    cls = type(transports.get("h2-long-poll"))
    with pytest.raises(ConfigError, match="multiplex must be an integer from 1 to 100"):
        cls.validate_options({"multiplex": 0})
    with pytest.raises(ConfigError, match="headers must be one of"):
        cls.validate_options({"headers": "curl"})
    with pytest.raises(ConfigError, match="timeout must be > 0"):
        cls.validate_options({"timeout": -1})
