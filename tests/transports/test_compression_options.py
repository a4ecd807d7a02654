"""Compression options: permessage-deflate parameters (RFC 7692 §7.1) on the
websocket transport and gzip responses (RFC 9110 §8.4) on the polling transports."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from wslab import transports
from wslab.core.errors import ConfigError
from wslab.core.hub import Hub
from wslab.transports import Bind
from wslab.transports._deflate import client_extensions

from ..conftest import TIMEOUT_FACTOR


async def _negotiated(options: dict) -> str | None:
    """The Sec-WebSocket-Extensions answer of the real server to the client's offer."""
    ws_transport = transports.get("websocket")
    endpoint = await ws_transport.start_server(Hub(10), Bind(), {})
    try:
        opts = ws_transport.validate_options(options)
        extensions = client_extensions(opts)
        async with asyncio.timeout(10 * TIMEOUT_FACTOR), connect(
                endpoint.url, extensions=extensions,
                compression="deflate" if opts["compression"] and not extensions else None,
        ) as ws:
            return ws.response.headers.get("Sec-WebSocket-Extensions")
    finally:
        await endpoint.close()


def test_deflate_answers_keep_the_default_and_grant_what_is_asked():
    answers = asyncio.run(_answers())
    assert answers["off"] is None  # no offer, no extension
    # websockets' default answer, as before the options existed: 2^12-byte windows
    assert answers["default"] == ("permessage-deflate; server_max_window_bits=12; "
                                  "client_max_window_bits=12")
    assert "server_max_window_bits=15" in answers["15 bits"]
    assert "client_max_window_bits=9" in answers["client 9 bits"]
    assert answers["no takeover"].count("no_context_takeover") == 2


async def _answers() -> dict:
    return {
        "off": await _negotiated({}),
        "default": await _negotiated({"compression": True}),
        "15 bits": await _negotiated({"compression": True, "server_max_window_bits": 15}),
        "client 9 bits": await _negotiated({"compression": True, "client_max_window_bits": 9}),
        "no takeover": await _negotiated({"compression": True,
                                          "server_no_context_takeover": True,
                                          "client_no_context_takeover": True}),
    }


@pytest.mark.parametrize("options, message", [
    ({"server_max_window_bits": 12}, "apply only with compression true"),
    ({"compression": True, "server_max_window_bits": 8}, "from 9 to 15"),
    ({"compression": True, "client_max_window_bits": True}, "from 9 to 15"),
    ({"compression": True, "server_no_context_takeover": "yes"}, "true or false"),
])
def test_bad_deflate_options_name_what_is_allowed(options, message):
    assert transports.get("websocket").validate_options({}) == {"compression": False,
                                                               "fanout": "broadcast"}
    with pytest.raises(ConfigError, match=message):
        transports.get("websocket").validate_options(options)


# -- gzip responses of the polling transports ----------------------------------------------
@pytest.mark.parametrize("name", ["short-poll", "long-poll"])
def test_gzip_option_is_checked(name):
    assert "gzip" not in transports.get(name).validate_options({})  # default: off, unrecorded
    assert transports.get(name).validate_options({"gzip": True})["gzip"] is True
    with pytest.raises(ConfigError, match="gzip must be true or false"):
        transports.get(name).validate_options({"gzip": "yes"})


def test_gzip_responses_are_smaller_on_the_wire_and_deliver_every_event(tmp_path):
    """Real runs, kernel-counted bytes: JSON payloads gzip-coded per response
    (client option) cost fewer bytes down than the same stream in clear, with
    nothing lost; the server option compresses without the client asking."""
    import wslab

    common = {"clients": 1, "rate": 40, "duration": 0.5, "payload": 1024,
              "payload_kind": "json", "schedule": "fixed", "progress": False}
    with wslab.Lab(server_options={"short-poll": {"gzip": True}}) as lab:
        runs = {gz: lab.run("long-poll", options={"gzip": gz}, out=str(tmp_path / f"lp{gz}"),
                            **common) for gz in (False, True)}
        forced = lab.run("short-poll", interval=0.1, out=str(tmp_path / "sp"), **common)
    for run in (*runs.values(), forced):
        assert run.summary["lost"] == 0 and run.summary["duplicated"] == 0
    down = {gz: r.summary["bytes_down"] / r.summary["delivered"] for gz, r in runs.items()}
    assert down[True] < 0.7 * down[False]  # realistic JSON: well under 70 % of its size
    assert forced.summary["bytes_down"] / forced.summary["delivered"] < 0.7 * down[False]
