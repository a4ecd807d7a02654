"""Analytic predictions for polling versus push transports.

Every function here is pure (no I/O, no global state) and most accept either
Python scalars or NumPy arrays.  Scalar inputs give a Python ``float`` (or
``int``) back; array inputs give a NumPy array back, so the models can be laid
directly over measured data (e.g. an ECDF of observed latencies).

Units: times in seconds, sizes in bytes, rates in events per second, unless a
name says otherwise (``*_bits_per_s``, ``*_mbps``). Bad input raises
`wslab.ConfigError` (a ``ValueError``) naming what is allowed.

Vocabulary
----------
transit
    One-way transit time ``d`` (client -> server, or server -> client): what a
    message takes to cross the network and the stacks at both ends. Every
    model here takes transits, never round trips; a round trip is ``2 * d`` on
    a symmetric path. Measured with wslab, a transit is estimated by
    `wslab.analysis.transit_us` (the median one-way latency of push runs).
push, pull
    As defined once by `wslab.transports.base.Delivery`: push transports send
    each event when it is published; pull transports answer requests.

Sources
-------
* RFC 6202 (Loreto et al., 2011), "Known Issues and Best Practices for the Use
  of Long Polling and Streaming in Bidirectional HTTP": §1 (polling),
  §2.2 (long-polling latency and header overhead), §3.2 (streaming latency).
* RFC 6455 (Fette & Melnikov, 2011), "The WebSocket Protocol": §5.1-§5.3
  (framing and masking).
* P. Lubbers and F. Greco, "HTML5 Web Sockets: A Quantum Leap in Scalability
  for the Web" (Kaazing / websocket.org, 2010): the header-bandwidth example.
* RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 (TCP), RFC 7323 §3 (TCP
  timestamps option): per-segment header sizes.

Modules
-------
Every name is importable from ``wslab.models``; the code lives by subject:

* `wslab.models.short_poll` -- one short-polling client: the T/2 + transit
  latency, its quantiles and CDF, empty polls, events per poll, requests per
  event (RFC 6202 §1, §2.2).
* `wslab.models.long_poll` -- long polling: the RFC 6202 §2.2 bounds, the
  mean latency, its CV and the batching of events per response.
* `wslab.models.push` -- server push (SSE, WebSocket): one transit
  (RFC 6202 §3.2).
* `wslab.models.hpack` -- HTTP/2 request header bytes: HPACK (RFC 7541)
  literals, indices and the dynamic table, plus the 9-byte frame header.
* `wslab.models.framing` -- bytes per message: RFC 6455 frame sizes and
  TCP/IP segment headers.
* `wslab.models.bandwidth` -- the load of N clients: polls per second, header
  bandwidth and the Kaazing example.
* `wslab.models.presence` -- detection time after a silent vanish (WebSocket
  ping/pong, SSE heartbeat with TCP_USER_TIMEOUT, long-poll presence, TCP
  keepalive) and what the heartbeats cost on the wire.
* `wslab.models.socketio` -- Socket.IO's bytes: ``42["e",...]`` framing per
  event over WebSocket and polling, the upgrade probe and the heartbeat.
* `wslab.models.faults` -- a buffering proxy's delay, an idle cut's verdict, the
  reconnect backoff and recovery time, a herd's retry schedule.
"""

from __future__ import annotations

