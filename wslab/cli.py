"""The ``wslab`` command (also ``python -m wslab``).

    wslab run TRANSPORT --clients N --rate HZ --duration S --payload B
              [--interval S] [--schedule fixed|poisson|burst] [--seed K] [--out DIR]
    wslab serve [--host 127.0.0.1] [--rate HZ] [--duration S] [--payload B]
    wslab sweep SPEC.toml [--out DIR] [--quiet]
    wslab transports

Bad input prints one line naming what is allowed and exits with status 2,
before any process, file or directory is created.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, NoReturn

from .core.errors import ConfigError, WslabError

__all__ = ["format_summary", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, status 2
        self.exit(2, f"wslab: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="wslab", description="Polling versus push, measured on loopback.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="measure one run and write it to the run store")
    r.add_argument("transport", help="tcp, websocket, sse, long-poll or short-poll")
    r.add_argument("--clients", type=int, default=1, help="simulated clients (default 1)")
    r.add_argument("--rate", type=float, default=10.0, help="events per second (default 10)")
    r.add_argument("--duration", type=float, default=5.0, help="seconds of publishing (default 5)")
    r.add_argument("--payload", type=int, default=64, help="payload bytes per event (default 64)")
    r.add_argument("--interval", type=float, help="short-poll interval in seconds (default 1)")
    r.add_argument("--schedule", default="poisson", help="fixed, poisson (default) or burst")
    r.add_argument("--burst", type=int, default=10, help="events per burst (schedule burst)")
    r.add_argument("--seed", type=int, default=0, help="seed of the schedule and payloads")
    r.add_argument("--warmup", type=float, help="seconds left out of latency statistics")
    r.add_argument("--fleets", type=int, help="client processes (default one per 5,000)")
    r.add_argument("--workers", type=int, default=1,
                   help="server processes sharing the ports (SO_REUSEPORT, default 1)")
    r.add_argument("--dask", help="run the fleets as tasks on this Dask scheduler (loopback)")
    r.add_argument("--timeout", type=float, help="long-poll hold timeout in seconds (default 30)")
    r.add_argument("--ping", type=float, help="SSE keep-alive comment interval (default 15 s)")
    r.add_argument("--compression", action="store_true", help="websocket permessage-deflate")
    r.add_argument("--delay", help="one-way network delay each direction, e.g. 25ms (netem proxy)")
    r.add_argument("--jitter", help="jitter on the delay, e.g. 5ms (seeded)")
    r.add_argument("--bandwidth", help="bandwidth each direction per connection, e.g. 1MB/s")
    r.add_argument("--fault", action="append", default=[], metavar="SPEC",
                   help="a fault, repeatable: a proxy toxic (reset_peer:timeout=2s, "
                        "outage:at=5s,duration=1s,mode=reset, strip_upgrade, buffer) or "
                        "server_restart:at=5s,down=1s")
    r.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="a transport client option, repeatable, e.g. backoff_jitter=none "
                        "(numbers and true/false are read as such)")
    r.add_argument("--tls", choices=("1.2", "1.3"),
                   help="every transport over TLS (wss, https, tls; certificates in memory)")
    r.add_argument("--history", type=int,
                   help="events the server keeps for resuming clients (default 1,000,000)")
    r.add_argument("--out", help="run directory (new or empty; default data/runs/<id>)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--client", default="python",
                   help="python (default) or chromium: pages in a headless Chromium")

    s = sub.add_parser("serve", help="start the server and its live page (open it in a browser)",
                       description="Serves one event stream on every transport and, on the "
                       "root URL it prints, a live page showing the browser transports side "
                       "by side (events, loss, latency, payload bytes) with publish controls.")
    s.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    s.add_argument("--rate", type=float, default=1.0,
                   help="events per second at start (default 1, at most 1,000)")
    s.add_argument("--duration", type=float, default=3600.0,
                   help="seconds to publish and serve (default and at most 3,600)")
    s.add_argument("--payload", type=int, default=64, help="payload bytes (at most 65,536)")

    w = sub.add_parser("sweep", help="run an experiment (grid x repeats) described in TOML",
                       description="SPEC.toml holds `name`, `repeats`, `seed`, a [base] table "
                       "of shared parameters and a [grid] table of lists (or [[grid]] tables: "
                       "a conditional grid). Completed trials are reused.")
    w.add_argument("spec", help="experiment description (TOML)")
    w.add_argument("--out", help="folder of the trial runs (default data/runs/<name>)")
    w.add_argument("--quiet", action="store_true", help="no progress bar")

    sub.add_parser("transports", help="list the transports")
    return p


def _run_config(args: argparse.Namespace):
    from .runner.config import RunConfig

    options: dict[str, Any] = {}
    for name in ("timeout", "ping"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.compression:
        options["compression"] = True
    for item in args.option:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ConfigError(f"--option takes NAME=VALUE (e.g. backoff_jitter=none), not {item!r}")
        options[name.strip()] = _option_value(value.strip())
    return RunConfig(
        transport=args.transport, clients=args.clients, rate=args.rate,
        duration=args.duration, payload=args.payload, schedule=args.schedule,
        seed=args.seed, interval=args.interval, burst=args.burst, warmup=args.warmup,
        fleets=args.fleets, options=options, out=args.out,
        delay=args.delay, jitter=args.jitter, bandwidth=args.bandwidth,
        workers=args.workers, dask=args.dask, faults=args.fault, client=args.client,
        tls=args.tls,
    ).validate()


def _option_value(text: str) -> Any:
    """``true``/``false``, an int, a float, or the text itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def format_summary(run) -> str:
    """A one-screen text summary of a run."""
    s, p = run.summary, run.manifest["parameters"]
    lat = s["latency_us"]
    extra = f", interval {p['interval']:g} s" if p.get("interval") else ""
    if p.get("tls"):
        extra += f", over TLS {p['tls']}"
    if p.get("delay"):
        extra += f", delay {p['delay'] * 1e3:g} ms each way"
        extra += f" ± {p['jitter'] * 1e3:g} ms" if p.get("jitter") else ""
    lines = [
        f"run       {run.path}",
        f"setup     {p['transport']}: {p['clients']} clients, {p['rate']:g} events/s "
        f"({p['schedule']}), {p['duration']:g} s, {p['payload']} B payload{extra}",
        f"events    published {s['published']:,}  expected {s['expected']:,}  "
        f"delivered {s['delivered']:,}  lost {s['lost']:,}  duplicated {s['duplicated']:,}",
        f"latency   one-way, µs (after {s['warmup_s']:g} s warm-up, "
        f"{s['latency_count']:,} deliveries)",
        "          p50 {p50:,.0f}  p90 {p90:,.0f}  p99 {p99:,.0f}  p99.9 {p999:,.0f}  "
        "max {max:,.0f}  mean {mean:,.0f}".format(**lat),
        f"bytes     up {s['bytes_up']:,}  down {s['bytes_down']:,}  "
        f"(kernel TCP_INFO, handshakes included, close excluded)",
        f"per event up {s['bytes_up_per_event']:,.1f} B  down {s['bytes_down_per_event']:,.1f} B  "
        f"requests {s['requests_per_event']:.3f}",
        f"requests  {s['requests']:,} on {s['connections']:,} connections, "
        f"{s['empty_responses']:,} empty",
        f"cpu       server {s['server_cpu_s']:.2f} s ({s['server_cpu_us_per_event']:.1f} µs per "
        f"delivery)  clients {s['client_cpu_s']:.2f} s",
        f"memory    server RSS peak {s['server_rss_peak_bytes'] / 2**20:,.1f} MiB, "
        f"{s['server_rss_per_client_bytes'] / 1024:,.1f} KiB per connected client "
        f"({s['server_workers']} worker(s)); clients connected in {s['ramp_s']:.1f} s",
    ]
    if "clock_alignment_us" in s:
        lines.append(f"clock     {s['browser']} page clocks on CLOCK_MONOTONIC within "
                     f"±{s['clock_alignment_us']:,.0f} µs (drift {s['clock_drift_us']:,.0f} µs)")
    if s.get("reconnects") or s.get("lost_range_count"):
        rec = s.get("recovery_ms") or {}
        lines.append(
            f"faults    {s['reconnects']:,} reconnects, {s['failed_attempts']:,} failed "
            f"attempts, {s['reconnect_bytes']:,} B of handshakes; recovery p50 "
            f"{rec.get('p50', float('nan')):,.0f} ms, max {rec.get('max', float('nan')):,.0f} ms;"
            f" {s['fault_delayed_events']:,} deliveries delayed")
    if s.get("lost_range_count"):
        shown = ", ".join(f"{a}-{b} ({n} clients)" for a, b, n in s["lost_ranges"][:5])
        lines.append(f"lost seqs {shown}"
                     + (f" and {s['lost_range_count'] - 5} more ranges"
                        if s["lost_range_count"] > 5 else ""))
    if s["stalled_clients"] or s["client_errors"]:
        lines.append(f"warning   {s['stalled_clients']} clients stalled, "
                     f"{s['client_errors']} client errors")
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    cfg = _run_config(args)
    from .runner.lab import Lab

    history = 1_000_000 if args.history is None else args.history
    if history < 1:
        raise ConfigError(f"history must be at least 1 event, not {history}")
    with Lab(host=cfg.host, workers=cfg.workers, history=history, tls=cfg.tls) as lab:
        run = lab.run(cfg.transport, config=cfg, progress=False if args.quiet else None)
    print(format_summary(run))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from .runner.config import check_loopback
    from .runner.lab import Lab
    from .runner.live import LivePage, check_publish, cors_options

    host = check_loopback(args.host)
    rate, payload, duration = check_publish(args.rate, args.payload, args.duration)
    page = LivePage(host)  # bound first: the HTTP transports let its origin read them
    try:
        with Lab(host=host, server_options=cors_options(page.origin)) as lab:
            print("wslab server: one event stream on every transport (Ctrl-C to stop)")
            for name, url in lab.urls.items():
                print(f"  {name:<11} {url}")
            print(f"live page: {page.url} (open it in a browser)")
            print(f"publishing {rate:g} events/s for {duration:g} s", flush=True)
            server = lab.server
            assert server is not None  # the with statement started it
            asyncio.run(page.serve(server.request, lab.urls, rate, payload, duration))
    finally:
        page.close()
    return 0


