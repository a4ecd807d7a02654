"""Network impairment (the proxy and its toxics) and packet capture.

Import the modules themselves (``from wslab.net import ...``); the package
exports nothing of its own.
"""

__all__: list[str] = []
