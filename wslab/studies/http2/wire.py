"""HPACK on the wire, poll by poll: the probe's frames beside the HPACK model.

`probe` runs `wslab.transports.h2probe` in a fresh interpreter (server and
client in that child, on loopback port 0; nothing runs in the notebook
kernel) and returns its record: per request stream, the bytes of the request
and response HEADERS frames and of the DATA frames, counted from the bytes
the client's socket wrote and read. `probe_table` sets each poll beside the
model (`wslab.models.hpack`) fed with the exact fields httpx sends
(`request_fields`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ... import stats
from ...core.errors import ConfigError, RunError
from ...models import HpackEncoderModel, h2_headers_frame_bytes

__all__ = ["PROBE_TIMEOUT_S", "probe", "probe_checks", "probe_table", "probes",
           "request_fields"]

PROBE_TIMEOUT_S = 60.0


def probe(polls: int = 5, headers: str = "aiohttp", tls: str | None = None) -> dict[str, Any]:
    """One probe connection of ``polls`` polls (see the module docstring)."""
    return probes(polls, (headers,), 1, tls)[0]


def probes(polls: int, profiles: Sequence[str] = ("aiohttp", "browser"), repeats: int = 2,
           tls: str | None = None) -> list[dict[str, Any]]:
    """``repeats`` probe connections per header profile, in one child process
    (a fresh server and connection for each)."""
    if not 1 <= int(polls) <= 1000:
        raise ConfigError(f"polls must be from 1 to 1000, not {polls!r}")
    if not 1 <= int(repeats) <= 100:
        raise ConfigError(f"repeats must be from 1 to 100, not {repeats!r}")
    args = [{"polls": int(polls), "headers": h, "tls": tls}
            for h in profiles for _ in range(int(repeats))]
    done = subprocess.run([sys.executable, "-m", "wslab.transports.h2probe", json.dumps(args)],
                          capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    if done.returncode != 0:
        raise RunError(f"the HTTP/2 probe failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def request_fields(headers: str, url: str, path: str) -> list[tuple[str, str]]:
    """The header fields httpx sends for ``GET path`` over HTTP/2 with profile
    ``headers``: the pseudo-header fields (RFC 9113 §8.3.1), then httpx's
    request headers without ``host`` (it became ``:authority``) and the
    connection-specific ones h2 strips (§8.2.2). Built without I/O."""
    import httpx

    from ...transports._h2 import HOP_BY_HOP, h2_headers

    request = httpx.Client(headers=h2_headers(headers, url)).build_request("GET", url + path)
    fields = [(":method", "GET"), (":authority", request.url.netloc.decode()),
              (":scheme", request.url.scheme), (":path", path)]
    return fields + [(k.lower(), v) for k, v in request.headers.items()
                     if k.lower() not in HOP_BY_HOP]


def probe_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per probe poll: ``headers`` (profile), ``poll`` (1 = first),
    measured ``request_headers`` / ``response_headers`` (HEADERS frames, with
    their 9-byte frame header), ``data_framing`` (DATA frame headers),
    ``stream_other`` (per-stream WINDOW_UPDATE ...) and ``model_request_headers``
    (`wslab.models.hpack` with the probe's own paths)."""
    rows = []
    for rec in records:
        model = HpackEncoderModel()
        since = 0
        for k, x in enumerate(rec["exchanges"], 1):
            fields = request_fields(rec["headers"], rec["origin"], f"/poll?since={since}")
            rows.append({"headers": rec["headers"], "tls": rec.get("tls"), "poll": k,
                         "request_headers": x["request_header_bytes"],
                         "response_headers": x["response_header_bytes"],
                         "data_framing": x["data_frame_bytes"] - x["data_payload_bytes"],
                         "stream_other": x["other_bytes"],
                         "model_request_headers": h2_headers_frame_bytes(
                             model.block_bytes(fields))})
            since = k  # the probe publishes one event before every poll
    return pd.DataFrame(rows)


def probe_checks(table: pd.DataFrame) -> pd.DataFrame:
    """Model checks of the request HEADERS frame, first poll and repeats, per
    profile (`wslab.stats.check_table`; byte counts are exact, so the interval
    over the repeats' polls is a point when every repeat costs the same)."""
    rows = []
    for profile, g in table.groupby("headers", sort=False):
        for which, part in (("first", g[g.poll == 1]), ("repeat", g[g.poll > 1])):
            est = stats.mean_ci(part.request_headers.to_numpy(dtype=float), unit="polls")
            rows.append({"headers": profile, "quantity": f"request HEADERS frame, {which} (B)",
                         "measured": est, "model": float(part.model_request_headers.mean())})
    return stats.check_table(rows)
