"""gzip responses for the polling transports (HTTP content coding, RFC 9110 §8.4).

Compression is off by default: every earlier run keeps its bytes. Two ways
turn it on, both subject to the request's ``Accept-Encoding`` allowing gzip
(RFC 9110 §12.5.3; aiohttp's client always sends ``gzip, deflate``, as
browsers do):

- the server option ``gzip`` (``Lab(server_options={"long-poll": {"gzip":
  True}})``): every response of that server is compressed;
- the client option ``gzip`` (per run, so one server serves a sweep of both):
  the client adds ``gzip=1`` to its query (7 bytes per request, counted like
  any byte) and the server compresses the responses to it.

aiohttp's client inflates the body before the kit reads it, so the kernel
counters see the compressed bytes and the latency includes both ends' zlib
work. Each response is compressed on its own (no shared dictionary, unlike
permessage-deflate with context takeover). SSE is left uncompressed: a
stream would need a zlib flush after every event to deliver it at once,
which aiohttp's compressed writer does not do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.web import ContentCoding

from ..core.errors import ConfigError

__all__ = ["check_gzip", "gzip_query", "json_response"]


def check_gzip(transport: str, options: Mapping[str, Any]) -> None:
    """The ``gzip`` option (client or server) is true or false, or `ConfigError`."""
    value = options.get("gzip", False)
    if not isinstance(value, bool):
        raise ConfigError(f"gzip must be true or false for {transport}, not {value!r}")


def gzip_query(options: Mapping[str, Any]) -> str:
    """What a client with option ``gzip`` adds to its request's query."""
    return "&gzip=1" if options.get("gzip") else ""


def json_response(request: web.Request, body: bytes, always: bool) -> web.Response:
    """A JSON response, gzip-coded when ``always`` (the server option) or the
    request asks for it, and its ``Accept-Encoding`` allows gzip."""
    resp = web.Response(body=body, content_type="application/json")
    wanted = always or request.query.get("gzip") == "1"
    if wanted and "gzip" in request.headers.get("Accept-Encoding", "").lower():
        resp.enable_compression(ContentCoding.gzip)
    return resp
