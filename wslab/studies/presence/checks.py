"""Plan, batches, model checks and the frontier table of notebook 08 (presence).

Units: every detection sample is one client; the clients of one
configuration connect at independent random phases of their heartbeat, so
their detection times are independent draws of the model's uniform law and
the interval of the mean is a t interval over clients (`wslab.stats.mean_ci`).
Bytes per second are per client too; CPU per client comes from the server's
CPU clock over equal parts of the cost window (one value per part) minus its
own idle rate measured before any client connected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ... import stats
from ...models import presence as model
from .runs import WARMUP_PERIODS, Config, Measurement, measure
from .server import POLL_S

__all__ = ["SLACK_S", "PRODUCTION_STACKS", "Plan", "bounds_verdict", "check_detection", "check_bytes",
           "conclusions", "cost_table", "frontier", "model_table", "plan", "production_points",
           "run_plan"]

#: how far outside the model interval a sample may lie and still count as
#: inside: the count poll, the report loop's clock and loop scheduling (s)
SLACK_S = POLL_S + 0.05


@dataclass(frozen=True)
class Plan:
    """Configurations (run in batches, all of a batch at once), clients each, cost window."""

    batches: list[list[Config]]
    clients: int
    window: float
    seed: int

    @property
    def configs(self) -> list[Config]:
        return [c for b in self.batches for c in b]

    def wall_s(self, startup: float = 8.0, margin: float = 3.0) -> float:
        """Expected wall time (s): per batch, start-up, idle and cost windows, then
        the slowest configuration's upper model bound and the margin."""
        return sum(startup + 1.5 * self.window + WARMUP_PERIODS * max(c.period for c in b)
                   + max(c.detection().high for c in b) + margin for b in self.batches)


def plan(quick: bool, seed: int = 1) -> Plan:
    """Scaled-down heartbeats (production values are tens of seconds to hours)."""
    ws = lambda i, t: Config("websocket", {"ping_interval": i, "ping_timeout": t})  # noqa: E731
    sse = lambda p, u: Config("sse", {"ping": p, "user_timeout": u})  # noqa: E731
    lp = lambda t, g: Config("long-poll", {"timeout": t, "grace": g})  # noqa: E731
    ka = lambda i, v, c: Config("keepalive", {"idle": i, "interval": v, "count": c})  # noqa: E731
    if quick:
        return Plan([[ws(0.5, 0.5), ws(1, 1), sse(0.5, 1.2), lp(1, 0.5), ka(1, 1, 1)]],
                    clients=8, window=3.0, seed=seed)
    return Plan([[ws(0.25, 0.5), ws(0.5, 0.5), ws(1, 1), ws(2, 2), sse(0.5, 1.2)],
                 [ws(0.5, 2), ws(2, 0.5), sse(1, 2.5), sse(2, 3.3), lp(1, 0.5)],
                 [lp(4, 0.5), ka(1, 1, 1), ka(1, 1, 3), ka(2, 1, 2), ka(4, 2, 2)]],
                clients=16, window=10.0, seed=seed)


def run_plan(p: Plan) -> Measurement:
    """Every batch of ``p``, one after the other (distinct seeds), as one `Measurement`."""
    parts = [measure(b, p.clients, p.window, p.seed + k) for k, b in enumerate(p.batches)]
    return Measurement(
        pd.concat([m.detections for m in parts], ignore_index=True),
        pd.concat([m.costs for m in parts], ignore_index=True),
        pd.concat([m.cpu for m in parts], ignore_index=True),
        max(m.vanish_s for m in parts), p.clients, p.window,
        {k: v for m in parts for k, v in m.early.items()})


def bounds_verdict(values: np.ndarray, d: model.Detection, slack: float = SLACK_S) -> str:
    """``"inside model bounds"`` when every sample is in ``[low, high]`` (± ``slack``),
    else how many are outside and by how much; undetected clients are named."""
    missing = int(np.isnan(values).sum())
    v = values[~np.isnan(values)]
    out = v[(v < d.low - slack) | (v > d.high + slack)]
    if missing:
        return f"{missing} not detected by the deadline"
    if not len(out):
        return "inside model bounds"
    worst = max(abs(x - (d.low if x < d.low else d.high)) for x in out)
    return f"{len(out)} of {len(v)} outside model bounds (by up to {worst:.3g} s)"


