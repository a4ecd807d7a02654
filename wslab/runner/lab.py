"""Running experiments: `Lab` holds a server process, `run` measures one run.

Theory of operation. A run has five phases, each ended by a reply from a
child process rather than by a sleep; `Lab.run` calls one method per phase
and hands them one `_RunState`:

1. *validate* the parameters (`RunConfig.validate`), before anything exists;
   then `Lab._begin` writes the manifest of a run in progress;
2. *connect* (`Lab._connect`): reset the server's stream, start the proxy if
   the run has network impairments, start the client fleet process(es) and
   wait until every client is connected;
3. *publish* (`Lab._publish`): open the CPU/memory windows and let the
   server emit its open-loop schedule;
4. *drain* (`Lab._drain`): tell the fleets the last seq; each client stops
   once it has it (or a timeout passes) and the fleets write their tables;
5. *commit* (`Lab._commit`): merge the tables, compute the summary, rename
   the run directory into place.

Any failure or Ctrl-C kills the children and removes the partial run.
"""

from __future__ import annotations

import datetime as _dt
import math
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
import pyarrow.parquet as pq

from ..core.addresses import check_loopback
from ..core.child import event_loop_name
from ..core.errors import ConfigError, RunError
from ..core.machine import machine_info, versions
from ..core.paths import runs_dir
from ..core.proc import ChildProcess, timeout_factor
from ..core.tls import TlsMaterial
from ..core.tls import check_version as check_tls_version
from .config import RunConfig
from .store import Run, RunWriter, load
from .summary import summarize

if TYPE_CHECKING:  # pragma: no cover - typing only (scaleout imports distributed)
    from .scaleout import DaskFleets

__all__ = ["Lab", "new_run_id", "run"]


