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

Repeats and intervals. Byte counts are exact, but what one message costs
varies a little from run to run (a poll that caught two events or none,
delayed ACKs folding segments, CPU time). Notebook 04 runs every
configuration as a short and a long run, ``repeats`` times with distinct
seeds (`experiment`); each repeat gives one value of every figure, and
`with_intervals` reports the mean over the repeats with a Student t
interval (n = repeats). `model_checks` sets the measurements beside the
model inputs (RFC 6455's frame header, the header profile's bytes, the
paper's 871 B) with computed verdicts (`wslab.stats.check_table`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import stats
from ..analysis import BODY_FIXED_BYTES, runs_table
from ..core.errors import ConfigError
from ..core.profiles import headers_for
from ..models import (
    KAAZING_CLIENTS,
    KAAZING_FRAME_BYTES,
    KAAZING_HEADER_BYTES,
    KAAZING_PAPER_POLLING_MBPS,
    KAAZING_PAPER_WS_MBPS,
    TCPIP_HEADER_BYTES_IPV4_TS,
    events_per_poll,
    kaazing_bandwidth,
    ws_frame_header_bytes,
)
from ..runner.store import Run

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..experiment import Experiment

__all__ = [
    "CONFIGS",
    "KAAZING_COLUMNS",
    "anatomy_repeats",
    "anatomy_table",
    "config_label",
    "connection_bytes",
    "event_body_bytes",
    "experiment",
    "findings",
    "http_anatomy",
    "kaazing_model",
    "kaazing_three_way",
    "marginal_cost",
    "marginal_repeats",
    "model_checks",
    "overhead_ratios",
    "plot_anatomy",
    "plot_kaazing",
    "profile_bytes",
    "profile_extra_bytes",
    "run_metrics_repeats",
    "run_pairs",
    "trials",
    "with_intervals",
    "ws_anatomy",
]

#: Columns of `kaazing_three_way`.
KAAZING_COLUMNS = ["clients", "transport", "method", "bytes_per_message", "mbit_s",
                   "mbit_s_low", "mbit_s_high", "paper_mbps", "basis", "extrapolated"]

#: The configurations notebook 04 compares: label -> (transport, client options).
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "short-poll (aiohttp)": ("short-poll", {}),
    "short-poll (browser)": ("short-poll", {"headers": "browser"}),
    "long-poll (aiohttp)": ("long-poll", {}),
    "long-poll (browser)": ("long-poll", {"headers": "browser"}),
    "websocket": ("websocket", {}),
}


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
            "overhead_tcpip_bytes": B2}`` per message per client from runs
            of N real clients (`marginal_cost`), optionally with
            ``overhead_bytes_low`` / ``_high`` and ``overhead_tcpip_bytes_low``
            / ``_high`` (a 95 % interval, `with_intervals`); scaled linearly
            to each client count. ``basis`` says "measured at N" or
            "extrapolated from N", ``extrapolated`` is True for the latter.
        clients: client counts (default 1,000 / 10,000 / 100,000).

    Returns:
        Long table (`KAAZING_COLUMNS`): ``method`` is ``paper``, ``model``,
        ``measured`` (TCP payload only, like the paper) or ``measured +
        TCP/IP``; ``mbit_s`` is SI (bits / 1e6) with ``mbit_s_low`` /
        ``_high`` where the measurement has an interval (NaN otherwise),
        ``paper_mbps`` bits / 2**20.
    """
    rows = []

    def add(n: int, transport: str, method: str, nbytes: float, basis: str,
            paper: float | None = None, low: float = math.nan, high: float = math.nan,
            extrapolated: bool = False) -> None:
        bw = kaazing_bandwidth(n, nbytes)
        rows.append({"clients": int(n), "transport": transport, "method": method,
                     "bytes_per_message": float(nbytes), "mbit_s": float(bw.si_mbps),
                     "mbit_s_low": n * low * 8 / 1e6, "mbit_s_high": n * high * 8 / 1e6,
                     "paper_mbps": float(bw.paper_mbps) if paper is None else paper,
                     "basis": basis, "extrapolated": extrapolated})

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
            for method, key in (("measured", "overhead_bytes"),
                                ("measured + TCP/IP", "overhead_tcpip_bytes")):
                add(n, label, method, m[key], basis, low=m.get(f"{key}_low", math.nan),
                    high=m.get(f"{key}_high", math.nan), extrapolated=at != n)
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


def config_label(transport: str, options: Mapping[str, Any] | None) -> str:
    """A run's label in `CONFIGS`: ``short-poll (browser)``, ``websocket`` ..."""
    if transport in ("short-poll", "long-poll"):
        return f"{transport} ({(options or {}).get('headers') or 'aiohttp'})"
    return transport


