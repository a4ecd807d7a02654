"""The step-timed probes against the kit's real servers, through the delay proxy.

`measure` starts the kit's server child (`wslab.runner.server`, as `wslab.Lab`
does: every transport on its own loopback port, in clear or over TLS 1.2 /
1.3 with in-memory certificates, `wslab.core.tls`), publishes one event so
that it waits in the history, and for each one-way delay starts the
impairment proxy child (`wslab.net.proxy_process`, a ``latency`` toxic each
way) in front of every transport. Each sample then probes every transport
once (`wslab.studies.handshakes.probe`), in a seeded random order per
sample, so that drift of the machine is spread over the transports.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ...core.addresses import parse_address
from ...core.errors import ConfigError
from ...core.proc import ChildProcess
from ...core.tls import TlsMaterial, check_version, client_context
from ...models import handshake as model
from ...net.toxics import toxics_from_args
from .probe import probe_once

__all__ = ["DELAYS_MS", "TLS_MODES", "measure", "proxied", "served", "wall_s"]

DELAYS_MS = (0.0, 25.0, 100.0)
#: clear text, TLS 1.2, TLS 1.3
TLS_MODES: tuple[str | None, ...] = (None, "1.2", "1.3")
_HOST = "127.0.0.1"


class served:
    """The kit's server child serving ``transports`` (clear or ``tls``), with one
    event in its history; ``.urls`` by transport, ``.tls`` the client context."""

    def __init__(self, transports: Sequence[str], tls: str | None, payload: int = 64) -> None:
        self.version = check_version(tls)
        self.material = TlsMaterial.make(self.version, _HOST) if self.version else None
        self.tls = client_context(self.material.client_config()) if self.material else None
        config: dict[str, Any] = {"host": _HOST, "history": 100, "transports": list(transports)}
        if self.material:
            config["tls"] = self.material.server_config()
        self.child = ChildProcess("wslab server", "wslab.runner.server", config)
        self.payload = payload

    def __enter__(self) -> served:
        try:
            self.urls: dict[str, str] = self.child.start()["endpoints"]
            # one event, published before any client connects: it waits in the history
            self.child.request("publish", schedule="fixed", rate=100.0, duration=0.01,
                               payload=self.payload, seed=1)
        except BaseException:
            self.child.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.child.stop()


class proxied:
    """The impairment proxy child in front of every url, ``delay_ms`` one way each
    direction; ``.addresses`` (host, port) by transport."""

    def __init__(self, urls: dict[str, str], delay_ms: float, seed: int = 1) -> None:
        toxics = toxics_from_args(f"{delay_ms}ms", seed=seed) if delay_ms > 0 else []
        self.child = ChildProcess("wslab proxy", "wslab.net.proxy_process", {
            "upstreams": dict(urls), "toxics": [str(t) for t in toxics], "seed": seed})

    def __enter__(self) -> proxied:
        try:
            endpoints = self.child.start()["endpoints"]
        except BaseException:
            self.child.stop()
            raise
        self.addresses = {n: parse_address(u) for n, u in endpoints.items()}
        return self

    def __exit__(self, *exc: object) -> None:
        self.child.stop()


def _check(transports, tls, delays_ms, samples) -> None:
    for t in transports:
        if t not in model.TRANSPORTS:
            raise ConfigError(f"transports must be among {', '.join(model.TRANSPORTS)}, not {t!r}")
    for v in tls:
        check_version(v)
    if any(not 0 <= float(d) <= 1000 for d in delays_ms):
        raise ConfigError(f"delays_ms must lie in [0, 1000], not {list(delays_ms)}")
    if not (isinstance(samples, int) and 1 <= samples <= 1000):
        raise ConfigError(f"samples must be an integer in [1, 1000], not {samples!r}")


def measure(transports: Sequence[str] = model.TRANSPORTS,
            tls: Sequence[str | None] = TLS_MODES,
            delays_ms: Sequence[float] = DELAYS_MS, samples: int = 5,
            seed: int = 1) -> pd.DataFrame:
    """One row per probe: ``transport``, ``tls`` ("clear", "1.2", "1.3"), ``delay_ms``,
    ``sample`` and the probe's step columns (`wslab.studies.handshakes.probe.STEPS`).
    Every argument is checked before any process starts."""
    _check(transports, tls, delays_ms, samples)
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for version in tls:
        with served(transports, version) as server:
            for delay in delays_ms:
                with proxied(server.urls, float(delay), seed) as proxy:
                    for sample in range(samples):
                        order = list(transports)
                        rng.shuffle(order)
                        for t in order:
                            host, port = proxy.addresses[t]
                            rows.append({"transport": t, "tls": server.version or "clear",
                                         "delay_ms": float(delay), "sample": sample,
                                         **probe_once(t, host, port, server.tls)})
    return pd.DataFrame(rows)


def wall_s(transports: Sequence[str] = model.TRANSPORTS, tls: Sequence[str | None] = TLS_MODES,
           delays_ms: Sequence[float] = DELAYS_MS, samples: int = 5,
           start_s: float = 0.6) -> float:
    """Expected wall time of `measure` (the model's round trips per probe, a further
    one per poll, and ``start_s`` per server or proxy child started)."""
    rtts = sum(model.rtts_to_first_event(t, v, "proxy") + model.next_poll_rtts(t)
               for t in transports for v in tls)
    return (samples * rtts * 2 * sum(delays_ms) / 1e3
            + start_s * len(tls) * (1 + len(delays_ms)) + 0.01 * samples * len(transports))
