"""Transports, registered by name.

Each module in this package defines one transport (server side and client
side) and registers it; adding a transport means adding a module here and
importing it below, nothing else.
"""

from __future__ import annotations

from .base import Bind, ClientContext, ConnTracker, Endpoint, Transport

__all__ = ["Bind", "ClientContext", "ConnTracker", "Endpoint", "Transport", "get", "names", "register"]

_REGISTRY: dict[str, type[Transport]] = {}


def register(cls: type[Transport]) -> type[Transport]:
    """Class decorator: make a transport available under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """Registered transport names, in registration order."""
    return list(_REGISTRY)


def get(name: str) -> Transport:
    """A new instance of the transport called ``name``."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise ValueError(
            f"unknown transport {name!r}; allowed: {', '.join(names())}"
        ) from None


# Registration order is the order figures and tables list them in.
from . import tcp, websocket, sse, long_poll, short_poll  # noqa: E402, F401, I001
