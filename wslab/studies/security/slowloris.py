"""Section 3 of notebook 10: half-open handshakes (slowloris, C10).

Each connection of `wslab.net.hostile.campaign.hold_half_open` sends a
request line and a header, then one more header every ``trickle_s`` s, never
the blank line that ends the head. The servers drop such a connection only
through a timer that started when it was accepted:

- websockets: ``open_timeout`` (its default 10 s; the kit's server option);
- picows: its handshake timeout (default 5 s; server option ``open_timeout``);
- aiohttp: ``keepalive_timeout``, armed at accept and aimed at idle
  connections (aiohttp's default 3,630 s; server option ``keepalive_timeout``),
  so by default it holds a slowloris for an hour.

The model of the number of half-open connections a server holds, ``count``
opened at t = 0: ``count`` while t < T, then 0 (T = 3,630 s for aiohttp by
default, beyond any bound here). The measurement holds ``count`` connections
on each server at once for at most ``max_s`` s, in ``repeats`` rounds.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...net.hostile.campaign import attackable, hold_half_open, targets
from ...runner.lab import Lab
from ...stats import check_table, mean_ci
from ._sync import run_sync

__all__ = ["AIOHTTP_DEFAULT_S", "SlowlorisPlan", "drop_check", "held_over_time",
           "measure_slowloris", "slowloris_plan"]

AIOHTTP_DEFAULT_S = 3630.0  # aiohttp's keepalive_timeout default (web_protocol.RequestHandler)


@dataclass(frozen=True)
class SlowlorisPlan:
    """How many half-open connections per server, for how long, and the
    servers' timeouts in s (``None``: the library's default)."""

    count: int
    max_s: float
    trickle_s: float
    repeats: int
    websockets_s: float | None
    picows_s: float | None
    aiohttp_s: float

    def servers(self) -> dict[str, tuple[str, float]]:
        """Series label -> (endpoint attacked, timeout model T in s)."""
        return {"websockets (open_timeout)": ("websocket", self.websockets_s or 10.0),
                "picows (handshake timeout)": ("picows", self.picows_s or 5.0),
                "aiohttp (default keep-alive)": ("sse", AIOHTTP_DEFAULT_S),
                "aiohttp (keepalive_timeout set)": ("long-poll", self.aiohttp_s)}

    def options(self) -> dict[str, dict[str, float]]:
        """The Lab's server options that set the timeouts of this plan."""
        opts: dict[str, dict[str, float]] = {"long-poll": {"keepalive_timeout": self.aiohttp_s}}
        if self.websockets_s is not None:
            opts["websocket"] = {"open_timeout": self.websockets_s}
        if self.picows_s is not None:
            opts["picows"] = {"open_timeout": self.picows_s}
        return opts

    def wall_s(self) -> float:
        """Planned wall time: every round lasts ``max_s``, plus a server start."""
        return self.repeats * self.max_s + 2.0


def slowloris_plan(quick: bool) -> SlowlorisPlan:
    """Quick: 10 connections per server, timeouts scaled down (websockets 0.6 s,
    picows 0.4 s, aiohttp's option 0.8 s), a 1.2 s bound, 2 rounds. Full: 100 per
    server, the libraries' defaults (10 s, 5 s) and aiohttp's option set to 8 s,
    a 14 s bound, 3 rounds."""
    if quick:
        return SlowlorisPlan(10, 1.2, 0.2, 2, 0.6, 0.4, 0.8)
    return SlowlorisPlan(100, 14.0, 1.0, 3, None, None, 8.0)


def measure_slowloris(plan: SlowlorisPlan) -> pd.DataFrame:
    """One row per connection: series, endpoint, model T, the bound, repeat and
    ``closed_s`` (s until the server closed it; NaN: still open at ``max_s``)."""
    rows = []
    with Lab(server_options=plan.options()) as lab:
        ts = {t.name: t for t in targets(attackable(lab.urls))}
        servers = plan.servers()
        for repeat in range(plan.repeats):
            async def hold() -> list[list[float | None]]:
                return await asyncio.gather(*(hold_half_open(
                    ts[name], plan.count, trickle_s=plan.trickle_s, max_s=plan.max_s)
                    for name, _ in servers.values()))

            for (label, (name, model)), closed in zip(servers.items(), run_sync(hold()),
                                                      strict=True):
                rows += [{"series": label, "endpoint": name, "model_s": model,
                          "max_s": plan.max_s, "repeat": repeat, "conn": k, "closed_s": math.nan if s is None else s}
                         for k, s in enumerate(closed)]
    return pd.DataFrame(rows)


def held_over_time(df: pd.DataFrame, times: np.ndarray) -> pd.DataFrame:
    """Half-open connections still held at each time, per series: the mean over
    repeats with its t interval (``held``, ``held_low``, ``held_high``, ``n``
    repeats) and the model (``count`` before T, 0 after)."""
    out = []
    for label, g in df.groupby("series", sort=False):
        count = g.groupby("repeat").size().iloc[0]
        closed = g["closed_s"].fillna(np.inf)
        for t in times:
            per = (closed > t).groupby(g["repeat"]).sum().to_numpy(float)
            est = mean_ci(per, unit="repeats")
            out.append({"series": label, "t_s": t, "held": est.value, "held_low": est.low,
                        "held_high": est.high, "n": est.n,
                        "model": float(count) if t < g["model_s"].iloc[0] else 0.0})
    return pd.DataFrame(out)


def drop_check(df: pd.DataFrame, tolerance: float = 0.05) -> pd.DataFrame:
    """Per series: the time to drop a half-open handshake (mean over repeats of
    each round's median, t interval) against the timeout T, or, where T is past
    the bound, the fraction still held at the bound against 1."""
    rows = []
    for label, g in df.groupby("series", sort=False):
        model, by_round = g["model_s"].iloc[0], g.groupby("repeat")["closed_s"]
        if model < g["max_s"].iloc[0]:
            est = mean_ci(by_round.median().to_numpy(float), unit="repeats")
            rows.append({"series": label, "quantity": "time to drop (s)", "measured": est,
                         "model": model, "tolerance": tolerance})
        else:  # T beyond the bound: all still held when the probe gave up
            held = by_round.apply(lambda s: s.isna().mean()).to_numpy(float)
            rows.append({"series": label, "quantity": "fraction held at the bound",
                         "measured": mean_ci(held, unit="repeats"), "model": 1.0})
    return check_table(rows)


