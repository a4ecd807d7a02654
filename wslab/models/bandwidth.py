"""The load of N clients: polls per second, header bandwidth, the Kaazing example.

Sources: RFC 6202 (Loreto et al., 2011) §2.2 ("Header Overhead"); P. Lubbers
and F. Greco, "HTML5 Web Sockets: A Quantum Leap in Scalability for the Web"
(Kaazing / websocket.org, 2010), the header-bandwidth example.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import _non_negative, _out, _positive

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "KAAZING_CLIENTS",
    "KAAZING_FRAME_BYTES",
    "KAAZING_HEADER_BYTES",
    "KAAZING_PAPER_POLLING_MBPS",
    "KAAZING_PAPER_WS_MBPS",
    "KaazingBandwidth",
    "polls_per_second",
    "polling_header_bandwidth",
    "kaazing_bandwidth",
    "kaazing_table",
]

#: HTTP request + response header bytes per poll in the Kaazing example.
KAAZING_HEADER_BYTES = 871
#: WebSocket framing overhead per message in the Kaazing example (the 2-byte
#: minimal server->client header of RFC 6455 §5.2, unmasked per §5.1).
KAAZING_FRAME_BYTES = 2
#: Client counts used by the three use cases of the Kaazing example.
KAAZING_CLIENTS = (1_000, 10_000, 100_000)
#: Figures as printed in the paper for polling.  The paper's "Mbps" are
#: bits / 2**20 (871*8*1000/2**20 = 6.645 -> "6.6").
KAAZING_PAPER_POLLING_MBPS = (6.6, 66, 665)
#: Figures as printed in the paper for WebSocket (2*8*1000/2**20 = 0.01526 ->
#: "0.015").
KAAZING_PAPER_WS_MBPS = (0.015, 0.153, 1.526)


# ---------------------------------------------------------------------------
# Request load of N polling clients
# ---------------------------------------------------------------------------
# RFC 6202 §2.2 "Header Overhead": every poll is a complete HTTP request and
# response, so header bytes are paid per poll, whether or not data flows.


def polls_per_second(clients: Any, interval: Any) -> float | np.ndarray:
    """Aggregate request rate of ``N`` clients each polling every ``T``: ``N/T``.

    Args:
        clients: Number of clients ``N`` (>= 0).
        interval: Polling interval ``T`` in seconds (> 0).

    Returns:
        Requests per second arriving at the server.

    Raises:
        ConfigError: if ``clients`` is negative or ``interval`` not positive.
    """
    n = _non_negative(clients, "clients")
    t = _positive(interval, "interval")
    return _out(n / t)


def polling_header_bandwidth(clients: Any, interval: Any, header_bytes: Any) -> float | np.ndarray:
    """Header bytes per second spent by ``N`` polling clients: ``N/T * H``.

    Args:
        clients: Number of clients ``N`` (>= 0).
        interval: Polling interval ``T`` in seconds (> 0).
        header_bytes: Request + response header bytes per poll ``H`` (>= 0).

    Returns:
        Header bandwidth in bytes per second.

    Raises:
        ConfigError: on negative ``clients``/``header_bytes`` or non-positive
            ``interval``.
    """
    h = _non_negative(header_bytes, "header_bytes")
    return _out(np.asarray(polls_per_second(clients, interval)) * h)


# ---------------------------------------------------------------------------
# Kaazing bandwidth example (Lubbers & Greco)
# ---------------------------------------------------------------------------
# Not an RFC: the paper's example assumes every client receives one message
# per second; polling pays the full HTTP header (871 B) per message, a
# WebSocket pays the 2-byte RFC 6455 §5.2 frame header (server -> client,
# unmasked per §5.1).  The paper's "Mbps" divide bits by 2**20.


@dataclass(frozen=True)
class KaazingBandwidth:
    """Aggregate bandwidth for the Kaazing example.

    Attributes:
        bits_per_s: Bits per second, ``N * bytes * 8 * messages_per_second``.
        paper_mbps: ``bits_per_s / 2**20`` -- the unit the paper calls "Mbps".
        si_mbps: ``bits_per_s / 1e6`` -- SI megabits per second.
    """

    bits_per_s: float | np.ndarray
    paper_mbps: float | np.ndarray
    si_mbps: float | np.ndarray


def kaazing_bandwidth(
    clients: Any, bytes_per_message: Any, messages_per_second: Any = 1.0
) -> KaazingBandwidth:
    """Bandwidth of ``N`` clients each receiving messages of a given overhead.

    ``bits/s = N * bytes_per_message * 8 * messages_per_second``.  With
    ``bytes_per_message = KAAZING_HEADER_BYTES`` this is the paper's polling
    figure; with ``KAAZING_FRAME_BYTES`` its WebSocket figure.

    Args:
        clients: Number of clients ``N`` (>= 0); scalar or array.
        bytes_per_message: Overhead bytes per message (>= 0).
        messages_per_second: Messages per client per second (>= 0).

    Returns:
        A :class:`KaazingBandwidth` with ``bits_per_s``, ``paper_mbps``
        (bits / 2**20) and ``si_mbps`` (bits / 1e6).

    Raises:
        ConfigError: if any argument is negative.
    """
    n = _non_negative(clients, "clients")
    b = _non_negative(bytes_per_message, "bytes_per_message")
    r = _non_negative(messages_per_second, "messages_per_second")
    bits = n * b * 8.0 * r
    return KaazingBandwidth(
        bits_per_s=_out(bits),
        paper_mbps=_out(bits / 2**20),
        si_mbps=_out(bits / 1e6),
    )


def kaazing_table(
    header_bytes: Any = KAAZING_HEADER_BYTES,
    frame_bytes: Any = KAAZING_FRAME_BYTES,
    clients: Any = KAAZING_CLIENTS,
) -> pd.DataFrame:
    """Reproduce the Kaazing polling-vs-WebSocket bandwidth table.

    One message per client per second.  Columns: ``clients``,
    ``polling_paper_mbps``, ``polling_si_mbps``, ``websocket_paper_mbps``,
    ``websocket_si_mbps`` ("paper" = bits / 2**20, "si" = bits / 1e6).

    Args:
        header_bytes: HTTP header bytes per polled message (>= 0).
        frame_bytes: WebSocket overhead bytes per message (>= 0).
        clients: Sequence of client counts (each >= 0).

    Returns:
        A pandas DataFrame with one row per client count.

    Raises:
        ConfigError: if any argument is negative.
    """
    import pandas as pd  # project dependency; imported lazily to keep import cheap

    n = np.atleast_1d(_non_negative(clients, "clients"))
    poll = kaazing_bandwidth(n, header_bytes)
    ws = kaazing_bandwidth(n, frame_bytes)
    return pd.DataFrame(
        {
            "clients": np.asarray(clients, dtype=np.int64).reshape(-1),
            "polling_paper_mbps": np.atleast_1d(poll.paper_mbps),
            "polling_si_mbps": np.atleast_1d(poll.si_mbps),
            "websocket_paper_mbps": np.atleast_1d(ws.paper_mbps),
            "websocket_si_mbps": np.atleast_1d(ws.si_mbps),
        }
    )