def new_run_id(transport: str) -> str:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{transport}-{secrets.token_hex(3)}"


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class Lab:
    """A server process serving one event stream on every transport.

    >>> with Lab() as lab:                                # doctest: +SKIP
    ...     r = lab.run("websocket", clients=5, rate=200, duration=3)
    ...     print(lab.urls)

    The server binds 127.0.0.1 on ephemeral ports and dies with this process.
    """

    def __init__(self, host: str = "127.0.0.1", history: int = 1_000_000,
                 server_options: dict[str, dict[str, Any]] | None = None,
                 workers: int = 1, tls: str | None = None) -> None:
        self.host = check_loopback(host)
        #: "1.2" or "1.3": every transport serves over TLS (certificates made in start)
        self.tls = check_tls_version(tls)
        self._tls_material: TlsMaterial | None = None
        self.history = history
        self.server_options = server_options or {}
        self.workers = RunConfig(transport="tcp", workers=workers).validate().workers
        self.loop = event_loop_name()  # WSLAB_LOOP, checked before any child starts
        self.server: ChildProcess | None = None  # worker 0
        self.servers: list[ChildProcess] = []  # every worker
        self.urls: dict[str, str] = {}
        self._config: dict[str, Any] = {}  # the server workers' configuration

    def start(self) -> Lab:
        """Start the server worker(s); with several, worker 0 picks the ports
        and the others bind the same ports with SO_REUSEPORT."""
        self._config = {"host": self.host, "history": self.history,
                        "options": self.server_options, "reuse_port": self.workers > 1}
        if self.tls:  # in memory, for this Lab only (wslab.core.tls)
            self._tls_material = TlsMaterial.make(self.tls, self.host)
            self._config["tls"] = self._tls_material.server_config()
        try:
            self.server = ChildProcess("wslab server", "wslab.runner.server", self._config)
            self.servers = [self.server]
            self.urls = self.server.start()["endpoints"]
            self._start_workers(range(1, self.workers))
        except BaseException:
            self.close()
            raise
        return self

    def _start_workers(self, ks: range, replay: dict[str, Any] | None = None) -> None:
        """Start workers ``ks`` on the ports of `urls` (SO_REUSEPORT between workers);
        ``replay``: the schedule of a run in progress, to rebuild the history from."""
        ports = {n: int(u.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
                 for n, u in self.urls.items()}
        for k in ks:
            config = {**self._config, "ports": ports, **({"replay": replay} if replay else {})}
            self.servers.append(ChildProcess(f"wslab server {k}" if k else "wslab server",
                                             "wslab.runner.server", config))
            self.servers[-1].start()
        self.server = self.servers[0]

    def _restart(self, down_s: float, tick: Callable[[], None], **publish: Any) -> dict:
        """The ``server_restart`` fault: SIGKILL every worker (their clients see
        the kernel close the connections), wait ``down_s``, start them again
        on the same ports and let them resume the schedule (``replay``)."""
        killed_ns = time.monotonic_ns()
        for server in self.servers:
            server.kill()
        self.servers = []
        _wait_until(killed_ns + int(down_s * 1e9), tick)
        self._start_workers(range(self.workers), replay=publish)
        # the instant the first worker began to listen, not when its ready
        # reply arrived (late under a herd of reconnecting clients)
        restarted_ns = min(w.ready.get("listen_ns", time.monotonic_ns()) for w in self.servers)
        for server in self.servers:
            server.send("publish", replay=True, **publish)
        return {"killed_ns": killed_ns, "restarted_ns": restarted_ns,
                "pids": [w.pid for w in self.servers]}

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []
        self.server = None

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, transport: str, **params: Any) -> Run:
        """Measure one run; returns the loaded `Run`. See `wslab.run` for parameters."""
        progress = params.pop("progress", None)
        params.setdefault("workers", self.workers)
        cfg = params.pop("config", None) or RunConfig(transport=transport, **params)
        cfg.validate()  # phase 1: validate, before anything exists
        if cfg.tls != self.tls:
            raise ConfigError(f"tls must be {self.tls or 'none'} (this Lab's servers), "
                              f"not {cfg.tls or 'none'}")
        if cfg.workers != self.workers:
            raise ConfigError(f"workers must be {self.workers} (this Lab's server workers), "
                              f"not {cfg.workers}")
        if self.server is None:
            raise RunError("the Lab is not started; use `with Lab() as lab:`")
        out = Path(cfg.out) if cfg.out else runs_dir() / new_run_id(cfg.transport)
        state = _RunState(cfg, RunWriter(out))
        try:
            self._begin(state)
            self._connect(state)
            self._publish(state, progress)
            self._drain(state)
            return self._commit(state)
        except BaseException:
            for child in state.children:
                child.kill()
            state.writer.abort()
            raise
        finally:
            for child in state.children:
                child.stop()

    # -- the phases (theory of operation above) --------------------------------
    def _begin(self, state: _RunState) -> None:
        """Write the manifest of a run in progress (status ``running``)."""
        state.manifest = {
            "run_id": state.writer.final.name,
            "status": "running",
            "parameters": state.cfg.as_dict(),
            "started_at": _utc_now(),
            "versions": versions(),
            "event_loop": self.loop,  # of every child (WSLAB_LOOP)
            "machine": machine_info(),
            "command": sys.argv,
        }
        state.writer.write_manifest(state.manifest)

    def _connect(self, state: _RunState) -> None:
        """Phase 2: reset the servers' stream, start the proxy (if the run has
        toxics) and the fleets, and wait until every client is connected."""
        cfg = state.cfg
        state.rss_before = sum(r["rss_before_clients"] for r in _all(self.servers, "reset"))
        state.url = self.urls[cfg.transport]
        toxics = cfg.toxics()
        if toxics:  # clients reach the server through the impairment proxy
            proxy = ChildProcess("wslab proxy", "wslab.net.proxy_process", {
                "upstreams": {cfg.transport: state.url}, "toxics": toxics, "seed": cfg.seed})
            state.children.append(proxy)
            state.proxy = proxy
            state.url = proxy.start()["endpoints"][cfg.transport]
            state.manifest["netem"] = {"toxics": toxics, "proxied_url": state.url}
        configs, first = [], 0
        for size in _split(cfg.clients, cfg.fleets or 1):
            config = {"transport": cfg.transport, "url": state.url, "clients": size,
                      "first_client": first, "options": cfg.options, "seed": cfg.seed,
                      "tls": (self._tls_material.client_config()
                              if self._tls_material else None)}
            if cfg.client == "chromium":  # cookie jars exist in pages only
                config["cookies"] = cfg.cookies
            configs.append(config)
            first += size
        ready_s = 60 + cfg.clients / 100
        if cfg.dask:  # fleets as tasks on a Dask cluster (wslab.runner.scaleout)
            from .scaleout import DaskFleets

            state.dask = DaskFleets(cfg.dask)
            state.children.append(state.dask)
            state.ramp = state.dask.start(configs, timeout=ready_s * timeout_factor())
        else:
            # client="chromium": pages in a browser (wslab.runner.browser_fleet), same protocol
            module = ("wslab.runner.browser_fleet" if cfg.client == "chromium"
                      else "wslab.runner.fleet")
            state.fleets = [ChildProcess(f"wslab fleet {k}", module, c)
                            for k, c in enumerate(configs)]
            state.children.extend(state.fleets)
            for fleet in state.fleets:  # all start together; readiness is collected after
                fleet.start_async()
            state.ramp = [fleet.wait_ready(timeout=ready_s) for fleet in state.fleets]
            _all(state.fleets, "start")
        state.parts = [(state.writer.part(f"messages-{k}.parquet"),
                        state.writer.part(f"connections-{k}.parquet"))
                       for k in range(len(configs))]

    def _publish(self, state: _RunState, progress: bool | None) -> None:
        """Phase 3: the servers open their CPU/memory windows and emit the
        open-loop schedule; returns when the last event has left."""
        cfg = state.cfg
        bar = _progress(cfg.duration, progress)
        restarts = cfg.restarts()
        # Several workers publish the same seeded schedule from one instant;
        # timed faults (proxy outages, restarts) count from that instant too.
        start_at = (time.monotonic_ns() + 200_000_000
                    if len(self.servers) > 1 or state.proxy or restarts else None)
        publish = {"schedule": cfg.schedule, "rate": cfg.rate, "duration": cfg.duration,
                   "payload": cfg.payload, "seed": cfg.seed, "burst": cfg.burst,
                   "start_at_ns": start_at, "payload_kind": cfg.payload_kind}
        timeout = cfg.duration * 1.5 + 30 + sum(r.down for r in restarts)
        try:
            if state.proxy is not None:
                state.proxy.request("arm", start_at_ns=start_at)
            if not restarts:
                state.pubs = _all(self.servers, "publish", timeout=timeout,
                                  on_tick=bar.tick, **publish)
                return
            for server in self.servers:
                server.send("publish", **publish)
            for r in restarts:
                _wait_until(int(start_at or 0) + int(r.at * 1e9), bar.tick)
                state.restarts.append({"at_s": r.at, "down_s": r.down,
                                       **self._restart(r.down, bar.tick, **publish)})
            state.pubs = [w.receive(timeout, bar.tick if k == 0 else None)
                          for k, w in enumerate(self.servers)]
        finally:
            bar.close()

    def _drain(self, state: _RunState) -> None:
        """Phase 4: tell the fleets the last seq; each writes its tables once its
        clients have it (or a timeout passes). Then the servers' statistics."""
        cfg, published = state.cfg, state.published
        drain_s = max(10.0, 3 * cfg.options.get("interval", 0)) * timeout_factor()
        if state.dask is not None:
            results = state.dask.drain(published, drain_s)
            for (m_path, c_path), r in zip(state.parts, results, strict=True):
                pq.write_table(r["messages"], m_path)
                pq.write_table(r["connections"], c_path)
            state.fleet_stats = [r["stats"] for r in results]
        else:
            for fleet, (m_path, c_path) in zip(state.fleets, state.parts, strict=True):
                fleet.send("drain", last_seq=published, timeout=drain_s,
                           messages=str(m_path), connections=str(c_path))
            state.fleet_stats = [f.receive(timeout=drain_s + 60 + cfg.clients / 50)
                                 for f in state.fleets]
        stats = _all(self.servers, "stats")
        if state.proxy is not None:  # what the proxy's faults did, for the manifest
            state.manifest["faults_fired"] = state.proxy.request("stats").get("faults", [])
        # Peaks of several workers are summed: an upper bound on their joint peak.
        state.server_stats = {k: sum(st[k] for st in stats)
                              for k in ("cpu_s", "rss_start", "rss_end", "rss_peak")}
        state.server_stats["rss_before_clients"] = state.rss_before
        for child in state.children:
            child.stop()

    def _commit(self, state: _RunState) -> Run:
        """Phase 5: merge the fleets' tables, compute the summary and rename the
        run directory into place; returns the run as `load` reads it."""
        cfg, pubs = state.cfg, state.pubs
        start_ns = min(p["start_ns"] for p in pubs)
        end_ns = max(p["end_ns"] for p in pubs)
        messages = pd.concat([pd.read_parquet(m) for m, _ in state.parts], ignore_index=True)
        connections = pd.concat([pd.read_parquet(c) for _, c in state.parts],
                                ignore_index=True)
        summary = summarize(
            messages, connections, published=state.published, clients=cfg.clients,
            publish_start_ns=start_ns, publish_end_ns=end_ns,
            warmup_s=float(cfg.warmup or 0.0), server=state.server_stats,
            fleets=state.fleet_stats,
        )
        summary["ramp_s"] = max(r["ramp_s"] for r in state.ramp)
        summary["client"] = cfg.client
        if cfg.client == "chromium":  # how well page clocks map onto CLOCK_MONOTONIC
            for key in ("clock_alignment_us", "clock_drift_us", "clock_resolution_us"):
                summary[key] = max(f[key] for f in state.fleet_stats)
            summary["browser"] = state.fleet_stats[0]["browser"]
            summary["ws_extensions"] = sorted({e for f in state.fleet_stats
                                               for e in f["ws_extensions"]})
            # the browser's own processes (not Playwright's driver), per delivery
            summary["browser_cpu_s"] = sum(f["browser_cpu_s"] for f in state.fleet_stats)
            summary["browser_cpu_us_per_event"] = (summary["browser_cpu_s"] * 1e6
                                                   / max(summary["delivered"], 1))
            summary["browser_cpu_by_type"] = {
                k: sum(f["browser_cpu_by_type"].get(k, 0.0) for f in state.fleet_stats)
                for k in sorted({k for f in state.fleet_stats for k in f["browser_cpu_by_type"]})}
            summary["cookie_bytes"] = state.fleet_stats[0]["cookie_bytes"]
            summary["http_versions"] = sorted({v for f in state.fleet_stats
                                               for v in f["http_versions"]})
        summary["server_workers"] = len(self.servers)
        summary["live_connections_at_start"] = sum(
            p["live_connections"].get(cfg.transport, 0) for p in pubs)
        state.manifest.update(
            ended_at=_utc_now(),
            publish={"start_ns": start_ns, "end_ns": end_ns},
            endpoint=state.url,
            server_restarts=state.restarts,
            processes={"servers": [w.pid for w in self.servers],
                       "fleets": "dask" if state.dask is not None
                       else [f.pid for f in state.fleets]},
        )
        path = state.writer.commit(state.manifest, summary,
                                   messages if cfg.keep_messages else None, connections)
        return load(path)


