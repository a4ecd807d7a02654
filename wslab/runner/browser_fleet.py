"""The browser fleet: N Chromium pages consuming one transport (``client="chromium"``).

The child process (``python -m wslab.runner.browser_fleet``) speaks the same
protocol and writes the same tables as `wslab.runner.fleet` (commands
``start``, ``drain``, ``stop``), so `wslab.runner.lab.Lab` swaps one for the
other. Differences, each for a reason:

- **One browser, one context per client, one page per context.** A Chromium
  process and its helpers (GPU, network service) cost ~0.5 s and ~100 MB
  once; each browser context has its own network context and so its own
  connection pool, as separate users' browsers do. Pages of one context
  would share one pool, capped at six HTTP/1.1 connections per host, and
  held long polls and SSE streams of the seventh page on would queue.
- **The page** (`browser_client.html`) uses WebSocket, EventSource and
  fetch, and resumes from its last seq like the Python clients; for
  ``socketio`` it uses Socket.IO's JavaScript client (`SOCKETIO_JS`, vendored,
  see its README), which is served and added to the page with it. Playwright
  serves both from the transport's own origin (``page.route``, then
  ``unroute``, so no later request is intercepted): the transport servers
  are untouched, the page load puts no bytes on the measured sockets, and
  the page's requests are same-origin (python-engineio's default CORS policy,
  same origin only, admits them; nothing is changed on the server).
  It is served cross-origin isolated (COOP/COEP), which makes Chromium's
  ``performance.now()`` resolution 5 µs instead of 100 µs.
- **Clock.** The page stamps deliveries with ``performance.now()``. Its
  offset to CLOCK_MONOTONIC is found by bracketing a ``performance.now()``
  read between two ``time.monotonic_ns()`` reads and keeping the narrowest
  bracket of `CLOCK_SAMPLES`; the error is at most half that bracket (plus
  the clock's resolution). The read is an echo over a WebSocket from the
  page to this process (`ClockEcho`): a round trip of a few hundred µs,
  where ``page.evaluate`` (through Playwright's driver and the DevTools
  protocol) takes over a millisecond. Done before and after the run: the offsets are
  averaged, the larger bound is reported (``clock_alignment_us``) and their
  difference too (``clock_drift_us``, a warning if it exceeds the bounds).
- **Bytes** are the kernel's counters of the browser's sockets, read with
  sock_diag (`wslab.core.sockdiag`) during the run (`SocketWatch`, every
  20 ms, so a socket a fault resets keeps the bytes it carried) and at
  drain, before the pages close (so the close handshake is not counted).
  Pages are started one at a time and each socket that appears is the new
  page's. A socket opened later is a reconnection: it goes to the page whose
  recorded reconnection it fits (`match_reconnects`), with ``fault_ns`` and
  ``failed_attempts``, or is listed with ``client_id`` -1 (a connection the
  browser opened without the page noticing, such as a retried keep-alive GET).
- **CPU and memory** are this process plus its children (Playwright's
  driver and the browser's processes), read with psutil at the ends of the
  window (10 ms ticks); ``browser_cpu_s`` is the browser's processes alone
  (browser, renderers, network service, GPU), by process type too.
- **Cookies**: ``cookies`` bytes (the Cookie header's value, in cookies of
  at most `COOKIE_CHUNK` bytes, `cookie_jar`) are set for the origin in each
  context before its page loads, so every request of the page carries them.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa

from .. import transports
from ..core.child import Channel, run_child
from ..core.errors import ConfigError, RunError
from ..core.meter import ConnCounters, ProcessMeter
from ..core.proc import timeout_factor
from ..core.sockdiag import connections_to
from .browser_sockets import Reconnect, SocketWatch, match_reconnects
from .chromium import LAUNCH_ARGS, find_chromium
from .fleet import CONNECTION_COLUMNS, commands

__all__ = ["CLOCK_SAMPLES", "COOKIE_CHUNK", "MIN_COOKIE_BYTES", "PAGE", "SOCKETIO_JS", "BrowserFleet",
           "ClockSample", "align", "browser_cpu", "cookie_jar"]

PAGE = Path(__file__).with_name("browser_client.html")
PAGE_PATH = "/wslab-client.html"
#: socket.io-client's standalone bundle (socket.io-client 4.8.4, from npm; vendor/README.md)
SOCKETIO_JS = Path(__file__).with_name("vendor") / "socket.io.min.js"
SOCKETIO_JS_PATH = "/wslab-socket.io.min.js"
#: ``performance.now()`` reads per page and alignment; the narrowest bracket is kept
CLOCK_SAMPLES = 100
#: cross-origin isolation: Chromium then coarsens performance.now() to 5 µs, not 100 µs
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin",
                     "Cross-Origin-Embedder-Policy": "require-corp",
                     "Cache-Control": "no-store"}

ClockSample = tuple[float, float]  # (offset_ns, half-bracket error in ns)
#: seconds between pausing the pages' polls and reading their sockets' counters
SETTLE_S = 0.05
#: the smallest cookie jar: one cookie ``c0=`` and a few bytes of value
MIN_COOKIE_BYTES = 8
#: bytes of one cookie (name=value) in `cookie_jar`: sites set many small cookies
COOKIE_CHUNK = 100


def cookie_jar(size: int, seed: int = 0) -> list[tuple[str, str]]:
    """Cookies (name, value) whose Cookie header value (``c0=...; c1=...``, RFC
    6265 section 5.4) is exactly ``size`` bytes (0, or at least `MIN_COOKIE_BYTES`),
    in cookies of about `COOKIE_CHUNK` bytes with seeded alphanumeric values."""
    if 0 < size < MIN_COOKIE_BYTES:
        raise ConfigError(f"cookies must be 0 or at least {MIN_COOKIE_BYTES} bytes, not {size}")
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    jar: list[tuple[str, str]] = []
    left = size
    while left > 0:
        sep = 2 if jar else 0  # "; " before every cookie but the first
        name = f"c{len(jar)}"
        take = min(COOKIE_CHUNK, left - sep)
        rest = left - sep - take
        if rest < 2 + len(name) + 2:  # too little left for one more cookie: this one takes it
            take += rest
        jar.append((name, "".join(rng.choice(alphabet) for _ in range(take - len(name) - 1))))
        left -= sep + take
    return jar


def browser_cpu(procs: list[psutil.Process]) -> dict[str, float]:
    """CPU seconds of the Chromium processes among ``procs``, by ``--type``
    (``browser`` for the main process; the network service is a ``utility``)."""
    out: dict[str, float] = {}
    for proc in procs:
        try:
            cmd = proc.cmdline()
            if not cmd or "chrom" not in os.path.basename(cmd[0]).lower():
                continue  # Playwright's driver (node), or this process
            kind = next((a.split("=", 1)[1] for a in cmd if a.startswith("--type=")), "browser")
            t = proc.cpu_times()
            out[kind] = out.get(kind, 0.0) + t.user + t.system
        except psutil.Error:
            pass
    return out


def align(brackets: list[tuple[int, float, int]]) -> ClockSample:
    """The offset of a page clock to CLOCK_MONOTONIC from ``(before_ns,
    page_ms, after_ns)`` reads: the narrowest bracket's midpoint minus the
    page's reading, with half the bracket as the error bound."""
    before, page_ms, after = min(brackets, key=lambda b: b[2] - b[0])
    return (before + after) / 2 - page_ms * 1e6, (after - before) / 2


