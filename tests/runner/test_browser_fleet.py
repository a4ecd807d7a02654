"""Chromium as a client fleet (client="chromium"): real pages, real servers.

The browser runs are short (3 pages, 2 s) and assert what every run must
show: every event reached every page once, the page clocks were aligned to
CLOCK_MONOTONIC and the bound is stored, and the kernel counted each page's
bytes. Without Chromium they skip on a developer's machine and fail under CI
(``needs``), where .ci/run installs it.
"""

import importlib.util
import shutil

import pytest

import wslab
from wslab.cli import format_summary, main
from wslab.core.errors import ConfigError
from wslab.runner.browser_fleet import align
from wslab.runner.config import RunConfig

from ..conftest import needs

HAVE_CHROMIUM = bool(shutil.which("chromium")) and importlib.util.find_spec("playwright")
chromium = needs(HAVE_CHROMIUM, "Chromium and playwright are not installed")


def test_unknown_client_is_refused_naming_the_allowed():
    with pytest.raises(ConfigError, match="client must be python or chromium, not 'firefox'"):
        RunConfig(transport="websocket", client="firefox").validate()


def test_chromium_speaks_the_browser_transports_only():
    with pytest.raises(ConfigError, match="client chromium speaks websocket, sse, long-poll, "
                                          "short-poll, not tcp"):
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
    extra = {"interval": 0.1} if transport == "short-poll" else {}
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


def test_browser_pages_are_bounded():
    with pytest.raises(ConfigError, match="clients must be at most 100 with client chromium"):
        RunConfig(transport="websocket", client="chromium", clients=101).validate()
