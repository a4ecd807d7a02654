"""The kernel byte counters (TCP_INFO) against a tcpdump capture of the same run.

For each transport: one run of N clients (default: 5 clients, 200 events/s,
3 s, Poisson), captured on the loopback interface. Prints the run's
bytes_up / bytes_down beside the TCP payload bytes the capture saw each way,
and their ratio. The counters include the WebSocket close handshake (read
after it) and leave out FINs, which carry no payload. Needs tcpdump and root.

    .venv/bin/python benchmarks/capture_check.py [--clients 5 --rate 200 --duration 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import wslab
from wslab.net.capture import Capture, tcpdump_available


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=5)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--interval", type=float, default=0.2, help="short-poll interval")
    args = ap.parse_args()
    if not tcpdump_available():
        print("tcpdump is not available; install it (apt-get install tcpdump) and run as root")
        return 1
    print(f"{'transport':<11} {'bytes_up':>9} {'captured':>9} {'ratio':>6}   "
          f"{'bytes_down':>10} {'captured':>10} {'ratio':>6}   lost dup")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp, wslab.Lab() as lab:
        for name in wslab.transport_names():
            port = int(lab.urls[name].rsplit(":", 1)[1].split("/")[0])
            extra = {"interval": args.interval} if name == "short-poll" else {}
            with Capture(port) as cap:
                run = lab.run(name, clients=args.clients, rate=args.rate,
                              duration=args.duration, out=f"{tmp}/{name}", progress=False,
                              **extra)
            s, r = run.summary, cap.result
            up = r.bytes_to_server / max(s["bytes_up"], 1)
            down = r.bytes_from_server / max(s["bytes_down"], 1)
            worst = max(worst, abs(up - 1), abs(down - 1))
            print(f"{name:<11} {s['bytes_up']:>9,} {r.bytes_to_server:>9,} {up:>6.3f}   "
                  f"{s['bytes_down']:>10,} {r.bytes_from_server:>10,} {down:>6.3f}   "
                  f"{s['lost']:>4} {s['duplicated']:>3}")
    print("ratios = captured / counted (TCP payload bytes each way)")
    print(f"largest difference: {worst:.2%}  "
          f"target <= 2%  {'ok' if worst <= 0.02 else 'MISS'}")
    print("command: " + " ".join([sys.executable.rsplit('/', 1)[-1], *sys.argv]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
