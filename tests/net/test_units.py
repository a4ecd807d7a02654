"""Durations, rates and sizes with units (wslab.net.units)."""

from __future__ import annotations

import pytest

from wslab.net.units import convert, parse_delay, parse_rate, parse_size


def test_parse_delay_and_rate():
    assert parse_delay("25ms") == pytest.approx(0.025)
    assert parse_delay("1.5s") == pytest.approx(1.5)
    assert parse_delay("250us") == pytest.approx(250e-6)
    assert parse_delay(0.01) == pytest.approx(0.01)
    assert parse_delay("0") == 0
    assert parse_rate("100KB/s") == pytest.approx(100_000)
    assert parse_rate("8Mbit/s") == pytest.approx(1_000_000)
    assert parse_rate("1MiB/s") == pytest.approx(2**20)



def test_parse_size_and_convert():
    assert parse_size("64KiB") == 65536
    assert parse_size("1MB") == 1_000_000
    assert parse_size(1500) == 1500
    assert convert("ms", "2s", "t") == pytest.approx(2000)
    assert convert("ms", 25, "t") == 25  # a bare number is ms
    assert convert("kBps", "1MB/s", "r") == pytest.approx(1000)
    assert convert("int", "3", "seed") == 3
    assert convert(("uniform", "normal"), "normal", "d") == "normal"


@pytest.mark.parametrize("make, message", [
    (lambda: parse_delay("25"), r"needs a unit; allowed: us, µs, μs, ms, s"),
    (lambda: parse_delay("25 parsecs"), r"unknown unit 'parsecs'"),
    (lambda: parse_delay("soon"), r"cannot read 'soon' as a number"),
    (lambda: parse_delay(float("inf")), r"must be finite"),
    (lambda: parse_size("1.5B"), r"not a whole number of bytes"),
    (lambda: convert("prob", 2, "toxicity"), r"between 0 and 1"),
    (lambda: convert("int", 1.5, "seed"), r"expected an integer"),
])
def test_bad_units_are_refused_with_a_clear_message(make, message):
    with pytest.raises(ValueError, match=message):
        make()