class ClockEcho:
    """A WebSocket server in the fleet that pages connect to for clock reads:
    each page sends its client id, then answers every message with its
    ``performance.now()`` (`browser_client.html`'s ``wslab.clock``)."""

    def __init__(self) -> None:
        self.url = ""
        self.conns: dict[int, Any] = {}
        self.arrived: dict[int, asyncio.Event] = {}
        self._server: Any = None

    async def start(self) -> None:
        from websockets.asyncio.server import serve

        async def handler(ws: Any) -> None:
            client_id = int(await ws.recv())
            self.conns[client_id] = ws
            self.arrived.setdefault(client_id, asyncio.Event()).set()
            await ws.wait_closed()

        self._server = await serve(handler, "127.0.0.1", 0, compression=None)
        self.url = f"ws://127.0.0.1:{next(iter(self._server.sockets)).getsockname()[1]}/"

    async def sample(self, page: Any, client_id: int) -> ClockSample:
        """Align one page's clock: open its echo socket, bracket reads, close it."""
        self.arrived[client_id] = asyncio.Event()
        await page.evaluate("([url, id]) => wslab.clock(url, id)", [self.url, client_id])
        await asyncio.wait_for(self.arrived[client_id].wait(), 30 * timeout_factor())
        ws = self.conns.pop(client_id)
        reads = []
        for _ in range(CLOCK_SAMPLES):
            before = time.monotonic_ns()
            await ws.send("t")
            page_ms = float(await ws.recv())
            reads.append((before, page_ms, time.monotonic_ns()))
        await ws.send("close")
        return align(reads)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class _Page:
    """One simulated client: a browser context, its page and its sockets."""

    def __init__(self, client_id: int, context: Any, page: Any) -> None:
        self.client_id = client_id
        self.context = context
        self.page = page
        self.sockets: dict[tuple[str, int], tuple[int, ConnCounters]] = {}  # opened_ns, setup
        self.clock: list[ClockSample] = []  # before and after the run


