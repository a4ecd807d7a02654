"""The bottom layer: events, the hub, meters, the process protocol, paths, errors.

Import the modules themselves (``from wslab.core import ...``); the package
exports nothing of its own.
"""

__all__: list[str] = []