def check_detection(m: Measurement, configs: list[Config]) -> pd.DataFrame:
    """Mean detection time per configuration against the model's mean (verdict
    over the 95 % interval), with the model bounds and the computed bounds verdict."""
    rows = []
    for c in configs:
        values = m.detections.loc[m.detections.config == c.label, "detection_s"].to_numpy()
        d = c.detection()
        rows.append({"config": c.label, "quantity": "detection (s)",
                     "measured": stats.mean_ci(values[~np.isnan(values)], unit="clients"),
                     "model": d.mean, "model_low": d.low, "model_high": d.high,
                     "min": float(np.nanmin(values)), "max": float(np.nanmax(values)),
                     "bounds": bounds_verdict(values, d)})
    return stats.check_table(rows)


_PAYLOAD = {"websocket": model.WS_PING_BYTES + model.WS_PONG_BYTES, "sse": model.SSE_PING_BYTES}


def _payload_model(c: Config, m: Measurement) -> float:
    """Data bytes per heartbeat the model assumes; a long poll's are its own exchange."""
    if c.mechanism != "long-poll":
        return 0.0
    per_s = m.costs.loc[m.costs.config == c.label, "payload_bytes_per_s"].median()
    return float(per_s) * c.period  # premise measured: one request + response per timeout


def check_bytes(m: Measurement, configs: list[Config]) -> pd.DataFrame:
    """Wire bytes per second per client (payload + 52 B per segment) against the
    heartbeat model (frames and segments per period)."""
    rows = []
    for c in configs:
        mine = m.costs[m.costs.config == c.label]
        payload = _payload_model(c, m) or _PAYLOAD.get(c.mechanism, 0.0)
        # payload columns: where the wire verdict misses, they tell bytes from segments
        rows.append({"config": c.label, "payload_Bps": mine["payload_bytes_per_s"].mean(),
                     "model_payload_Bps": payload / c.period, "quantity": "wire B/s per client",
                     "measured": stats.mean_ci(mine["wire_bytes_per_s"], unit="clients"),
                     "model": model.heartbeat_wire_bytes(c.mechanism, c.period, payload)})
    return stats.check_table(rows)


def cost_table(m: Measurement, configs: list[Config]) -> pd.DataFrame:
    """What the heartbeat costs while nobody leaves: bytes and server CPU per client."""
    rows = []
    for c in configs:
        wire = stats.mean_ci(m.costs.loc[m.costs.config == c.label, "wire_bytes_per_s"],
                             unit="clients")
        cpu = stats.mean_ci(m.cpu.loc[m.cpu.config == c.label, "cpu_us_per_s_per_client"],
                            unit="window parts")
        rows.append({"config": c.label, "period_s": c.period, **wire.as_dict("wire_Bps"),
                     **cpu.as_dict("cpu_us_per_s"), "clients": m.clients})
    return pd.DataFrame(rows)


#: production heartbeats (interval, timeout) and who waits: "server pings"
#: (ping/pong, the server waits ``timeout`` for the answer: [T, I + T]) or
#: "client beats" (the server drops a client silent for ``timeout``: [T - I, T])
PRODUCTION_STACKS = {"websockets": "server pings", "Socket.IO": "server pings",
                     "SignalR": "client beats", "Phoenix": "client beats"}


def production_points() -> pd.DataFrame:
    """The production defaults, from the model only (nothing measured): detection
    interval and wire bytes per second of one small ping/pong per interval."""
    rows = []
    for name, (interval, timeout) in model.PRODUCTION_DEFAULTS.items():
        if name == "websockets":
            d = model.websocket_detection(interval, timeout)
        elif PRODUCTION_STACKS[name] == "server pings":
            d = model.Detection(timeout, interval + timeout)
        else:
            d = model.Detection(max(timeout - interval, 0.0), timeout)
        rows.append({"stack": name, "interval_s": interval, "timeout_s": timeout,
                     "rule": PRODUCTION_STACKS[name], "detect_low_s": d.low,
                     "detect_high_s": d.high, "detect_mean_s": d.mean,
                     "wire_Bps": model.heartbeat_wire_bytes("websocket", interval)})
    ka = model.keepalive_detection(**model.LINUX_KEEPALIVE)  # type: ignore[arg-type]
    rows.append({"stack": "Linux keepalive", "interval_s": model.LINUX_KEEPALIVE["idle"],
                 "timeout_s": 9 * 75.0, "rule": "probes", "detect_low_s": ka.low,
                 "detect_high_s": ka.high, "detect_mean_s": ka.mean,
                 "wire_Bps": model.heartbeat_wire_bytes("keepalive", 7200.0)})
    return pd.DataFrame(rows)


