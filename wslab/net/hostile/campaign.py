"""Campaigns of hostile cases against a running server, and the half-open hold.

`targets` turns a server's endpoint URLs (``Lab.urls``) into what can be
attacked on each (kind and path); `campaign` sends seeded cases from
`wslab.net.hostile.cases` with bounded concurrency and tallies the answers,
checking between batches that the server still answers a well-formed request
(a crash is a process that died or stopped answering); `hold_half_open` is a
slowloris: connections whose request never ends, trickling a header now and
then, timed until the server closes each one.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ...core.addresses import check_loopback, parse_address
from ...core.errors import ConfigError
from .cases import FAR, LENIENT, Case, generate
from .probe import Outcome, probe
from .wire import request, upgrade_request

__all__ = ["ENDPOINTS", "KINDS_OF_ANSWER", "CampaignResult", "Target", "answer_kind", "attackable",
           "campaign", "health", "hold_half_open", "served", "targets"]

#: the kit's endpoints by transport name: (kind, path) of each thing to attack;
#: ``None`` for the path: the URL's own. (The fallback endpoint serves three.)
ENDPOINTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "tcp": (("tcp", None),),
    "websocket": (("ws", None),), "aiohttp-ws": (("ws", None),), "picows": (("ws", None),),
    "sse": (("http", None),), "long-poll": (("http", None),), "short-poll": (("http", None),),
    "fallback": (("ws", "/ws"), ("http", "/sse"), ("http", "/long-poll")),
}


@dataclass(frozen=True)
class Target:
    """One attackable endpoint: ``kind`` (http, ws or tcp), loopback host, port, path."""

    name: str
    kind: str
    host: str
    port: int
    path: str


def attackable(urls: dict[str, str]) -> dict[str, str]:
    """The endpoints of ``urls`` (``Lab.urls``) the probes know how to attack
    (`ENDPOINTS`), in their order: transports added to the kit later (e.g.
    Socket.IO, with its own framing) are left out rather than refused."""
    return {name: url for name, url in urls.items() if name in ENDPOINTS}


def targets(urls: dict[str, str]) -> list[Target]:
    """The `Target` of every endpoint in ``urls`` (transport name -> URL, as
    ``Lab.urls``); unknown names and TLS URLs raise `ConfigError`."""
    out = []
    for name, url in urls.items():
        if url.split("://", 1)[0] in ("https", "wss", "tls"):
            raise ConfigError(f"{name} is served over TLS ({url}); the hostile probes speak "
                              "clear text only: start the Lab without tls")
        if name not in ENDPOINTS:
            raise ConfigError(f"no attack targets for {name!r}; known: {', '.join(ENDPOINTS)}")
        host, port = parse_address(url)
        host = check_loopback(host, f"{name} endpoint")
        own = "/" + url.split("://", 1)[1].split("/", 1)[1] if url.count("/") >= 3 else "/"
        for kind, path in ENDPOINTS[name]:
            label = name if path is None else f"{name} {path}"
            out.append(Target(label, kind, host, port, path or own))
    return out


async def health(target: Target, timeout: float = 5.0) -> bool:
    """Does the endpoint still serve a well-formed request within ``timeout``?
    (WebSocket: ``101``; HTTP: ``200``; raw TCP: the connection is accepted
    and kept open after a valid preamble.)"""
    host = f"{target.host}:{target.port}"
    if target.kind == "tcp":
        # accepted and kept open (events may flow: a stream is being published)
        case = Case("health", "preamble", FAR.to_bytes(8, "big"), raw=True)
        label = (await probe(target.host, target.port, case, min(timeout, 0.3))).label
        return label in ("no answer", "answered")
    if target.kind == "ws":
        data = upgrade_request(host, f"{target.path}?since={FAR}")
    else:
        data = request("GET", f"{target.path}?since={FAR}&timeout=0", [("Host", host)])
    outcome = await probe(target.host, target.port, Case("health", "GET", data), timeout)
    return outcome.status == (101 if target.kind == "ws" else 200)


def served(label: str) -> bool:
    """Does a probe's label say the server served the case (not a refusal)?"""
    return (label.startswith("HTTP 2") or label == "HTTP 101"
            or label in ("101 + close 1000", "101 + close 3000"))


#: what `answer_kind` groups a probe's label into: the refusals (HTTP 400, 431,
#: other 4xx, 5xx; close 1002 protocol error, 1007 invalid data, 1009 too big,
#: RFC 6455 §7.4.1; another close code; a plain TCP close), ``served``, and
#: ``no answer`` (nothing within the probe's bound) or ``answered`` (raw TCP)
KINDS_OF_ANSWER = ("HTTP 400", "HTTP 431", "HTTP 4xx", "HTTP 5xx", "close 1002", "close 1007",
                   "close 1009", "close other", "plain close", "served", "no answer", "answered")