def trials(durations: Sequence[float], interval: float,
           configs: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None
           ) -> list[dict[str, Any]]:
    """Explicit `Experiment` trials: every configuration at every duration
    (short-poll with ``interval``)."""
    out = []
    for transport, options in (configs or CONFIGS).values():
        for d in durations:
            t: dict[str, Any] = {"transport": transport, "duration": float(d)}
            if transport == "short-poll":
                t["interval"] = float(interval)
            if options:
                t["options"] = dict(options)
            out.append(t)
    return out


def experiment(name: str, *, clients: int, durations: Sequence[float], rate: float,
               interval: float, payload: int, repeats: int, seed: int,
               configs: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None,
               root: Any = None) -> Experiment:
    """Notebook 04's sweep as a resumable `Experiment`: `trials` x ``repeats``
    on a fixed schedule (one seed per repeat, shared by every configuration)."""
    from ..experiment import Experiment

    if len(durations) != 2 or not durations[0] < durations[1]:
        raise ConfigError(f"durations must be (short, long) seconds with short < long, "
                          f"not {durations!r}")
    plan: list[Mapping[str, Any]] = list(trials(durations, interval, configs))
    return Experiment(name, trials=plan, repeats=repeats,
                      seed=seed, root=root, base={"clients": clients, "rate": rate,
                                                  "payload": payload, "schedule": "fixed"})


def run_pairs(exp: Experiment) -> dict[tuple[str, int], tuple[Run, Run]]:
    """``(label, repeat) -> (short run, long run)`` of a measured `experiment`."""
    found: dict[tuple[str, int], dict[float, Run]] = {}
    for t, run in zip(exp.trials, exp.runs, strict=True):
        key = (config_label(t.config.transport, t.config.options), t.repeat)
        found.setdefault(key, {})[t.config.duration] = run
    pairs = {}
    for key, by_duration in found.items():
        if len(by_duration) != 2:
            raise ConfigError(f"{key[0]} repeat {key[1]} has {len(by_duration)} duration(s); "
                              "a short and a long run are needed")
        short, long = (by_duration[d] for d in sorted(by_duration))
        pairs[key] = (short, long)
    return pairs


def _repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]]) -> list[int]:
    return sorted({rep for _, rep in pairs})


def anatomy_repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]],
                    tcpip_header_bytes: int = TCPIP_HEADER_BYTES_IPV4_TS) -> pd.DataFrame:
    """`anatomy_table` of every repeat, stacked (``label``, ``repeat`` first);
    WebSocket's row also carries its ``handshake_up_bytes`` / ``_down_bytes``
    and the frame fit's ``body_bytes`` (`ws_anatomy`)."""
    frames = []
    for rep in _repeats(pairs):
        mine = {label: pr for (label, r), pr in pairs.items() if r == rep}
        http = {k: v for k, v in mine.items() if not k.startswith("websocket")}
        ws = [run for k, pr in mine.items() if k.startswith("websocket") for run in pr]
        t = anatomy_table(http, ws, tcpip_header_bytes).reset_index()
        w = ws_anatomy(ws)
        for k in ("handshake_up_bytes", "handshake_down_bytes", "body_bytes"):
            t[k] = np.where(t.label.str.startswith("websocket"), w[k], np.nan)
        t.insert(1, "repeat", rep)
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def marginal_repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]],
                     tcpip_header_bytes: int = TCPIP_HEADER_BYTES_IPV4_TS) -> pd.DataFrame:
    """`marginal_cost` of every (label, repeat), with ``counted``: the
    deliveries of both runs the difference rests on."""
    rows = []
    for (label, rep), (short, long) in sorted(pairs.items(), key=lambda kv: kv[0][1]):
        rows.append({"label": label, "repeat": rep,
                     **marginal_cost(short, long, tcpip_header_bytes),
                     "counted": len(short.messages) + len(long.messages), "unit": "messages"})
    return pd.DataFrame(rows)