def _fmt_float(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


SWEEP_KEYS = ("name", "repeats", "seed", "base", "grid", "trials")


def _sweep_experiment(spec_path: str, out: str | None):
    import tomllib
    from pathlib import Path

    from .experiment import Experiment

    path = Path(spec_path)
    try:
        spec = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {spec_path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{spec_path} is not valid TOML: {exc}") from None
    unknown = [k for k in spec if k not in SWEEP_KEYS]
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)} in {spec_path}; "
                          f"allowed: {', '.join(SWEEP_KEYS)}")
    return Experiment(spec.get("name", path.stem), grid=spec.get("grid"),
                      repeats=spec.get("repeats", 1), base=spec.get("base"), root=out,
                      seed=spec.get("seed", 0), trials=spec.get("trials"))


def _cmd_sweep(args: argparse.Namespace) -> int:
    import pandas as pd

    exp = _sweep_experiment(args.spec, args.out)
    df = exp.run(progress=not args.quiet)
    cols = ["trial", *[k for k in exp.keys if k in df], "repeat", "seed", "published",
            "delivered", "lost", "duplicated", "latency_p50_us", "latency_p99_us",
            "bytes_down_per_event", "requests_per_event", "reused"]
    cols = list(dict.fromkeys(c for c in cols if c in df))
    with pd.option_context("display.width", 200, "display.max_columns", None,
                           "display.max_rows", None, "display.float_format", _fmt_float):
        print(df[cols].to_string(index=False))
    print(f"{len(df)} trials ({int(df.reused.sum())} reused) in {exp.root}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # SIGTERM behaves like Ctrl-C: children are stopped and partial runs removed.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if args.command == "transports":
            from .transports import get, names

            for name in names():
                print(f"{name:<11} {get(name).description}")
            return 0
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "sweep":
            return _cmd_sweep(args)
        return _cmd_serve(args)
    except ConfigError as exc:
        print(f"wslab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wslab: interrupted; no run was written", file=sys.stderr)
        return 130
    except WslabError as exc:
        print(f"wslab: {exc}", file=sys.stderr)
        return 1
