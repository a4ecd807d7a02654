"""The runs of notebook 11: one `Experiment` whose trials are labelled by what they test.

Three groups of trials share one server and one schedule per repeat (every
trial with the same schedule parameters gets the same seed, so Chromium and
the Python clients see the same Poisson stream):

* ``compare``: each browser transport with ``client="python"`` and
  ``client="chromium"`` (latency, bytes per event, client CPU per delivery);
* ``headers``: short polling from Chromium with a cookie jar of
  `BrowserPlan.cookie_jar` bytes and with the one session cookie the kit's
  replayed profile carries (`SESSION_COOKIE_BYTES`), and the Python client
  replaying that profile (``options={"headers": "browser"}``);
  Chromium without cookies is the ``compare`` trial;
* ``faults``: every browser transport in Chromium with every connection reset
  `BrowserPlan.reset_after_s` after its set-up (``reset_peer``), on a fixed
  schedule (the recovery model's stream).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.paths import runs_dir
from ...core.profiles import PROFILES
from ...experiment import Experiment

__all__ = ["BROWSER_TRANSPORTS", "SESSION_COOKIE_BYTES", "BrowserPlan", "browser_plan",
           "label_of"]

#: transports a page speaks with the browser's own APIs
BROWSER_TRANSPORTS = ("websocket", "sse", "long-poll", "short-poll")
#: the replayed Chromium profile's Cookie value ("session=" and 32 hex digits)
SESSION_COOKIE_BYTES = len(PROFILES["browser"]["Cookie"])


@dataclass(frozen=True)
class BrowserPlan:
    """Sizes of the notebook's runs (`browser_plan` gives quick and full)."""

    transports: tuple[str, ...]
    fault_transports: tuple[str, ...]
    repeats: int
    duration: float
    clients: int = 4
    rate: float = 20.0
    interval: float = 0.25  # short polling's period
    cookie_jar: int = 1_000  # bytes: an illustrative jar, several cookies (COOKIE_CHUNK)
    session_cookie: bool = True  # also the replayed profile's one cookie, for a like-for-like row
    reset_after_s: float = 1.5
    connlimit_streams: int = 8
    connlimit_bound: float = 2.0

    def base(self) -> dict[str, Any]:
        return {"clients": self.clients, "rate": self.rate, "duration": self.duration,
                "interval": self.interval, "warmup": min(0.5, self.duration / 4)}

    def trials(self) -> list[Mapping[str, Any]]:
        """Every trial (its group is told by `label_of`)."""
        out: list[Mapping[str, Any]] = [{"transport": t, "client": c}
                                     for t in self.transports for c in ("python", "chromium")]
        out += [{"transport": "short-poll", "client": "chromium", "cookies": n}
                for n in ((SESSION_COOKIE_BYTES,) * self.session_cookie + (self.cookie_jar,))]
        out.append({"transport": "short-poll", "client": "python",
                    "options": {"headers": "browser"}})
        out += [{"transport": t, "client": "chromium", "schedule": "fixed",
                 "faults": [f"reset_peer:timeout={self.reset_after_s:g}s"]}
                for t in self.fault_transports]
        return out

    def experiment(self, seed: int) -> Experiment:
        return Experiment("11_browsers", trials=self.trials(), base=self.base(),
                          repeats=self.repeats, seed=seed, root=runs_dir() / "11_browsers")

    def runs(self) -> int:
        return len(self.trials()) * self.repeats

    def wall_s(self, browser_s: float = 3.5, python_s: float = 1.5) -> float:
        """Estimated wall time: each run's duration plus start-up and drain (a
        browser's launch, pages and clock alignment cost more), and the
        connection-limit probe."""
        per = [self.duration + (browser_s if t["client"] == "chromium" else python_s)
               for t in self.trials()]
        return sum(per) * self.repeats + self.connlimit_bound + 4


def browser_plan(quick: bool) -> BrowserPlan:
    """Quick: short polling compared, websocket reset, one repeat, 1 s runs
    (indicative only). Full: the four browser transports, three repeats, 4 s runs."""
    if quick:
        return BrowserPlan(transports=("short-poll",), fault_transports=("websocket",),
                           repeats=1, duration=1.0, clients=2, reset_after_s=0.5,
                           session_cookie=False, connlimit_streams=7, connlimit_bound=1.0)
    return BrowserPlan(transports=BROWSER_TRANSPORTS, fault_transports=BROWSER_TRANSPORTS,
                       repeats=3, duration=4.0)


def label_of(row: Any) -> str:
    """The group a trial (its parameters, or a row of the experiment's table)
    belongs to: ``faults``, ``headers`` or ``compare``."""
    faults = row.get("faults")
    if isinstance(faults, list | tuple) and len(faults) or (isinstance(faults, str) and faults):
        return "faults"
    options = row.get("options") if isinstance(row.get("options"), Mapping) else {}
    if row.get("cookies") or "browser" in (row.get("option_headers"), options.get("headers")):
        return "headers"
    return "compare"
