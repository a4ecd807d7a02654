"""The live page of ``wslab serve`` (wslab.runner.live): bounds, the control
endpoint, CORS only for the page's origin, and the page itself in real Chromium
showing events and no loss on every browser transport.

One ``wslab serve`` process serves the module's tests (started once: it takes
a few seconds to mount every transport).
"""

import asyncio
import importlib.util
import json
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import psutil
import pytest

from wslab.cli import main
from wslab.core.errors import ConfigError
from wslab.core.events import Event
from wslab.core.hub import Hub
from wslab.runner.chromium import BROWSER_TRANSPORTS, LAUNCH_ARGS
from wslab.runner.live import LIMITS, LivePublisher, check_publish

from ..conftest import TIMEOUT_FACTOR, needs, wslab_processes

HAVE_CHROMIUM = bool(shutil.which("chromium")) and importlib.util.find_spec("playwright")
chromium = needs(HAVE_CHROMIUM, "Chromium and playwright are not installed")


@pytest.mark.parametrize(("args", "message"), [
    ((5000, 64, 10), r"rate must be in \(0, 1,000\] events/s, not 5000"),
    ((0, 64, 10), r"rate must be in \(0, 1,000\]"),
    ((10, 65_537, 10), r"payload must be a whole number of bytes in \[0, 65,536\]"),
    ((10, 1.5, 10), r"payload must be a whole number"),
    ((10, 64, 3601), r"duration must be in \(0, 3,600\] s"),
    (("10", 64, 1), r"rate must be a number, not '10'"),
])
def test_publishing_is_bounded_naming_the_limits(args, message):
    with pytest.raises(ConfigError, match=message):
        check_publish(*args)
    assert check_publish(LIMITS["rate"], LIMITS["payload"], LIMITS["duration"]) == (
        1000.0, 65_536, 3600.0)


