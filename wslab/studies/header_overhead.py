"""Header and framing overhead from a run's byte counts, and the Kaazing table.

Theory of operation. The kit's byte counts are the kernel's (``TCP_INFO``,
per connection, read before the close handshake): TCP payload each way, plus
the number of TCP segments each way (SYN and pure ACKs included). Nothing
here estimates a size from a payload; it only subtracts what is known
exactly:

* **the event body.** Every transport carries the same body,
  ``{"seq":N,"t":NS,"p":"<payload>"}`` (`wslab.core.events.encode`), whose size
  follows from the digits of ``seq`` and ``published_ns`` of each delivery
  (`event_body_bytes`, with `wslab.analysis.BODY_FIXED_BYTES`). A polling
  response wraps its events in a JSON array: ``[`` + bodies joined by ``,`` +
  ``]``.
* **HTTP anatomy** (`http_anatomy`): a poll's client sends only its request
  line and headers (GET, no body), so ``bytes_up / requests`` *is* the
  request header size; ``bytes_down / requests`` minus the array body is the
  status line and response headers.
* **WebSocket anatomy** (`ws_anatomy`): per connection, the client sends only
  its opening handshake (no frames before the counters are read), and the
  server sends its ``101`` handshake and one text frame per event:
  ``bytes_down - bodies = H + h * frames``. Two runs with different event
  counts give two points per connection count; a least-squares line over all
  connections gives the frame header ``h`` (RFC 6455 §5.2 says 2 bytes
  server to client for payloads up to 125 bytes) and the handshake ``H``.
* **Marginal cost** (`marginal_cost`): what one more message costs one client,
  from two runs of the same transport that differ only in duration: the
  difference of per-client bytes (and segments) divided by the difference of
  per-client deliveries. Connection setup cancels out, ACK segments stay in.
  This is the steady state that the Kaazing example describes.
* **TCP/IP bytes**: each segment carries 52 bytes of IPv4 + TCP headers with
  timestamps on Linux loopback (`wslab.models.TCPIP_HEADER_BYTES_IPV4_TS`).

`kaazing_three_way` puts the paper's figures, the model with measured header
sizes and the measurement (scaled linearly from the measured client count)
side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import BODY_FIXED_BYTES
from ..core.errors import ConfigError
from ..models import (
    KAAZING_CLIENTS,
    KAAZING_FRAME_BYTES,
    KAAZING_HEADER_BYTES,
    KAAZING_PAPER_POLLING_MBPS,
    KAAZING_PAPER_WS_MBPS,
    TCPIP_HEADER_BYTES_IPV4_TS,
    kaazing_bandwidth,
)
from ..runner.store import Run

__all__ = [
    "KAAZING_COLUMNS",
    "anatomy_table",
    "connection_bytes",
    "event_body_bytes",
    "http_anatomy",
    "kaazing_model",
    "kaazing_three_way",
    "marginal_cost",
    "plot_anatomy",
    "plot_kaazing",
    "ws_anatomy",
]

#: Columns of `kaazing_three_way`.
KAAZING_COLUMNS = ["clients", "transport", "method", "bytes_per_message", "mbit_s",
                   "paper_mbps", "basis"]


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


def kaazing_model(header_bytes: float = KAAZING_HEADER_BYTES,
                  frame_bytes: float = KAAZING_FRAME_BYTES,
                  clients: Sequence[int] = KAAZING_CLIENTS) -> pd.DataFrame:
    """The Kaazing table from the model, rounded as the paper prints it.

    Columns ``clients``, ``polling_mbps``, ``websocket_mbps`` in the paper's
    unit (bits / 2**20 per second); polling to 2 significant digits below 100
    and to whole numbers above (6.6, 66, 665), WebSocket to 3 decimals
    (0.015, 0.153, 1.526). With the defaults this is the paper's table.
    """
    n = np.asarray(clients, dtype=float)
    poll = np.asarray(kaazing_bandwidth(n, header_bytes).paper_mbps)
    ws = np.asarray(kaazing_bandwidth(n, frame_bytes).paper_mbps)
    rounded = [float(f"{p:.2g}") if p < 100 else float(round(p)) for p in poll]
    return pd.DataFrame({"clients": np.asarray(clients, dtype=np.int64),
                         "polling_mbps": rounded, "websocket_mbps": np.round(ws, 3)})


def kaazing_three_way(model_bytes: Mapping[str, float], measured: Mapping[str, Mapping[str, Any]],
                      clients: Sequence[int] = KAAZING_CLIENTS) -> pd.DataFrame:
    """The Kaazing example three ways: paper, model with measured sizes, measurement.

    Every client receives one message per second.

    Args:
        model_bytes: transport label -> overhead bytes per message measured
            from a run (e.g. ``{"short-poll (aiohttp)": 270, "websocket": 2}``),
            fed to `wslab.models.kaazing_bandwidth`. Labels starting with
            ``websocket`` are WebSocket rows, the others polling rows.
        measured: transport label -> ``{"clients": N, "overhead_bytes": B,
            "overhead_tcpip_bytes": B2}`` per message per client from a run
            of N real clients (`marginal_cost`); scaled linearly to each
            client count, ``basis`` says "measured at N" or "extrapolated
            from N".
        clients: client counts (default 1,000 / 10,000 / 100,000).

    Returns:
        Long table (`KAAZING_COLUMNS`): ``method`` is ``paper``, ``model``,
        ``measured`` (TCP payload only, like the paper) or ``measured +
        TCP/IP``; ``mbit_s`` is SI (bits / 1e6), ``paper_mbps`` bits / 2**20.
    """
    rows = []

    def add(n: int, transport: str, method: str, nbytes: float, basis: str,
            paper: float | None = None) -> None:
        bw = kaazing_bandwidth(n, nbytes)
        rows.append({"clients": int(n), "transport": transport, "method": method,
                     "bytes_per_message": float(nbytes), "mbit_s": float(bw.si_mbps),
                     "paper_mbps": float(bw.paper_mbps) if paper is None else paper,
                     "basis": basis})

    for i, n in enumerate(clients):
        add(n, "polling", "paper", KAAZING_HEADER_BYTES, "paper (871 B headers)",
            KAAZING_PAPER_POLLING_MBPS[i] if i < 3 and n == KAAZING_CLIENTS[i] else None)
        add(n, "websocket", "paper", KAAZING_FRAME_BYTES, "paper (2 B frames)",
            KAAZING_PAPER_WS_MBPS[i] if i < 3 and n == KAAZING_CLIENTS[i] else None)
        for label, b in model_bytes.items():
            add(n, label, "model", b, "model, measured sizes")
        for label, m in measured.items():
            at = int(m["clients"])
            basis = f"measured at N = {at:,}" if at == n else f"extrapolated from N = {at:,}"
            add(n, label, "measured", m["overhead_bytes"], basis)
            add(n, label, "measured + TCP/IP", m["overhead_tcpip_bytes"], basis)
    return pd.DataFrame(rows, columns=KAAZING_COLUMNS)


# ---------------------------------------------------------------------------
# Tables and figures for notebook 04
# ---------------------------------------------------------------------------


def anatomy_table(http: Mapping[str, tuple[Run, Run]], ws: Sequence[Run],
                  tcpip_header_bytes: int = TCPIP_HEADER_BYTES_IPV4_TS) -> pd.DataFrame:
    """One row per HTTP polling configuration and one for WebSocket, in bytes per message.

    ``http`` maps a label to a (short run, long run) pair (see `http_anatomy`),
    ``ws`` holds WebSocket runs with different event counts (`ws_anatomy`).

    Columns: ``request_headers`` (up), ``response_headers`` (down),
    ``body`` (event body; for HTTP the JSON array around it too),
    ``tcpip`` (segments x 52 per request, SYN and ACKs included; for
    WebSocket per message, from the two runs' difference), ``header_bytes``
    (request + response headers, or frame header: the Kaazing quantity).
    """
    rows = []
    for label, (short, long) in http.items():
        a = http_anatomy(long, short, tcpip_header_bytes)
        rows.append({"label": label, "request_headers": a["request_header_bytes"],
                     "response_headers": a["response_header_bytes"],
                     "body": a["response_body_bytes"], "tcpip": a["tcpip_bytes_per_request"],
                     "header_bytes": a["header_bytes"]})
    w = ws_anatomy(ws)
    runs = sorted(ws, key=lambda r: r.summary["delivered"] / r.summary["clients"])
    m = marginal_cost(runs[0], runs[-1], tcpip_header_bytes)
    rows.append({"label": "websocket (per frame)", "request_headers": 0.0,
                 "response_headers": w["frame_header_bytes"], "body": w["body_bytes"],
                 "tcpip": m["tcpip_bytes"], "header_bytes": w["frame_header_bytes"]})
    return pd.DataFrame(rows).set_index("label")


def plot_anatomy(ax: Any, table: pd.DataFrame) -> Any:
    """Stacked bars of `anatomy_table`: request headers, response headers, body, TCP/IP."""
    parts = [("request_headers", "request line + headers (up)", "tab:blue", ""),
             ("response_headers", "status line + headers / frame header (down)", "tab:orange",
              ""),
             ("body", "event body (+ JSON array)", "tab:gray", ""),
             ("tcpip", "TCP/IP headers (52 B per segment, both ways)", "white", "//")]
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for col, label, color, hatch in parts:
        ax.bar(x, table[col], 0.6, bottom=bottom, color=color, hatch=hatch,
               edgecolor="black", lw=0.5, label=label)
        bottom += table[col].to_numpy()
    for xi, total, hdr in zip(x, bottom, table["header_bytes"], strict=True):
        ax.text(xi, total, f"{total:.0f} B\n(headers {hdr:.0f} B)", ha="center",
                va="bottom", fontsize="x-small")
    ax.set_xticks(x, [s.replace(" (", "\n(") for s in table.index], fontsize="small")
    ax.set_ylabel("bytes per request + response, or per frame (B)")
    ax.set_ylim(0, bottom.max() * 1.15)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y", alpha=0.4)
    ax.set_axisbelow(True)
    return ax


def plot_kaazing(ax: Any, table: pd.DataFrame) -> Any:
    """Grouped bars of `kaazing_three_way`: Mbit/s (SI) per client count, log y.

    One colour per transport, one look per method: paper dotted, model pale,
    measured solid, measured + TCP/IP hatched.
    """
    import matplotlib

    series = list(dict.fromkeys(zip(table.transport, table.method, strict=True)))
    transports = list(dict.fromkeys(table.transport))
    cmap = matplotlib.colormaps["tab10"]
    color = {t: cmap(i % 10) for i, t in enumerate(transports)}
    look = {"paper": ("..", 1.0), "model": ("", 0.45), "measured": ("", 1.0),
            "measured + TCP/IP": ("//", 1.0)}
    counts = sorted(table.clients.unique())
    width = 0.85 / len(series)
    for k, (transport, method) in enumerate(series):
        part = table[(table.transport == transport) & (table.method == method)]
        part = part.set_index("clients").reindex(counts)
        hatch, alpha = look[method]
        ax.bar(np.arange(len(counts)) + (k - (len(series) - 1) / 2) * width, part.mbit_s,
               width, color=color[transport], alpha=alpha, hatch=hatch, edgecolor="black",
               lw=0.4, label=f"{transport}: {method}")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(counts)), [f"{n:,} clients" for n in counts])
    ax.set_ylabel("overhead bandwidth (Mbit/s, SI: bits / 10^6)")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.set_axisbelow(True)
    return ax