class _Child(Protocol):
    """What the Lab stops or kills when a run ends: a child process or Dask fleets."""

    def stop(self) -> None: ...

    def kill(self) -> None: ...


@dataclass
class _RunState:
    """One run in progress, handed from phase to phase."""

    cfg: RunConfig
    writer: RunWriter
    children: list[_Child] = field(default_factory=list)  # fleets, proxy: stopped at the end
    manifest: dict[str, Any] = field(default_factory=dict)
    url: str = ""  # where the clients connect (the proxy's, with toxics)
    proxy: ChildProcess | None = None  # the impairment proxy, if the run has toxics
    restarts: list[dict[str, Any]] = field(default_factory=list)  # server_restart faults done
    rss_before: int = 0  # server RSS before any client connected
    fleets: list[ChildProcess] = field(default_factory=list)  # local fleet processes
    dask: DaskFleets | None = None  # or fleets as Dask tasks
    ramp: list[dict[str, Any]] = field(default_factory=list)  # each fleet's readiness
    parts: list[tuple[Path, Path]] = field(default_factory=list)  # each fleet's tables
    pubs: list[dict[str, Any]] = field(default_factory=list)  # each worker's publish reply
    fleet_stats: list[dict[str, Any]] = field(default_factory=list)
    server_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def published(self) -> int:
        """Events published (every worker publishes the same schedule)."""
        return int(self.pubs[0]["published"])


