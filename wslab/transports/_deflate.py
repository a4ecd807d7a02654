"""permessage-deflate (RFC 7692) parameters of the websocket transport.

A client that turns ``compression`` on may also set the four extension
parameters of RFC 7692 §7.1 (`DEFLATE_OPTIONS`): ``server_no_context_takeover``
and ``client_no_context_takeover`` (§7.1.1: each side resets its compressor
after every message, so no message refers to an earlier one) and
``server_max_window_bits`` / ``client_max_window_bits`` (§7.1.2: the LZ77
window, 2^bits bytes, 9 to 15). Unset, the offer is websockets' default one
(no parameters but ``client_max_window_bits`` without a value).

The server (`server_factory`) answers as websockets' default server does
(window 2^12, memLevel 5: websockets documents about 64 KiB per connection)
unless the offer names a window size; then it grants what was asked (up to
15 bits, §7.1.2.1), so a sweep can measure the window size's cost. Offers
without those parameters -- every earlier run's -- get the default answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)

from ..core.errors import ConfigError

__all__ = ["DEFLATE_OPTIONS", "check_deflate_options", "client_extensions", "server_factory"]

#: the client options (RFC 7692 §7.1 names) and their defaults: websockets' offer
DEFLATE_OPTIONS: dict[str, Any] = {"server_no_context_takeover": False,
                                   "client_no_context_takeover": False,
                                   "server_max_window_bits": None,
                                   "client_max_window_bits": None}
#: websockets' default compressor settings (memLevel 5: 2^(5+9) B of hash tables)
_COMPRESS = {"memLevel": 5}
_BITS = range(9, 16)  # 8 is in the RFC's range but zlib refuses it (websockets too)


def check_deflate_options(options: Mapping[str, Any]) -> None:
    """The four parameters' values, and that they come with ``compression``;
    `ConfigError` naming what is allowed."""
    for name in ("server_no_context_takeover", "client_no_context_takeover"):
        if not isinstance(options[name], bool):
            raise ConfigError(f"{name} must be true or false, not {options[name]!r}")
    for name in ("server_max_window_bits", "client_max_window_bits"):
        bits = options[name]
        if bits is not None and (isinstance(bits, bool) or bits not in _BITS):
            raise ConfigError(f"{name} must be an integer from 9 to 15 (or none), "
                              f"not {bits!r}")
    changed = [n for n, v in DEFLATE_OPTIONS.items() if options[n] != v]
    if changed and not options.get("compression"):
        raise ConfigError(f"{', '.join(changed)} apply only with compression true")


def client_extensions(options: Mapping[str, Any]) -> Sequence[Any] | None:
    """The client's ``extensions`` for `websockets.connect`: None (websockets'
    own default offer, or none) unless a parameter is set."""
    if not options.get("compression") or all(
            options.get(n, v) == v for n, v in DEFLATE_OPTIONS.items()):
        return None
    return [ClientPerMessageDeflateFactory(
        server_no_context_takeover=bool(options.get("server_no_context_takeover")),
        client_no_context_takeover=bool(options.get("client_no_context_takeover")),
        server_max_window_bits=options.get("server_max_window_bits"),
        # True: "I can use any window the server names" (websockets' default offer)
        client_max_window_bits=options.get("client_max_window_bits") or True,
        compress_settings=_COMPRESS)]


class _Factory(ServerPerMessageDeflateFactory):
    """websockets' default answer, or the asked window sizes when the offer names them."""

    def __init__(self) -> None:
        # websockets' default server (enable_server_permessage_deflate)
        super().__init__(server_max_window_bits=12, client_max_window_bits=12,
                         compress_settings=_COMPRESS)
        self._open = ServerPerMessageDeflateFactory(compress_settings=_COMPRESS)

    def process_request_params(self, params, accepted_extensions):
        asked = {name for name, value in params
                 if name == "server_max_window_bits"
                 or (name == "client_max_window_bits" and value is not None)}
        if asked:
            return self._open.process_request_params(params, accepted_extensions)
        return super().process_request_params(params, accepted_extensions)


def server_factory() -> ServerPerMessageDeflateFactory:
    """The server's permessage-deflate factory (see the module docstring)."""
    return _Factory()
