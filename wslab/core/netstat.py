"""The kernel's machine-wide TCP counters: accept-queue overflows, failed connects.

``read_counters()`` parses ``/proc/net/netstat`` (the ``TcpExt`` line pair,
e.g. ``ListenOverflows``: a SYN or the final ACK arrived at a listener whose
accept queue was full; ``ListenDrops``: every connection request a listener
dropped, overflows included) and ``/proc/net/snmp`` (the ``Tcp`` line pair:
``AttemptFails``, ``EstabResets``, ``ActiveOpens``, ``PassiveOpens``, ...,
RFC 1213's tcp group) into one flat dict ``{"TcpExt.ListenOverflows": n,
...}``. ``delta(before, after)`` is what changed between two readings.

The counters count every socket of the network namespace, not one process:
a delta measures a run only on an otherwise quiet machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["FILES", "STORM_COUNTERS", "delta", "parse_proc_table", "read_counters"]

#: where the counters live (Linux; each file is pairs of header and value lines)
FILES = ("/proc/net/netstat", "/proc/net/snmp")
#: the counters a reconnect storm moves (see the module docstring)
STORM_COUNTERS = ("TcpExt.ListenOverflows", "TcpExt.ListenDrops", "Tcp.AttemptFails",
                  "Tcp.EstabResets", "Tcp.PassiveOpens", "Tcp.ActiveOpens")


def parse_proc_table(text: str, groups: tuple[str, ...] | None = None) -> dict[str, int]:
    """``"Group.Name" -> value`` from the text of a /proc/net/{netstat,snmp} file.

    Each group is two lines, ``Group: name name ...`` then ``Group: value value ...``;
    ``groups`` keeps only those groups (None: all). A value that is not an integer
    (none in current kernels) is skipped."""
    out: dict[str, int] = {}
    lines = [line.split() for line in text.splitlines() if line.strip()]
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        group = names[0].rstrip(":")
        if values[0].rstrip(":") != group or (groups is not None and group not in groups):
            continue
        for name, value in zip(names[1:], values[1:], strict=False):
            try:
                out[f"{group}.{name}"] = int(value)
            except ValueError:
                continue
    return out


def read_counters(files: tuple[str, ...] = FILES) -> dict[str, int]:
    """The ``TcpExt`` and ``Tcp`` counters now, as one dict (`parse_proc_table`)."""
    out: dict[str, int] = {}
    for path in files:
        out.update(parse_proc_table(Path(path).read_text(), groups=("TcpExt", "Tcp")))
    return out


def delta(before: Mapping[str, int], after: Mapping[str, int],
          names: tuple[str, ...] | None = None) -> dict[str, int]:
    """``after - before`` for every counter in both (or only ``names``). Gauges such as
    ``Tcp.CurrEstab`` can go down; counters only up."""
    keys = names if names is not None else tuple(k for k in after if k in before)
    return {k: int(after.get(k, 0)) - int(before.get(k, 0)) for k in keys}
