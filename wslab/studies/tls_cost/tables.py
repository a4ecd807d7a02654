"""TLS cost tables from the sweep's run table (one row per run, `Experiment.run`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ... import stats
from ...core.tls import record_overhead

__all__ = ["bytes_table", "check_records", "cpu_table", "memory_table", "per_client_bytes",
           "tls_conclusions"]

_CLEAR, _TLS = "clear", "TLS"


def _setting(tls: object) -> str:
    return _CLEAR if tls is None or (isinstance(tls, float) and math.isnan(tls)) else _TLS


def per_client_bytes(runs: pd.DataFrame, short_s: float, long_s: float) -> pd.DataFrame:
    """Per transport, setting and repeat: the slope of one client's bytes
    (up + down) and of its requests and responses over its events, between the
    short and the long run (what a connection costs once cancels)."""
    r = runs.assign(setting=runs.tls.map(_setting))
    r = r.assign(b=(r.bytes_up + r.bytes_down) / r.clients, e=r.delivered / r.clients,
                 q=(r.requests + r.responses) / r.clients)
    rows = []
    for (transport, setting, rep), g in r.groupby(["transport", "setting", "repeat"]):
        s, lo = g[np.isclose(g.duration, short_s)], g[np.isclose(g.duration, long_s)]
        if s.empty or lo.empty:
            continue
        de = float(lo.e.iloc[0] - s.e.iloc[0])
        rows.append({"transport": transport, "setting": setting, "repeat": rep,
                     "bytes_per_event": float(lo.b.iloc[0] - s.b.iloc[0]) / de,
                     "writes_per_event": float(lo.q.iloc[0] - s.q.iloc[0]) / de})
    return pd.DataFrame(rows)


def _estimates(frame: pd.DataFrame, value: str, unit: str) -> pd.DataFrame:
    """Clear, TLS and TLS minus clear (paired by repeat: same seed, same bodies)
    per transport, mean and t interval over repeats."""
    rows = []
    for transport, g in frame.groupby("transport", sort=False):
        wide = g.pivot_table(index="repeat", columns="setting", values=value)
        if _CLEAR not in wide or _TLS not in wide:
            continue
        row: dict[str, object] = {"transport": transport}
        for name, values in ((_CLEAR, wide[_CLEAR]), (_TLS, wide[_TLS]),
                             ("TLS - clear", (wide[_TLS] - wide[_CLEAR]))):
            est = stats.mean_ci(values.dropna(), unit="repeats")
            row.update({name: est.value, f"{name} low": est.low, f"{name} high": est.high})
            row["n"] = est.n
        row["unit"] = unit
        rows.append(row)
    return pd.DataFrame(rows)


def bytes_table(runs: pd.DataFrame, short_s: float, long_s: float) -> pd.DataFrame:
    """Steady-state bytes per event (up + down, kernel counters), clear vs TLS."""
    return _estimates(per_client_bytes(runs, short_s, long_s), "bytes_per_event",
                      "B/event")


def cpu_table(runs: pd.DataFrame, duration: float) -> pd.DataFrame:
    """Server and client CPU per delivery (µs) of the runs lasting ``duration``
    (the long ones, most deliveries), clear vs TLS."""
    r = runs[np.isclose(runs.duration, duration)].assign(setting=runs.tls.map(_setting))
    r = r.assign(server=r.server_cpu_s * 1e6 / r.delivered,
                 client=r.client_cpu_s * 1e6 / r.delivered)
    parts = [_estimates(r, side, "µs/delivery").assign(side=side)
             for side in ("server", "client")]
    out = pd.concat(parts, ignore_index=True)
    return out[["side", *[c for c in out.columns if c != "side"]]]


def memory_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Server memory per connection (KiB): the slope of RSS growth (connected,
    before the first event, less before any client) over N, every run a
    point (`wslab.stats.slope_ci`); TLS minus clear is the difference of the
    slopes (its interval: the two half-widths combined in quadrature). Runs
    in fresh servers only mean something here: a server that served earlier
    runs reuses the memory they freed."""
    r = runs.assign(setting=runs.tls.map(_setting))
    r = r.assign(growth=(r.server_rss_start_bytes - r.server_rss_before_clients_bytes) / 1024)
    rows = []
    for transport, g in r.groupby("transport", sort=False):
        fits = {s: stats.slope_ci(h.clients, h.growth) for s, h in g.groupby("setting")}
        if set(fits) != {_CLEAR, _TLS}:
            continue
        row: dict[str, object] = {"transport": transport}
        for s, est in fits.items():
            row.update({s: est.value, f"{s} low": est.low, f"{s} high": est.high})
        diff = fits[_TLS].value - fits[_CLEAR].value
        h = math.hypot(*(fits[s].half_width for s in fits))
        row.update({"TLS - clear": diff, "TLS - clear low": diff - h,
                    "TLS - clear high": diff + h, "n": min(e.n for e in fits.values()),
                    "unit": "KiB/connection"})
        rows.append(row)
    columns = ["transport", *[f"{s}{e}" for s in (_CLEAR, _TLS, "TLS - clear")
                              for e in ("", " low", " high")], "n", "unit"]
    return pd.DataFrame(rows, columns=columns)


def check_records(runs: pd.DataFrame, short_s: float, long_s: float,
                  version: str = "1.3") -> pd.DataFrame:
    """TLS minus clear bytes per event against ``record_overhead(version)`` x
    records per event: one record per event down (one write each) plus, for
    the polling transports, one per request up and one per response down
    (the TLS runs' requests and responses per event, measured)."""
    per = per_client_bytes(runs, short_s, long_s)
    overhead = record_overhead(version)
    rows = []
    for transport, g in per.groupby("transport", sort=False):
        wide = g.pivot_table(index="repeat", columns="setting",
                             values=["bytes_per_event", "writes_per_event"])
        extra = (wide["bytes_per_event"][_TLS] - wide["bytes_per_event"][_CLEAR]).dropna()
        writes = wide["writes_per_event"][_TLS].mean()
        records = writes if writes > 0 else 1.0  # push: one write per event
        rows.append({"transport": transport,
                     "quantity": f"TLS {version} - clear, B/event",
                     "measured": stats.mean_ci(extra, unit="repeats"),
                     "model": overhead * records})
    return stats.check_table(rows)


def tls_conclusions(bytes_: pd.DataFrame, memory: pd.DataFrame, checks: pd.DataFrame) -> str:
    """One line per transport, each number taken from the tables above it."""
    lines = []
    for row in checks.itertuples():
        b = bytes_[bytes_.transport == row.transport].iloc[0]
        line = (f"{row.transport}: TLS adds {b['TLS - clear']:.1f} B/event "
                f"[{b['TLS - clear low']:.1f}, {b['TLS - clear high']:.1f}] "
                f"(record model {row.model:.1f} B: {row.verdict})")
        m = memory[memory.transport == row.transport]
        if not m.empty:
            m0 = m.iloc[0]
            line += (f"; memory per connection {m0['TLS - clear']:+.1f} KiB "
                     f"[{m0['TLS - clear low']:+.1f}, {m0['TLS - clear high']:+.1f}] over clear")
        lines.append(line)
    return "\n".join(lines)
