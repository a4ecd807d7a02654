"""Durations, rates and sizes with units, as the impairment proxy reads them.

`parse_delay` (seconds), `parse_rate` (bytes per second) and `parse_size`
(bytes) read run parameters such as ``--delay 25ms --bandwidth 1MB/s``;
`convert` reads a toxic's attributes in Toxiproxy's units (ms, KB/s) and
checks probabilities, integers and choices. Every error is a `ConfigError`
that names what is allowed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..core.errors import ConfigError

__all__ = ["RATE_UNITS", "SIZE_UNITS", "TIME_UNITS", "convert", "parse_delay", "parse_rate",
           "parse_size"]

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*?)\s*$")
#: unit -> seconds
TIME_UNITS = {"us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0}
#: unit -> bytes per second (1 KB = 1000 B, 1 KiB = 1024 B; bits are 1/8 byte)
RATE_UNITS = {
    "B/s": 1.0, "KB/s": 1e3, "kB/s": 1e3, "KiB/s": 1024.0, "MB/s": 1e6, "MiB/s": 2.0**20,
    "GB/s": 1e9, "GiB/s": 2.0**30,
    "bit/s": 1 / 8, "kbit/s": 1e3 / 8, "Kbit/s": 1e3 / 8, "Mbit/s": 1e6 / 8, "Gbit/s": 1e9 / 8,
    "bps": 1 / 8, "kbps": 1e3 / 8, "Kbps": 1e3 / 8, "Mbps": 1e6 / 8, "Gbps": 1e9 / 8,
}  # fmt: skip
#: unit -> bytes
SIZE_UNITS = {"B": 1, "KB": 1000, "kB": 1000, "KiB": 1024, "MB": 10**6, "MiB": 2**20}


def _split_number(text: str, what: str) -> tuple[float, str]:
    m = _NUMBER.match(text)
    if not m:
        raise ConfigError(f"{what}: cannot read {text!r} as a number with an optional unit")
    return float(m.group(1)), m.group(2)


def _finite_non_negative(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{what}: expected a number, got {value!r}")
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ConfigError(f"{what}: must be finite, got {value!r}")
    if value < 0:
        raise ConfigError(f"{what}: must not be negative, got {value!r}")
    return value


def _with_unit(value: Any, units: dict[str, float], bare: float | None, what: str) -> float:
    """``value`` as a number in base units; ``bare`` scales unit-less numbers (None: refused)."""
    if isinstance(value, str):
        number, unit = _split_number(value, what)
        if unit:
            if unit not in units:
                raise ConfigError(f"{what}: unknown unit {unit!r} in {value!r}; allowed: "
                                  + ", ".join(units))
            scale = units[unit]
        elif bare is None and number != 0:
            raise ConfigError(f"{what}: {value!r} needs a unit; allowed: " + ", ".join(units))
        else:
            scale = bare or 1.0
        return _finite_non_negative(number, what) * scale
    return _finite_non_negative(value, what) * (bare or 1.0)


def parse_delay(value: str | float) -> float:
    """A duration in seconds: ``"25ms"`` → 0.025, ``"1.5s"``, ``"250us"``; numbers are seconds.

    A string needs a unit (``us``, ``ms``, ``s``) unless it is ``"0"``.
    """
    return _with_unit(value, TIME_UNITS, None, "delay")


def parse_rate(value: str | float) -> float:
    """A rate in bytes per second: ``"100KB/s"`` → 100,000 (1 KB = 1000 B), ``"8Mbit/s"``,
    ``"1MiB/s"``; numbers are bytes per second. A string needs a unit unless it is ``"0"``."""
    return _with_unit(value, RATE_UNITS, None, "rate")


def parse_size(value: str | int) -> int:
    """A byte count: ``"64KiB"``, ``"1MB"``, ``"1500B"``, or an integer."""
    size = _with_unit(value, SIZE_UNITS, 1.0, "size")
    if size != int(size):
        raise ConfigError(f"size: {value!r} is not a whole number of bytes")
    return int(size)


def convert(kind: Any, value: Any, what: str) -> Any:
    """``value`` read as ``kind``; errors name ``what``. The kinds:

    - ``"ms"``: milliseconds; a number is ms, a string may carry a unit (``"2s"``, ``"250us"``)
    - ``"kBps"``: KB/s as in Toxiproxy (1 KB = 1000 B); a string may carry a unit (``"1MB/s"``)
    - ``"size"``: bytes; a string may carry a unit (``"64KiB"``)
    - ``"prob"``: a probability, 0 to 1
    - ``"int"``: an integer (``"3"`` and ``3.0`` are 3)
    - a tuple: one of its values
    """
    if kind == "ms":
        if isinstance(value, str) and _split_number(value, what)[1]:
            return _with_unit(value, TIME_UNITS, None, what) * 1e3
        return _with_unit(value, TIME_UNITS, 1.0, what)
    if kind == "kBps":
        if isinstance(value, str) and _split_number(value, what)[1]:
            return _with_unit(value, RATE_UNITS, None, what) / 1e3
        return _with_unit(value, RATE_UNITS, 1.0, what)
    if kind == "size":
        return parse_size(value)
    if kind == "prob":
        p = _with_unit(value, {}, 1.0, what)
        if p > 1:
            raise ConfigError(f"{what}: must be between 0 and 1, got {value!r}")
        return p
    if kind == "int":
        try:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{what}: expected an integer, got {value!r}") from None
    if isinstance(kind, tuple):  # a choice
        if value not in kind:
            raise ConfigError(f"{what}: {value!r} is not allowed; allowed: {', '.join(kind)}")
        return value
    raise AssertionError(kind)
