"""Toxics: the impairments of the proxy, in Toxiproxy's vocabulary, and their parsers.

Each proxied connection has two directions, named as in Toxiproxy:
``upstream`` (client → server) and ``downstream`` (server → client). A *toxic*
is attached to a direction:

==============  =====================================================  ==========
type            effect                                                 attributes
==============  =====================================================  ==========
``latency``     delay every chunk; jitter drawn from a seeded          latency (ms), jitter (ms),
                distribution (never reorders bytes, see                distribution
                `wslab.net.schedule`)
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

Middlebox faults (HTTP-aware toxics parse HTTP/1.1, `wslab.net.http1`, only on
the connections they apply to; the timed fault acts on the whole proxy):

=================  ==================================================  ==============
type               effect                                              attributes
=================  ==================================================  ==============
``strip_upgrade``  (upstream only) forward every request head without  (none)
                   ``Upgrade`` and the ``upgrade`` option of
                   ``Connection``, as a proxy that does not implement
                   protocol switching must (RFC 9110 §7.8, formerly
                   RFC 7230 §6.7: ``Upgrade`` is hop-by-hop); a
                   WebSocket handshake then gets ``426 Upgrade
                   Required`` from a ``websockets`` server
``buffer``         (downstream only) nginx's ``proxy_buffering on``:   size (bytes,
                   hold a response's bytes until it ends (length       default 4 KiB)
                   reached, chunked terminator, upstream close) or
                   ``size`` bytes are held; unbuffered after ``101``
``outage``         timed fault on every connection, counted from       at (ms), mode,
                   `Proxy.arm <wslab.net.proxy.Proxy.arm>`: ``mode``   duration (ms),
                   ``reset`` (RST all live connections at ``at``, and  every (ms)
                   every new one for ``duration``: a server crash),
                   ``stall`` (hold every byte both ways for
                   ``duration``, then release them in order),
                   ``blackhole`` (discard every byte both ways, no
                   FIN/RST, for ``duration``, or for ever if 0);
                   ``every`` repeats it with that period
=================  ==================================================  ==============

``buffer``'s default ``size`` is nginx's default ``proxy_buffer_size``: "one
memory page. This is either 4K or 8K, depending on a platform"
(https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffer_size);
the page is 4 KiB on x86-64 Linux (``getconf PAGE_SIZE``). An unarmed proxy
never fires an ``outage``.

Aliases: ``drop`` = ``blackhole``; ``timeout`` = ``idle_cut``. (Toxiproxy's own
``timeout`` toxic discards data and closes after N ms; here it names the idle
cut, the middlebox behaviour experiment C7 needs. ``blackhole`` plus
``reset_peer`` gives Toxiproxy's meaning.) Every toxic also has ``stream``
(``upstream`` / ``downstream``), ``toxicity`` (the probability that it
applies to a given connection, drawn per connection) and ``seed``.
``idle_cut`` and ``reset_peer`` act on the whole connection whatever their
stream.

Toxics come from Python (``Latency(25, jitter=5)``), from Toxiproxy's JSON
shape (`toxic_from_dict`), from CLI strings (`parse_toxics`,
``latency@both:latency=25ms``), a mix of these (`load_toxics`), or the simple
run parameters ``--delay/--jitter/--bandwidth`` (`toxics_from_args`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import ConfigError
from .units import convert, parse_delay, parse_rate

__all__ = [
    "DIRECTIONS",
    "OUTAGE_MODES",
    "STREAMS",
    "TOXIC_TYPES",
    "Bandwidth",
    "Blackhole",
    "Buffer",
    "IdleCut",
    "Latency",
    "LimitData",
    "Outage",
    "ResetPeer",
    "StripUpgrade",
    "Toxic",
    "load_toxics",
    "parse_toxics",
    "toxic_from_dict",
    "toxics_from_args",
]

#: the two directions of a connection, as in Toxiproxy
STREAMS = ("upstream", "downstream")
#: what a direction parameter may say: one stream, or ``both`` (one toxic per stream)
DIRECTIONS = (*STREAMS, "both")


@dataclass(frozen=True, kw_only=True)
class Toxic:
    """Base class of toxics: one impairment attached to one direction (``stream``).

    ``toxicity`` is the probability that the toxic applies to a connection
    (drawn once per connection from ``seed``); ``seed`` also drives jitter.
    Attributes are converted and checked on construction: ``Latency("25ms")``
    is ``Latency(25.0)``, ``Latency(-1)`` raises `ConfigError` (a ValueError).
    """

    type: ClassVar[str] = ""
    #: attribute name -> kind (see `wslab.net.units.convert`); subclasses list their own
    kinds: ClassVar[dict[str, Any]] = {}
    #: does the toxic act on the whole connection rather than on its stream?
    connection_level: ClassVar[bool] = False
    #: the streams it may act on, and the one it acts on when none is given
    allowed_streams: ClassVar[tuple[str, ...]] = STREAMS
    default_stream: ClassVar[str] = "downstream"

    stream: str = "downstream"
    toxicity: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        what = f"{self.type} toxic"
        if self.stream not in self.allowed_streams:
            raise ConfigError(f"{what}: stream {self.stream!r} is not allowed; allowed: "
                              + ", ".join(self.allowed_streams))
        kinds = {**self.kinds, "toxicity": "prob", "seed": "int"}
        for name, kind in kinds.items():
            object.__setattr__(self, name, convert(kind, getattr(self, name), f"{what}: {name}"))

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
        body = f"{attrs}{extra}".lstrip(",")
        return f"{self.type}@{self.stream}:{body}" if body else f"{self.type}@{self.stream}"


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


@dataclass(frozen=True, kw_only=True)
class StripUpgrade(Toxic):
    """Forward request heads without ``Upgrade`` and ``Connection: upgrade`` (upstream only).

    An HTTP/1.1 proxy that does not implement protocol switching drops the
    hop-by-hop ``Upgrade`` (RFC 9110 §7.8; RFC 7230 §6.7); everything else,
    bodies included, passes byte for byte (`wslab.net.middlebox.UpgradeStripper`).
    """

    type: ClassVar[str] = "strip_upgrade"
    allowed_streams: ClassVar[tuple[str, ...]] = ("upstream",)
    default_stream: ClassVar[str] = "upstream"
    stream: str = "upstream"


@dataclass(frozen=True)
class Buffer(Toxic):
    """Hold each HTTP/1.1 response until it ends or ``size`` bytes are held (downstream only).

    nginx's ``proxy_buffering on``; ``size`` defaults to one x86-64 memory
    page, nginx's default ``proxy_buffer_size`` (see the module doc). After
    ``101 Switching Protocols`` the connection passes unbuffered, as nginx does
    for upgraded connections (`wslab.net.middlebox.ResponseBuffer`).
    ``head``: ``hold`` (the default) holds the response head with its body;
    ``pass`` forwards the head as soon as it is complete and holds only the
    body (the client sees the response start, then nothing).
    """

    type: ClassVar[str] = "buffer"
    kinds: ClassVar[dict[str, Any]] = {"size": "size", "head": ("hold", "pass")}
    allowed_streams: ClassVar[tuple[str, ...]] = ("downstream",)
    size: int = 4096
    head: str = "hold"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.size <= 0:
            raise ConfigError(f"buffer toxic: size must be positive, got {self.size!r}")


#: what an outage does (see `Outage`)
OUTAGE_MODES = ("reset", "stall", "blackhole")


@dataclass(frozen=True)
class Outage(Toxic):
    """A timed fault on every connection it applies to, ``at`` ms after the proxy is armed.

    ``mode``: ``reset`` RSTs every live connection at ``at`` and, for
    ``duration`` ms, every connection accepted (a server that crashed);
    ``stall`` holds every byte both ways for ``duration`` ms and then
    releases them in order (a network that comes back: TCP would
    retransmit); ``blackhole`` discards every byte both ways, with no FIN or
    RST, from ``at`` on for ``duration`` ms, or for ever when ``duration``
    is 0 (a client whose network vanished). ``every`` (ms, 0 = once)
    repeats the fault with that period. Times count from `Proxy.arm
    <wslab.net.proxy.Proxy.arm>`; an unarmed proxy never fires it. The
    stream is irrelevant: it acts on both directions.
    """

    type: ClassVar[str] = "outage"
    kinds: ClassVar[dict[str, Any]] = {"at": "ms", "mode": OUTAGE_MODES, "duration": "ms",
                                       "every": "ms"}
    connection_level: ClassVar[bool] = True
    at: float
    mode: str
    duration: float = 0.0
    every: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode == "stall" and self.duration <= 0:
            raise ConfigError("outage toxic: mode 'stall' needs a positive duration, "
                              f"got {self.duration!r}")
        if self.every:
            if self.mode == "blackhole" and not self.duration:
                raise ConfigError("outage toxic: a blackhole for ever (duration 0) cannot repeat; "
                                  "give a duration shorter than every")
            if self.duration >= self.every:
                raise ConfigError(f"outage toxic: duration ({self.duration:g} ms) must be shorter "
                                  f"than every ({self.every:g} ms)")

    def windows(self) -> Iterator[tuple[float, float]]:
        """``(start, end)`` in ms after arming, in order; one window unless ``every`` is set
        (then for ever). A blackhole for ever ends at infinity."""
        start = self.at
        while True:
            end = start + self.duration if self.duration or self.mode != "blackhole" \
                else math.inf
            yield start, end
            if not self.every:
                return
            start += self.every


TOXIC_TYPES: dict[str, type[Toxic]] = {
    cls.type: cls for cls in (Latency, Bandwidth, IdleCut, ResetPeer, Blackhole, LimitData,
                              StripUpgrade, Buffer, Outage)
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
        kind = cls.kinds.get(missing[0])
        choices = f" (allowed: {', '.join(kind)})" if isinstance(kind, tuple) else ""
        raise ConfigError(f"{cls.type} toxic: missing attribute {missing[0]!r}{choices}")
    return cls(**attrs)


def _expand(stream: Any, what: str) -> tuple[str, ...]:
    if stream == "both":
        return STREAMS
    if stream not in STREAMS:
        raise ConfigError(f"{what}: stream {stream!r} is not allowed; allowed: "
                          + ", ".join(DIRECTIONS))
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
    streams = _expand(attrs.pop("stream", cls.default_stream), f"{cls.type} toxic")
    if len(streams) > 1 and len(cls.allowed_streams) < 2:
        raise ConfigError(f"{cls.type} toxic: stream 'both' is not allowed; allowed: "
                          + ", ".join(cls.allowed_streams))
    if len(streams) > 1 and cls is Outage:  # one outage, not one per direction
        raise ConfigError("outage toxic acts on both directions already; stream 'both' is "
                          "not allowed; allowed: upstream, downstream (either: same effect)")
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

    ``STREAM`` is ``upstream``, ``downstream`` (the default, as in Toxiproxy,
    except ``strip_upgrade``: upstream) or ``both`` (one toxic per direction).
    Examples: ``latency@both:latency=25ms,jitter=5ms``,
    ``bandwidth@downstream:rate=100KB/s``, ``reset_peer:timeout=2s``, ``blackhole@upstream``,
    ``strip_upgrade``, ``buffer:size=8KiB``, ``outage:at=5s,mode=stall,duration=1s``.
    Bare numbers are in Toxiproxy's units (ms, KB/s, bytes).
    """
    out: list[Toxic] = []
    for spec in specs:
        if not isinstance(spec, str) or not spec.strip():
            raise ConfigError(f"a toxic spec must be a non-empty string like "
                              f"'latency@both:latency=25ms', got {spec!r}")
        head, _, body = spec.strip().partition(":")
        name, _, stream = head.partition("@")
        d: dict[str, Any] = {"type": name.strip()}
        if stream.strip():
            d["stream"] = stream.strip()
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
