"""Measured figures beside their model inputs with computed verdicts (RFC 6455's
frame header, the short-poll overhead per message, a header profile's bytes,
the paper's 871 B), paired overhead ratios, and the findings of notebook 04."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ... import stats
from ...core.profiles import headers_for
from ...models import (
    KAAZING_HEADER_BYTES,
    KAAZING_PAPER_POLLING_MBPS,
    KAAZING_PAPER_WS_MBPS,
    events_per_poll,
    ws_frame_header_bytes,
)
from .kaazing import kaazing_model

__all__ = ["findings", "model_checks", "overhead_ratios", "profile_bytes", "profile_extra_bytes"]


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
