"""The browser's per-host connection limit, measured (issue 11).

One Chromium, one browser context per transport, one page per context: the
page opens ``streams`` concurrent streams of one transport to the same origin
(host:port) of a running `wslab.runner.lab.Lab` server while the server
publishes, and records for each stream the time to its first event, or
"stalled" if none came within ``bound`` seconds.

Why it matters: a browser context has one connection pool, and Chromium's
pool allows 6 HTTP/1.1 connections per group (scheme, host, port) -- the
limit RFC 9112 section 9.4 leaves to clients ("SHOULD limit the number of
simultaneous open connections"). An SSE stream holds its connection for good,
so the 7th EventSource of a page waits for one of the first six to close.
A held long poll holds it until an event or the hold times out, so the 7th
poll is queued until one of the six is answered; while events flow, each
response frees a connection and every poll gets through, a little later. WebSockets are not in that pool: Chromium opens up to
255 per host (only one at a time in the CONNECTING state, RFC 6455 section 4.1).

The three transports listen on different ports (different groups), so their
pages run at the same time without sharing a limit. What the browser
negotiated is recorded too: the HTTP version of each response (the DevTools
protocol's ``Network.responseReceived``) and the WebSocket's
``Sec-WebSocket-Extensions`` (``WebSocket.extensions``).

    python -m wslab.runner.connlimit [--streams 10] [--bound 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import ConfigError
from .chromium import LAUNCH_ARGS, find_chromium

__all__ = ["KINDS", "MAX_STREAMS", "StreamResult", "format_table", "measure", "run"]

#: transports opened as concurrent streams of one page
KINDS = ("sse", "long-poll", "websocket")
#: bounded load: streams per transport (Chromium's WebSocket cap is 255 per host)
MAX_STREAMS = 50
#: events/s the server publishes while the pages wait
RATE = 10.0

PAGE_PATH = "/wslab-connlimit.html"
_HTML = "<!doctype html><html><head><meta charset=utf-8><link rel=icon href='data:,'>" \
        "</head><body></body></html>"

# Each stream records the performance.now() of its first event (ms after the
# streams were opened), or null. A long-poll stream polls in a loop from the
# last seq it saw, like the kit's client (browser_client.html).
_JS = """([kind, url, n]) => {
  const t0 = performance.now();
  const s = window.streams = Array.from({length: n}, () => ({first: null, ext: null}));
  window.closers = [];
  const got = (k) => { if (s[k].first === null) s[k].first = performance.now() - t0; };
  for (let k = 0; k < n; k++) {
    if (kind === "sse") {
      const es = new EventSource(`${url}?ping=15`);
      es.onmessage = () => got(k);
      closers.push(() => es.close());
    } else if (kind === "websocket") {
      const ws = new WebSocket(`${url}?fanout=broadcast`);
      ws.onopen = () => { s[k].ext = ws.extensions; };
      ws.onmessage = () => got(k);
      closers.push(() => ws.close(1000));
    } else {
      const ctl = new AbortController();
      closers.push(() => ctl.abort());
      (async () => {
        let last = 0;
        while (!ctl.signal.aborted) {
          try {
            const r = await fetch(`${url}?since=${last}&timeout=30&s=${k}`,
                                  {cache: "no-store", signal: ctl.signal});
            const text = await r.text();
            const seqs = [...text.matchAll(/"seq":(\\d+)/g)].map((m) => +m[1]);
            if (seqs.length) { got(k); last = Math.max(last, ...seqs); }
          } catch (e) { return; }
        }
      })();
    }
  }
  return true;
}"""


@dataclass
class StreamResult:
    """One stream of one page: its index (1-based), its time to first event
    in ms (None: stalled for the whole bound) and what was negotiated."""

    kind: str
    index: int
    first_ms: float | None
    negotiated: str = ""

    @property
    def stalled(self) -> bool:
        return self.first_ms is None


@dataclass
class _Probe:
    kind: str
    url: str
    protocols: set[str] = field(default_factory=set)


async def _open(browser: Any, probe: _Probe) -> tuple[Any, Any]:
    """A context and its page, loaded from the probe's origin (no stream yet)."""
    context = await browser.new_context()
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    cdp.on("Network.responseReceived",
           lambda e: probe.protocols.add(e["response"].get("protocol", "?")))
    origin = probe.url.replace("ws://", "http://", 1).split("/", 3)
    page_url = "/".join(origin[:3]) + PAGE_PATH

    async def fulfil(route: Any) -> None:
        await route.fulfill(status=200, content_type="text/html", body=_HTML)

    await page.route(page_url, fulfil)
    await page.goto(page_url, timeout=30_000)
    await page.unroute(page_url)  # the streams go to the server, not Playwright
    return context, page


