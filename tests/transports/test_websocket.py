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


# -- subprotocols (Sec-WebSocket-Protocol, RFC 6455 §4.1 item 10, §4.2.2) ------------------
def test_subprotocol_option_is_checked_and_absent_by_default():
    from wslab import transports
    from wslab.core.errors import ConfigError

    ws = transports.get("websocket")
    assert "subprotocols" not in ws.validate_options({})  # default: no header at all
    assert ws.validate_options({"subprotocols": ["chat.v1"]})["subprotocols"] == ["chat.v1"]
    for bad in ("chat.v1", ["two words"], [1]):
        with pytest.raises(ConfigError, match="subprotocols must be a list of tokens"):
            ws.validate_options({"subprotocols": bad})


def test_subprotocol_negotiation_bytes_and_mismatch():
    """The server picks its first supported protocol the client offers; the header
    adds its own bytes each way; a mismatch is refused with 400 before any frame."""
    from wslab.studies.handshakes.subprotocols import subprotocol_table

    t = subprotocol_table().set_index(["server supports", "client offers"])
    header = len("Sec-WebSocket-Protocol: wslab.v1\r\n")  # 34 bytes
    plain = t.loc[("(none)", "(none)")]
    assert plain["status"] == 101 and plain["chosen"] == "(none)"
    ignored = t.loc[("(none)", "wslab.v1")]  # a server with no list answers without one
    assert (ignored["status"], ignored["added_up"], ignored["added_down"]) == (101, header, 0)
    agreed = t.loc[("wslab.v2, wslab.v1", "wslab.v1")]
    assert (agreed["chosen"], agreed["added_up"], agreed["added_down"]) == (
        "wslab.v1", header, header)
    both = t.loc[("wslab.v2, wslab.v1", "wslab.v1, wslab.v2")]
    assert both["chosen"] == "wslab.v2"  # the server's preference, not the client's order
    assert both["added_up"] == header + len(", wslab.v2")
    for offer, reason in (("other.v1", "invalid subprotocol"), ("(none)", "missing subprotocol")):
        refused = t.loc[("wslab.v2, wslab.v1", offer)]
        assert refused["status"] == 400 and reason in refused["reason"]
