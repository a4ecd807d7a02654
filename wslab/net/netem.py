"""A TCP impairment proxy with Toxiproxy's vocabulary (``tc netem`` is not available here).

Theory of operation
-------------------
A `Proxy` listens on loopback; for every client it accepts it opens one
connection to its *upstream* (the real server) and forwards bytes both ways.
Each proxied connection has two directions, named as in Toxiproxy:
``upstream`` (client → server) and ``downstream`` (server → client). *Toxics*
are attached to a direction:

==============  =====================================================  ==========
type            effect                                                 attributes
==============  =====================================================  ==========
``latency``     delay every chunk; jitter drawn from a seeded          latency (ms), jitter (ms),
                distribution (never reorders bytes, see below)          distribution
``bandwidth``   serialization delay at ``rate`` (no burst)             rate (KB/s, 1 KB = 1000 B)
``idle_cut``    close the connection after ``timeout`` ms without a    timeout (ms)
                byte in either direction (firewall/NAT idle timer)
``reset_peer``  RST both peers ``timeout`` ms after the connection     timeout (ms)
                is set up (SO_LINGER 0)
``blackhole``   silently discard the direction's bytes (and its FIN),  after (ms)
                from ``after`` ms after set-up on
``limit_data``  close the connection once ``bytes`` bytes went         bytes
                through in the direction
==============  =====================================================  ==========

Aliases: ``drop`` = ``blackhole``; ``timeout`` = ``idle_cut``. (Toxiproxy's own
``timeout`` toxic discards data and closes after N ms; here it names the idle
cut, the middlebox behaviour experiment C7 needs. ``blackhole`` plus
``reset_peer`` gives Toxiproxy's meaning.) Every toxic also has ``stream``
(``upstream`` / ``downstream``), ``toxicity`` (the probability that it
applies to a given connection, drawn per connection) and ``seed``.
``idle_cut`` and ``reset_peer`` act on the whole connection whatever their
stream.

Timing is computed without I/O, by `Schedule`: a chunk that arrives at time
*t* is released at ``release(t, n)``, each timing toxic in list order mapping
a time to a later one. ``latency``: ``max(t + delay, previous release)``, so
with jitter the bytes of a connection are never reordered (unlike netem,
which reorders packets; the clamp makes the mean delay slightly larger than
``latency`` when jitter is large). ``bandwidth``: the link is busy until
``max(t, busy) + n / rate``; chunks are cut into pieces of a few ms of
transmission so the output is smooth. One direction holds one FIFO queue of
``(release time, bytes)`` and at most one timer, for the head of the queue.
asyncio timers wake up to ~1 ms late (epoll's timeout is in ms): a delay is
never shorter than configured, and may be up to ~1 ms longer.

When no toxic applies to a connection, the data path is a plain
pass-through: ``data_received`` writes the chunk into the other side's
transport at once (asyncio sends it in the same call when its buffer is
empty), with no timer and no clock read. Backpressure: when a side's write
buffer passes its high-water mark, reading from the other side pauses; a
direction's toxic queue also pauses its reader above ``buffer_limit`` bytes.
Half-close: EOF is forwarded (``shutdown(SHUT_WR)``) after the bytes before
it; the connection closes when both directions have seen EOF, or at once
when either side fails, a reset (RST) being passed on as a reset. Every
socket the proxy accepts or opens has ``TCP_NODELAY`` set (DESIGN.md §8:
Nagle plus delayed ACK would add tens of ms).

The process form, ``python -m wslab.net.netem`` under `wslab.core.proc.ChildProcess`,
runs one proxy per upstream (see `_setup`); with arguments it is a small
command-line tool (``python -m wslab.net.netem --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import ipaddress
import math
import os
import random
import re
import socket
import struct
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from ..core.errors import ConfigError

__all__ = [
    "STREAMS",
    "TOXIC_TYPES",
    "Bandwidth",
    "Blackhole",
    "Connection",
    "IdleCut",
    "Latency",
    "LimitData",
    "Proxy",
    "ResetPeer",
    "Schedule",
    "Toxic",
    "load_toxics",
    "parse_address",
    "parse_delay",
    "parse_rate",
    "parse_size",
    "parse_toxics",
    "toxic_from_dict",
    "toxics_from_args",
]

STREAMS = ("upstream", "downstream")
_DIRECTIONS = (*STREAMS, "both")

# ---------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*?)\s*$")
_TIME_UNITS = {"us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0}
_RATE_UNITS = {
    "B/s": 1.0, "KB/s": 1e3, "kB/s": 1e3, "KiB/s": 1024.0, "MB/s": 1e6, "MiB/s": 2.0**20,
    "GB/s": 1e9, "GiB/s": 2.0**30,
    "bit/s": 1 / 8, "kbit/s": 1e3 / 8, "Kbit/s": 1e3 / 8, "Mbit/s": 1e6 / 8, "Gbit/s": 1e9 / 8,
    "bps": 1 / 8, "kbps": 1e3 / 8, "Kbps": 1e3 / 8, "Mbps": 1e6 / 8, "Gbps": 1e9 / 8,
}  # fmt: skip
_SIZE_UNITS = {"B": 1, "KB": 1000, "kB": 1000, "KiB": 1024, "MB": 10**6, "MiB": 2**20}


def _split_number(text: str, what: str) -> tuple[float, str]:
    m = _NUMBER.match(text)
    if not m:
        raise ConfigError(f"{what}: cannot read {text!r} as a number with an optional unit")
    return float(m.group(1)), m.group(2)


def _finite_non_negative(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{what}: expected a number, got {value!r}")
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ConfigError(f"{what}: must be finite, got {value!r}")
    if value < 0:
        raise ConfigError(f"{what}: must not be negative, got {value!r}")
    return value


def _with_unit(value: Any, units: dict[str, float], bare: float | None, what: str) -> float:
    """``value`` as a number in base units; ``bare`` scales unit-less numbers (None: refused)."""
    if isinstance(value, str):
        number, unit = _split_number(value, what)
        if unit:
            if unit not in units:
                raise ConfigError(f"{what}: unknown unit {unit!r} in {value!r}; allowed: "
                                  + ", ".join(units))
            scale = units[unit]
        elif bare is None and number != 0:
            raise ConfigError(f"{what}: {value!r} needs a unit; allowed: " + ", ".join(units))
        else:
            scale = bare or 1.0
        return _finite_non_negative(number, what) * scale
    return _finite_non_negative(value, what) * (bare or 1.0)


def parse_delay(value: str | float) -> float:
    """A duration in seconds: ``"25ms"`` → 0.025, ``"1.5s"``, ``"250us"``; numbers are seconds.

    A string needs a unit (``us``, ``ms``, ``s``) unless it is ``"0"``.
    """
    return _with_unit(value, _TIME_UNITS, None, "delay")


def parse_rate(value: str | float) -> float:
    """A rate in bytes per second: ``"100KB/s"`` → 100,000 (1 KB = 1000 B), ``"8Mbit/s"``,
    ``"1MiB/s"``; numbers are bytes per second. A string needs a unit unless it is ``"0"``."""
    return _with_unit(value, _RATE_UNITS, None, "rate")


def parse_size(value: str | int) -> int:
    """A byte count: ``"64KiB"``, ``"1MB"``, ``"1500B"``, or an integer."""
    size = _with_unit(value, _SIZE_UNITS, 1.0, "size")
    if size != int(size):
        raise ConfigError(f"size: {value!r} is not a whole number of bytes")
    return int(size)


# ---------------------------------------------------------------------------
# Toxics
# ---------------------------------------------------------------------------

# How each attribute is read (from Python values, dicts and CLI strings):
#   ms   - milliseconds; a number is ms, a string may carry a unit ("2s", "250us")
#   kBps - KB/s as in Toxiproxy (1 KB = 1000 B); a string may carry a unit ("1MB/s")
#   size - bytes; a string may carry a unit ("64KiB")


def _convert(kind: Any, value: Any, what: str) -> Any:
    if kind == "ms":
        if isinstance(value, str) and _split_number(value, what)[1]:
            return parse_delay(value) * 1e3
        return _with_unit(value, _TIME_UNITS, 1.0, what)
    if kind == "kBps":
        if isinstance(value, str) and _split_number(value, what)[1]:
            return _with_unit(value, _RATE_UNITS, None, what) / 1e3
        return _with_unit(value, _RATE_UNITS, 1.0, what)
    if kind == "size":
        return parse_size(value)
    if kind == "prob":
        p = _with_unit(value, {}, 1.0, what)
        if p > 1:
            raise ConfigError(f"{what}: must be between 0 and 1, got {value!r}")
        return p
    if kind == "int":
        try:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{what}: expected an integer, got {value!r}") from None
    if isinstance(kind, tuple):  # a choice
        if value not in kind:
            raise ConfigError(f"{what}: {value!r} is not allowed; allowed: {', '.join(kind)}")
        return value
    raise AssertionError(kind)


@dataclass(frozen=True, kw_only=True)
class Toxic:
    """Base class of toxics: one impairment attached to one direction (``stream``).

    ``toxicity`` is the probability that the toxic applies to a connection
    (drawn once per connection from ``seed``); ``seed`` also drives jitter.
    Attributes are converted and checked on construction: ``Latency("25ms")``
    is ``Latency(25.0)``, ``Latency(-1)`` raises `ConfigError` (a ValueError).
    """

    type: ClassVar[str] = ""
    #: attribute name -> kind (see `_convert`); subclasses list their own
    kinds: ClassVar[dict[str, Any]] = {}
    #: does the toxic act on the whole connection rather than on its stream?
    connection_level: ClassVar[bool] = False

    stream: str = "downstream"
    toxicity: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        what = f"{self.type} toxic"
        if self.stream not in STREAMS:
            raise ConfigError(f"{what}: stream {self.stream!r} is not allowed; allowed: "
                              + ", ".join(STREAMS))
        kinds = {**self.kinds, "toxicity": "prob", "seed": "int"}
        for name, kind in kinds.items():
            object.__setattr__(self, name, _convert(kind, getattr(self, name), f"{what}: {name}"))

    @classmethod
    def attribute_names(cls) -> list[str]:
        return list(cls.kinds)

    def attributes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.kinds}

    def to_dict(self) -> dict[str, Any]:
        """Toxiproxy's JSON shape: ``{"type", "stream", "toxicity", "attributes"}`` (+ seed)."""
        return {"type": self.type, "stream": self.stream, "toxicity": self.toxicity,
                "seed": self.seed, "attributes": self.attributes()}

    def __str__(self) -> str:  # the CLI form, accepted by parse_toxics
        attrs = ",".join(f"{k}={v}" for k, v in self.attributes().items())
        extra = "".join(f",{k}={getattr(self, k)}" for k, default in
                        (("toxicity", 1.0), ("seed", 0)) if getattr(self, k) != default)
        return f"{self.type}@{self.stream}:{attrs}{extra}"


