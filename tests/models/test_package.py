"""wslab.models as a package: every public name importable from it and documented,
bad input to any model raising ConfigError (a ValueError)."""

from __future__ import annotations

import pytest

from wslab import models as m
from wslab.core.errors import ConfigError


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: m.short_poll_latency_mean(0), "interval must be positive"),
        (lambda: m.short_poll_latency_mean(-1.0), "interval must be positive"),
        (lambda: m.short_poll_latency_mean(1.0, transit=-0.1), "transit must be non-negative"),
        (lambda: m.short_poll_latency_quantile(1.5, 1.0), r"q must lie in \[0, 1\]"),
        (lambda: m.short_poll_latency_quantile(-0.1, 1.0), r"q must lie in \[0, 1\]"),
        (lambda: m.short_poll_latency_cdf(float("nan"), 1.0), "x must not be NaN"),
        (lambda: m.empty_poll_fraction(1.0, -1.0), "rate must be non-negative"),
        (lambda: m.events_per_poll(float("inf"), 1.0), "interval must be positive and finite"),
        (lambda: m.polls_per_second(-1, 1.0), "clients must be non-negative"),
        (lambda: m.polling_header_bandwidth(1, 1.0, -5), "header_bytes must be non-negative"),
        (lambda: m.long_poll_latency_bounds(-0.01), "transit must be non-negative"),
        (lambda: m.long_poll_events_per_response(1, 0.01, -1), "server_time must be"),
        (lambda: m.long_poll_mean_latency(-1, 0.01), "rate must be non-negative"),
        (lambda: m.push_latency(-1), "transit must be non-negative"),
        (lambda: m.kaazing_bandwidth(-1, 871), "clients must be non-negative"),
        (lambda: m.kaazing_table(clients=[1, -1]), "clients must be non-negative"),
        (lambda: m.tcpip_bytes(10, -1), "segments must be non-negative"),
        (lambda: m.short_poll_latency_mean("abc"), "interval must be a real number"),
    ],
)
def test_invalid_inputs_raise_config_error(call, match):
    # the kit's own error, which is a ValueError as well
    with pytest.raises(ConfigError, match=match):
        call()
    with pytest.raises(ValueError, match=match):
        call()


def test_all_exports_exist_and_public_functions_documented():
    assert m.__doc__
    for name in m.__all__:
        obj = getattr(m, name)
        if callable(obj):
            assert obj.__doc__, name
