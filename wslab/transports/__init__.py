"""Transports, registered by name.

Each module in this package defines one transport (server side and client
side) and registers it; adding a transport means adding a module here and
importing it below, nothing else.
"""

from __future__ import annotations

from ..core.errors import ConfigError
from .base import DELIVERIES, Bind, ClientContext, ConnTracker, Delivery, Endpoint, Transport

__all__ = ["DELIVERIES", "Bind", "ClientContext", "ConnTracker", "Delivery", "Endpoint",
           "Transport", "delivery", "get", "names", "register"]

_REGISTRY: dict[str, type[Transport]] = {}


def register(cls: type[Transport]) -> type[Transport]:
    """Class decorator: make a transport available under ``cls.name``."""
    if not cls.name:
        raise ConfigError(f"{cls.__name__} has no name")
    if getattr(cls, "delivery", None) not in DELIVERIES:
        raise ConfigError(f"{cls.__name__}.delivery must be one of {', '.join(DELIVERIES)}, "
                          f"not {getattr(cls, 'delivery', None)!r}")
    _REGISTRY[cls.name] = cls
    return cls


def names(delivery: Delivery | None = None, baseline_only: bool = False) -> list[str]:
    """Registered transport names, in registration order; only the ``"push"``
    or ``"pull"`` ones if ``delivery`` is given (`wslab.transports.base.Delivery`);
    only the five every comparison measures if ``baseline_only``
    (`Transport.baseline`)."""
    if delivery is not None and delivery not in DELIVERIES:
        raise ConfigError(f"delivery must be one of {', '.join(DELIVERIES)}, not {delivery!r}")
    return [n for n, cls in _REGISTRY.items()
            if (delivery is None or cls.delivery == delivery)
            and (cls.baseline or not baseline_only)]


def _cls(name: str) -> type[Transport]:
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ConfigError(f"unknown transport {name!r}; allowed: {', '.join(names())}") from None


def get(name: str) -> Transport:
    """A new instance of the transport called ``name`` (`ConfigError` if unknown)."""
    return _cls(name)()


def delivery(name: str) -> Delivery:
    """``"push"`` or ``"pull"``: how the transport called ``name`` delivers events."""
    return _cls(name).delivery


# Registration order is the order figures and tables list them in.
from . import tcp, websocket, sse, long_poll, short_poll  # noqa: E402, F401, I001
# further WebSocket implementations (claim C5: protocol cost vs library cost),
# then the client that negotiates among websocket, sse and long polling
from . import aiohttp_ws, picows_ws, fallback  # noqa: E402, F401, I001
# polling and SSE over HTTP/2 (issue 10 §3): not baseline transports
from . import http2  # noqa: E402, F401, I001
# Socket.IO (python-socketio): its own framing, transports and upgrade (issue 11 §3)
from . import socketio  # noqa: E402, F401, I001