@dataclass(frozen=True)
class Latency(Toxic):
    """Delay each chunk by ``latency`` ms ± ``jitter`` ms, never reordering bytes.

    ``distribution``: ``uniform`` (latency ± jitter, as Toxiproxy and netem's
    default) or ``normal`` (standard deviation ``jitter``); the delay is
    clipped at 0.
    """

    type: ClassVar[str] = "latency"
    kinds: ClassVar[dict[str, Any]] = {
        "latency": "ms", "jitter": "ms", "distribution": ("uniform", "normal")}
    latency: float
    jitter: float = 0.0
    distribution: str = "uniform"


@dataclass(frozen=True)
class Bandwidth(Toxic):
    """Limit the direction to ``rate`` KB/s (1 KB = 1000 B), per connection."""

    type: ClassVar[str] = "bandwidth"
    kinds: ClassVar[dict[str, Any]] = {"rate": "kBps"}
    rate: float

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rate <= 0:
            raise ConfigError(f"bandwidth toxic: rate must be positive, got {self.rate!r}")

    @property
    def bytes_per_second(self) -> float:
        return self.rate * 1e3


@dataclass(frozen=True)
class IdleCut(Toxic):
    """Close (FIN both ways) a connection that carried no byte for ``timeout`` ms."""

    type: ClassVar[str] = "idle_cut"
    kinds: ClassVar[dict[str, Any]] = {"timeout": "ms"}
    connection_level: ClassVar[bool] = True
    timeout: float

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.timeout <= 0:
            raise ConfigError(f"idle_cut toxic: timeout must be positive, got {self.timeout!r}")


