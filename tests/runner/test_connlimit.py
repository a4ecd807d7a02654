"""The per-host connection limit of one browser context, measured in Chromium.

One run (one Chromium launch, 10 streams per transport, 3 s): the 7th
EventSource of a page stalls behind the six HTTP/1.1 connections Chromium
allows per host, while ten WebSockets to one host all get events.
"""

import importlib.util
import shutil

import pytest

from wslab.core.errors import ConfigError
from wslab.runner import connlimit

from ..conftest import TIMEOUT_FACTOR, needs, wslab_processes

HAVE_CHROMIUM = bool(shutil.which("chromium")) and importlib.util.find_spec("playwright")
chromium = needs(HAVE_CHROMIUM, "Chromium and playwright are not installed")
BOUND = 3.0 * TIMEOUT_FACTOR


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"streams": 0}, "streams must be 1..50, not 0"),
    ({"streams": 51}, "streams must be 1..50, not 51"),
    ({"bound": 0.1}, "bound must be 0.5..60 s"),
    ({"kinds": ("tcp",)}, "kinds must be among sse, long-poll, websocket"),
])
def test_bad_input_is_refused_before_any_process(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        connlimit.run(**kwargs)


@pytest.fixture(scope="module")
def results():
    return connlimit.run(streams=10, bound=BOUND)


@chromium
def test_the_seventh_sse_stream_stalls(results):
    sse = [r for r in results if r.kind == "sse"]
    assert [r.index for r in sse] == list(range(1, 11))
    # six connections per host: exactly six streams get events, four wait
    assert sum(not r.stalled for r in sse) == 6
    assert all(r.negotiated == "http/1.1" for r in sse)


@chromium
def test_websockets_are_not_limited_to_six(results):
    ws = [r for r in results if r.kind == "websocket"]
    assert len(ws) == 10 and not any(r.stalled for r in ws)
    assert all(r.negotiated.startswith("extensions: ") for r in ws)


@chromium
def test_long_polls_all_answer_and_the_table_says_so(results):
    polls = [r for r in results if r.kind == "long-poll"]
    # Each response frees a connection for a queued poll: all get events.
    assert len(polls) == 10 and not any(r.stalled for r in polls)
    table = connlimit.format_table(results, BOUND)
    assert "sse        6 of 10 streams" in table and "stalled" in table
    assert "websocket  10 of 10 streams" in table


@chromium
def test_no_process_is_left(results):
    import os

    assert results and not wslab_processes(os.getpid())
