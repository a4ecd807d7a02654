"""Byte anatomy from the kernel's counts: event bodies, the HTTP request and
response headers of a poll (`http_anatomy`), the WebSocket handshake and
frame header (`ws_anatomy`), what one more message costs (`marginal_cost`),
and notebook 04's anatomy table (`anatomy_table`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ...analysis import BODY_FIXED_BYTES
from ...core.errors import ConfigError
from ...models import TCPIP_HEADER_BYTES_IPV4_TS
from ...runner.store import Run

__all__ = [
    "anatomy_table", "connection_bytes", "event_body_bytes", "http_anatomy", "marginal_cost",
    "ws_anatomy",
]


def _payload(run: Run) -> int:
    return int(run.manifest["parameters"]["payload"])


def event_body_bytes(messages: pd.DataFrame, payload: int) -> pd.Series:
    """Size in bytes of each delivered event's body (one value per row of ``messages``)."""
    digits = (messages.seq.astype(np.int64).astype(str).str.len()
              + messages.published_ns.astype(np.int64).astype(str).str.len())
    return (digits + BODY_FIXED_BYTES + int(payload)).astype(np.int64)


def connection_bytes(run: Run) -> pd.DataFrame:
    """Per client: the kernel's byte and segment counts next to what the events weigh.

    Columns: ``bytes_up``, ``bytes_down``, ``segs_up``, ``segs_down``,
    ``requests``, ``empty_responses`` (summed over the client's connections),
    ``messages`` (deliveries, duplicates included: each one crossed the wire)
    and ``body_bytes`` (their event bodies). Indexed by ``client_id``.
    """
    cols = ["bytes_up", "bytes_down", "segs_up", "segs_down", "requests", "empty_responses"]
    conns = run.connections.groupby("client_id")[cols].sum()
    m = run.messages.assign(body=event_body_bytes(run.messages, _payload(run)))
    per = m.groupby("client_id").agg(messages=("seq", "size"), body_bytes=("body", "sum"))
    out = conns.join(per, how="left").fillna({"messages": 0, "body_bytes": 0})
    return out.astype(np.int64)


def http_anatomy(run: Run, baseline: Run | None = None,
                 tcpip_header_bytes: int = TCPIP_HEADER_BYTES_IPV4_TS) -> dict[str, float]:
    """Bytes of one polling request and its response, split into headers and body.

    A poll is a GET without a body, so all bytes up are request line and
    headers. A response body is a JSON array of the events it carries
    (``[]`` when empty), so its size is known exactly; the rest of the bytes
    down are status line and headers. TCP/IP bytes are segments x 52 (both
    directions, SYN and ACKs included) per request.

    With ``baseline`` (a shorter run of the same configuration) every figure
    is the difference of per-client means divided by the difference of
    requests: exact even for long polling, whose clients always hold one
    request at the server when the run stops (sent, never answered, so
    uncounted). Without it, each figure is the median over clients of the
    client's own ratio, exact for short polling (only a few clients are
    stopped with a poll in flight) but inflated by one request per client for
    long polling.

    Returns ``requests``, ``request_header_bytes``, ``response_bytes``,
    ``response_body_bytes``, ``response_header_bytes``, ``header_bytes``
    (request + response headers: the paper's 871 B), ``tcpip_bytes_per_request``
    and ``events_per_response``, all per request.
    """
    c = _http_counts(run)
    requests = int(c.requests.sum())
    if baseline is None:
        # Median over clients of each client's ratio: a client stopped while a
        # short poll was in flight has sent one request more than it counted.
        ratio = c.div(c.requests, axis=0).median()
    else:
        if baseline.transport != run.transport:
            raise ConfigError("the baseline must be a run of the same transport")
        d = c.mean() - _http_counts(baseline).mean()
        if d.requests <= 0:
            raise ConfigError("the run must make more requests per client than the baseline")
        ratio = d / d.requests
    return {
        "requests": requests,
        "request_header_bytes": float(ratio.bytes_up),
        "response_bytes": float(ratio.bytes_down),
        "response_body_bytes": float(ratio.body),
        "response_header_bytes": float(ratio.bytes_down - ratio.body),
        "header_bytes": float(ratio.bytes_up + ratio.bytes_down - ratio.body),
        "tcpip_bytes_per_request": float((ratio.segs_up + ratio.segs_down)
                                         * tcpip_header_bytes),
        "events_per_response": float(ratio.messages),
    }


def _http_counts(run: Run) -> pd.DataFrame:
    """Per client with requests: `connection_bytes` plus ``body``, the response bodies."""
    c = connection_bytes(run)
    c = c[c.requests > 0]
    if c.empty:
        raise ConfigError(f"{run.transport} run made no HTTP requests: not a polling transport")
    # "[" + "]" per response, a comma between two events of one response
    nonempty = c.requests - c.empty_responses
    return c.assign(body=c.body_bytes + 2 * c.requests + (c.messages - nonempty))


