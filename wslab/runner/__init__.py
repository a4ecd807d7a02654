"""Runs: the server and fleet processes, parameters, the Lab, the run store, summaries.

Import the modules themselves (``from wslab.runner import ...``); the package
exports nothing of its own.
"""

__all__: list[str] = []
