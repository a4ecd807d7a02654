"""Runs with faults: every transport recovers without losing an event, a gap
the history cannot cover is reported as lost, middleboxes break what they
break and the fallback client finds its way (issue: faults, C7/C8)."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from wslab.core.errors import ConfigError
from wslab.runner.config import RunConfig
from wslab.runner.lab import Lab

RESUMING = ["websocket", "sse", "long-poll", "tcp"]


@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


def _reset_run(transport: str, out: str):
    with Lab() as own:  # one server per transport: the four runs go side by side
        return own.run(transport, clients=2, rate=20, duration=20, schedule="fixed",
                       faults=["reset_peer:timeout=2s"], out=out, progress=False)


def test_resets_every_2_s_cost_no_event(tmp_path):
    # Each connection is reset (RST) 2 s after it was set up, for a 20 s run:
    # every client reconnects about nine times and resumes from its last seq.
    with ThreadPoolExecutor(len(RESUMING)) as pool:
        runs = dict(zip(RESUMING, pool.map(
            lambda t: _reset_run(t, str(tmp_path / t)), RESUMING), strict=True))
    for transport, run in runs.items():
        s = run.summary
        assert s["published"] == 400, transport
        assert (s["lost"], s["duplicated"]) == (0, 0), transport
        assert s["reconnects"] >= 2 * 5, transport
        assert s["recovery_ms"]["n"] > 0 and s["client_errors"] == 0, transport
        assert any(f["kind"] == "reset_peer" for f in run.manifest["faults_fired"]), transport


def test_an_outage_longer_than_the_history_is_reported_as_a_lost_range(tmp_path):
    # The server keeps 5 events; the proxy resets every connection at 1 s and
    # refuses new ones for 1.5 s, while 30 events are published: the clients
    # come back to a history that starts past their last seq.
    with Lab(history=5) as small:
        run = small.run("websocket", clients=2, rate=20, duration=3, schedule="fixed",
                        faults=["outage:at=1s,duration=1.5s,mode=reset"],
                        out=str(tmp_path / "run"), progress=False)
    s = run.summary
    assert s["lost"] > 0 and s["duplicated"] == 0
    assert s["lost_range_count"] >= 1
    for first, last, clients in s["lost_ranges"]:  # inside the outage, never its edges
        assert 1 < first <= last < s["published"] and clients in (1, 2)
    assert s["lost"] == sum((b - a + 1) * n for a, b, n in s["lost_ranges"])
    assert s["reconnects"] >= 2


def test_upgrade_stripping_breaks_websocket_with_a_clear_reason(lab, tmp_path):
    with pytest.raises(Exception, match="426|Upgrade|invalid HTTP status"):
        lab.run("websocket", clients=1, rate=10, duration=1, faults=["strip_upgrade"],
                out=str(tmp_path / "run"), progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("fault, ends_on", [("strip_upgrade", {"sse"}),
                                            ("buffer", {"websocket"})])
def test_fallback_finds_a_transport_that_works(lab, tmp_path, fault, ends_on):
    run = lab.run("fallback", clients=2, rate=20, duration=2, faults=[fault],
                  options={"probe_timeout": 1.0}, out=str(tmp_path / "run"), progress=False)
    s = run.summary
    assert (s["lost"], s["duplicated"]) == (0, 0)
    last = run.connections.sort_values("opened_ns").groupby("client_id").kind.last()
    assert set(last) == ends_on


def test_fallback_leaves_a_buffered_stream_for_long_polling(lab, tmp_path):
    # A buffering proxy holds the SSE stream back: the first-byte probe
    # times out and the client moves on to long polling.
    run = lab.run("fallback", clients=2, rate=20, duration=2, faults=["buffer"],
                  options={"order": "sse,long-poll", "probe_timeout": 0.5},
                  out=str(tmp_path / "run"), progress=False)
    s = run.summary
    assert (s["lost"], s["duplicated"]) == (0, 0)
    kinds = run.connections.groupby("kind").size().to_dict()
    assert kinds.get("sse", 0) == 2 and kinds.get("long-poll", 0) >= 2
    last = run.connections.sort_values("opened_ns").groupby("client_id").kind.last()
    assert set(last) == {"long-poll"}


def test_server_restart_is_survived_by_resuming_clients(lab, tmp_path):
    run = lab.run("websocket", clients=3, rate=20, duration=3, schedule="fixed",
                  faults=["server_restart:at=1s,down=0.5s"], out=str(tmp_path / "run"),
                  progress=False)
    s = run.summary
    assert (s["published"], s["lost"], s["duplicated"]) == (60, 0, 0)
    assert s["reconnects"] >= 3
    restart = run.manifest["server_restarts"][0]
    assert restart["restarted_ns"] - restart["killed_ns"] >= 0.5e9
    # restarted_ns is when the new server began to listen: nobody got in before
    c = run.connections
    assert (c.loc[c.fault_ns > 0, "opened_ns"] >= restart["restarted_ns"]).all()


@pytest.mark.parametrize("transport", ["websocket", "tcp"])
def test_clients_back_during_the_restart_get_no_event_twice(lab, tmp_path, transport):
    # Jittered clients reconnect all through the restart, some while the new
    # server replays its log: the history is rebuilt before it listens, so a
    # push connection never receives an event it already has.
    run = lab.run(transport, clients=150, rate=5, duration=4, schedule="fixed",
                  faults=["server_restart:at=1.5s,down=0.5s"], options={"backoff_cap": 1.0},
                  out=str(tmp_path / "run"), progress=False)
    s = run.summary
    assert (s["lost"], s["duplicated"]) == (0, 0)
    assert s["reconnects"] >= 150


@pytest.mark.parametrize("faults, message", [
    (["smoke:at=1s"], "unknown"),
    (["outage:at=-1s,mode=reset"], "negative"),
    (["server_restart:at=30s,down=1s"], "20"),
])
def test_bad_fault_specs_are_refused_before_anything_starts(faults, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig("websocket", duration=20, faults=faults).validate()


def test_the_cli_exits_2_with_one_line_for_a_bad_fault(tmp_path):
    out = tmp_path / "never"
    p = subprocess.run([sys.executable, "-m", "wslab", "run", "websocket", "--duration", "5",
                        "--fault", "reset_every:timeout=1s", "--out", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "allowed" in p.stderr
    assert not out.exists()