def frontier(m: Measurement, configs: list[Config]) -> pd.DataFrame:
    """One row per configuration: mean detection and wire bytes/s with intervals."""
    det = check_detection(m, configs).set_index("config")
    models = {c.label: c.detection() for c in configs}
    cost = cost_table(m, configs).set_index("config")
    out = pd.DataFrame({
        "mechanism": [c.mechanism for c in configs], "config": [c.label for c in configs],
        "detect_s": det["measured"].to_numpy(), "detect_low": det["low"].to_numpy(),
        "detect_high": det["high"].to_numpy(), "n": det["n"].to_numpy(),
        "wire_Bps": cost["wire_Bps"].to_numpy(), "wire_low": cost["wire_Bps_low"].to_numpy(),
        "wire_high": cost["wire_Bps_high"].to_numpy(),
        "model_low": [models[c.label].low for c in configs],
        "model_high": [models[c.label].high for c in configs]})
    return out


def model_table() -> pd.DataFrame:
    """Detection intervals of defaults nobody scaled down (model only): the
    production stacks, the kit's SSE server (aiohttp-sse's 120 s send timeout
    as TCP_USER_TIMEOUT, 15 s comments), a write without TCP_USER_TIMEOUT
    (tcp_retries2), Linux keepalive."""
    prod = production_points()[["stack", "interval_s", "timeout_s", "detect_low_s",
                                "detect_high_s", "wire_Bps"]]
    sse = model.sse_detection(15, 120)
    retries = model.tcp_retries_timeout()
    extra = pd.DataFrame([
        {"stack": "kit SSE server (aiohttp-sse)", "interval_s": 15.0, "timeout_s": 120.0,
         "detect_low_s": sse.low, "detect_high_s": sse.high,
         "wire_Bps": model.heartbeat_wire_bytes("sse", 15)},
        {"stack": "SSE without TCP_USER_TIMEOUT", "interval_s": 15.0, "timeout_s": retries,
         "detect_low_s": retries, "detect_high_s": 15 + retries,
         "wire_Bps": model.heartbeat_wire_bytes("sse", 15)}])
    return pd.concat([prod, extra], ignore_index=True).round(3)


def conclusions(det: pd.DataFrame, wire: pd.DataFrame, configs: list[Config]) -> list[str]:
    """Sentences computed from the check tables (nothing hand-written about results)."""
    inside = det["bounds"].eq("inside model bounds")
    mean_ok = det["verdict"].str.startswith("model inside")
    lines = [f"detection: {int(inside.sum())} of {len(det)} configurations have every sample "
             f"inside the model bounds; the model mean is inside the 95 % CI for "
             f"{int(mean_ok.sum())} of {len(det)}",
             f"bytes: the heartbeat model is inside the 95 % CI for "
             f"{int(wire['verdict'].str.startswith('model inside').sum())} of {len(wire)}"]
    by = {c.label: c for c in configs}
    for _, row in det.iterrows():
        c = by[row["config"]]
        if c.mechanism == "websocket":  # what the application waits beyond the ping timeout
            base = c.params["ping_interval"] / 2 + c.params["ping_timeout"]
            lines.append(f"{c.label}: mean detection {row['measured']:.2f} s "
                         f"[{row['low']:.2f}, {row['high']:.2f}] = I/2 + T + "
                         f"{row['measured'] - base:.2f} s "
                         f"[{row['low'] - base:.2f}, {row['high'] - base:.2f}]")
    for _, row in det[~inside].iterrows():
        lines.append(f"outside: {row['config']}: {row['bounds']}")
    return lines
