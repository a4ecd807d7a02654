"""wslab: measure polling versus push on real local servers and clients.

>>> import wslab
>>> r = wslab.run("websocket", clients=5, rate=200, duration=3)   # doctest: +SKIP
>>> r.summary["latency_us"]["p50"], r.summary["lost"]            # doctest: +SKIP

Public API: `run`, `Lab`, `Experiment`, `load`, `Run`, `list_runs`, `RunConfig`,
`transport_names`, the errors `WslabError`, `ConfigError`, `RunError`,
`IncompleteRunError`, and the modules the notebooks use: `models` (analytic
predictions), `stats`, `analysis` (tables from runs), `plots` and `studies`
(one module per notebook). Names are imported on first use, so the server and
fleet processes (which import ``wslab.runner.server`` / ``wslab.runner.fleet``)
do not load pandas and friends and their memory measures the transports, not
the kit.
"""

from importlib import import_module
from types import ModuleType
from typing import Any

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
#: submodules reachable as attributes (``wslab.models``) without an import of their own
_SUBMODULES = ("analysis", "models", "plots", "stats", "studies")

__all__ = [
    "ConfigError",
    "Experiment",
    "IncompleteRunError",
    "Lab",
    "Run",
    "RunConfig",
    "RunError",
    "WslabError",
    "analysis",
    "list_runs",
    "load",
    "models",
    "plots",
    "run",
    "stats",
    "studies",
    "transport_names",
]


def transport_names(baseline_only: bool = False) -> list[str]:
    """The registered transports, in the order figures list them; with
    ``baseline_only``, the five every comparison measures (tcp, websocket,
    sse, long-poll, short-poll)."""
    from .transports import names

    return names(baseline_only=baseline_only)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    if name in _SUBMODULES:
        module: ModuleType = import_module(f".{name}", __name__)
        return module
    raise AttributeError(f"module 'wslab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