@dataclass(frozen=True)
class ResetPeer(Toxic):
    """Reset (RST, SO_LINGER 0) both peers ``timeout`` ms after the connection is set up."""

    type: ClassVar[str] = "reset_peer"
    kinds: ClassVar[dict[str, Any]] = {"timeout": "ms"}
    connection_level: ClassVar[bool] = True
    timeout: float = 0.0


@dataclass(frozen=True)
class Blackhole(Toxic):
    """Discard the direction's bytes (and FIN) silently, from ``after`` ms after set-up on.

    Set-up is when both sockets are connected; the bytes are read and
    dropped, so the sender sees no backpressure (as with Toxiproxy's
    ``blackhole``)."""

    type: ClassVar[str] = "blackhole"
    kinds: ClassVar[dict[str, Any]] = {"after": "ms"}
    after: float = 0.0


@dataclass(frozen=True)
class LimitData(Toxic):
    """Forward ``bytes`` bytes in the direction, then close the connection."""

    type: ClassVar[str] = "limit_data"
    kinds: ClassVar[dict[str, Any]] = {"bytes": "size"}
    bytes: int


TOXIC_TYPES: dict[str, type[Toxic]] = {
    cls.type: cls for cls in (Latency, Bandwidth, IdleCut, ResetPeer, Blackhole, LimitData)
}
_ALIASES = {"drop": "blackhole", "timeout": "idle_cut"}
_COMMON = ("stream", "toxicity", "seed")


def _toxic_class(name: Any) -> type[Toxic]:
    cls = TOXIC_TYPES.get(_ALIASES.get(name, name)) if isinstance(name, str) else None
    if cls is None:
        allowed = ", ".join([*TOXIC_TYPES, *(f"{a} (= {t})" for a, t in _ALIASES.items())])
        raise ConfigError(f"unknown toxic type {name!r}; allowed: {allowed}")
    return cls


def _build(cls: type[Toxic], attrs: dict[str, Any]) -> Toxic:
    allowed = [*cls.kinds, *_COMMON]
    unknown = [k for k in attrs if k not in allowed]
    if unknown:
        raise ConfigError(f"{cls.type} toxic: unknown attribute {unknown[0]!r}; allowed: "
                          + ", ".join(allowed))
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in attrs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{cls.type} toxic: missing attribute {missing[0]!r}")
    return cls(**attrs)


def _expand(stream: Any, what: str) -> tuple[str, ...]:
    if stream == "both":
        return STREAMS
    if stream not in STREAMS:
        raise ConfigError(f"{what}: stream {stream!r} is not allowed; allowed: "
                          + ", ".join(_DIRECTIONS))
    return (stream,)


def _dict_toxics(d: dict[str, Any], seed: int | None) -> list[Toxic]:
    if not isinstance(d, dict):
        raise ConfigError(f"a toxic must be a dict, a string or a Toxic, got {d!r}")
    d = dict(d)
    d.pop("name", None)  # Toxiproxy names its toxics; the name carries no behaviour
    cls = _toxic_class(d.pop("type", None))
    attrs = d.pop("attributes", None) or {}
    if not isinstance(attrs, dict):
        raise ConfigError(f"{cls.type} toxic: 'attributes' must be a dict, got {attrs!r}")
    clash = set(attrs) & set(d)
    if clash:
        raise ConfigError(f"{cls.type} toxic: {sorted(clash)[0]!r} given twice")
    attrs.update(d)
    if seed is not None:
        attrs.setdefault("seed", seed)
    streams = _expand(attrs.pop("stream", "downstream"), f"{cls.type} toxic")
    return [_build(cls, {**attrs, "stream": s}) for s in streams]


def toxic_from_dict(d: dict[str, Any]) -> Toxic:
    """One toxic from Toxiproxy's JSON shape, or the same with attributes at top level.

    ``{"type": "latency", "stream": "upstream", "attributes": {"latency": 50}}``;
    numbers are in Toxiproxy's units (ms, KB/s), strings may carry a unit.
    """
    toxics = _dict_toxics(d, None)
    if len(toxics) != 1:
        raise ConfigError("toxic_from_dict makes one toxic: stream 'both' is not allowed here; "
                          "use load_toxics")
    return toxics[0]


