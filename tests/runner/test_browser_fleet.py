"""Chromium as a client fleet (client="chromium"): real pages, real servers.

The browser runs are short (3 pages, 2 s) and assert what every run must
show: every event reached every page once, the page clocks were aligned to
CLOCK_MONOTONIC and the bound is stored, and the kernel counted each page's
bytes. Without Chromium they skip on a developer's machine and fail under CI
(``needs``), where .ci/run installs it.
"""

import hashlib
import importlib.util
import os
import shutil

import psutil
import pytest

import wslab
from wslab.cli import format_summary, main
from wslab.core.errors import ConfigError
from wslab.core.events import encode
from wslab.runner.browser_fleet import COOKIE_CHUNK, SOCKETIO_JS, align, browser_cpu, cookie_jar
from wslab.runner.browser_sockets import Reconnect, match_reconnects
from wslab.runner.config import RunConfig

from ..conftest import needs

HAVE_CHROMIUM = bool(shutil.which("chromium")) and importlib.util.find_spec("playwright")
chromium = needs(HAVE_CHROMIUM, "Chromium and playwright are not installed")


def test_unknown_client_is_refused_naming_the_allowed():
    with pytest.raises(ConfigError, match="client must be python or chromium, not 'firefox'"):
        RunConfig(transport="websocket", client="firefox").validate()


def test_chromium_speaks_the_browser_transports_only():
    with pytest.raises(ConfigError, match="client chromium speaks websocket, sse, long-poll, "
                                          "short-poll, socketio, not tcp"):
        RunConfig(transport="tcp", client="chromium").validate()