async def _probe(page: Any, probe: _Probe, streams: int, bound: float) -> list[StreamResult]:
    await page.evaluate(_JS, [probe.kind, probe.url, streams])
    await asyncio.sleep(bound)
    rows = await page.evaluate("window.closers.forEach((c) => c()), window.streams")
    http = "/".join(sorted(probe.protocols - {"data"})) or "none"
    results = []
    for k, row in enumerate(rows):
        negotiated = (f"extensions: {row['ext'] or '(none)'}" if probe.kind == "websocket"
                      else http)
        results.append(StreamResult(probe.kind, k + 1, row["first"], negotiated))
    return results


async def measure(urls: dict[str, str], streams: int = 10, bound: float = 3.0,
                  kinds: tuple[str, ...] = KINDS,
                  publish: Callable[[], object] | None = None) -> list[StreamResult]:
    """Open ``streams`` concurrent streams of each of ``kinds`` in one Chromium
    (a context per kind) to the server at ``urls`` (`Lab.urls`), wait
    ``bound`` s and return one `StreamResult` per stream. The server must be
    publishing by then: ``publish`` (if given) is called once the pages are
    loaded, just before the streams open."""
    _check(streams, bound, kinds)
    from playwright.async_api import async_playwright

    probes = [_Probe(k, urls[k]) for k in kinds]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(),
                                           args=list(LAUNCH_ARGS), headless=True)
        try:
            opened = await asyncio.gather(*(_open(browser, p) for p in probes))
            if publish is not None:
                publish()
            groups = await asyncio.gather(*(_probe(page, p, streams, bound)
                                            for (_, page), p in zip(opened, probes, strict=True)))
        finally:
            await browser.close()
    return [r for g in groups for r in g]


def _check(streams: int, bound: float, kinds: tuple[str, ...]) -> None:
    if not 1 <= streams <= MAX_STREAMS:
        raise ConfigError(f"streams must be 1..{MAX_STREAMS}, not {streams!r}")
    if not 0.5 <= bound <= 60:
        raise ConfigError(f"bound must be 0.5..60 s, not {bound!r}")
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ConfigError(f"kinds must be among {', '.join(KINDS)}, not {bad or kinds!r}")


def run(streams: int = 10, bound: float = 3.0,
        kinds: tuple[str, ...] = KINDS) -> list[StreamResult]:
    """Start a `Lab` on loopback, publish `RATE` events/s and `measure`; the
    server is stopped before this returns."""
    _check(streams, bound, kinds)
    find_chromium()  # no browser: one line saying how to install one, before any process
    from concurrent.futures import Future, ThreadPoolExecutor

    from .lab import Lab

    with Lab() as lab, ThreadPoolExecutor(1) as pool:
        server = lab.server
        assert server is not None  # the with statement started it
        jobs: list[Future[Any]] = []

        def publish() -> None:
            # Until just after the pages' bound: the publish command then
            # returns by itself and the Lab stops an idle server.
            jobs.append(pool.submit(server.request, "publish", timeout=bound + 60,
                                    schedule="fixed", rate=RATE, duration=bound + 0.5,
                                    payload=64, seed=0))

        results = asyncio.run(measure(lab.urls, streams, bound, kinds, publish))
        for job in jobs:
            job.result(timeout=bound + 60)
        return results


def format_table(results: list[StreamResult], bound: float) -> str:
    """A table: one row per stream index, one column per kind (first event in
    ms or ``stalled``), then per kind the count that got events and what was
    negotiated."""
    kinds = list(dict.fromkeys(r.kind for r in results))
    by = {(r.kind, r.index): r for r in results}
    n = max(r.index for r in results)
    lines = ["stream " + "".join(f"{k:>12}" for k in kinds)]
    for i in range(1, n + 1):
        cells = []
        for k in kinds:
            r = by.get((k, i))
            cells.append("" if r is None else "stalled" if r.stalled else f"{r.first_ms:.0f} ms")
        lines.append(f"{i:>6} " + "".join(f"{c:>12}" for c in cells))
    lines.append("")
    for k in kinds:
        rows = [r for r in results if r.kind == k]
        ok = sum(not r.stalled for r in rows)
        lines.append(f"{k:<10} {ok} of {len(rows)} streams got an event within {bound:g} s; "
                     f"negotiated {rows[0].negotiated}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m wslab.runner.connlimit", description=__doc__
                                .split("\n\n")[0])
    p.add_argument("--streams", type=int, default=10, help="streams per transport (default 10)")
    p.add_argument("--bound", type=float, default=3.0,
                   help="seconds a stream may wait for its first event (default 3)")
    args = p.parse_args(argv)
    try:
        results = run(args.streams, args.bound)
    except ConfigError as exc:
        print(f"wslab connlimit: {exc}", file=sys.stderr)
        return 2
    print(format_table(results, args.bound))
    return 0


if __name__ == "__main__":
    sys.exit(main())
