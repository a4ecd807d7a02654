"""Every transport delivers every event to every client exactly once, in order.

Checked from the run's own tables (messages.parquet, connections.parquet),
not from the summary alone.
"""

import numpy as np
import pandas as pd
import pytest

import wslab
from wslab import transports
from wslab.core.errors import ConfigError
from wslab.transports import Transport, register

ALL = ["tcp", "websocket", "sse", "long-poll", "short-poll"]
#: further transports: the negotiating client, two more WebSocket libraries,
#: Socket.IO, and polling and SSE over HTTP/2 (tests/transports/test_http2.py)
MORE = ["fallback", "aiohttp-ws", "picows", "socketio", "h2-short-poll", "h2-long-poll",
        "h2-sse"]


@pytest.fixture(scope="module")
def lab():
    with wslab.Lab() as lab:
        yield lab


@pytest.mark.parametrize("name", ALL + MORE)
def test_exactly_once_in_order(lab, name, tmp_path):
    extra = {"interval": 0.05} if name == "short-poll" else {}
    run = lab.run(name, clients=5, rate=200, duration=1.5, schedule="poisson", seed=3,
                  out=str(tmp_path / name), progress=False, **extra)
    s = run.summary
    m = pd.read_parquet(run.path / "messages.parquet")
    assert s["published"] > 200
    # every (client, seq) exactly once, seqs 1..published, for all 5 clients
    assert len(m) == 5 * s["published"]
    counts = m.groupby("client_id").seq.agg(["count", "nunique", "min", "max"])
    assert list(counts.index) == [0, 1, 2, 3, 4]
    assert (counts["count"] == s["published"]).all() and (counts["nunique"] == s["published"]).all()
    assert (counts["min"] == 1).all() and (counts["max"] == s["published"]).all()
    # in arrival order, each client's seqs increase
    for _, g in m.groupby("client_id", sort=False):
        assert np.all(np.diff(g.seq.to_numpy()) > 0)
    assert s["lost"] == s["duplicated"] == s["out_of_order"] == 0
    assert s["delivered"] == s["expected"] == 5 * s["published"]
    # latency is positive and published_ns is the server's monotonic clock
    assert (m.received_ns > m.published_ns).all()
    # bytes are kernel counts: at least the event bodies went down the wire
    c = pd.read_parquet(run.path / "connections.parquet")
    assert len(c) >= 5 and set(c.client_id) == set(range(5))
    body = len(b'{"seq":1,"t":1234567890123,"p":""}') + 64
    assert c.bytes_down.sum() >= 0.9 * body * len(m)
    assert s["bytes_down"] == c.bytes_down.sum() and s["bytes_up"] == c.bytes_up.sum()
    assert s["server_cpu_s"] > 0 and s["client_cpu_s"] > 0 and s["server_rss_peak_bytes"] > 0


def test_three_websocket_libraries_put_the_same_frames_on_the_wire(lab, tmp_path):
    # RFC 6455 fixes the frame (2-byte header for these sizes, unmasked server
    # to client): what differs between libraries is the handshake's headers,
    # not the bytes per event
    down = {}
    for n in ("websocket", "aiohttp-ws", "picows"):
        run = lab.run(n, clients=2, rate=100, duration=1, schedule="fixed", seed=1,
                      out=str(tmp_path / n), progress=False)
        c = run.connections
        down[n] = (c.bytes_down - c.setup_bytes).sum() / run.summary["delivered"]
    assert min(down.values()) > 64 + 2, down  # at least the payload and a frame header
    assert max(down.values()) - min(down.values()) < 1.0, down  # the close frame, per event


def test_request_accounting_differs_by_transport(lab, tmp_path):
    r = {n: lab.run(n, clients=2, rate=50, duration=1, schedule="fixed",
                    out=str(tmp_path / n), progress=False,
                    **({"interval": 0.1} if n == "short-poll" else {}))
         for n in ("tcp", "websocket", "sse", "short-poll")}
    assert r["tcp"].summary["requests"] == 0  # no HTTP at all
    assert r["websocket"].summary["requests"] == 2  # one Upgrade GET per client
    assert r["sse"].summary["requests"] == 2  # one streaming GET per client
    sp = r["short-poll"].summary
    # 10 polls/s per client for ~1 s of publishing, plus the drain
    assert sp["requests"] >= 2 * 8
    assert sp["bytes_up"] > 100 * sp["requests"]  # every poll resends its request headers