def test_serve_refuses_out_of_bounds_before_anything_starts(capsys):
    before = psutil.Process().children(recursive=True)
    assert main(["serve", "--rate", "5000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "rate must be in (0, 1,000] events/s" in err
    assert psutil.Process().children(recursive=True) == before


def test_live_publisher_continues_the_seqs_and_stops_on_request():
    async def scenario():
        hub = Hub(1000)
        live = LivePublisher(hub)
        hub.publish(Event.make(1, 0, b"x"))  # a stream already under way
        started = await live.start(rate=1000, payload=16, duration=0.02)
        assert started["publishing"] and started["last_seq"] == 1
        assert live.task is not None
        await live.task  # runs to its end: floor(rate x duration) events
        done = await live.status()
        assert not done["publishing"] and done["published"] == 20
        assert [e.seq for e in hub.events_after(0)] == list(range(1, 22))
        assert {len(json.loads(e.body)["p"]) for e in hub.events_after(1)} == {16}
        await live.start(rate=1, payload=0, duration=3600)  # stopped long before its end
        stopped = await live.stop()
        assert not stopped["publishing"] and stopped["last_seq"] == hub.last_seq <= 22
        with pytest.raises(ConfigError, match="rate must be in"):
            await live.start(rate=1001, payload=0, duration=1)

    asyncio.run(scenario())


def test_serve_ends_after_its_duration_and_leaves_no_process():
    proc = subprocess.Popen([sys.executable, "-m", "wslab", "serve", "--rate", "20",
                             "--duration", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=60 * TIMEOUT_FACTOR)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "live page: http://127.0.0.1:" in out
    assert wslab_processes(proc.pid) == []  # the server child stopped with it


@pytest.fixture(scope="module")
def served():
    """``wslab serve`` at 50 events/s; its transports' URLs and the live page's."""
    proc = subprocess.Popen([sys.executable, "-m", "wslab", "serve", "--rate", "50",
                             "--duration", "120"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        urls, page = {}, ""
        assert proc.stdout is not None
        for line in proc.stdout:
            parts = line.split()
            if len(parts) == 2 and "://" in parts[1]:
                urls[parts[0]] = parts[1]
            if line.startswith("live page:"):
                page = parts[2]
            if line.startswith("publishing"):
                break
        assert page.startswith("http://127.0.0.1:") and page.endswith("/"), page
        kids = psutil.Process(proc.pid).children(recursive=True)
        yield urls, page
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as before the page existed
        assert proc.wait(30 * TIMEOUT_FACTOR) == 130
        _, alive = psutil.wait_procs(kids, timeout=10 * TIMEOUT_FACTOR)
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30 * TIMEOUT_FACTOR) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _headers(url: str, origin: str | None) -> dict[str, str]:
    request = urllib.request.Request(url, headers={"Origin": origin} if origin else {})
    with urllib.request.urlopen(request, timeout=30 * TIMEOUT_FACTOR) as resp:
        resp.read()
        return dict(resp.headers)


def test_control_is_bounded_json_from_the_page_only(served):
    _, page = served
    control, origin = page + "control", page.rstrip("/")
    json_type = {"Content-Type": "application/json"}
    code, text = _post(control, json.dumps({"action": "start", "rate": 5000, "payload": 64,
                                            "duration": 10}).encode(), json_type)
    assert (code, text) == (400, "rate must be in (0, 1,000] events/s, not 5000")
    code, text = _post(control, json.dumps({"action": "stop"}).encode(),
                       {**json_type, "Origin": "http://evil.example"})
    assert code == 403 and origin in text
    code, _ = _post(control, b"action=stop", {"Content-Type": "text/plain"})
    assert code == 415  # a form post, which any site could send, is refused
    code, text = _post(control, json.dumps({"action": "pause"}).encode(), json_type)
    assert (code, text) == (400, "action must be start or stop, not 'pause'")
    with urllib.request.urlopen(page + "status", timeout=30 * TIMEOUT_FACTOR) as resp:
        info = json.load(resp)
    assert info["status"]["publishing"] and info["status"]["rate"] == 50
    assert set(info["transports"]) == set(BROWSER_TRANSPORTS)
    with urllib.request.urlopen(page + "clock", timeout=30 * TIMEOUT_FACTOR) as resp:
        assert int(resp.read()) > 0  # CLOCK_MONOTONIC in ns, as text


def test_http_transports_allow_the_page_origin_only_when_it_asks(served):
    urls, page = served
    origin = page.rstrip("/")
    for name, query in (("short-poll", "?since=0"), ("long-poll", "?since=0&timeout=0")):
        url = urls[name] + query
        assert _headers(url, origin)["Access-Control-Allow-Origin"] == origin
        assert "Access-Control-Allow-Origin" not in _headers(url, None)  # a run's requests
        assert "Access-Control-Allow-Origin" not in _headers(url, "http://evil.example")


PANELS = """() => Object.fromEntries([...document.querySelectorAll('.panel')].map(d =>
  [d.dataset.transport, Object.fromEntries([...d.querySelectorAll('[data-k]')]
    .map(c => [c.dataset.k, c.textContent]))]))"""


def _all_received(at_least: int) -> str:
    return (f"() => {{ const p = document.querySelectorAll('.panel'); return p.length === 4 && "
            f"[...p].every(d => +d.querySelector('[data-k=received]').textContent >= "
            f"{at_least}); }}")


@chromium
def test_the_page_shows_every_transport_receiving_without_loss(served):
    from playwright.sync_api import sync_playwright

    from wslab.runner.chromium import find_chromium

    _, page_url = served
    limit_ms = 30_000 * TIMEOUT_FACTOR
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=list(LAUNCH_ARGS))
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_url)
            page.fill("#interval", "200")  # the page's short polls, every 200 ms
            page.wait_for_function(_all_received(10), polling=100, timeout=limit_ms)
            assert "±" in page.text_content("#clock")  # the offset's bound is shown
            # isolated (5 µs clock) and still reading every transport across origins
            assert page.evaluate("self.crossOriginIsolated") is True
            # the page's controls: a faster stream of bigger events, then stop
            page.fill("#rate", "200")
            page.fill("#payload", "1000")
            page.fill("#duration", "30")
            page.click("#start")
            page.wait_for_function("() => /publishing 200 events\\/s, 1000 B/"
                                   ".test(document.getElementById('status').textContent)",
                                   polling=100, timeout=limit_ms)
            page.wait_for_function(_all_received(150), polling=100, timeout=limit_ms)
            page.click("#stop")
            page.wait_for_function("() => document.getElementById('status').textContent"
                                   ".startsWith('stopped')", polling=100, timeout=limit_ms)
            last = page.evaluate("() => wslabLive.status.last_seq")
            # every transport catches up with the last event, with nothing lost
            page.wait_for_function(
                f"() => Object.values(wslabLive.panels).every(s => s.last >= {last})",
                polling=100, timeout=limit_ms)
            page.wait_for_timeout(600)  # two renders of the panels
            panels = page.evaluate(PANELS)
        finally:
            browser.close()
    assert errors == []
    assert set(panels) == set(BROWSER_TRANSPORTS)
    for name, p in panels.items():
        assert int(p["received"]) >= 150, (name, p)
        assert (p["lost"], p["dup"], p["errors"]) == ("0", "0", "0"), (name, p)
        assert re.fullmatch(r"-?\d+\.\d\d", p["p50"]), (name, p)  # a latency, in ms
        # payload bytes per event: between the first 64 B events and the 1,000 B ones
        assert 64 < float(p["bpe"]) < 1100, (name, p)