def parse_toxics(*specs: str, seed: int | None = None) -> list[Toxic]:
    """Toxics from CLI strings ``TYPE[@STREAM][:NAME=VALUE,...]``.

    ``STREAM`` is ``upstream``, ``downstream`` (the default, as in Toxiproxy)
    or ``both`` (one toxic per direction). Examples: ``latency@both:latency=25ms,jitter=5ms``,
    ``bandwidth@downstream:rate=100KB/s``, ``reset_peer:timeout=2s``, ``blackhole@upstream``.
    Bare numbers are in Toxiproxy's units (ms, KB/s, bytes).
    """
    out: list[Toxic] = []
    for spec in specs:
        if not isinstance(spec, str) or not spec.strip():
            raise ConfigError(f"a toxic spec must be a non-empty string like "
                              f"'latency@both:latency=25ms', got {spec!r}")
        head, _, body = spec.strip().partition(":")
        name, _, stream = head.partition("@")
        d: dict[str, Any] = {"type": name.strip(), "stream": stream.strip() or "downstream"}
        for item in filter(None, (p.strip() for p in body.split(","))):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise ConfigError(f"toxic spec {spec!r}: expected NAME=VALUE, got {item!r}")
            key = key.strip()
            if key in d:
                raise ConfigError(f"toxic spec {spec!r}: {key!r} given twice")
            d[key] = value.strip()
        out.extend(_dict_toxics(d, seed))
    return out


def load_toxics(items: Iterable[Toxic | dict[str, Any] | str] | None,
                seed: int | None = None) -> list[Toxic]:
    """Toxics from a mix of `Toxic` objects, dicts (`toxic_from_dict`, stream may be
    ``both``) and CLI strings (`parse_toxics`). ``seed`` is the default seed of
    the dicts and strings that do not give one."""
    out: list[Toxic] = []
    if items is None:
        return out
    if isinstance(items, str | dict | Toxic):
        items = [items]
    for item in items:
        if isinstance(item, Toxic):
            out.append(item)
        elif isinstance(item, str):
            out.extend(parse_toxics(item, seed=seed))
        else:
            out.extend(_dict_toxics(item, seed))
    return out


def toxics_from_args(delay: str | float | None = None, jitter: str | float | None = None,
                     bandwidth: str | float | None = None, direction: str = "both",
                     seed: int = 0, distribution: str = "uniform") -> list[Toxic]:
    """The toxics for the simple run parameters ``--delay 25ms --jitter 5ms --bandwidth 1MB/s``.

    ``delay`` and ``jitter`` are durations (`parse_delay`: strings with a unit,
    or seconds), ``bandwidth`` a rate (`parse_rate`: strings with a unit, or
    bytes/s). Each applies to each direction separately: ``delay="25ms"`` with
    ``direction="both"`` is a one-way delay of 25 ms, a round trip of 50 ms.
    """
    streams = _expand(direction, "direction")
    out: list[Toxic] = []
    d = parse_delay(delay) if delay is not None else 0.0
    j = parse_delay(jitter) if jitter is not None else 0.0
    if jitter is not None and delay is None:
        raise ConfigError("jitter needs a delay (e.g. delay='25ms', jitter='5ms')")
    if delay is not None:
        out += [Latency(d * 1e3, j * 1e3, distribution, stream=s, seed=seed) for s in streams]
    if bandwidth is not None:
        rate = parse_rate(bandwidth)
        if rate <= 0:
            raise ConfigError(f"bandwidth must be positive, got {bandwidth!r}")
        out += [Bandwidth(rate / 1e3, stream=s, seed=seed) for s in streams]
    return out


# ---------------------------------------------------------------------------
# Timing, without I/O
# ---------------------------------------------------------------------------


class _LatencyStep:
    def __init__(self, toxic: Latency, rng: random.Random) -> None:
        self.delay = toxic.latency / 1e3
        self.jitter = toxic.jitter / 1e3
        self.normal = toxic.distribution == "normal"
        self.rng = rng
        self.last = -math.inf

    def __call__(self, t: float, n: int) -> float:
        d = self.delay
        if self.jitter:
            d += self.rng.gauss(0.0, self.jitter) if self.normal else \
                self.rng.uniform(-self.jitter, self.jitter)
            d = max(d, 0.0)
        self.last = max(t + d, self.last)  # never before the previous chunk: no reordering
        return self.last


class _BandwidthStep:
    def __init__(self, toxic: Bandwidth) -> None:
        self.rate = toxic.bytes_per_second
        self.busy_until = -math.inf

    def __call__(self, t: float, n: int) -> float:
        self.busy_until = max(t, self.busy_until) + n / self.rate
        return self.busy_until


class Schedule:
    """Release times of one direction of one connection (no I/O, so it is testable).

    ``release(t, n)`` is the time at which a chunk of ``n`` bytes that
    arrived at ``t`` (seconds, any monotonic clock) leaves the proxy; it is
    non-decreasing from call to call, so bytes are never reordered.
    ``piece`` is the largest chunk the bandwidth toxics want to see at once
    (None without bandwidth toxics). Only `Latency` and `Bandwidth` take time;
    other toxics are ignored here.
    """

    def __init__(self, toxics: Sequence[Toxic], key: str = "") -> None:
        self._steps: list[Any] = []
        self.piece: int | None = None
        for i, toxic in enumerate(toxics):
            if isinstance(toxic, Latency):
                if toxic.latency or toxic.jitter:
                    rng = random.Random(f"wslab.netem|{key}|{i}|{toxic.seed}")
                    self._steps.append(_LatencyStep(toxic, rng))
            elif isinstance(toxic, Bandwidth):
                self._steps.append(_BandwidthStep(toxic))
                # ~2 ms of transmission per piece (at least 1 KiB): smooth but few timers
                piece = max(1024, int(toxic.bytes_per_second * 0.002))
                self.piece = piece if self.piece is None else min(self.piece, piece)

    def __bool__(self) -> bool:
        return bool(self._steps)

    def release(self, t: float, n: int) -> float:
        for step in self._steps:
            t = step(t, n)
        return t


