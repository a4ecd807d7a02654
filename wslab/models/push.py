"""Server push (HTTP streaming, SSE, WebSocket): latency of one transit.

Source: RFC 6202 (Loreto et al., 2011) §3.2; RFC 6455 §1.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import _non_negative, _out

__all__ = ["push_latency"]

# RFC 6202 §3.2 "Maximal Latency": on a perfect network the average and
# maximal latency of HTTP streaming is one network transit, since the server
# never has to wait for a new request.  SSE is HTTP streaming; a WebSocket
# connection (RFC 6455 §1.5) likewise lets the server send at any time.


def push_latency(transit: Any) -> float | np.ndarray:
    """Latency of server push (HTTP streaming, SSE, WebSocket): one transit.

    Args:
        transit: One-way transit time ``d`` in seconds (>= 0).

    Returns:
        ``d`` seconds (mean and maximum on an ideal network).

    Raises:
        ConfigError: if ``transit`` is negative.
    """
    return _out(_non_negative(transit, "transit"))
