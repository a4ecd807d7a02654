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
    with pytest.raises(ConfigError, match=message):
        transports.get("websocket").validate_options(options)
