"""Finding and launching Chromium for browser client fleets (``client="chromium"``).

`find_chromium` is called by `wslab.runner.config.RunConfig.validate`, so a
browser run without a browser stops with one line saying how to install one,
before any process starts. Playwright drives the system's Chromium
(``executable_path``); it never downloads a browser of its own.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

from ..core.errors import ConfigError

__all__ = ["BROWSER_TRANSPORTS", "CLIENTS", "LAUNCH_ARGS", "MAX_PAGES", "PAGE_TRANSPORTS",
           "find_chromium"]

#: who consumes the stream: the kit's Python clients, or pages in Chromium
CLIENTS = ("python", "chromium")
#: transports a browser page speaks with its own APIs (WebSocket, EventSource, fetch)
BROWSER_TRANSPORTS = ("websocket", "sse", "long-poll", "short-poll")
#: transports a browser fleet's page consumes: the browser's own APIs, and
#: Socket.IO through its JavaScript client (vendored, wslab/runner/vendor/)
PAGE_TRANSPORTS = (*BROWSER_TRANSPORTS, "socketio")
#: Pages in one run: each is a browser context with its own renderer process
#: (measured: 20 pages took 1.7 GiB proportional set size, about 85 MiB each,
#: and 5.8 s of CPU in a 10 s run at 50 events/s on 2 cores).
MAX_PAGES = 100
#: names of the browser on PATH, in order; WSLAB_CHROMIUM overrides them
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Flags for a headless browser on a machine that must not reach the Internet:
#: without the background-networking ones Chromium phones home (updates,
#: safe browsing, sync) and fails. --no-sandbox: the kit may run as root,
#: where Chromium's sandbox refuses to start. --disable-quic: HTTP/1.1 over
#: TCP only, so every byte is on a socket the kernel counts.
LAUNCH_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    # The fleet hands the page to the browser itself (Playwright's route), so
    # Chromium cannot know that it came from loopback and would treat the
    # page as public and refuse its connections to 127.0.0.1 (Local Network
    # Access: net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
    "--disable-features=LocalNetworkAccessChecks",
)

_INSTALL = ("install it (Debian/Ubuntu: apt-get install chromium) or set WSLAB_CHROMIUM "
            "to the browser's executable")


def find_chromium() -> str:
    """The Chromium executable to drive: ``$WSLAB_CHROMIUM``, else the first of
    `NAMES` on PATH. Raises `ConfigError` (one line: how to install it) if
    there is none, or if the ``playwright`` package is missing."""
    if importlib.util.find_spec("playwright") is None:
        raise ConfigError("client chromium needs the playwright package: "
                          "pip install playwright (the kit's dependencies list it)")
    given = os.environ.get("WSLAB_CHROMIUM")
    if given:
        if os.path.isfile(given) and os.access(given, os.X_OK):
            return given
        raise ConfigError(f"client chromium: WSLAB_CHROMIUM={given!r} is not an executable "
                          f"file; {_INSTALL}")
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise ConfigError(f"client chromium needs Chromium, and none was found on PATH "
                      f"({', '.join(NAMES)}); {_INSTALL}")
