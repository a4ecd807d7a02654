"""One presence measurement: every configuration at once, one silent vanish.

`measure` makes a namespace pair (`wslab.net.netns.NetnsPair`), starts one
server child per configuration in the server namespace and one client child
(``n`` clients) per configuration in the client namespace, measures the idle
cost over a window (server CPU clock, the clients' kernel counters), sets the
client end of the veth pair down and collects, from each server, the
instants it declared its clients gone. Every child and both namespaces are
gone when it returns or raises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...core.errors import ConfigError, RunError
from ...models import presence as model
from ...net.netns import NetnsChildProcess, NetnsPair
from .server import MECHANISMS

__all__ = ["WARMUP_PERIODS", "Config", "Measurement", "measure"]

_REPORT_EVERY_S = 0.25
#: heartbeat periods between the last client's connection and the cost window
WARMUP_PERIODS = 2
_SERVER, _CLIENT = "wslab.studies.presence.server", "wslab.studies.presence.client"


@dataclass(frozen=True)
class Config:
    """One mechanism with its parameters (seconds; keepalive ``count`` an integer)."""

    mechanism: str
    params: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mechanism not in MECHANISMS:
            raise ConfigError(f"mechanism must be one of {', '.join(MECHANISMS)}, "
                              f"not {self.mechanism!r}")
        if self.mechanism == "keepalive" and any(
                float(v) != int(v) or v < 1 for v in self.params.values()):
            # TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT are whole numbers (tcp(7))
            raise ConfigError(f"keepalive parameters must be whole numbers >= 1, not {self.params}")
        self.detection()  # checks the parameters

    @property
    def label(self) -> str:
        short = {"ping_interval": "I", "ping_timeout": "T", "ping": "P", "user_timeout": "U",
                 "timeout": "τ", "grace": "g", "idle": "idle", "interval": "intvl",
                 "count": "cnt"}
        return f"{self.mechanism} " + " ".join(f"{short[k]}={v:g}" for k, v in self.params.items())

    @property
    def period(self) -> float:
        """The heartbeat period (s): one ping, comment, request or probe per period."""
        p = self.params
        return float({"websocket": p.get("ping_interval", 0), "sse": p.get("ping", 0),
                      "long-poll": p.get("timeout", 0),
                      "keepalive": p.get("idle", 0)}[self.mechanism])

    def detection(self) -> model.Detection:
        """The model's detection interval for this configuration."""
        p = self.params
        try:
            if self.mechanism == "websocket":
                return model.websocket_detection(p["ping_interval"], p["ping_timeout"])
            if self.mechanism == "sse":
                return model.sse_detection(p["ping"], p["user_timeout"])
            if self.mechanism == "long-poll":
                return model.long_poll_detection(p["timeout"], p["grace"])
            return model.keepalive_detection(p["idle"], p["interval"], int(p["count"]))
        except KeyError as exc:
            raise ConfigError(f"{self.mechanism} needs parameter {exc}") from None


@dataclass
class Measurement:
    """What `measure` returns: tidy tables, one row per client (per CPU sample)."""

    detections: pd.DataFrame  # config, client, detection_s (NaN: not detected by the deadline)
    costs: pd.DataFrame       # config, client, wire_bytes_per_s, payload_bytes_per_s
    cpu: pd.DataFrame         # config, sample, cpu_us_per_s_per_client
    vanish_s: float           # how long the `ip link set down` took (the vanish instant's blur)
    clients: int
    window_s: float
    early: dict[str, int]     # detections before the vanish (must be 0)


def _cost_rows(label: str, c0: list, c1: list, window: float) -> list[dict[str, Any]]:
    rows = []
    for k, (a, b) in enumerate(zip(c0, c1, strict=True)):
        if a is None or b is None:
            continue
        payload = b["bytes_up"] - a["bytes_up"] + b["bytes_down"] - a["bytes_down"]
        segs = b["segs_up"] - a["segs_up"] + b["segs_down"] - a["segs_down"]
        wire = payload + segs * model.TCPIP_HEADER_BYTES_IPV4_TS
        rows.append({"config": label, "client": k, "payload_bytes_per_s": payload / window,
                     "wire_bytes_per_s": wire / window})
    return rows