# ---------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def parse_address(target: str | Sequence[Any]) -> tuple[str, int]:
    """``(host, port)`` from ``"host:port"``, ``"[::1]:port"``, a URL (``tcp://``,
    ``ws://``, ``http://``, ...) or a ``(host, port)`` pair."""
    if isinstance(target, str):
        text = target if "://" in target else f"tcp://{target}"
        try:
            parts = urlsplit(text)
            host, port = parts.hostname, parts.port
        except ValueError as exc:
            raise ConfigError(f"cannot read an address from {target!r}: {exc}") from None
        port = port if port is not None else _DEFAULT_PORTS.get(parts.scheme)
        if not host or port is None:
            raise ConfigError(f"cannot read host:port from {target!r}; "
                              "expected 'host:port' or a URL such as 'ws://127.0.0.1:8080/ws'")
    else:
        try:
            host, port = target
        except (TypeError, ValueError):
            raise ConfigError(f"expected (host, port), got {target!r}") from None
    if not isinstance(host, str) or not host:
        raise ConfigError(f"host must be a non-empty string, got {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be an integer in 0..65535, got {port!r}")
    return host, port


def _loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"listen host must be a loopback IP address (127.0.0.0/8 or ::1) "
                          f"or 'localhost', got {host!r}") from None
    if not address.is_loopback:
        raise ConfigError(f"the proxy binds loopback only (127.0.0.0/8 or ::1); "
                          f"refusing listen host {host!r}")
    return str(address)


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _same_host(a: str, b: str) -> bool:
    a, b = ("127.0.0.1" if h == "localhost" else h for h in (a, b))
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a.lower() == b.lower()