def ws_anatomy(runs: Sequence[Run]) -> dict[str, float]:
    """WebSocket handshake and frame header sizes from the byte counts of runs.

    Per connection, bytes down minus the event bodies is ``H + h * frames``
    (``H``: the server's ``101`` handshake response, ``h``: frame header per
    message). A least-squares line through every client of ``runs`` gives
    both; the runs must deliver different numbers of events per client (e.g.
    a short and a long run). Bytes up are the client's handshake request.

    Returns ``handshake_up_bytes``, ``handshake_down_bytes``,
    ``frame_header_bytes``, ``frame_bytes`` (header + mean body) and
    ``body_bytes`` (mean event body), ``fit_max_residual_bytes``.
    """
    runs = list(runs)
    if any(r.transport != "websocket" for r in runs):
        raise ConfigError("ws_anatomy needs websocket runs")
    c = pd.concat([connection_bytes(r) for r in runs], ignore_index=True)
    frames = c.messages.to_numpy(dtype=float)
    if np.ptp(frames) == 0:
        raise ConfigError("every client received the same number of frames: give runs with "
                         "different event counts (e.g. a short and a long run)")
    extra = (c.bytes_down - c.body_bytes).to_numpy(dtype=float)
    h, H = np.polyfit(frames, extra, 1)
    # byte counts are integers: keep the fit's float noise (~1e-13 B) out of the result
    h, H = round(float(h), 6), round(float(H), 6)
    body = float(c.body_bytes.sum() / max(c.messages.sum(), 1))
    return {
        "handshake_up_bytes": float(c.bytes_up.mean()),
        "handshake_down_bytes": float(H),
        "frame_header_bytes": float(h),
        "body_bytes": body,
        "frame_bytes": float(h) + body,
        "fit_max_residual_bytes": float(np.max(np.abs(extra - (H + h * frames)))),
    }


def marginal_cost(short: Run, long: Run, tcpip_header_bytes: int = TCPIP_HEADER_BYTES_IPV4_TS
                  ) -> dict[str, float]:
    """What one more delivered message costs one client, from two runs.

    The runs differ only in duration (same transport, clients, rate, options).
    Per client, the difference of bytes (segments) divided by the difference
    of deliveries is the cost of one message in the steady state: connection
    setup and handshakes cancel out; requests, response headers, frame
    headers and the ACK segments that carry them stay in.

    Returns, per message per client: ``bytes`` (TCP payload both ways),
    ``body_bytes`` (the event body), ``overhead_bytes`` (``bytes - body``),
    ``segments`` (both ways), ``tcpip_bytes`` (segments x 52) and
    ``overhead_tcpip_bytes`` (overhead + TCP/IP headers).
    """
    if short.transport != long.transport:
        raise ConfigError(f"runs of different transports: {short.transport}, {long.transport}")
    a, b = connection_bytes(short).mean(), connection_bytes(long).mean()
    d = b - a
    if d.messages <= 0:
        raise ConfigError("the long run must deliver more messages per client than the short one")
    n = d.messages
    total = (d.bytes_up + d.bytes_down) / n
    body = d.body_bytes / n
    segs = (d.segs_up + d.segs_down) / n
    tcpip = segs * tcpip_header_bytes
    return {"bytes": float(total), "body_bytes": float(body),
            "overhead_bytes": float(total - body), "segments": float(segs),
            "tcpip_bytes": float(tcpip), "overhead_tcpip_bytes": float(total - body + tcpip)}


def anatomy_table(http: Mapping[str, tuple[Run, Run]], ws: Sequence[Run],
                  tcpip_header_bytes: int = TCPIP_HEADER_BYTES_IPV4_TS) -> pd.DataFrame:
    """One row per HTTP polling configuration and one for WebSocket, in bytes per message.

    ``http`` maps a label to a (short run, long run) pair (see `http_anatomy`),
    ``ws`` holds WebSocket runs with different event counts (`ws_anatomy`).

    Columns: ``request_headers`` (up), ``response_headers`` (down),
    ``body`` (event body; for HTTP the JSON array around it too),
    ``tcpip`` (segments x 52 per request, SYN and ACKs included; for
    WebSocket per message, from the two runs' difference), ``header_bytes``
    (request + response headers, or frame header: the Kaazing quantity),
    ``total`` (the bar's height: the first four summed), and ``counted``
    with its ``unit``: the polls (requests of both runs) or frames
    (deliveries of every run) the row's figures rest on.
    """
    rows = []
    for label, (short, long) in http.items():
        a = http_anatomy(long, short, tcpip_header_bytes)
        rows.append({"label": label, "request_headers": a["request_header_bytes"],
                     "response_headers": a["response_header_bytes"],
                     "body": a["response_body_bytes"], "tcpip": a["tcpip_bytes_per_request"],
                     "header_bytes": a["header_bytes"],
                     "counted": int(long.summary["requests"] + short.summary["requests"]),
                     "unit": "polls"})
    w = ws_anatomy(ws)
    runs = sorted(ws, key=lambda r: r.summary["delivered"] / r.summary["clients"])
    m = marginal_cost(runs[0], runs[-1], tcpip_header_bytes)
    rows.append({"label": "websocket (per frame)", "request_headers": 0.0,
                 "response_headers": w["frame_header_bytes"], "body": w["body_bytes"],
                 "tcpip": m["tcpip_bytes"], "header_bytes": w["frame_header_bytes"],
                 "counted": int(sum(len(r.messages) for r in ws)), "unit": "frames"})
    out = pd.DataFrame(rows).set_index("label")
    out.insert(5, "total", out[["request_headers", "response_headers", "body", "tcpip"]]
               .sum(axis=1))
    return out
