"""The websocket transport's byte accounting against an independent packet capture."""

from __future__ import annotations

import os

import pytest

import wslab

from ..conftest import needs

capture = pytest.importorskip("wslab.net.capture")


@needs(capture.tcpdump_available() and os.geteuid() == 0,
       reason="tcpdump is not installed or not root")
def test_close_handshake_is_in_the_counted_bytes(tmp_path):
    """bytes_up / bytes_down equal a capture's payload bytes to the byte.

    The counters are read after the close handshake (a close frame each way,
    RFC 6455 §5.5.1), so a short run, where those frames weigh most, matches
    the wire exactly instead of missing 8 B up and 4 B down per connection.
    """
    with wslab.Lab() as lab:
        port = int(lab.urls["websocket"].rsplit(":", 1)[1].split("/")[0])
        with capture.Capture(port) as cap:
            run = lab.run("websocket", clients=3, rate=50, duration=1, schedule="fixed",
                          out=str(tmp_path / "ws"), progress=False)
    s, r = run.summary, cap.result
    assert s["lost"] == 0 and s["connections"] == 3
    assert r.bytes_to_server == s["bytes_up"]
    assert r.bytes_from_server == s["bytes_down"]