def _set_linger0(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# ---------------------------------------------------------------------------
# The data path
# ---------------------------------------------------------------------------

_EOF = object()
_CLOSE = object()


class _Side(asyncio.Protocol):
    """One socket of a proxied connection: the client's or the upstream's."""

    def __init__(self, conn: Connection, role: str) -> None:
        self.conn = conn
        self.role = role
        self.transport: asyncio.Transport | None = None
        self.out: _Pipe | None = None  # the direction that reads from this socket
        self.into: _Pipe | None = None  # the direction that writes to this socket
        self.gone = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:  # asyncio sets it too; the proxy must not pay Nagle (§8)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn._side_made(self)

    def data_received(self, data: bytes) -> None:
        self.out.feed(data)

    def eof_received(self) -> bool:
        if self.out is not None:
            self.out.eof()
        return True  # keep the socket open: the other direction may still flow

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn._side_lost(self, exc)

    def pause_writing(self) -> None:
        if self.into is not None:
            self.into.hold("dst", True)

    def resume_writing(self) -> None:
        if self.into is not None:
            self.into.hold("dst", False)


class _Pipe:
    """One direction of one connection: reads ``src``, writes ``dst``."""

    def __init__(self, conn: Connection, stream: str, src: _Side, dst: _Side,
                 toxics: list[Toxic], limit: int) -> None:
        self.conn = conn
        self.stream = stream
        self.src = src
        self.dst = dst
        self.received = 0  # bytes read from src
        self.forwarded = 0  # bytes written to dst
        self.dropped = 0  # bytes discarded (blackhole, after limit_data)
        self.eof_in = False
        self.eof_out = False
        self._holds: set[str] = set()
        self._limit_hi = limit
        self._limit_lo = limit // 4
        self.toxics = toxics
        self.schedule = Schedule(toxics, f"{conn.proxy.name}|{conn.id}|{stream}")
        self.blackhole_at: float | None = None
        self.byte_limit: int | None = None
        self._cut = False
        wired = conn.loop.time()  # "set-up": both sockets connected, as for reset_peer
        for t in toxics:
            if isinstance(t, Blackhole):
                at = wired + t.after / 1e3
                self.blackhole_at = at if self.blackhole_at is None else min(at, self.blackhole_at)
            elif isinstance(t, LimitData):
                self.byte_limit = t.bytes if self.byte_limit is None else min(t.bytes,
                                                                             self.byte_limit)
        self.queue: collections.deque[tuple[float, Any]] = collections.deque()
        self.queued = 0
        self.timer: asyncio.TimerHandle | None = None
        self._loop = conn.loop
        # the plain pass-through when nothing applies to this direction
        plain = not toxics and not conn.watch_idle
        self.feed = self._feed_plain if plain else self._feed_toxic

    # -- plain path: no clock, no timer ---------------------------------------
    def _feed_plain(self, data: bytes) -> None:
        n = len(data)
        self.received += n
        self.dst.transport.write(data)
        self.forwarded += n

    # -- impaired path ----------------------------------------------------------
    def _feed_toxic(self, data: bytes) -> None:
        now = self._loop.time()
        n = len(data)
        self.received += n
        conn = self.conn
        conn.last_activity = now
        if self._cut or (self.blackhole_at is not None and now >= self.blackhole_at):
            self.dropped += n
            return
        if self.byte_limit is not None:
            room = self.byte_limit - self.forwarded - self.queued
            if n >= room:
                self.dropped += n - room
                data, n = data[:room], room
                self._cut = True
        if not self.schedule:
            if n:
                self._write(data)
            if self._cut:
                conn.close("limit_data")
            return
        piece = self.schedule.piece or n
        view = memoryview(data) if n > piece else data
        release = now
        for i in range(0, n, piece):
            chunk = view[i:i + piece]
            release = self.schedule.release(now, len(chunk))
            self.queue.append((release, chunk))
            self.queued += len(chunk)
        if self._cut:
            self.queue.append((release, _CLOSE))
        self._arm()
        if self.queued > self._limit_hi:
            self.hold("queue", True)

    def eof(self) -> None:
        self.eof_in = True
        if self.blackhole_at is not None and self._loop.time() >= self.blackhole_at:
            return  # a black hole swallows the FIN too
        if self.queue or self.schedule:
            # the FIN travels the same path as the bytes before it
            release = self.schedule.release(self._loop.time(), 0) if self.schedule else 0.0
            self.queue.append((max(release, self.queue[-1][0] if self.queue else 0.0), _EOF))
            self._arm()
        else:
            self._write_eof()

    def _arm(self) -> None:
        if self.timer is None and self.queue:
            self.timer = self._loop.call_at(self.queue[0][0], self._flush)

    def _flush(self) -> None:
        self.timer = None
        now = self._loop.time()
        queue = self.queue
        ready: list[Any] = []
        marker = None
        while queue and queue[0][0] <= now:
            _, item = queue.popleft()
            if item is _EOF or item is _CLOSE:
                marker = item
                break
            ready.append(item)
        if ready:
            data = b"".join(ready) if len(ready) > 1 else ready[0]
            self.queued -= len(data)
            self._write(data)
        if marker is _CLOSE:
            self.conn.close("limit_data")
            return
        if marker is _EOF:
            self._write_eof()
        self._arm()
        if self.queued <= self._limit_lo and "queue" in self._holds:
            self.hold("queue", False)

    def _write(self, data: bytes | memoryview) -> None:
        transport = self.dst.transport
        if self.eof_out or transport.is_closing():
            self.dropped += len(data)
            return
        transport.write(data)
        self.forwarded += len(data)

    def _write_eof(self) -> None:
        if self.eof_out:
            return
        self.eof_out = True
        transport = self.dst.transport
        if not transport.is_closing() and transport.can_write_eof():
            transport.write_eof()
        self.conn._direction_done()

    def hold(self, reason: str, on: bool) -> None:
        """Pause reading ``src`` while any reason holds (dst buffer full, queue full)."""
        was = bool(self._holds)
        if on:
            self._holds.add(reason)
        else:
            self._holds.discard(reason)
        now = bool(self._holds)
        transport = self.src.transport
        if was == now or self.eof_in or transport is None or transport.is_closing():
            return
        if now:
            transport.pause_reading()
        else:
            transport.resume_reading()

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        self.queued = 0


class Connection:
    """One proxied connection, and its byte counts (for checking and for stats)."""

    def __init__(self, proxy: Proxy, cid: int) -> None:
        self.proxy = proxy
        self.id = cid
        self.loop = proxy._loop
        self.opened = self.loop.time()
        self.closed: float | None = None
        self.close_reason = ""
        self.client_address: tuple[Any, ...] | None = None
        self.closing = False
        self.client = _Side(self, "client")
        self.upstream: _Side | None = None
        self.pipes: dict[str, _Pipe] = {}
        self._connect_task: asyncio.Task | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self.last_activity = self.opened
        self.toxics = proxy._draw_toxics(cid)
        self.idle_timeout = min((t.timeout / 1e3 for t in self.toxics if isinstance(t, IdleCut)),
                                default=None)
        self.watch_idle = self.idle_timeout is not None
        self.finished = self.loop.create_future()

    # -- counts ---------------------------------------------------------------
    def _count(self, stream: str, what: str) -> int:
        pipe = self.pipes.get(stream)
        return getattr(pipe, what) if pipe is not None else 0

    @property
    def bytes_upstream(self) -> int:
        """Bytes forwarded client → server."""
        return self._count("upstream", "forwarded")

    @property
    def bytes_downstream(self) -> int:
        """Bytes forwarded server → client."""
        return self._count("downstream", "forwarded")

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.id,
            "client": list(self.client_address or ()),
            "opened": self.opened,
            "closed": self.closed,
            "close_reason": self.close_reason,
            "toxics": [str(t) for t in self.toxics],
        }
        for stream in STREAMS:
            for what in ("received", "forwarded", "dropped"):
                row[f"{what}_{stream}"] = self._count(stream, what)
        return row

    # -- life cycle -----------------------------------------------------------
    def _side_made(self, side: _Side) -> None:
        if side is self.client:
            self.client_address = side.transport.get_extra_info("peername")
            side.transport.pause_reading()  # until the upstream connection is up
            self._connect_task = self.loop.create_task(self._connect())
            return
        # the upstream socket: wire both directions before either can read
        if self.closing:
            side.transport.abort()
            return
        client, limit = self.client, self.proxy.buffer_limit
        by_stream = {s: [t for t in self.toxics if t.stream == s and not t.connection_level]
                     for s in STREAMS}
        up = _Pipe(self, "upstream", client, side, by_stream["upstream"], limit)
        down = _Pipe(self, "downstream", side, client, by_stream["downstream"], limit)
        self.pipes = {"upstream": up, "downstream": down}
        client.out, side.into, side.out, client.into = up, up, down, down
        for t in self.toxics:
            if isinstance(t, ResetPeer):
                self._timers.append(self.loop.call_later(
                    t.timeout / 1e3, self.close, "reset_peer", True))
        if self.watch_idle:
            self.last_activity = self.loop.time()
            self._timers.append(self.loop.call_at(
                self.last_activity + self.idle_timeout, self._check_idle))
        client.transport.resume_reading()

    async def _connect(self) -> None:
        host, port = self.proxy.upstream
        try:
            await asyncio.wait_for(
                self.loop.create_connection(self._make_upstream, host, port),
                self.proxy.connect_timeout)
        except (TimeoutError, OSError) as exc:
            self.close(f"upstream connect failed: {exc!r}", reset=True)
        finally:  # also when close() cancelled us
            self._maybe_finished()

    def _make_upstream(self) -> _Side:
        self.upstream = _Side(self, "upstream")
        return self.upstream

    def _check_idle(self) -> None:
        deadline = self.last_activity + self.idle_timeout
        if self.loop.time() >= deadline:
            self.close("idle_cut")
        else:
            self._timers.append(self.loop.call_at(deadline, self._check_idle))

    def _direction_done(self) -> None:
        if all(p.eof_out for p in self.pipes.values()):
            self.close("eof")

    def close(self, reason: str, reset: bool = False) -> None:
        """Close both sides (flushing what was written), or reset both (RST) when ``reset``."""
        if self.closing:
            return
        self.closing = True
        self.close_reason = reason
        self.closed = self.loop.time()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for pipe in self.pipes.values():
            pipe.stop()
        if self._connect_task is not None and not self._connect_task.done() \
                and self._connect_task is not asyncio.current_task():
            self._connect_task.cancel()
        for side in (self.client, self.upstream):
            if side is not None and side.transport is not None and not side.gone:
                if reset:
                    _set_linger0(side.transport)
                    side.transport.abort()
                else:
                    side.transport.close()
        self._maybe_finished()

    def _side_lost(self, side: _Side, exc: Exception | None) -> None:
        side.gone = True
        if not self.closing:
            what = "reset" if exc is not None else "closed"
            self.close(f"{side.role} {what}", reset=exc is not None)
        self._maybe_finished()

    def _maybe_finished(self) -> None:
        if not self.closing or self.finished.done():
            return
        if self._connect_task is not None and not self._connect_task.done() \
                and self._connect_task is not asyncio.current_task():
            return  # _connect ends with another call
        sides = [s for s in (self.client, self.upstream) if s is not None and s.transport]
        if all(s.gone for s in sides):
            self.finished.set_result(None)
            self.proxy._finished(self)


