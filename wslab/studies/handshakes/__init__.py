"""Handshakes step by step, subprotocols, TLS session resumption (claims C4/C5): notebook 09.

Theory of operation. `subprotocols` runs the kit's websocket server with and
without a ``subprotocols`` list against each offer of the websockets client
and reads the handshake bytes from the kernel's counters.
"""

from .subprotocols import CASES, subprotocol_table

__all__ = ["CASES", "subprotocol_table"]