from .bandwidth import (
    KAAZING_CLIENTS,
    KAAZING_FRAME_BYTES,
    KAAZING_HEADER_BYTES,
    KAAZING_PAPER_POLLING_MBPS,
    KAAZING_PAPER_WS_MBPS,
    KaazingBandwidth,
    kaazing_bandwidth,
    kaazing_table,
    polling_header_bandwidth,
    polls_per_second,
)
from .faults import (
    JITTER_MODES,
    backoff_mean,
    buffer_extra_delay,
    buffer_first_byte_s,
    buffer_flush_interval,
    idle_cut_survives,
    longest_silence,
    recovery_mean,
    retry_instants,
)
from .framing import (
    ETHERNET_HEADER_BYTES,
    TCPIP_HEADER_BYTES_IPV4_TS,
    TCPIP_HEADER_BYTES_IPV6_TS,
    WS_MAX_PAYLOAD_BYTES,
    tcpip_bytes,
    ws_frame_bytes,
    ws_frame_header_bytes,
)
from .hpack import (
    H2_FRAME_HEADER_BYTES,
    HPACK_DEFAULT_TABLE_BYTES,
    HpackEncoderModel,
    h2_headers_frame_bytes,
    hpack_block_bytes,
    hpack_integer_bytes,
    hpack_string_bytes,
)
from .long_poll import (
    LongPollBounds,
    long_poll_batch_size,
    long_poll_events_per_response,
    long_poll_latency_bounds,
    long_poll_latency_cv,
    long_poll_mean_latency,
)
from .presence import (
    HEARTBEAT_SEGMENTS,
    LINUX_KEEPALIVE,
    PRODUCTION_DEFAULTS,
    SSE_PING_BYTES,
    WEBSOCKETS_CLOSE_TIMEOUT,
    WS_PING_BYTES,
    WS_PONG_BYTES,
    Detection,
    heartbeat_wire_bytes,
    keepalive_detection,
    long_poll_detection,
    sse_detection,
    tcp_retries_timeout,
    websocket_detection,
)
from .push import push_latency
from .short_poll import (
    empty_poll_fraction,
    events_per_poll,
    short_poll_latency_cdf,
    short_poll_latency_mean,
    short_poll_latency_quantile,
    short_poll_requests_per_event,
)
from .socketio import (
    SIO_UPGRADE_PROBE_BYTES,
    SIO_WS_HEARTBEAT_BYTES,
    heartbeat_bytes_per_s,
    sio_message_bytes,
    sio_polling_event_bytes,
    sio_ws_event_bytes,
)

__all__ = [
    "H2_FRAME_HEADER_BYTES",
    "HPACK_DEFAULT_TABLE_BYTES",
    "HpackEncoderModel",
    "h2_headers_frame_bytes",
    "hpack_block_bytes",
    "hpack_integer_bytes",
    "hpack_string_bytes",
    "KAAZING_CLIENTS",
    "KAAZING_FRAME_BYTES",
    "KAAZING_HEADER_BYTES",
    "KAAZING_PAPER_POLLING_MBPS",
    "KAAZING_PAPER_WS_MBPS",
    "TCPIP_HEADER_BYTES_IPV4_TS",
    "TCPIP_HEADER_BYTES_IPV6_TS",
    "ETHERNET_HEADER_BYTES",
    "WS_MAX_PAYLOAD_BYTES",
    "KaazingBandwidth",
    "LongPollBounds",
    "short_poll_latency_mean",
    "short_poll_latency_quantile",
    "short_poll_latency_cdf",
    "empty_poll_fraction",
    "events_per_poll",
    "short_poll_requests_per_event",
    "polls_per_second",
    "polling_header_bandwidth",
    "long_poll_latency_bounds",
    "long_poll_events_per_response",
    "long_poll_batch_size",
    "long_poll_mean_latency",
    "long_poll_latency_cv",
    "push_latency",
    "SIO_UPGRADE_PROBE_BYTES",
    "SIO_WS_HEARTBEAT_BYTES",
    "heartbeat_bytes_per_s",
    "sio_message_bytes",
    "sio_polling_event_bytes",
    "sio_ws_event_bytes",
    "ws_frame_header_bytes",
    "ws_frame_bytes",
    "kaazing_bandwidth",
    "kaazing_table",
    "tcpip_bytes",
    "HEARTBEAT_SEGMENTS",
    "LINUX_KEEPALIVE",
    "PRODUCTION_DEFAULTS",
    "SSE_PING_BYTES",
    "WEBSOCKETS_CLOSE_TIMEOUT",
    "WS_PING_BYTES",
    "WS_PONG_BYTES",
    "Detection",
    "heartbeat_wire_bytes",
    "keepalive_detection",
    "long_poll_detection",
    "sse_detection",
    "tcp_retries_timeout",
    "websocket_detection",
    "JITTER_MODES",
    "backoff_mean",
    "buffer_extra_delay",
    "buffer_first_byte_s",
    "buffer_flush_interval",
    "idle_cut_survives",
    "longest_silence",
    "recovery_mean",
    "retry_instants",
]
