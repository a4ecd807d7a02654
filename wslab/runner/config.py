"""Run parameters and their validation.

Everything a run needs is checked here, before any process, file or
directory exists; each error names what is allowed.
"""

from __future__ import annotations

import math
import resource
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import transports
from ..core.addresses import check_loopback
from ..core.errors import ConfigError
from ..core.events import SCHEDULES, check_payload_kind
from ..core.tls import check_version as check_tls_version

__all__ = ["LIMITS", "RunConfig", "check_loopback", "max_clients"]

#: Bounds on every load: a run always stops by itself.
LIMITS = {
    "rate": 100_000.0,  # events per second
    "duration": 3_600.0,  # seconds
    "payload": 1_000_000,  # bytes per event
    "deliveries": 50_000_000,  # clients x events in one run
    "fleets": 64,
    "workers": 16,
}
#: bytes of cookies per origin: the Cookie line must fit the servers' header-line
#: limits (aiohttp's max_field_size 8,190 B, websockets' 8,192 B with the name)
MAX_COOKIE_BYTES = 8_000
#: file descriptors a process keeps for itself (pipes, logs, listening sockets)
FD_RESERVE = 200


def max_clients() -> int:
    """Clients one server process can hold: the open-file hard limit less a reserve."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1] - FD_RESERVE


def _positive(name: str, value: Any, upper: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if not (v > 0 and math.isfinite(v)) or v > upper:
        raise ConfigError(f"{name} must be > 0 and <= {upper:g}, not {value!r}")
    return v


@dataclass
class RunConfig:
    """One run: a transport, N clients, one open-loop event stream."""

    transport: str
    clients: int = 1
    rate: float = 10.0
    duration: float = 5.0
    payload: int = 64
    # what the payload bytes hold: "random" (seeded printable ASCII), "json"
    # (realistic records) or "repeated" (one JSON window for every event)
    payload_kind: str = "random"
    schedule: str = "poisson"
    seed: int = 0
    interval: float | None = None  # short-poll only
    burst: int = 10  # events per burst (schedule "burst")
    warmup: float | None = None  # seconds of events left out of latency statistics
    fleets: int | None = None  # client processes; None: one per 5,000 clients
    workers: int = 1  # server processes sharing the ports with SO_REUSEPORT
    tls: str | None = None  # "1.2" or "1.3": every transport over TLS (wss, https, tls)
    dask: str | None = None  # scheduler address: client fleets run as Dask tasks
    host: str = "127.0.0.1"
    options: dict[str, Any] = field(default_factory=dict)  # transport client options
    # False: store the latency histogram (summary) and connections, not one row
    # per delivery -- for load sweeps whose figures need only the distribution
    keep_messages: bool = True
    out: str | None = None
    # Network impairment through wslab.net.proxy, each direction separately:
    delay: float | str | None = None  # one-way delay ("25ms" or seconds)
    jitter: float | str | None = None  # +- jitter on the delay, seeded
    bandwidth: float | str | None = None  # per direction per connection ("1MB/s" or B/s)
    # Faults (wslab.net.faults): proxy toxics such as "reset_peer:timeout=2s" or
    # "outage:at=5s,duration=1s,mode=reset", and "server_restart:at=5s,down=1s"
    faults: list[str] = field(default_factory=list)
    # Who consumes the stream: the kit's Python clients, or "chromium" pages
    # (wslab.runner.browser_fleet) using the browser's own WebSocket/EventSource/fetch,
    # or Socket.IO's JavaScript client for transport socketio
    client: str = "python"
    # Bytes of cookies a chromium page holds for the server's origin (the
    # Cookie header's value on every request); 0: none
    cookies: int = 0

    def validate(self) -> RunConfig:
        """Check every field; returns self, normalised. Raises ConfigError."""
        allowed = transports.names()
        if self.transport not in allowed:
            raise ConfigError(
                f"unknown transport {self.transport!r}; allowed: {', '.join(allowed)}"
            )
        self._validate_client()
        self.host = check_loopback(self.host)
        self.rate = _positive("rate", self.rate, LIMITS["rate"])
        self.duration = _positive("duration", self.duration, LIMITS["duration"])
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}"
            )
        self.payload = _int("payload", self.payload, 0, LIMITS["payload"])
        self.payload_kind = check_payload_kind(self.payload_kind)
        self.seed = _int("seed", self.seed, 0, 2**63 - 1)
        self.burst = _int("burst", self.burst, 1, 100_000)
        self.workers = _int("workers", self.workers, 1, LIMITS["workers"])
        self.tls = check_tls_version(self.tls)
        if self.tls and self.client == "chromium":
            # the page would have to trust the run's throw-away CA: not done yet
            raise ConfigError("tls is not supported with client chromium yet; "
                              "use client python or drop tls")
        # Each server worker holds one socket per client it serves; clients past
        # 25,000 connect from further loopback source addresses (127.0.0.2, ...),
        # so ephemeral ports are not the limit.
        limit = self.workers * max_clients()
        self.clients = _int(
            "clients", self.clients, 1, limit,
            why=f" (each of the {self.workers} server worker(s) holds one socket per client: "
            f"open-file hard limit {max_clients() + FD_RESERVE} less {FD_RESERVE}; "
            "add workers to go further)" if _is_int(self.clients) and self.clients > limit
            else "",
        )
        events = self.rate * self.duration
        if events * self.clients > LIMITS["deliveries"]:
            raise ConfigError(
                f"clients x rate x duration must be <= {LIMITS['deliveries']:,} deliveries, "
                f"not {events * self.clients:,.0f}"
            )
        if self.fleets is None:
            self.fleets = max(1, math.ceil(self.clients / 5_000))
        self.fleets = _int("fleets", self.fleets, 1, min(self.clients, LIMITS["fleets"]))
        # A client holds two descriptors for a moment while it closes (the
        # websocket client reads its counters after the close handshake).
        per_fleet = max_clients() // 2
        if math.ceil(self.clients / self.fleets) > per_fleet:
            raise ConfigError(f"fleets must be at least {math.ceil(self.clients / per_fleet)}"
                              f" for {self.clients:,} clients (open-file limit per process: "
                              f"{per_fleet:,} clients per fleet)")
        if self.warmup is None:
            self.warmup = min(1.0, 0.1 * self.duration)
        if not 0 <= float(self.warmup) < self.duration:
            raise ConfigError(f"warmup must be >= 0 and < duration ({self.duration:g} s)")
        if not isinstance(self.keep_messages, bool):
            raise ConfigError(f"keep_messages must be true or false, not {self.keep_messages!r}")
        self._validate_options()
        self._validate_netem()
        if self.dask is not None:
            address = str(self.dask)
            host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
            try:
                check_loopback(host)
            except ConfigError:
                raise ConfigError(f"dask must be a scheduler address on this machine "
                                  f"(e.g. tcp://127.0.0.1:8786), not {address!r}") from None
        if self.out is not None:
            out = Path(self.out)
            if out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise ConfigError(f"output directory {str(out)!r} exists and is not empty; "
                                  "give a new or empty directory")
        return self

    def _validate_client(self) -> None:
        from .chromium import CLIENTS, MAX_PAGES, PAGE_TRANSPORTS, find_chromium

        if self.client not in CLIENTS:
            raise ConfigError(f"client must be {' or '.join(CLIENTS)}, not {self.client!r}")
        if self.client == "chromium":
            if self.transport not in PAGE_TRANSPORTS:
                raise ConfigError(f"client chromium speaks {', '.join(PAGE_TRANSPORTS)}, "
                                  f"not {self.transport}")
            if self.dask is not None:
                raise ConfigError("client chromium runs local browser fleets; drop dask")
            if _is_int(self.clients) and self.clients > MAX_PAGES:
                raise ConfigError(f"clients must be at most {MAX_PAGES} with client chromium "
                                  f"(one browser page each, ~85 MiB), not {self.clients:,}")
            find_chromium()  # one line saying how to install it, if there is none
        self.cookies = _int("cookies", self.cookies, 0, MAX_COOKIE_BYTES)
        if 0 < self.cookies < 8:  # wslab.runner.browser_fleet.MIN_COOKIE_BYTES
            raise ConfigError(f"cookies must be 0 or at least 8 bytes, not {self.cookies}")
        if self.cookies and self.client != "chromium":
            raise ConfigError("cookies applies to client chromium only; the python clients "
                              "replay a browser's headers with options headers=browser")

    def _validate_options(self) -> None:
        # Each transport checks its own options (Transport.validate_options);
        # ``interval`` is also a field of its own here, for the CLI and sweeps.
        transport = transports.get(self.transport)
        if not isinstance(self.options, Mapping):
            raise ConfigError(f"options must be a table of option names and values, "
                              f"not {self.options!r}")
        if self.interval is not None:
            if "interval" not in transport.client_options:
                with_interval = [n for n in transports.names()
                                 if "interval" in transports.get(n).client_options]
                raise ConfigError(f"interval applies to {', '.join(with_interval)} only, "
                                  f"not to {self.transport}")
            self.options = {**self.options, "interval": self.interval}
        self.options = transport.validate_options(self.options)
        if "interval" in self.options:
            self.interval = self.options["interval"]

    def _validate_netem(self) -> None:
        from ..net.units import parse_delay, parse_rate

        try:
            if self.delay is not None:
                self.delay = parse_delay(self.delay)
            if self.jitter is not None:
                self.jitter = parse_delay(self.jitter)
            if self.bandwidth is not None:
                self.bandwidth = parse_rate(self.bandwidth)
            self.toxics()
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.restarts() and self.dask is not None:
            raise ConfigError("server_restart faults need local fleets; drop dask or the fault")

    def _fault_plan(self):
        from ..net.faults import parse_faults

        if isinstance(self.faults, str):
            self.faults = [self.faults]
        if not isinstance(self.faults, list | tuple) or not all(
                isinstance(f, str) for f in self.faults):
            raise ConfigError(f"faults must be a list of fault strings such as "
                              f"'reset_peer:timeout=2s', not {self.faults!r}")
        return parse_faults(list(self.faults), float(self.duration), int(self.seed))

    def restarts(self) -> list[Any]:
        """The ``server_restart`` faults, which the Lab carries out itself."""
        return list(self._fault_plan().restarts) if self.faults else []

    def toxics(self) -> list[str]:
        """The proxy's toxics (Toxiproxy notation); empty: no proxy at all."""
        from ..net.toxics import toxics_from_args

        toxics = toxics_from_args(self.delay, self.jitter, self.bandwidth, seed=self.seed)
        faults = list(self._fault_plan().toxics) if self.faults else []
        return [str(t) for t in toxics] + faults

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(name: str, value: Any, low: int, high: float, why: str = "") -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _is_int(value):
        raise ConfigError(f"{name} must be an integer, not {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:,} and {high:,}, not {value:,}{why}")
    return value
