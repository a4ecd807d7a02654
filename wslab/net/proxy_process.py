"""The impairment proxy as a process: a wslab child, or a small command-line tool.

Without arguments, ``python -m wslab.net.proxy_process`` is a child of
wslab's process protocol (`wslab.core.child`, started by
`wslab.core.proc.ChildProcess`, as `wslab.runner.lab` does for a run with
``delay``, ``jitter`` or ``bandwidth``): it runs one `wslab.net.proxy.Proxy`
per upstream (see `_setup`). With arguments it is a command-line tool::

    python -m wslab.net.proxy_process 127.0.0.1:8080 --delay 25ms --jitter 5ms
    python -m wslab.net.proxy_process 127.0.0.1:8080 --toxic outage:at=5s,mode=stall,duration=2s
    python -m wslab.net.proxy_process --help

The child waits for the ``arm`` command before its ``outage`` toxics count
time (so a run can give every process the same instant); the command line
arms at start.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..core.addresses import netloc
from ..core.errors import ConfigError
from .proxy import Proxy
from .toxics import DIRECTIONS, load_toxics, parse_toxics, toxics_from_args
from .units import convert

__all__ = ["main"]


def _proxied_url(proxy: Proxy, target: Any) -> str:
    if isinstance(target, str) and "://" in target:
        return proxy.url_for(target)
    return f"tcp://{netloc(*proxy.address)}"


async def _setup(config: dict[str, Any], channel: Any) -> dict[str, Any]:
    """Config: ``upstreams`` {name: "host:port" or URL}, ``toxics`` (a list for every
    upstream, or {name: list}), ``seed``, optional ``host`` (loopback) and
    ``buffer_limit``. Commands: ``stats`` (``connections=True`` adds rows; ``faults`` lists
    every fault fired, each with its ``proxy`` name, by time), ``arm`` (``start_at_ns``: the
    CLOCK_MONOTONIC instant the ``outage`` toxics count from, default now; every proxy
    of the process gets the same instant), ``stop``."""
    allowed = {"upstreams", "toxics", "seed", "host", "buffer_limit"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ConfigError(f"unknown proxy config key {unknown[0]!r}; allowed: "
                          + ", ".join(sorted(allowed)))
    upstreams = config.get("upstreams")
    if not isinstance(upstreams, dict) or not upstreams:
        raise ConfigError("proxy config needs 'upstreams': {name: 'host:port' or URL}")
    seed = convert("int", config.get("seed", 0), "seed")
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
        faults = sorted(({"proxy": name, **f} for name, s in per.items() for f in s["faults"]),
                        key=lambda f: f["at_ns"])
        return {"proxies": per,
                "bytes_upstream": sum(s["bytes_upstream"] for s in per.values()),
                "bytes_downstream": sum(s["bytes_downstream"] for s in per.values()),
                "faults": faults}

    async def arm(start_at_ns: int | None = None) -> dict[str, Any]:
        if start_at_ns is not None:
            start_at_ns = convert("int", start_at_ns, "arm: start_at_ns")
        start = None
        for proxy in proxies.values():
            start = proxy.arm(start_at_ns if start is None else start)
        return {"armed_at_ns": start}

    async def close() -> dict[str, Any]:
        for proxy in proxies.values():
            await proxy.close()
        return {}

    return {"stats": stats, "arm": arm, "stop": close, "close": close}


async def _serve_cli(args: argparse.Namespace) -> None:
    toxics = toxics_from_args(args.delay, args.jitter, args.bandwidth, args.direction,
                              args.seed, args.distribution)
    toxics += parse_toxics(*args.toxic, seed=args.seed)
    proxy = await Proxy(args.upstream, toxics, listen=(args.host, args.port),
                        seed=args.seed).start()
    print(f"proxying {netloc(*proxy.address)} -> {netloc(*proxy.upstream)}"
          f" ({_proxied_url(proxy, args.upstream)})", flush=True)
    for t in proxy.toxics:
        print(f"  toxic {t}", flush=True)
    proxy.arm()  # the command line has no run to wait for: outage times count from now
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
    parser = argparse.ArgumentParser(prog="python -m wslab.net.proxy_process",
                                     description="TCP impairment proxy (loopback only).")
    parser.add_argument("upstream", help="host:port or URL of the real server")
    parser.add_argument("--host", default="127.0.0.1", help="listen host (loopback)")
    parser.add_argument("--port", type=int, default=0, help="listen port (0: any free)")
    parser.add_argument("--delay", help="one-way delay per direction, e.g. 25ms")
    parser.add_argument("--jitter", help="jitter, e.g. 5ms")
    parser.add_argument("--distribution", default="uniform", choices=("uniform", "normal"))
    parser.add_argument("--bandwidth", help="rate per direction, e.g. 100KB/s, 8Mbit/s")
    parser.add_argument("--direction", default="both", choices=DIRECTIONS)
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