def _all(children: list[ChildProcess], cmd: str, timeout: float = 30.0,
         on_tick: Callable[[], None] | None = None, **args: Any) -> list[dict[str, Any]]:
    """Send one command to several children at once, then collect every reply."""
    for child in children:
        child.send(cmd, **args)
    return [child.receive(timeout, on_tick if k == 0 else None)
            for k, child in enumerate(children)]


def _wait_until(deadline_ns: int, tick: Callable[[], None]) -> None:
    """Sleep until CLOCK_MONOTONIC reaches ``deadline_ns``, ticking the progress bar."""
    while (left := deadline_ns - time.monotonic_ns()) > 0:
        time.sleep(min(left / 1e9, 0.1))
        tick()


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (k < extra) for k in range(parts)]


class _progress:
    """A tqdm bar over the publishing window, for runs longer than 2 s."""

    def __init__(self, duration: float, enabled: bool | None) -> None:
        self._time = time.monotonic
        self._t0 = self._time()
        self._bar = None
        if enabled or (enabled is None and duration > 2):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=math.ceil(duration), unit="s", desc="publishing",
                             leave=False, bar_format="{l_bar}{bar}| {n:.1f}/{total} s")

    def tick(self) -> None:
        if self._bar is not None:
            done = min(self._time() - self._t0, self._bar.total)
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run(transport: str, *, clients: int = 1, rate: float = 10.0, duration: float = 5.0,
        payload: int = 64, schedule: str = "poisson", seed: int = 0,
        interval: float | None = None, out: str | None = None, progress: bool | None = None,
        **params: Any) -> Run:
    """Measure one run of ``transport`` in a fresh server and return it.

    ``clients`` simulated clients each receive an open-loop event stream of
    ``rate`` events/s (``schedule``: fixed, poisson or burst) for ``duration``
    seconds with ``payload`` bytes each. ``interval`` is the short-poll
    period. Other keywords: ``warmup`` (s left out of latency statistics),
    ``fleets`` (client processes), ``burst``, ``options`` (transport client
    options, e.g. ``{"compression": True}`` for websocket). The run is written
    to ``out`` (default ``data/runs/<run-id>``). Raises `ConfigError` for bad
    input before anything starts.
    """
    cfg = RunConfig(transport=transport, clients=clients, rate=rate, duration=duration,
                    payload=payload, schedule=schedule, seed=seed, interval=interval,
                    out=out, **params).validate()
    with Lab(host=cfg.host, workers=cfg.workers, tls=cfg.tls) as lab:
        return lab.run(transport, config=cfg, progress=progress)

