"""wslab: measure polling versus push on real local servers and clients.

>>> import wslab
>>> r = wslab.run("websocket", clients=5, rate=200, duration=3)   # doctest: +SKIP
>>> r.summary["latency_us"]["p50"], r.summary["lost"]            # doctest: +SKIP

Public API: `run`, `Lab`, `Experiment`, `load`, `Run`, `list_runs`, `RunConfig`,
`transport_names`, and the errors `ConfigError`, `RunError`,
`IncompleteRunError`. Names are imported on first use, so the server and
fleet processes (which import ``wslab.runner.server`` / ``wslab.runner.fleet``) do not load
pandas and friends and their memory measures the transports, not the kit.
"""

from importlib import import_module

from .core.errors import ConfigError, IncompleteRunError, RunError, WslabError

__version__ = "0.1.0"

_LAZY = {
    "Experiment": "experiment",
    "Lab": "runner.lab",
    "run": "runner.lab",
    "Run": "runner.store",
    "list_runs": "runner.store",
    "load": "runner.store",
    "RunConfig": "runner.config",
}

__all__ = [
    "ConfigError",
    "Experiment",
    "IncompleteRunError",
    "Lab",
    "Run",
    "RunConfig",
    "RunError",
    "WslabError",
    "list_runs",
    "load",
    "run",
    "transport_names",
]


def transport_names() -> list[str]:
    """The registered transports, in the order figures list them."""
    from .transports import names

    return names()


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'wslab' has no attribute {name!r}")