def test_websocket_compression_negotiated_and_smaller(lab, tmp_path):
    plain = lab.run("websocket", clients=1, rate=100, duration=1, payload=1000,
                    schedule="fixed", out=str(tmp_path / "plain"), progress=False)
    deflate = lab.run("websocket", clients=1, rate=100, duration=1, payload=1000,
                      schedule="fixed", options={"compression": True},
                      out=str(tmp_path / "deflate"), progress=False)
    assert deflate.summary["lost"] == 0
    # seeded payloads are random letters and digits (log2(62) bits each): deflate
    # saves ~25 % but never more than a degenerate payload would allow
    ratio = deflate.summary["bytes_down"] / plain.summary["bytes_down"]
    assert 0.5 < ratio < 0.95


def test_registry_names_and_plugins():
    assert transports.names()[:5] == ALL

    @register
    class Dummy(Transport):
        name = "dummy-test"
        delivery = "pull"

    try:
        assert "dummy-test" in transports.names()
        assert isinstance(transports.get("dummy-test"), Dummy)
        assert "dummy-test" in transports.names("pull")
        assert transports.delivery("dummy-test") == "pull"
    finally:
        transports._REGISTRY.pop("dummy-test")
    with pytest.raises(ConfigError, match="allowed: tcp, websocket"):
        transports.get("carrier-pigeon")
    with pytest.raises(ConfigError, match="allowed: tcp, websocket"):
        transports.delivery("carrier-pigeon")


def test_push_and_pull_are_defined_once_by_the_transports():
    # push: the server sends on a connection the client opened once; pull: a
    # request per response (long polling included: it only emulates push)
    push, pull = transports.names("push"), transports.names("pull")
    assert push[:6] == ["tcp", "websocket", "sse", "aiohttp-ws", "picows", "fallback"]
    assert {"h2-sse", "socketio"} <= set(push)
    assert pull == ["long-poll", "short-poll", "h2-short-poll", "h2-long-poll"]
    assert sorted(transports.names("push") + transports.names("pull")) == sorted(
        transports.names())
    with pytest.raises(ConfigError, match="delivery must be one of push, pull"):
        transports.names("poll")


def test_register_refuses_a_transport_without_name_or_delivery():
    class Nameless(Transport):
        delivery = "push"

    class Undecided(Transport):
        name = "undecided-test"

    with pytest.raises(ConfigError, match="has no name"):
        register(Nameless)
    with pytest.raises(ConfigError, match="Undecided.delivery must be one of push, pull"):
        register(Undecided)
    assert "undecided-test" not in transports.names()


def test_websocket_per_client_queues_deliver_exactly_once(lab, tmp_path):
    run = lab.run("websocket", clients=5, rate=200, duration=1, schedule="fixed",
                  options={"fanout": "queue"}, out=str(tmp_path / "q"), progress=False)
    s = run.summary
    assert s["lost"] == s["duplicated"] == s["out_of_order"] == 0
    assert s["delivered"] == 5 * 200
    assert run.manifest["parameters"]["options"]["fanout"] == "queue"


def test_conn_tracker_counts_a_request_in_flight_as_request_not_response():
    from wslab.transports.base import ConnTracker

    t = ConnTracker()
    key = object()
    t.request(key)
    t.request(key, empty=True)
    t.request(key, empty=True, completed=False)  # held when the client stopped
    row = t.rows[0]
    assert (row.requests, row.responses, row.empty_responses) == (3, 2, 1)


def test_long_poll_responses_never_exceed_deliveries_per_batch(lab, tmp_path):
    # A long poll is always held when the run stops: it is a request, not a response.
    run = lab.run("long-poll", clients=2, rate=20, duration=1, schedule="fixed",
                  out=str(tmp_path / "lp"), progress=False)
    s = run.summary
    assert s["lost"] == 0
    assert s["in_flight_at_stop"] == 2  # one held request per client
    assert s["requests"] == s["responses"] + 2
    # every completed response carried at least one event (no timeout in 1 s),
    # so events per response is >= 1
    assert s["delivered"] >= s["responses"] - s["empty_responses"] > 0
    assert s["requests_per_event"] == s["responses"] / s["delivered"]


def test_the_baseline_is_one_transport_per_mechanism():
    assert transports.names(baseline_only=True) == ALL
    assert wslab.transport_names(baseline_only=True) == ALL
    assert set(transports.names()) - set(ALL) == set(MORE)