def test_no_chromium_found_is_one_line_saying_how_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("WSLAB_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no browser on PATH
    with pytest.raises(ConfigError) as err:
        RunConfig(transport="websocket", client="chromium").validate()
    message = str(err.value)
    assert "\n" not in message and "apt-get install chromium" in message


def test_a_wrong_wslab_chromium_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("WSLAB_CHROMIUM", str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="WSLAB_CHROMIUM=.*nope.* is not an executable"):
        RunConfig(transport="sse", client="chromium").validate()


def test_cli_refuses_an_unknown_client_before_anything_starts(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "websocket", "--client", "lynx", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "client must be python or chromium" in err
    assert not out.exists()


def test_align_keeps_the_narrowest_bracket():
    # (before_ns, page_ms, after_ns): the page clock is CLOCK_MONOTONIC - 1 s
    reads = [(2_000_000_000, 1000.2, 2_000_900_000),  # 900 µs bracket
             (3_000_000_000, 2000.05, 3_000_100_000)]  # 100 µs bracket: kept
    offset, error = align(reads)
    assert error == 50_000
    assert offset == pytest.approx(1_000_000_000, abs=error)


@pytest.fixture(scope="module")
def lab():
    with wslab.Lab() as lab:
        yield lab


@chromium
@pytest.mark.parametrize("transport", ["websocket", "sse", "long-poll", "short-poll"])
def test_pages_get_every_event_once(lab, transport, tmp_path):
    # short polls carry a cookie jar of 300 B on every request
    extra = {"interval": 0.1, "cookies": 300} if transport == "short-poll" else {}
    run = lab.run(transport, clients=3, rate=50, duration=2, client="chromium",
                  progress=False, out=str(tmp_path / "run"), **extra)
    s = run.summary
    assert s["published"] > 0 and s["client_errors"] == 0 and s["stalled_clients"] == 0
    assert (s["lost"], s["duplicated"]) == (0, 0)
    assert s["latency_count"] > 0 and s["latency_us"]["p50"] > 0
    # Every received_ns is after its published_ns within the alignment bound.
    late = run.messages.received_ns - run.messages.published_ns
    assert late.min() > -s["clock_alignment_us"] * 1e3
    assert 0 < s["clock_alignment_us"] < 5_000
    assert run.manifest["parameters"]["client"] == s["client"] == "chromium"
    # the kernel's counters of each page's socket, attributed to the page
    conns = run.connections
    assert sorted(set(conns.client_id)) == [0, 1, 2]
    assert (conns.bytes_up > 0).all() and (conns.bytes_down > 0).all()
    assert conns.requests.sum() >= 3
    assert "clock     Chromium" in format_summary(run)
    assert s["browser_cpu_s"] > 0 and s["browser_cpu_by_type"]["renderer"] > 0
    assert s["reconnects"] == 0
    if transport == "short-poll":
        # Every poll's head carries "Cookie: " + 300 B + CRLF; a GET has no body,
        # so the bytes up per request are the request head, the same for each poll
        # (the request line's since=N grows by a digit at most).
        assert s["cookie_bytes"] == 300 and s["http_versions"] == ["http/1.1"]
        per_poll = conns.bytes_up / conns.requests
        assert per_poll.min() > 310 + 300 and per_poll.max() - per_poll.min() < 3


@chromium
@pytest.mark.parametrize("transport", ["websocket", "sse"])
def test_pages_resume_after_an_outage_lost_0(lab, transport, tmp_path):
    # Every connection is reset at 0.5 s and new ones for 0.3 s: the page
    # reconnects (WebSocket: its own backoff; EventSource: the browser's retry,
    # 3 s in Chromium) and resumes from its last seq (?since=, Last-Event-ID).
    run = lab.run(transport, clients=2, rate=50, duration=2, client="chromium",
                  progress=False, out=str(tmp_path / "run"),
                  faults=["outage:at=0.5s,duration=0.3s,mode=reset"])
    s = run.summary
    assert s["published"] > 0 and s["stalled_clients"] == 0
    assert (s["lost"], s["duplicated"]) == (0, 0)
    # each page reconnected at least once, each reconnection a row of its page
    back = run.connections[run.connections.fault_ns > 0]
    assert s["reconnects"] == len(back) >= 2 and set(back.client_id) == {0, 1}
    assert s["recovery_ms"]["n"] == s["reconnects"]
    # the sockets the kernel saw: the pages' first ones and at least one more each
    assert (run.connections.bytes_up > 0).sum() >= 4


def test_cookie_jar_is_exactly_the_size_asked_in_small_cookies():
    for size in (0, 8, 99, 100, 101, 102, 103, 104, 105, 106, 107, 600, 4321):
        jar = cookie_jar(size, seed=3)
        header = "; ".join(f"{n}={v}" for n, v in jar)
        assert len(header) == size
        assert all(len(n) + 1 + len(v) <= COOKIE_CHUNK + 8 for n, v in jar)
    with pytest.raises(ConfigError, match="cookies must be 0 or at least 8 bytes, not 3"):
        cookie_jar(3)
    assert cookie_jar(600, seed=3) == cookie_jar(600, seed=3) != cookie_jar(600, seed=4)


def test_cookies_are_for_browser_pages_and_bounded():
    with pytest.raises(ConfigError, match="cookies applies to client chromium only"):
        RunConfig(transport="short-poll", cookies=100).validate()
    with pytest.raises(ConfigError, match="cookies must be between 0 and 8,000"):
        RunConfig(transport="short-poll", cookies=9000).validate()
    with pytest.raises(ConfigError, match="cookies must be 0 or at least 8 bytes, not 3"):
        RunConfig(transport="short-poll", client="chromium", cookies=3).validate()


def test_reconnects_take_the_socket_that_appeared_for_them():
    first = {("127.0.0.1", 1): 0, ("127.0.0.1", 2): 1_000, ("127.0.0.1", 3): 5_000,
             ("127.0.0.1", 4): 9_000}
    a = Reconnect(0, fault_ns=900, back_ns=1_500, failed_attempts=0)
    b = Reconnect(1, fault_ns=950, back_ns=4_990, failed_attempts=2)
    c = Reconnect(0, fault_ns=20_000, back_ns=21_000, failed_attempts=0)  # no socket seen
    match_reconnects([b, a, c], first, owned={("127.0.0.1", 1)}, period_ns=20)
    assert a.socket == ("127.0.0.1", 2)  # back first, takes the first socket
    assert b.socket == ("127.0.0.1", 3)  # within one period after it was back
    assert c.socket is None


def test_browser_cpu_counts_chromium_processes_only():
    # this process (python) and any non-browser child are left out
    assert browser_cpu([psutil.Process(os.getpid())]) == {}


def test_browser_pages_are_bounded():
    with pytest.raises(ConfigError, match="clients must be at most 100 with client chromium"):
        RunConfig(transport="websocket", client="chromium", clients=101).validate()


def test_the_vendored_socketio_client_is_the_npm_file():
    # socket.io-client 4.8.4's dist/socket.io.min.js as `npm pack` gives it
    # (wslab/runner/vendor/README.md): a changed or truncated file is caught here
    assert hashlib.sha256(SOCKETIO_JS.read_bytes()).hexdigest() == (
        "d5d79a35039e860b32bdef4795528b05c2f788d4b2d9dacc913120e2878f7b3f")
    assert (SOCKETIO_JS.parent / "LICENSE").read_text().startswith("The MIT License")



@chromium
@pytest.mark.parametrize("mode", ["websocket", "polling"])
def test_socketio_js_client_pages_get_every_event_once(lab, mode, tmp_path):
    # Socket.IO's JavaScript client in each page, Engine.IO's transports by mode
    # (upgrade runs too, but costs a third run's time)
    run = lab.run("socketio", clients=3, rate=20, duration=2, client="chromium",
                  progress=False, out=str(tmp_path / "run"), options={"mode": mode})
    s = run.summary
    assert s["published"] > 0 and s["client_errors"] == 0 and s["stalled_clients"] == 0
    assert (s["lost"], s["duplicated"]) == (0, 0) and s["reconnects"] == 0
    # published_ns survives as the exact integer (read from the raw packet, not
    # from Socket.IO's parsed number): no delivery precedes its publication
    late = run.messages.received_ns - run.messages.published_ns
    assert late.min() > -s["clock_alignment_us"] * 1e3
    conns = run.connections
    assert sorted(set(conns.client_id)) == [0, 1, 2]  # every socket is a page's
    assert (conns.bytes_down > 0).all()
    body = len(encode(1, int(run.messages.published_ns.max()), b"x" * 64))
    if mode == "polling":
        # an XHR GET per response and the POSTs, each response carrying the
        # body in Socket.IO's framing, uncompressed (http_compression is off)
        assert conns.requests.sum() >= 3 * 2 and s["http_versions"] == ["http/1.1"]
        assert s["bytes_down_per_event"] > body
    else:
        # one WebSocket handshake per page; Chromium offers permessage-deflate and
        # python-engineio's aiohttp server accepts it: the frames are compressed
        assert conns.requests.sum() == 3 and s["ws_extensions"] == ["permessage-deflate"]