class Proxy:
    """A TCP proxy from ``listen`` (loopback only) to ``upstream``, applying ``toxics``.

    >>> proxy = await Proxy(("127.0.0.1", 8080), toxics_from_args(delay="25ms")).start()
    >>> proxy.url_for("ws://127.0.0.1:8080/ws")     # -> 'ws://127.0.0.1:<proxy port>/ws'
    >>> proxy.stats()["bytes_downstream"]
    >>> await proxy.close()

    ``toxics``: `Toxic` objects, dicts or CLI strings (see `load_toxics`).
    ``buffer_limit``: bytes a direction may hold in its toxic queue before it
    stops reading. ``name`` and ``seed`` key the per-connection random draws.
    """

    def __init__(self, upstream: str | Sequence[Any],
                 toxics: Iterable[Toxic | dict[str, Any] | str] = (),
                 listen: str | Sequence[Any] = ("127.0.0.1", 0), *, seed: int = 0,
                 name: str = "proxy", buffer_limit: int = 1 << 20,
                 connect_timeout: float = 10.0, backlog: int = 4096) -> None:
        self.upstream = parse_address(upstream)
        host, port = parse_address(listen)
        self.listen = (_loopback(host), port)
        self.toxics = load_toxics(toxics, seed=seed)
        self.seed = seed
        self.name = name
        if buffer_limit <= 0:
            raise ConfigError(f"buffer_limit must be positive, got {buffer_limit!r}")
        self.buffer_limit = int(buffer_limit)
        self.connect_timeout = connect_timeout
        self.backlog = backlog
        self.connections: list[Connection] = []
        self._open: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Event | None = None
        self.port: int | None = None

    async def start(self) -> Proxy:
        """Bind and start accepting; returns the proxy (``.port`` is the bound port)."""
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Event()
        self._idle.set()
        self._server = await self._loop.create_server(
            self._accept, self.listen[0], self.listen[1], backlog=self.backlog,
            reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aenter__(self) -> Proxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def address(self) -> tuple[str, int]:
        if self.port is None:
            raise RuntimeError("the proxy is not started")
        return self.listen[0], self.port

    def url_for(self, url: str) -> str:
        """``url`` (``tcp://``, ``ws://``, ``http://``, ... or ``host:port``) with its
        host:port replaced by the proxy's; refused if it does not point at the upstream."""
        host, port = parse_address(url)
        up_host, up_port = self.upstream
        if port != up_port or not _same_host(host, up_host):
            raise ConfigError(f"{url!r} does not point at this proxy's upstream "
                              f"{_netloc(up_host, up_port)}")
        netloc = _netloc(*self.address)
        if "://" not in url:
            return netloc
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc}" if userinfo else netloc))

    def _accept(self) -> _Side:
        conn = Connection(self, len(self.connections))
        self.connections.append(conn)
        self._open.add(conn)
        self._idle.clear()
        return conn.client

    def _draw_toxics(self, cid: int) -> list[Toxic]:
        active = []
        for i, toxic in enumerate(self.toxics):
            if toxic.toxicity >= 1.0:
                active.append(toxic)
            elif toxic.toxicity > 0.0:
                rng = random.Random(f"wslab.netem|{self.name}|{self.seed}|{cid}|{i}|{toxic.seed}")
                if rng.random() < toxic.toxicity:
                    active.append(toxic)
        return active

    def _finished(self, conn: Connection) -> None:
        self._open.discard(conn)
        if not self._open:
            self._idle.set()

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def stats(self, connections: bool = False) -> dict[str, Any]:
        """Totals over every connection so far (and one row per connection if asked)."""
        out: dict[str, Any] = {
            "listen": _netloc(*self.address) if self.port is not None else None,
            "upstream": _netloc(*self.upstream),
            "toxics": [str(t) for t in self.toxics],
            "connections_total": len(self.connections),
            "connections_open": len(self._open),
        }
        for stream in STREAMS:
            for what in ("received", "forwarded", "dropped"):
                out[f"{what}_{stream}"] = sum(c._count(stream, what) for c in self.connections)
        out["bytes_upstream"] = out["forwarded_upstream"]
        out["bytes_downstream"] = out["forwarded_downstream"]
        if connections:
            out["connections"] = [c.to_dict() for c in self.connections]
        return out

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until no connection is open."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self, timeout: float = 2.0) -> None:
        """Stop accepting, close every connection (flushing what was written; reset
        after ``timeout`` s if a peer does not read) and wait for them to finish."""
        if self._server is None:
            return
        self._server.close()
        for conn in list(self._open):
            conn.close("proxy closed")
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            for conn in list(self._open):
                for side in (conn.client, conn.upstream):
                    if side is not None and side.transport is not None and not side.gone:
                        side.transport.abort()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), timeout)
        self._server = None