def measure(configs: list[Config], clients: int, window: float, seed: int,
            cpu_samples: int = 5, margin: float = 3.0) -> Measurement:
    """Measure every configuration in ``configs`` at once (see the module doc).

    ``clients`` per configuration connect at seeded random offsets within one
    heartbeat period; the idle cost is measured over ``window`` s in
    ``cpu_samples`` equal parts; detections are awaited until every client is
    declared gone or ``margin`` s past the largest model bound.
    """
    if not configs or len({c.label for c in configs}) != len(configs):
        raise ConfigError("configs must be a non-empty list of distinct configurations")
    if not 1 <= clients <= 500 or window <= 0 or cpu_samples < 2:
        raise ConfigError("clients must be 1..500, window > 0 and cpu_samples >= 2")
    rng = np.random.default_rng(seed)
    servers: dict[str, NetnsChildProcess] = {}
    fleets: dict[str, NetnsChildProcess] = {}
    with NetnsPair() as pair:
        try:
            for c in configs:
                servers[c.label] = NetnsChildProcess(
                    pair, pair.server_ns, f"presence server ({c.label})", _SERVER,
                    {"mechanism": c.mechanism, "host": pair.server_host, "params": c.params})
                servers[c.label].start_async()
            ports = {k: s.wait_ready(60)["port"] for k, s in servers.items()}
            # each server's own CPU rate with no client: subtracted from the cost
            idle = _cpu_rates(servers, window / 2, 2)
            for c in configs:
                port = ports[c.label]
                offsets = rng.uniform(0, c.period, clients).round(4).tolist()
                fleets[c.label] = NetnsChildProcess(
                    pair, pair.client_ns, f"presence clients ({c.label})", _CLIENT,
                    {"mechanism": c.mechanism, "host": pair.server_host, "port": port,
                     "offsets": offsets})
                fleets[c.label].start_async()
            for fleet in fleets.values():
                fleet.wait_ready(60 + max(c.period for c in configs))
            return _observe(pair, configs, servers, fleets, clients, window, cpu_samples, margin,
                            idle)
        finally:
            for child in [*fleets.values(), *servers.values()]:
                child.kill()


def _cpu_rates(servers: dict, window: float, samples: int) -> dict[str, list[tuple[float, int]]]:
    """Each server's CPU rate (µs per s) in ``samples - 1`` consecutive parts of
    ``window``, with its live connections."""
    seen: dict[str, list[dict]] = {k: [] for k in servers}
    t_start = time.monotonic()
    for j in range(samples):
        time.sleep(max(t_start + j * window / (samples - 1) - time.monotonic(), 0))
        for k, s in servers.items():
            seen[k].append(s.request("cpu"))
    return {k: [((b["cpu_ns"] - a["cpu_ns"]) / 1e3 / ((b["t_ns"] - a["t_ns"]) / 1e9), a["live"])
                for a, b in zip(seq, seq[1:], strict=False)] for k, seq in seen.items()}


def _observe(pair: NetnsPair, configs: list[Config], servers: dict, fleets: dict,
             clients: int, window: float, cpu_samples: int, margin: float,
             idle: dict[str, list[tuple[float, int]]]) -> Measurement:
    # Steady state first: a new connection ACKs its first segments at once
    # (Linux quick-ACK mode) and only later delays ACKs into its replies.
    time.sleep(WARMUP_PERIODS * max(c.period for c in configs))
    c0 = {k: f.request("counters")["counters"] for k, f in fleets.items()}
    busy = _cpu_rates(servers, window, cpu_samples + 1)
    c1 = {k: f.request("counters")["counters"] for k, f in fleets.items()}
    cpu_rows = []
    for k, rates in busy.items():
        base = float(np.mean([r for r, _ in idle[k]]))
        cpu_rows += [{"config": k, "sample": j, "live": live, "idle_cpu_us_per_s": base,
                      "cpu_us_per_s_per_client": (rate - base) / max(live, 1)}
                     for j, (rate, live) in enumerate(rates)]
    cost_rows = [r for k in fleets for r in _cost_rows(k, c0[k], c1[k], window)]
    for s in servers.values():
        s.request("watch")
    before = time.monotonic_ns()
    pair.vanish()
    after = time.monotonic_ns()
    vanish_ns = (before + after) // 2
    deadline = time.monotonic() + max(c.detection().high for c in configs) + margin
    found: dict[str, list[int]] = {}
    pending = set(servers)
    while pending and time.monotonic() < deadline:
        time.sleep(_REPORT_EVERY_S)
        for k in sorted(pending):
            found[k] = servers[k].request("report")["detections"]
            if sum(t >= before for t in found[k]) >= clients:
                pending.discard(k)
    for k in pending:
        found[k] = servers[k].request("report")["detections"]
    det_rows = []
    early = {}
    for k, times in found.items():
        late = sorted(t for t in times if t >= before)
        early[k] = len(times) - len(late)
        seconds = [(t - vanish_ns) / 1e9 for t in late[:clients]]
        seconds += [float("nan")] * (clients - len(seconds))  # not detected by the deadline
        det_rows += [{"config": k, "client": j, "detection_s": d} for j, d in enumerate(seconds)]
    if not det_rows:
        raise RunError("no server reported")
    return Measurement(pd.DataFrame(det_rows), pd.DataFrame(cost_rows), pd.DataFrame(cpu_rows),
                       (after - before) / 1e9, clients, window, early)
