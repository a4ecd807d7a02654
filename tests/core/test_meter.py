import os
import socket

import numpy as np
import pytest

from wslab.core.meter import (
    ProcessMeter,
    decode_histogram,
    encode_histogram,
    histogram_percentiles,
    latency_histogram,
    tcp_info,
)

from ..conftest import needs, wait_until


def test_tcp_info_counts_exact_bytes_each_way():
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    try:
        client.sendall(b"a" * 10_000)
        got = 0
        while got < 10_000:
            got += len(peer.recv(65536))
        peer.sendall(b"b" * 3_000)
        got = 0
        while got < 3_000:
            got += len(client.recv(65536))
        # the client's bytes are ACKed once the peer has read them
        assert wait_until(lambda: tcp_info(client).bytes_up == 10_000, 5)
        c = tcp_info(client)
        assert (c.bytes_up, c.bytes_down) == (10_000, 3_000)
        assert c.segs_up >= 2 and c.segs_down >= 2  # SYN/ACK handshake included
        p = tcp_info(peer, active_open=False)
        assert (p.bytes_up, p.bytes_down) == (3_000, 10_000)
    finally:
        for s in (client, peer, server):
            s.close()


def test_tcp_info_leaves_out_the_peers_fin():
    # After the peer closes, the FIN's sequence number is in tcpi_bytes_received
    # (the socket is in CLOSE_WAIT); it is not a byte of data.
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    try:
        peer.sendall(b"b" * 3_000)
        peer.close()
        got = b""
        while chunk := client.recv(65536):
            got += chunk
        assert len(got) == 3_000
        assert tcp_info(client).bytes_down == 3_000
    finally:
        for s in (client, server):
            s.close()


def test_tcp_info_on_closed_socket_raises():
    s = socket.socket()
    s.close()
    with pytest.raises(OSError):
        tcp_info(s)


def test_histogram_percentiles_match_numpy():
    rng = np.random.default_rng(1)
    lat_ns = rng.lognormal(np.log(300_000), 0.5, 50_000).astype(np.int64)
    hist = latency_histogram(lat_ns)
    pct = histogram_percentiles(hist)
    us = lat_ns / 1000
    for key, q in (("p50", 50), ("p90", 90), ("p99", 99)):
        assert pct[key] == pytest.approx(np.percentile(us, q), rel=0.01)
    assert pct["mean"] == pytest.approx(us.mean(), rel=0.01)
    assert hist.get_total_count() == 50_000
    # the encoded form round-trips, so runs can be merged later
    back = decode_histogram(encode_histogram(hist))
    assert back.get_total_count() == 50_000
    assert back.get_value_at_percentile(50) == hist.get_value_at_percentile(50)


def test_empty_histogram_gives_nan():
    pct = histogram_percentiles(latency_histogram(np.array([], dtype=np.int64)))
    assert all(np.isnan(v) for v in pct.values())


def test_process_meter_measures_cpu_in_its_window():
    meter = ProcessMeter(period=0.01)
    meter.start()
    x = 0
    for i in range(3_000_000):
        x += i
    snap = meter.stop()
    assert snap["cpu_s"] > 0
    assert snap["rss_peak"] >= snap["rss_start"] > 0


# -- the kernel counters against an independent packet capture ----------------

capture = pytest.importorskip("wslab.net.capture")


def _can_capture() -> bool:
    return capture.tcpdump_available() and os.geteuid() == 0


@needs(_can_capture(), reason="tcpdump is not installed or not root")
@pytest.mark.parametrize("name", ["tcp", "websocket", "sse", "long-poll", "short-poll"])
def test_run_bytes_match_packet_capture(name, tmp_path):
    """bytes_up / bytes_down of a run agree with tcpdump's count within 2 %.

    (They agree to the byte on this machine: WebSocket close frames are read
    after the close handshake, and a peer's FIN is not counted as a byte.)
    """
    import wslab

    with wslab.Lab() as lab:
        port = int(lab.urls[name].rsplit(":", 1)[1].split("/")[0])
        with capture.Capture(port) as cap:
            run = lab.run(name, clients=5, rate=200, duration=1, schedule="fixed",
                          out=str(tmp_path / name), progress=False,
                          **({"interval": 0.1} if name == "short-poll" else {}))
    s, r = run.summary, cap.result
    assert len(r.per_connection) == s["connections"] == 5
    assert r.bytes_to_server == pytest.approx(s["bytes_up"], rel=0.02, abs=60)
    assert r.bytes_from_server == pytest.approx(s["bytes_down"], rel=0.02)
    assert r.bytes_from_server >= s["bytes_down"]  # the capture sees at least as much