# ---------------------------------------------------------------------------
# Process form: python -m wslab.net.netem (protocol in wslab.core.child)
# ---------------------------------------------------------------------------


def _proxied_url(proxy: Proxy, target: Any) -> str:
    if isinstance(target, str) and "://" in target:
        return proxy.url_for(target)
    return f"tcp://{_netloc(*proxy.address)}"


async def _setup(config: dict[str, Any], channel: Any) -> dict[str, Any]:
    """Config: ``upstreams`` {name: "host:port" or URL}, ``toxics`` (a list for every
    upstream, or {name: list}), ``seed``, optional ``host`` (loopback) and
    ``buffer_limit``. Commands: ``stats`` (``connections=True`` adds rows), ``stop``."""
    allowed = {"upstreams", "toxics", "seed", "host", "buffer_limit"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ConfigError(f"unknown proxy config key {unknown[0]!r}; allowed: "
                          + ", ".join(sorted(allowed)))
    upstreams = config.get("upstreams")
    if not isinstance(upstreams, dict) or not upstreams:
        raise ConfigError("proxy config needs 'upstreams': {name: 'host:port' or URL}")
    seed = _convert("int", config.get("seed", 0), "seed")
    toxics = config.get("toxics") or []
    if isinstance(toxics, dict):
        extra = sorted(set(toxics) - set(upstreams))
        if extra:
            raise ConfigError(f"toxics given for unknown upstream {extra[0]!r}")
        per_name = {n: load_toxics(toxics.get(n), seed=seed) for n in upstreams}
    else:
        shared = load_toxics(toxics, seed=seed)
        per_name = {n: shared for n in upstreams}
    # every check before anything binds
    proxies = {
        name: Proxy(target if isinstance(target, str) else tuple(target), per_name[name],
                    listen=(config.get("host", "127.0.0.1"), 0), seed=seed, name=str(name),
                    buffer_limit=config.get("buffer_limit", 1 << 20))
        for name, target in upstreams.items()
    }
    try:
        for proxy in proxies.values():
            await proxy.start()
    except BaseException:
        for proxy in proxies.values():
            await proxy.close()
        raise
    channel.send({"ok": True, "pid": os.getpid(), "endpoints": {
        name: _proxied_url(proxy, upstreams[name]) for name, proxy in proxies.items()}})

    async def stats(connections: bool = False) -> dict[str, Any]:
        per = {name: p.stats(connections=connections) for name, p in proxies.items()}
        return {"proxies": per,
                "bytes_upstream": sum(s["bytes_upstream"] for s in per.values()),
                "bytes_downstream": sum(s["bytes_downstream"] for s in per.values())}

    async def close() -> dict[str, Any]:
        for proxy in proxies.values():
            await proxy.close()
        return {}

    return {"stats": stats, "stop": close, "close": close}


async def _serve_cli(args: argparse.Namespace) -> None:
    toxics = toxics_from_args(args.delay, args.jitter, args.bandwidth, args.direction,
                              args.seed, args.distribution)
    toxics += parse_toxics(*args.toxic, seed=args.seed)
    proxy = await Proxy(args.upstream, toxics, listen=(args.host, args.port),
                        seed=args.seed).start()
    print(f"proxying {_netloc(*proxy.address)} -> {_netloc(*proxy.upstream)}"
          f" ({_proxied_url(proxy, args.upstream)})", flush=True)
    for t in proxy.toxics:
        print(f"  toxic {t}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        print(proxy.stats(), flush=True)
        await proxy.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Without arguments: a wslab child process (`wslab.core.child`). With arguments: a CLI."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        from ..core.child import run_child

        run_child(_setup)
        return
    parser = argparse.ArgumentParser(
        prog="python -m wslab.net.netem", description="TCP impairment proxy (loopback only).")
    parser.add_argument("upstream", help="host:port or URL of the real server")
    parser.add_argument("--host", default="127.0.0.1", help="listen host (loopback)")
    parser.add_argument("--port", type=int, default=0, help="listen port (0: any free)")
    parser.add_argument("--delay", help="one-way delay per direction, e.g. 25ms")
    parser.add_argument("--jitter", help="jitter, e.g. 5ms")
    parser.add_argument("--distribution", default="uniform", choices=("uniform", "normal"))
    parser.add_argument("--bandwidth", help="rate per direction, e.g. 100KB/s, 8Mbit/s")
    parser.add_argument("--direction", default="both", choices=_DIRECTIONS)
    parser.add_argument("--toxic", action="append", default=[],
                        help="TYPE[@STREAM][:NAME=VALUE,...], e.g. reset_peer:timeout=2s")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve_cli(args))
    except ConfigError as exc:
        parser.exit(2, f"error: {exc}\n")
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