def answer_kind(label: str) -> str:
    """The kind of answer (one of `KINDS_OF_ANSWER`) a probe's label is."""
    if label in ("HTTP 400", "HTTP 431"):
        return label
    if served(label):
        return "served"
    if label.startswith("HTTP 4"):
        return "HTTP 4xx"
    if label.startswith("HTTP 5"):
        return "HTTP 5xx"
    if label.startswith("101 + close "):
        code = label.removeprefix("101 + ")
        return code if code in ("close 1002", "close 1007", "close 1009") else "close other"
    if label.endswith("plain close"):
        return "plain close"
    if label.endswith("no answer"):
        return "no answer"
    return label


@dataclass
class CampaignResult:
    """What a campaign did: cases run, answers by label and by (family, label),
    crashes (health checks failed or the server process gone), wall time."""

    target: str
    cases: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    by_family: Counter[tuple[str, str]] = field(default_factory=Counter)
    crashes: int = 0
    health_checks: int = 0
    seconds: float = 0.0
    by_case: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def served_malformed(self) -> Counter[tuple[str, str, str]]:
        """Malformed cases the server served as if they were fine (``HTTP 2xx``,
        ``101``, or ``101`` then a normal close), by (family, case name, label);
        valid, `LENIENT`, raw, random-garbage and bad-query cases are not judged."""
        return Counter({k: n for k, n in self.by_case.items()
                        if k[0] not in ("valid", "valid-frames", "garbage", "since", "query")
                        and k[1] not in LENIENT and served(k[2])})


async def campaign(target: Target, cases: Iterable[Case] | None = None, *, n: int = 200,
                   seed: int = 0, concurrency: int = 8, timeout: float = 1.0,
                   check_every: int = 250, alive: Callable[[], bool] | None = None,
                   deadline_s: float | None = None) -> CampaignResult:
    """Send ``cases`` (default: ``n`` seeded cases for the target's kind) with
    at most ``concurrency`` connections at once, each bounded by ``timeout``;
    after every ``check_every`` cases and at the end, `health` (and
    ``alive()``, e.g. the server process's) must hold, or one crash is counted.
    Stops early, with the cases run so far, after ``deadline_s`` seconds."""
    if not 1 <= concurrency <= 256:
        raise ConfigError(f"concurrency must be in 1..256, not {concurrency!r}")
    if cases is None:
        cases = generate(target.kind, target.path, n, seed, target.host)
    result = CampaignResult(target.name)
    started = time.monotonic()
    stop_at = started + deadline_s if deadline_s is not None else None
    it = iter(cases)
    lock = asyncio.Lock()

    async def check() -> None:
        result.health_checks += 1
        ok = await health(target) and (alive is None or alive())
        result.crashes += not ok

    async def worker() -> None:
        while True:
            if stop_at is not None and time.monotonic() > stop_at:
                return
            case = next(it, None)
            if case is None:
                return
            outcome: Outcome = await probe(target.host, target.port, case, timeout)
            result.cases += 1
            result.labels[outcome.label] += 1
            result.by_family[(case.family, outcome.label)] += 1
            result.by_case[(case.family, case.name, outcome.label)] += 1
            if result.cases % check_every == 0:
                async with lock:
                    await check()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await check()
    result.seconds = time.monotonic() - started
    return result


async def hold_half_open(target: Target, count: int, *, trickle_s: float = 1.0,
                         max_s: float = 15.0) -> list[float | None]:
    """Slowloris: ``count`` connections each send a request line and a header,
    then one more header every ``trickle_s`` s, never the empty line that ends
    the head. Returns, per connection, the seconds until the server closed it,
    or ``None`` if it was still open after ``max_s`` (then this side closes).
    Bounded: at most 2,000 connections and 120 s."""
    if not 1 <= count <= 2_000 or not 0 < max_s <= 120 or not 0 < trickle_s <= max_s:
        raise ConfigError("count must be in 1..2000, max_s in (0, 120] and trickle_s in "
                          f"(0, max_s]; got {count}, {max_s}, {trickle_s}")
    host = check_loopback(target.host)
    start = (f"GET {target.path}?since={FAR} HTTP/1.1\r\n"
             f"Host: {host}:{target.port}\r\n").encode()

    async def one(k: int) -> float | None:
        try:
            reader, writer = await asyncio.open_connection(host, target.port)
        except OSError:
            return 0.0  # refused at once: not held
        opened = time.monotonic()
        try:
            writer.write(start)
            n = 0
            while time.monotonic() - opened < max_s:
                wait = min(trickle_s, max_s - (time.monotonic() - opened))
                try:
                    data = await asyncio.wait_for(reader.read(4096), max(wait, 0.001))
                except TimeoutError:
                    n += 1
                    writer.write(f"X-Slow-{n}: {k}\r\n".encode())
                    continue
                except (ConnectionError, OSError):
                    data = b""
                if not data or b"\r\n\r\n" in data:  # closed, or refused with a response
                    return time.monotonic() - opened
            return None
        finally:
            writer.close()

    return list(await asyncio.gather(*(one(k) for k in range(count))))