class BrowserFleet:
    """N Chromium pages of one transport and what they recorded."""

    def __init__(self, transport: str, url: str, clients: int, first_client: int = 0,
                 options: dict[str, Any] | None = None, seed: int = 0,
                 tls: bool = False, cookies: int = 0) -> None:
        self.transport = transports.get(transport).name
        self.url = url
        self.options = options or {}
        self.seed = seed
        self.tls = tls  # the Lab's own certificate, which no browser trusts
        self.ids = range(first_client, first_client + clients)
        scheme_rest = url.split("://", 1)[1]
        hostport = scheme_rest.split("/", 1)[0]
        host, port = hostport.rsplit(":", 1)
        self.server = (host.strip("[]"), int(port))
        scheme = "https" if url.startswith(("https:", "wss:")) else "http"
        self.origin = f"{scheme}://{hostport}"
        self.pages: list[_Page] = []
        self.watch = SocketWatch(self.server)
        self.cookies = cookie_jar(cookies, seed)
        self.meter = ProcessMeter()
        self.echo = ClockEcho()
        self._pw: Any = None
        self._browser: Any = None
        self._cpu0 = 0.0
        self._browser_cpu0: dict[str, float] = {}
        self.ramp_s = 0.0
        self.isolated = False
        self.version = ""

    def _page_config(self, client_id: int) -> dict[str, Any]:
        o = self.options
        interval = float(o.get("interval", 1.0))
        return {"transport": self.transport, "url": self.url,
                "fanout": o.get("fanout", "broadcast"), "ping": o.get("ping", 15.0),
                "timeout": o.get("timeout", 30.0), "interval_ms": interval * 1e3,
                "mode": o.get("mode", "upgrade"), "resume": bool(o.get("resume", False)),
                # the seeded phase of the Python short-poll client
                "phase_ms": random.Random(self.seed * 1_000_003 + client_id)
                .uniform(0, interval) * 1e3}

    async def connect(self) -> float:
        """Launch the browser and start every page, one at a time (so each new
        socket is known to be that page's); returns the ramp time in s."""
        from playwright.async_api import async_playwright

        t0 = time.monotonic()
        self._pw = await async_playwright().start()
        self._browser = await self._pw.chromium.launch(
            executable_path=find_chromium(), args=list(LAUNCH_ARGS), headless=True)
        self.version = self._browser.version
        await self.echo.start()
        html = PAGE.read_text()
        if self.transport == "socketio":  # the client library, before the page's own script
            html = html.replace("<script>", f'<script src="{SOCKETIO_JS_PATH}"></script>\n'
                                "<script>", 1)
        # Contexts and blank pages all at once (no sockets yet); then each page
        # loads and connects alone, so that its new socket is known to be its own.
        self.pages = list(await asyncio.gather(*(self._new_page(i) for i in self.ids)))
        for page in self.pages:
            await self._open(page, html)
        for page in self.pages:
            page.clock.append(await self.echo.sample(page.page, page.client_id))
        self.ramp_s = time.monotonic() - t0
        return self.ramp_s

    async def _new_page(self, client_id: int) -> _Page:
        context = await self._browser.new_context(ignore_https_errors=self.tls)
        if self.cookies:  # what a site's pages carry on every request to it
            await context.add_cookies([{"name": n, "value": v, "url": self.origin}
                                       for n, v in self.cookies])
        return _Page(client_id, context, await context.new_page())

    async def _open(self, page: _Page, html: str) -> None:
        async def fulfil(route: Any) -> None:
            await route.fulfill(status=200, content_type="text/html", body=html,
                                headers=ISOLATION_HEADERS)

        async def script(route: Any) -> None:
            await route.fulfill(status=200, content_type="text/javascript",
                                body=SOCKETIO_JS.read_bytes(), headers=ISOLATION_HEADERS)

        # Before the navigation: Chromium may preconnect to the page's origin,
        # and the page's requests then use that socket.
        known = set(connections_to(*self.server))
        pattern = f"{self.origin}{PAGE_PATH}"
        routes = {pattern: fulfil, f"{self.origin}{SOCKETIO_JS_PATH}": script}
        for url, handler in routes.items():
            await page.page.route(url, handler)
        await page.page.goto(pattern)  # returns at the load event: scripts are loaded
        for url in routes:  # no later request goes through Playwright
            await page.page.unroute(url)
        self.isolated = await page.page.evaluate("cfg => wslab.start(cfg)",
                                                 self._page_config(page.client_id))
        limit = 30 * timeout_factor()
        await page.page.wait_for_function("wslab.ready", polling=10, timeout=limit * 1e3)
        deadline = time.monotonic() + limit
        while True:  # the page's socket: the one that was not there before
            now = connections_to(*self.server)
            new = {k: v for k, v in now.items()
                   if k not in known and not any(k in p.sockets for p in self.pages)}
            if new:
                opened = time.monotonic_ns()
                page.sockets.update({k: (opened, v) for k, v in new.items()})
                return
            if time.monotonic() > deadline:
                raise RunError(f"page {page.client_id} opened no connection to "
                               f"{self.url} within {limit:g} s")
            await asyncio.sleep(0.005)

    def _tree_cpu_rss(self, memory: bool = False) -> tuple[float, int]:
        """CPU seconds and (with ``memory``) proportional set size of this
        process's children (Playwright's driver, the browser's processes).
        PSS, not RSS: Chromium's processes share most of their pages, and a
        sum of their RSS counts those once per process."""
        cpu, pss = 0.0, 0
        for proc in psutil.Process().children(recursive=True):
            try:
                t = proc.cpu_times()
                cpu += t.user + t.system
                if memory:
                    pss += proc.memory_full_info().pss
            except psutil.Error:
                pass
        return cpu, pss

    def start(self) -> None:
        """Open the measured CPU/memory window (publishing is about to start)."""
        self.meter.start()
        self._cpu0 = self._tree_cpu_rss()[0]
        self._browser_cpu0 = browser_cpu(psutil.Process().children(recursive=True))
        self.watch.start()

    async def drain(self, last_seq: int, timeout: float) -> dict[str, Any]:
        """Wait until every page has ``last_seq`` (or ``timeout`` s), read the
        sockets' counters and the clocks again, then stop the pages."""
        waits = [asyncio.ensure_future(p.page.wait_for_function(
            f"wslab.last >= {int(last_seq)}", polling=20, timeout=timeout * 1e3))
            for p in self.pages]
        done, _ = await asyncio.wait(waits, timeout=timeout + 5)
        stalled = sum(1 for w in waits if w not in done or w.exception() is not None)
        for w in waits:
            w.cancel()
        cpu, pss = self._tree_cpu_rss(memory=True)
        by_type = browser_cpu(psutil.Process().children(recursive=True))
        by_type = {k: v - self._browser_cpu0.get(k, 0.0) for k, v in by_type.items()}
        stats: dict[str, Any] = {**self.meter.stop()}
        stats["cpu_s"] += cpu - self._cpu0
        stats["rss_peak"] += pss
        stats["browser_cpu_s"] = sum(by_type.values())
        stats["browser_cpu_by_type"] = by_type
        # Polls stop first (a request sent is in flight for well under
        # SETTLE_S on loopback), then the counters and the page's request
        # counts are read together, so requests match the bytes counted.
        for page in self.pages:
            await page.page.evaluate("wslab.pause()")
        await asyncio.sleep(SETTLE_S)
        self.counters = await self.watch.stop()
        self.closed_ns = time.monotonic_ns()
        self.records = [await p.page.evaluate("wslab.collect()") for p in self.pages]
        for page in self.pages:
            page.clock.append(await self.echo.sample(page.page, page.client_id))
        await self.stop()
        errors = [r["errors"][0] for r in self.records if r["errors"]]
        return {**stats, "stalled_clients": stalled, "client_errors": len(errors),
                "first_error": errors[0] if errors else None, **self.clock_stats(),
                "idle_sockets": sum(not (c.bytes_up or c.bytes_down)
                                    for c in self.counters.values()),
                "browser": f"Chromium {self.version}", "cross_origin_isolated": self.isolated,
                "cookie_bytes": sum(len(n) + len(v) + 1 for n, v in self.cookies)
                + 2 * max(len(self.cookies) - 1, 0),
                "ws_extensions": sorted({r["extensions"] for r in self.records
                                         if r["extensions"]}),
                "http_versions": sorted({v for r in self.records for v in r["protocols"]})}

    def clock_stats(self) -> dict[str, float]:
        """The alignment bound, the drift between the two alignments, and the
        page clock's resolution, in µs (over every page: the worst)."""
        bound = max(max(e for _, e in p.clock) for p in self.pages)
        drift = max(abs(p.clock[-1][0] - p.clock[0][0]) for p in self.pages)
        resolution = 5.0 if self.isolated else 100.0
        if drift > 2 * bound + 2 * resolution * 1e3:
            print(f"wslab browser fleet: warning: page clocks drifted {drift / 1e3:.0f} µs "
                  f"from CLOCK_MONOTONIC during the run (alignment bound "
                  f"{bound / 1e3:.0f} µs)", file=sys.stderr)
        return {"clock_alignment_us": (bound / 1e3) + resolution,
                "clock_drift_us": drift / 1e3, "clock_resolution_us": resolution}

    async def stop(self) -> None:
        """Stop every page and close the browser (idempotent)."""
        for page in self.pages:
            try:
                await page.page.evaluate("wslab.stop()")
            except Exception:  # a page that crashed has nothing to stop
                pass
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None
        await self.echo.close()

    def messages_table(self) -> pa.Table:
        """One row per delivery: client_id, seq, published_ns, received_ns (on
        CLOCK_MONOTONIC: each page's clock shifted by its offset)."""
        ids, seqs, pubs, recvs = [], [], [], []
        for page, rec in zip(self.pages, self.records, strict=True):
            offset = _offset(page)
            n = len(rec["seqs"])
            ids.append(np.full(n, page.client_id, np.int32))
            seqs.append(np.asarray(rec["seqs"], np.int64))
            pubs.append(np.array([int(t) for t in rec["pub"]], np.int64))
            recvs.append(offset + np.round(np.asarray(rec["recv"], float) * 1e6)
                         .astype(np.int64))
        return pa.table({"client_id": _cat(ids, np.int32), "seq": _cat(seqs, np.int64),
                         "published_ns": _cat(pubs, np.int64),
                         "received_ns": _cat(recvs, np.int64)})

    def connections_table(self) -> pa.Table:
        """One row per browser socket with the kernel's counters; the page's
        request counts go on its busiest socket."""
        rows: list[dict[str, Any]] = []
        owned = {k for p in self.pages for k in p.sockets}
        last = self.watch.last
        reconnects = match_reconnects(
            [r for p, rec in zip(self.pages, self.records, strict=True)
             for r in self._reconnects(p, rec)], self.watch.first_ns, owned)
        matched = {r.socket for r in reconnects if r.socket is not None}
        for page, rec in zip(self.pages, self.records, strict=True):
            # gone before the watch began: its reading when it was attributed
            now = {key: last.get(key, setup) for key, (_, setup) in page.sockets.items()}
            busiest = max(now, key=lambda key: now[key].bytes_up + now[key].bytes_down)
            for k, key in enumerate(page.sockets):
                opened, setup = page.sockets[key]
                rows.append(self._row(page.client_id, k, now[key], opened, setup,
                                      rec if key == busiest else None))
            for k, r in enumerate(r for r in reconnects if r.client_id == page.client_id):
                # its first reading (at most one period after it appeared) as setup bytes
                seen = last.get(r.socket, ConnCounters()) if r.socket else ConnCounters()
                first = self.watch.first.get(r.socket, seen) if r.socket else seen
                rows.append({**self._row(page.client_id, len(page.sockets) + k, seen,
                                         self.watch.first_ns.get(r.socket, r.back_ns)
                                         if r.socket else r.back_ns, first, None),
                             "fault_ns": r.fault_ns, "failed_attempts": r.failed_attempts})
        others = [key for key in last if key not in owned and key not in matched]
        for k, key in enumerate(others):
            rows.append(self._row(-1, k, last[key], self.watch.first_ns[key],
                                  ConnCounters(), None))
        # A socket that never carried a byte either way is a speculative
        # preconnect Chromium opened and the page never used: not a connection
        # of the transport (counted in the fleet's stats, ``idle_sockets``). A
        # reconnection stays, bytes or not: the page saw it happen.
        rows = [r for r in rows if r["bytes_up"] or r["bytes_down"] or r["fault_ns"]]
        if not rows:
            return pa.table({n: pa.array([], pa.string() if n == "kind" else pa.int64())
                             for n in CONNECTION_COLUMNS})
        return pa.Table.from_pylist(rows)

    def _reconnects(self, page: _Page, rec: dict[str, Any]) -> list[Reconnect]:
        """The page's recorded reconnections, on CLOCK_MONOTONIC."""
        offset = _offset(page)
        return [Reconnect(page.client_id, offset + round(failed * 1e6),
                          offset + round(back * 1e6), int(attempts))
                for failed, back, attempts in rec.get("faults", [])]

    def _row(self, client_id: int, index: int, counters: ConnCounters, opened_ns: int,
             setup: ConnCounters, rec: dict[str, Any] | None) -> dict[str, Any]:
        requests = int(rec["requests"]) if rec else 0
        return {"client_id": client_id, "conn_index": index, **counters.as_dict(),
                "requests": requests, "responses": int(rec["responses"]) if rec else 0,
                "empty_responses": int(rec["empty"]) if rec else 0,
                "opened_ns": opened_ns, "closed_ns": self.closed_ns, "fault_ns": 0,
                "failed_attempts": 0, "setup_bytes": setup.bytes_up + setup.bytes_down,
                "kind": self.transport}


def _offset(page: _Page) -> int:
    """The page clock's offset to CLOCK_MONOTONIC in ns: the mean of its alignments."""
    return round(sum(o for o, _ in page.clock) / len(page.clock))


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


async def _setup(config: dict[str, Any], channel: Channel):
    fleet = BrowserFleet(config["transport"], config["url"], int(config["clients"]),
                         int(config.get("first_client", 0)), config.get("options"),
                         int(config.get("seed", 0)), bool(config.get("tls")),
                         int(config.get("cookies", 0)))
    try:
        ramp_s = await fleet.connect()
    except BaseException:
        await fleet.stop()
        raise
    channel.send({"ok": True, "pid": os.getpid(), "connected": len(fleet.pages),
                  "ramp_s": ramp_s})
    return commands(fleet)


def main() -> None:
    run_child(_setup)


if __name__ == "__main__":
    main()