def run_metrics_repeats(pairs: Mapping[tuple[str, int], tuple[Run, Run]],
                        metrics: Sequence[str] = ("server_cpu_us_per_event", "bytes_per_event",
                                                  "requests_per_event")) -> pd.DataFrame:
    """Per (label, repeat): `wslab.analysis.runs_table` metrics of the long run,
    with ``counted`` = its delivered events."""
    rows = []
    for (label, rep), (_, long) in sorted(pairs.items(), key=lambda kv: kv[0][1]):
        t = runs_table([long]).iloc[0]
        rows.append({"label": label, "repeat": rep, **{m: float(t[m]) for m in metrics},
                     "counted": int(long.summary["delivered"]), "unit": "deliveries"})
    return pd.DataFrame(rows)


def with_intervals(frame: pd.DataFrame, by: str = "label",
                   columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Per ``by`` group of a ``*_repeats`` frame: every numeric column's mean over
    the repeats with a 95 % Student t interval (``_low``, ``_high``, ``_n`` =
    repeats; runs are the independent unit), ``counted`` summed over the
    repeats and ``unit`` kept. Indexed by ``by`` in first-seen order."""
    skip = {by, "repeat", "counted", "unit"}
    cols = list(columns) if columns is not None else [
        c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
    rows = []
    for key, g in frame.groupby(by, sort=False):
        row: dict[str, Any] = {by: key}
        for c in cols:
            v = g[c].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if len(v):
                row.update(stats.mean_ci(v, unit="repeats").as_dict(c))
            else:
                row.update({c: np.nan, f"{c}_low": np.nan, f"{c}_high": np.nan, f"{c}_n": 0})
        if "counted" in g:
            row["counted"] = int(g.counted.sum())
            row["unit"] = g.unit.iloc[0]
        rows.append(row)
    return pd.DataFrame(rows).set_index(by)


def profile_bytes(profile: str, url: str) -> dict[str, int]:
    """What a header profile weighs on a request to ``url``, from the profile itself.

    ``lines`` and ``header_bytes``: the profile's header lines (``Name:
    value\r\n``, `wslab.core.profiles`, ``{origin}`` filled from ``url``);
    ``replaced_bytes``: the lines of aiohttp's own defaults that they replace
    (``Accept``, ``Accept-Encoding``, ``User-Agent``, read from the installed
    aiohttp); ``extra_bytes``: the difference, the model of what replaying
    ``profile`` adds to each of the kit's requests.
    """
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.http import SERVER_SOFTWARE

    def line(k: str, v: str) -> int:
        return len(f"{k}: {v}\r\n".encode())

    extra = headers_for(profile, url)
    names = {k.lower() for k in extra}
    defaults = {str(k): str(v) for k, v in ClientRequest.DEFAULT_HEADERS.items()}
    defaults["User-Agent"] = SERVER_SOFTWARE
    added = sum(line(k, v) for k, v in extra.items())
    replaced = sum(line(k, v) for k, v in defaults.items() if k.lower() in names)
    return {"lines": len(extra), "header_bytes": added, "replaced_bytes": replaced,
            "extra_bytes": added - replaced}


def profile_extra_bytes(profile: str, url: str) -> int:
    """Request bytes a header profile adds to the kit's aiohttp request to ``url``
    (`profile_bytes`' ``extra_bytes``)."""
    return profile_bytes(profile, url)["extra_bytes"]


def _est(ci: pd.DataFrame, label: str, col: str, method: str = "t interval over repeats"
         ) -> stats.Estimate:
    r = ci.loc[label]
    return stats.Estimate(float(r[col]), float(r[f"{col}_low"]), float(r[f"{col}_high"]),
                          int(r[f"{col}_n"]), method)


def model_checks(anatomy: pd.DataFrame, marginal: pd.DataFrame,
                 anatomy_by_repeat: pd.DataFrame, *, rate: float, interval: float,
                 url: str, profile: str = "browser") -> pd.DataFrame:
    """Measured figures beside their model inputs, with computed verdicts.

    ``anatomy`` and ``marginal``: `with_intervals` of `anatomy_repeats` and
    `marginal_repeats`; ``anatomy_by_repeat``: `anatomy_repeats` itself (the
    profile's bytes are a paired difference per repeat); ``url``: the
    short-poll endpoint the clients used (the profile's ``Referer`` names
    its origin). Rows (those whose configuration was measured):

    * the WebSocket frame header (fit) and overhead per message against
      RFC 6455 §5.2 for the measured body size, unmasked (§5.1);
    * each short-poll overhead per message against (headers per poll + the
      2 B of the JSON array) / events per poll (`wslab.models.events_per_poll`);
    * the browser profile's extra request bytes against `profile_extra_bytes`;
    * each short-poll header size per poll against the paper's 871 B.

    Returns `wslab.stats.check_table`.
    """
    rows: list[dict[str, Any]] = []
    ws = "websocket (per frame)"
    if ws in anatomy.index and "websocket" in marginal.index:
        rfc = ws_frame_header_bytes(int(round(anatomy.loc[ws, "body"])), masked=False)
        rows += [{"quantity": "websocket frame header (B), fit over connections",
                  "measured": _est(anatomy, ws, "header_bytes"), "model": rfc},
                 {"quantity": "websocket overhead per message (B), marginal",
                  "measured": _est(marginal, "websocket", "overhead_bytes"), "model": rfc}]
    per_poll = float(events_per_poll(interval, rate))
    polls = [k for k in anatomy.index if k.startswith("short-poll")]
    for label in polls:
        if label in marginal.index:
            model = (float(anatomy.loc[label, "header_bytes"]) + 2) / per_poll
            rows.append({"quantity": f"{label} overhead per message (B), marginal",
                         "measured": _est(marginal, label, "overhead_bytes"), "model": model})
    lean, rich = "short-poll (aiohttp)", f"short-poll ({profile})"
    if lean in polls and rich in polls:
        by = anatomy_by_repeat.set_index(["label", "repeat"]).request_headers
        diff = (by.xs(rich, level="label") - by.xs(lean, level="label")).dropna()
        rows.append({"quantity": f"{profile} profile: extra request bytes per poll (B)",
                     "measured": stats.mean_ci(diff.to_numpy(), unit="repeats (paired)"),
                     "model": profile_extra_bytes(profile, url)})
    for label in polls:
        rows.append({"quantity": f"{label} headers per poll (B) vs the paper's",
                     "measured": _est(anatomy, label, "header_bytes"),
                     "model": KAAZING_HEADER_BYTES})
    return stats.check_table(rows)


def overhead_ratios(marginal_by_repeat: pd.DataFrame, reference: str = "websocket",
                    column: str = "overhead_tcpip_bytes") -> pd.DataFrame:
    """Each configuration's ``column`` over the ``reference``'s, per repeat
    (paired: one seed per repeat), mean over the repeats with a t interval."""
    t = marginal_by_repeat.pivot(index="repeat", columns="label", values=column)
    rows = []
    for label in [c for c in dict.fromkeys(marginal_by_repeat.label) if c != reference]:
        est = stats.mean_ci((t[label] / t[reference]).dropna().to_numpy(),
                            unit="repeats (paired)")
        rows.append({"label": label, **est.as_dict("ratio")})
    return pd.DataFrame(rows)


def _ci_text(est: stats.Estimate | pd.Series, col: str = "", fmt: str = ".0f") -> str:
    if isinstance(est, stats.Estimate):
        v, lo, hi = est.value, est.low, est.high
    else:
        v, lo, hi = (float(est[f"{col}{s}"]) for s in ("", "_low", "_high"))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{v:{fmt}} (no interval)"
    return f"{v:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"


def findings(anatomy: pd.DataFrame, marginal: pd.DataFrame, checks: pd.DataFrame,
             ratios: pd.DataFrame, cpu: pd.DataFrame) -> list[str]:
    """The sentences notebook 04's closing section rests on, every number and
    verdict computed from the tables above (95 % intervals over the repeats)."""
    model = kaazing_model()
    same = (list(model.polling_mbps) == list(KAAZING_PAPER_POLLING_MBPS)
            and list(model.websocket_mbps) == list(KAAZING_PAPER_WS_MBPS))
    lines = [f"The formula with the paper's 871 B and 2 B gives its printed table: "
             f"{'yes' if same else 'no'}"]
    for label, r in anatomy.iterrows():
        lines.append(f"{label}: headers {_ci_text(r, 'header_bytes', '.1f')} B per "
                     f"{'poll' if r.unit == 'polls' else 'frame'} "
                     f"(n = {r.counted:,} {r.unit}, {int(r.header_bytes_n)} repeats)")
    for c in checks.itertuples():
        lines.append(f"{c.quantity}: measured {c.measured:.1f} [{c.low:.1f}, {c.high:.1f}], "
                     f"model {c.model:.1f}: {c.verdict}")
    for label, r in marginal.iterrows():
        lines.append(f"{label}: one more message costs {_ci_text(r, 'overhead_bytes', '.1f')} B "
                     f"of overhead, {_ci_text(r, 'overhead_tcpip_bytes', '.1f')} B with TCP/IP "
                     f"headers ({_ci_text(r, 'segments', '.2f')} segments; "
                     f"n = {r.counted:,} messages)")
    for r in ratios.itertuples():
        above = r.ratio_low > 1
        lines.append(f"{r.label} / websocket overhead incl. TCP/IP: "
                     f"{_ci_text(pd.Series(r._asdict()), 'ratio', '.1f')}x "
                     f"({'polling costs more: interval above 1' if above else 'interval reaches 1'})")
    for label, r in cpu.iterrows():
        lines.append(f"{label}: server CPU {_ci_text(r, 'server_cpu_us_per_event', '.0f')} µs "
                     f"per delivered event (n = {int(r.server_cpu_us_per_event_n)} runs)")
    return lines


# ---------------------------------------------------------------------------
# Figures for notebook 04
# ---------------------------------------------------------------------------


def plot_anatomy(ax: Any, table: pd.DataFrame) -> Any:
    """Stacked bars of `anatomy_table` (or its `with_intervals`): request headers,
    response headers, body, TCP/IP; the total's 95 % interval as an error bar
    where the table has ``total_low`` / ``total_high``, and the polls or
    frames counted (``counted``, ``unit``) under each bar."""
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
        bottom += table[col].to_numpy(dtype=float)
    if "total_low" in table:
        lo = np.nan_to_num(bottom - table.total_low.to_numpy(dtype=float))
        hi = np.nan_to_num(table.total_high.to_numpy(dtype=float) - bottom)
        ax.errorbar(x, bottom, yerr=np.vstack([lo, hi]), fmt="none", ecolor="black",
                    capsize=4, lw=1, label="95 % interval of the total (t, over repeats)")
    for xi, total, hdr in zip(x, bottom, table["header_bytes"], strict=True):
        ax.text(xi + 0.32, total, f"{total:.0f} B\n(headers {hdr:.0f} B)", ha="left",
                va="center", fontsize="x-small")
    ticks = []
    for label, row in table.iterrows():
        tick = str(label).replace(" (", "\n(")
        if "counted" in table:
            tick += f"\nn = {int(row.counted):,} {row.unit}"
        ticks.append(tick)
    ax.set_xticks(x, ticks, fontsize="small")
    ax.set_ylabel("bytes per request + response, or per frame (B)")
    ax.set_ylim(0, bottom.max() * 1.15)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y", alpha=0.4)
    ax.set_axisbelow(True)
    return ax


def plot_kaazing(ax: Any, table: pd.DataFrame) -> Any:
    """Grouped bars of `kaazing_three_way`: Mbit/s (SI) per client count, log y.

    One colour per transport, one look per method: paper dotted, model pale,
    measured solid, measured + TCP/IP hatched; 95 % intervals as error bars
    where the table has them. Extrapolated bars (``extrapolated``) are hollow
    with a dashed edge, so they are never mistaken for measurements.
    """
    import matplotlib
    from matplotlib.patches import Patch

    from ..plots import readable_ticks

    series = list(dict.fromkeys(zip(table.transport, table.method, strict=True)))
    transports = list(dict.fromkeys(table.transport))
    cmap = matplotlib.colormaps["tab10"]
    color = {t: cmap(i % 10) for i, t in enumerate(transports)}
    look = {"paper": ("..", 1.0), "model": ("", 0.45), "measured": ("", 1.0),
            "measured + TCP/IP": ("//", 1.0)}
    counts = sorted(table.clients.unique())
    width = 0.85 / len(series)
    handles: list[Any] = []
    for k, (transport, method) in enumerate(series):
        part = table[(table.transport == transport) & (table.method == method)]
        part = part.set_index("clients").reindex(counts)
        hatch, alpha = look[method]
        xs = np.arange(len(counts)) + (k - (len(series) - 1) / 2) * width
        extra = part.extrapolated.fillna(False).astype(bool).to_numpy()
        c = color[transport]
        bars = ax.bar(xs, part.mbit_s, width, color=[(1, 1, 1, 1) if e else c for e in extra],
                      alpha=alpha, hatch=hatch, edgecolor=[c if e else "black" for e in extra],
                      lw=[1.0 if e else 0.4 for e in extra])
        for bar, e in zip(bars, extra, strict=True):
            if e:
                bar.set_linestyle("--")
        lo, hi = part.mbit_s_low.to_numpy(dtype=float), part.mbit_s_high.to_numpy(dtype=float)
        if np.isfinite(lo).any():
            y = part.mbit_s.to_numpy(dtype=float)
            ax.errorbar(xs, y, yerr=np.vstack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)]),
                        fmt="none", ecolor="black", capsize=2, lw=0.8)
        handles.append(Patch(facecolor=c, alpha=alpha, hatch=hatch, edgecolor="black", lw=0.4,
                             label=f"{transport}: {method}"))
    if table.extrapolated.any():
        handles.append(Patch(facecolor="white", edgecolor="gray", ls="--",
                             label="hollow, dashed: extrapolated linearly from the measured N"))
    if np.isfinite(table.mbit_s_low.to_numpy(dtype=float)).any():
        handles.append(matplotlib.lines.Line2D([], [], color="black", marker="|", ls="none",
                                               label="95 % interval (t, over repeats)"))
    ax.set_yscale("log")
    readable_ticks(ax, "y")
    ax.set_xticks(np.arange(len(counts)), [f"{n:,} clients" for n in counts])
    ax.set_ylabel("overhead bandwidth (Mbit/s, SI: bits / 10^6)")
    ax.legend(handles=handles, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.set_axisbelow(True)
    return ax
