"""One module per notebook: each notebook's own tables and figures, tested.

Import the modules themselves (``from wslab.studies import ...``); the package
exports nothing of its own.
"""

__all__: list[str] = []
