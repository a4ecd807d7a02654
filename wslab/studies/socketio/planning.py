"""What notebook 12 compares and how big its runs are (`Plan`), where runs go,
and one run's metrics (`run_row`)."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core.errors import WslabError
from ...core.events import encode
from ...core.paths import runs_dir
from ...runner.store import Run

__all__ = ["FAULT_CASES", "MODES", "VARIANTS", "WS_PAIR", "Plan", "Variant", "plan", "run_out",
           "run_row"]

MODES = ("websocket", "polling", "upgrade")


@dataclass(frozen=True)
class Variant:
    """A transport with its client options, named as the tables name it."""

    name: str
    transport: str
    options: dict[str, Any]


#: the five the table compares: Socket.IO's three modes beside raw websocket and long polling
VARIANTS = (
    *(Variant(f"socketio/{m}", "socketio", {"mode": m}) for m in MODES),
    Variant("websocket", "websocket", {}),
    Variant("long-poll", "long-poll", {}),
)
#: the two taken to the largest N (Socket.IO over a WebSocket, and the raw WebSocket)
WS_PAIR = ("socketio/websocket", "websocket")


#: section 4: (name, transport, client options, faults)
FAULT_CASES: tuple[tuple[str, str, dict[str, Any], list[str]], ...] = (
    ("reset_peer", "socketio", {"mode": "websocket"}, ["reset_peer:timeout=1s"]),
    ("reset_peer", "socketio", {"mode": "websocket", "resume": True}, ["reset_peer:timeout=1s"]),
    ("reset_peer", "websocket", {}, ["reset_peer:timeout=1s"]),
    ("server_restart", "socketio", {"mode": "websocket"}, ["server_restart:at=1s,down=0.5s"]),
    ("server_restart", "socketio", {"mode": "websocket", "resume": True},
     ["server_restart:at=1s,down=0.5s"]),
    ("server_restart", "websocket", {}, ["server_restart:at=1s,down=0.5s"]),
    ("strip_upgrade", "socketio", {"mode": "upgrade"}, ["strip_upgrade"]),
    ("strip_upgrade", "socketio", {"mode": "websocket"}, ["strip_upgrade"]),
    ("strip_upgrade", "websocket", {}, ["strip_upgrade"]),
)


@dataclass(frozen=True)
class Plan:
    """Run sizes of the notebook's sections (`plan` gives quick and full)."""

    quick: bool
    # section 1: the same stream on every variant, `repeats` seeds, one shared server
    clients: int
    rate: float
    duration: float
    repeats: int
    # section 2: memory per connection, every variant at `ns`, the pair also at `ns_pair`
    ns: tuple[int, ...]
    ns_pair: tuple[int, ...]
    fresh_servers: bool
    # section 3: upgrade samples per mode; heartbeat runs at a scaled-down interval
    upgrade_samples: int
    ping_interval: float
    idle_duration: float
    # section 4: faults (indices into FAULT_CASES)
    fault_duration: float
    fault_cases: tuple[int, ...] = tuple(range(len(FAULT_CASES)))

    def runs(self) -> dict[str, int]:
        return {"compare": len(VARIANTS) * self.repeats, "rooms": 2 * self.repeats,
                "memory": len(VARIANTS) * len(self.ns) + len(WS_PAIR) * len(self.ns_pair),
                "heartbeat": 4, "faults": len(self.fault_cases)}

    def wall_s(self, overhead: float = 2.0, per_1000_clients: float = 3.0,
               fault_workers: int = 3) -> float:
        """Estimated wall time: run overhead, durations, and connecting the clients."""
        compare = (self.runs()["compare"] + self.runs()["rooms"]) * (overhead + self.duration)
        sizes = [n for _ in VARIANTS for n in self.ns] + [n for _ in WS_PAIR for n in self.ns_pair]
        memory = sum(overhead + 2.0 + per_1000_clients * n / 1000 for n in sizes)
        memory += len(sizes) * (1.0 if self.fresh_servers else 0.0)
        faults = len(self.fault_cases) * (overhead + 1.0 + self.fault_duration) / fault_workers
        rest = 2 + 4 * (overhead + self.idle_duration) + faults
        return compare + memory + rest + 3 * self.upgrade_samples * 0.05


def plan(quick: bool) -> Plan:
    """Quick mode: a few clients, short runs, one shared server (indicative only).
    Full mode: three seeds per variant, memory slopes from fresh servers up to 10,000."""
    if quick:
        return Plan(True, clients=3, rate=40.0, duration=0.6, repeats=2, ns=(), ns_pair=(2, 8),
                    fresh_servers=False, upgrade_samples=5, ping_interval=0.2,
                    idle_duration=1.0, fault_duration=2.0, fault_cases=(0, 1, 2, 6, 8))
    return Plan(False, clients=20, rate=100.0, duration=3.0, repeats=3, ns=(250, 1000, 2000),
                ns_pair=(10_000,), fresh_servers=True, upgrade_samples=30,
                ping_interval=1.0, idle_duration=5.0, fault_duration=4.0)


def run_out(section: str, name: str) -> str:
    """A fresh directory ``<runs>/12_socketio/<section>/<name>`` (an earlier one is replaced)."""
    safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_")
    path = runs_dir() / "12_socketio" / section / safe
    if path.exists():
        shutil.rmtree(path)
    return str(path)


def run_row(run: Run, variant: str, **extra: Any) -> dict[str, Any]:
    """One run's metrics: bytes per event after set-up (every connection, both
    ways, divided by deliveries), set-up bytes per connection, latency p50/p99,
    server CPU per delivery, server RSS growth, and the loss accounting."""
    s, c = run.summary, run.connections
    delivered = max(int(s["delivered"]), 1)
    after = int((c.bytes_up + c.bytes_down - c.setup_bytes).sum()) if len(c) else 0
    lat = s["latency_us"]
    payload = int(run.manifest.get("parameters", {}).get("payload", 64))
    try:  # the kit's body of each delivered event, for the framing models
        m = run.messages[["seq", "published_ns"]]
        body = float(np.mean([len(encode(q, t, b"x" * payload))
                              for q, t in zip(m.seq, m.published_ns, strict=True)]))
    except (WslabError, KeyError):  # a run that keeps no per-delivery rows
        body = np.nan
    return {"variant": variant, "clients": int(s["clients"]), **extra,
            "bytes_per_event": after / delivered, "body_bytes": body,
            "setup_bytes": float(c.setup_bytes.mean()) if len(c) else np.nan,
            "latency_p50_ms": lat["p50"] / 1e3, "latency_p99_ms": lat["p99"] / 1e3,
            "cpu_us_per_delivery": s["server_cpu_us_per_event"],
            "rss_growth_bytes": s["server_rss_start_bytes"] - s["server_rss_before_clients_bytes"],
            "requests_per_event": s["requests_per_event"],
            "published": int(s["published"]), "delivered": int(s["delivered"]),
            "lost": int(s["lost"]), "duplicated": int(s["duplicated"]),
            "connections": len(c), "path": str(run.path)}
