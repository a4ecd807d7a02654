"""Tests for wslab.models against hand-computed values (arithmetic in comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wslab import models as m
from wslab.core.errors import ConfigError

# ---------------------------------------------------------------------------
# 1. Short polling
# ---------------------------------------------------------------------------


def test_short_poll_latency_mean_hand_value():
    # T/2 + transit = 0.2/2 + 0.001 = 0.1 + 0.001 = 0.101
    assert m.short_poll_latency_mean(0.2, transit=0.001) == pytest.approx(0.101)
    # transit defaults to 0: 1.0/2 = 0.5
    assert m.short_poll_latency_mean(1.0) == pytest.approx(0.5)


def test_short_poll_latency_mean_scalar_returns_float_array_returns_array():
    assert isinstance(m.short_poll_latency_mean(0.2), float)
    out = m.short_poll_latency_mean(np.array([0.2, 1.0]), transit=0.01)
    # [0.1 + 0.01, 0.5 + 0.01] = [0.11, 0.51]
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [0.11, 0.51])


def test_short_poll_latency_quantile_hand_values():
    # q*T + transit with T=0.2, transit=0.001: q=0 -> 0.001, q=0.5 -> 0.101, q=1 -> 0.201
    out = m.short_poll_latency_quantile(np.array([0.0, 0.5, 1.0]), 0.2, transit=0.001)
    np.testing.assert_allclose(out, [0.001, 0.101, 0.201])
    # median equals the mean for a uniform wait
    assert m.short_poll_latency_quantile(0.5, 0.2, 0.001) == pytest.approx(
        m.short_poll_latency_mean(0.2, 0.001)
    )


def test_short_poll_latency_cdf_hand_values_and_clipping():
    # F(x) = clip((x - transit)/T, 0, 1); T=0.2, transit=0.001
    # x=0      -> (0-0.001)/0.2 < 0 -> 0
    # x=0.051  -> 0.05/0.2 = 0.25
    # x=0.101  -> 0.1/0.2 = 0.5
    # x=0.201  -> 0.2/0.2 = 1
    # x=5      -> > 1 -> 1
    x = np.array([0.0, 0.051, 0.101, 0.201, 5.0])
    np.testing.assert_allclose(m.short_poll_latency_cdf(x, 0.2, transit=0.001), [0, 0.25, 0.5, 1, 1])


def test_short_poll_cdf_inverts_quantile():
    q = np.linspace(0, 1, 11)
    x = m.short_poll_latency_quantile(q, 0.3, transit=0.02)
    np.testing.assert_allclose(m.short_poll_latency_cdf(x, 0.3, transit=0.02), q, atol=1e-12)


def test_short_poll_model_matches_simulated_uniform_phase():
    # Events at uniform phase: latency = U*T + transit; sample mean -> T/2 + transit.
    rng = np.random.default_rng(1)
    t, transit = 0.2, 0.001
    samples = rng.uniform(0, t, 200_000) + transit
    assert samples.mean() == pytest.approx(m.short_poll_latency_mean(t, transit), rel=5e-3)
    # ECDF at the model's 90th percentile (0.9*0.2 + 0.001 = 0.181) is ~0.9
    assert np.mean(samples <= 0.181) == pytest.approx(0.9, abs=5e-3)


def test_empty_poll_fraction_hand_values():
    # lambda*T = 2 * 0.5 = 1 -> exp(-1) = 0.36787944...
    assert m.empty_poll_fraction(0.5, 2.0) == pytest.approx(math.exp(-1))
    assert m.empty_poll_fraction(0.5, 2.0) == pytest.approx(0.36787944, rel=1e-7)
    # no events at all -> every poll is empty: exp(0) = 1
    assert m.empty_poll_fraction(1.0, 0.0) == 1.0
    # lambda*T = 10 * 1 = 10 -> exp(-10) = 4.54e-5
    assert m.empty_poll_fraction(1.0, 10.0) == pytest.approx(4.539992976e-5)


def test_events_per_poll_hand_values():
    # lambda*T = 2 * 0.5 = 1; 100 * 0.2 = 20
    assert m.events_per_poll(0.5, 2.0) == pytest.approx(1.0)
    assert m.events_per_poll(0.2, 100.0) == pytest.approx(20.0)


# ---------------------------------------------------------------------------
# 2. Request load
# ---------------------------------------------------------------------------


def test_short_poll_requests_per_event_hand_values():
    # 1 / (λT): 1 / (10 * 0.05) = 2 requests per event; 1 / (100 * 1) = 0.01
    assert m.short_poll_requests_per_event(0.05, 10) == pytest.approx(2.0)
    assert m.short_poll_requests_per_event(1.0, 100) == pytest.approx(0.01)
    # the inverse of the events one poll carries, at every λT
    T = np.array([0.01, 0.1, 1.0, 5.0])
    np.testing.assert_allclose(m.short_poll_requests_per_event(T, 3.0),
                               1 / m.events_per_poll(T, 3.0))
    # and (polls per second of one client) / (events per second), exactly
    assert m.short_poll_requests_per_event(0.2, 7.0) == pytest.approx(
        m.polls_per_second(1, 0.2) / 7.0)
    with pytest.raises(ConfigError, match="rate must be positive"):
        m.short_poll_requests_per_event(0.1, 0.0)


def test_polls_per_second_and_header_bandwidth():
    # N/T = 1000 / 0.5 = 2000 requests/s
    assert m.polls_per_second(1000, 0.5) == pytest.approx(2000.0)
    # 2000 * 871 = 1,742,000 bytes/s
    assert m.polling_header_bandwidth(1000, 0.5, 871) == pytest.approx(1_742_000.0)
    # vectorised over clients: [10, 100] / 2 * 500 = [2500, 25000]
    np.testing.assert_allclose(m.polling_header_bandwidth([10, 100], 2.0, 500), [2500, 25000])
    # zero clients -> zero load
    assert m.polls_per_second(0, 1.0) == 0.0


# ---------------------------------------------------------------------------
# 3. Long polling
# ---------------------------------------------------------------------------


def test_long_poll_bounds_are_one_and_three_transits():
    b = m.long_poll_latency_bounds(0.01)
    # RFC 6202 §2.2: mean ~ 1 transit = 0.01, max = 3 transits = 0.03
    assert b.min == pytest.approx(0.01)
    assert b.mean == pytest.approx(0.01)
    assert b.max == pytest.approx(0.03)
    assert isinstance(b, m.LongPollBounds)
    with pytest.raises(AttributeError):  # frozen
        b.max = 1.0  # type: ignore[misc]


def test_long_poll_events_per_response_hand_values():
    # cycle = 2*0.01 + 0 = 0.02; lambda*cycle = 10*0.02 = 0.2 -> max(1, 0.2) = 1
    assert m.long_poll_events_per_response(10, 0.01) == pytest.approx(1.0)
    # 1000 * 0.02 = 20 -> 20
    assert m.long_poll_events_per_response(1000, 0.01) == pytest.approx(20.0)
    # with server_time: cycle = 0.02 + 0.005 = 0.025; 1000*0.025 = 25
    assert m.long_poll_events_per_response(1000, 0.01, server_time=0.005) == pytest.approx(25.0)
    # no events -> still 1 (a response is only sent when there is an event)
    assert m.long_poll_events_per_response(0, 0.01) == pytest.approx(1.0)


def test_long_poll_mean_latency_limits_and_hand_value():
    d = 0.01
    # lambda -> 0: x = 0, p = 0/(0 + 1) = 0 -> d*(1+0) = d
    assert m.long_poll_mean_latency(0.0, d) == pytest.approx(d)
    # lambda -> large: x = 2*1e6*0.01 = 2e4, p -> 1 -> 2d = 0.02
    assert m.long_poll_mean_latency(1e6, d) == pytest.approx(2 * d)
    # lambda = 50: x = 2*50*0.01 = 1, p = 1/(1 + e^-1) = e/(e+1) = 0.7310586
    # E[L] = 0.01 * 1.7310586 = 0.017310586
    assert m.long_poll_mean_latency(50.0, d) == pytest.approx(0.017310586, rel=1e-7)
    # never above the RFC 6202 §2.2 three-transit maximum, never below one transit
    rates = np.logspace(-3, 6, 50)
    lat = m.long_poll_mean_latency(rates, d)
    assert np.all(lat >= d - 1e-15)
    assert np.all(lat <= 3 * d)
    # monotone non-decreasing in the rate
    assert np.all(np.diff(lat) >= -1e-15)


def _simulate_long_poll(rate: float, d: float, n: int, seed: int,
                        s: float = 0.0) -> tuple[np.ndarray, float]:
    """Event-driven long-poll simulation (``s``: time per cycle beyond two
    transits); returns (latencies, events/response)."""
    rng = np.random.default_rng(seed)
    events = np.cumsum(rng.exponential(1 / rate, n))
    latencies = np.empty(n)
    i = 0
    responses = 0
    req_at_server = 0.0  # the first request reaches the server at t=0
    while i < n:
        if events[i] <= req_at_server:
            # events queued during the gap: answered as soon as the request arrives
            j = np.searchsorted(events, req_at_server, side="right")
            latencies[i:j] = req_at_server + d - events[i:j]
            send = req_at_server
        else:
            # request held until the next event, answered at once
            j = i + 1
            latencies[i] = d
            send = events[i]
        responses += 1
        i = j
        req_at_server = send + 2 * d + s  # response out (d) + next request in (d) + handling
    return latencies, n / responses


def test_long_poll_closed_forms_match_simulation():
    rate, d = 50.0, 0.01  # lambda*c = 50 * 0.02 = 1
    lat, sim_epr = _simulate_long_poll(rate, d, 200_000, seed=7)
    assert lat.mean() == pytest.approx(m.long_poll_mean_latency(rate, d), rel=0.01)
    # exact renewal value lambda*c + exp(-lambda*c) = 1 + e^-1 = 1.3679
    assert sim_epr == pytest.approx(1 + math.exp(-1), rel=0.01)
    # documented approximation max(1, lambda*c) = 1 under-estimates by <= e^-1
    approx = m.long_poll_events_per_response(rate, d)
    assert 0 <= sim_epr - approx <= math.exp(-1) + 0.02


def test_long_poll_simulated_latency_within_rfc6202_bounds():
    d = 0.01
    lat, _ = _simulate_long_poll(200.0, d, 50_000, seed=3)
    bounds = m.long_poll_latency_bounds(d)
    # every event: at least one transit (0.01), at most three (0.03)
    assert lat.min() == pytest.approx(bounds.min)
    assert lat.max() <= bounds.max + 1e-12
    # at lambda*2d = 200*0.02 = 4 the worst case is approached: some event waited > 2.9 d
    assert lat.max() > 2.9 * d


def test_long_poll_server_time_defaults_to_the_rfc6202_model():
    rates = np.array([0.0, 1.0, 50.0, 1e4])
    np.testing.assert_allclose(m.long_poll_mean_latency(rates, 0.01, server_time=0.0),
                               m.long_poll_mean_latency(rates, 0.01))
    # batch size: the exact renewal value, above the max(1, λc) asymptote by <= e^-1
    x = np.array([0.0, 0.2, 1.0, 5.0, 40.0])
    size = m.long_poll_batch_size(x / 0.02, 0.01)
    np.testing.assert_allclose(size, x + np.exp(-x))
    gap = size - m.long_poll_events_per_response(x / 0.02, 0.01)
    assert np.all(gap >= 0) and np.all(gap <= math.exp(-1) + 1e-12)
    # the bound: 3d + s; s = 0 is RFC 6202's three transits
    assert m.long_poll_latency_bounds(0.01, server_time=0.004).max == pytest.approx(0.034)
    # the latency CV: 0 without a gap, at most ~0.44 of the mean
    assert m.long_poll_latency_cv(0.0, 0.01) == 0.0 and m.long_poll_latency_cv(5.0, 0.0) == 0.0
    cv = m.long_poll_latency_cv(np.logspace(-2, 5, 200), 0.01)
    assert np.all(cv >= 0) and cv.max() < 0.44
    # s = 0, λ -> ∞: latency uniform on (d, 3d): sd = 2d/√12 over mean 2d
    assert m.long_poll_latency_cv(1e7, 0.01) == pytest.approx(1 / math.sqrt(12), rel=1e-6)
    with pytest.raises(ConfigError, match="server_time"):
        m.long_poll_mean_latency(1.0, 0.01, server_time=-1e-3)


@pytest.mark.parametrize(("rate", "d", "s"), [(20.0, 0.026, 0.0), (20.0, 0.026, 0.01),
                                             (5.0, 0.1, 0.0), (400.0, 0.0005, 0.0015)])
def test_long_poll_mean_cv_and_batch_size_match_simulation(rate, d, s):
    lat, epr = _simulate_long_poll(rate, d, 100_000, seed=11, s=s)
    assert lat.mean() == pytest.approx(m.long_poll_mean_latency(rate, d, server_time=s), rel=0.01)
    assert lat.std() / lat.mean() == pytest.approx(
        m.long_poll_latency_cv(rate, d, server_time=s), rel=0.03)
    assert epr == pytest.approx(m.long_poll_batch_size(rate, d, server_time=s), rel=0.01)
    assert lat.max() <= m.long_poll_latency_bounds(d, server_time=s).max + 1e-12


# ---------------------------------------------------------------------------
# 4. Push
# ---------------------------------------------------------------------------


def test_push_latency_is_one_transit():
    # RFC 6202 §3.2: one transit
    assert m.push_latency(0.004) == pytest.approx(0.004)
    np.testing.assert_allclose(m.push_latency([0.001, 0.002]), [0.001, 0.002])
    # push beats the long-poll worst case by a factor 3
    assert m.long_poll_latency_bounds(0.004).max == pytest.approx(3 * m.push_latency(0.004))


# ---------------------------------------------------------------------------
# 5. RFC 6455 framing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "unmasked", "masked"),
    [
        (0, 2, 6),  # 7-bit length, +4 mask key
        (125, 2, 6),  # last 7-bit length
        (126, 4, 8),  # 2 + 2-byte extended length
        (65_535, 4, 8),  # last 16-bit length
        (65_536, 10, 14),  # 2 + 8-byte extended length
        (2**63 - 1, 10, 14),  # largest legal payload
    ],
)
def test_ws_frame_header_bytes_boundaries(payload, unmasked, masked):
    assert m.ws_frame_header_bytes(payload, masked=False) == unmasked
    assert m.ws_frame_header_bytes(payload, masked=True) == masked


def test_ws_frame_header_bytes_vectorised():
    lens = np.array([125, 126, 65_535, 65_536])
    np.testing.assert_array_equal(m.ws_frame_header_bytes(lens, False), [2, 4, 4, 10])
    np.testing.assert_array_equal(m.ws_frame_header_bytes(lens, True), [6, 8, 8, 14])
    # per-element masking flags
    flags = np.array([True, False, True, False])
    np.testing.assert_array_equal(m.ws_frame_header_bytes(lens, flags), [6, 4, 8, 10])
    assert isinstance(m.ws_frame_header_bytes(5, False), int)


def test_ws_frame_bytes_hand_values():
    # 125 + 2 + 4 = 131
    assert m.ws_frame_bytes(125, masked=True) == 131
    # 126 + 4 = 130
    assert m.ws_frame_bytes(126, masked=False) == 130
    # 65536 + 10 + 4 = 65550
    assert m.ws_frame_bytes(65_536, masked=True) == 65_550
    np.testing.assert_array_equal(m.ws_frame_bytes(np.array([0, 200]), False), [2, 204])


@pytest.mark.parametrize("bad", [-1, 1.5, 2**63, float("nan")])
def test_ws_frame_header_bytes_rejects_invalid_length(bad):
    with pytest.raises(ValueError, match="payload_len"):
        m.ws_frame_header_bytes(bad, masked=False)


def test_ws_negative_length_message_names_allowed_range():
    with pytest.raises(ValueError, match="non-negative integer"):
        m.ws_frame_bytes(np.array([10, -1]), masked=True)


# ---------------------------------------------------------------------------
# 6. Kaazing example
# ---------------------------------------------------------------------------


def test_kaazing_constants():
    assert m.KAAZING_HEADER_BYTES == 871
    assert m.KAAZING_FRAME_BYTES == 2
    assert m.KAAZING_CLIENTS == (1_000, 10_000, 100_000)


def test_kaazing_bandwidth_hand_values():
    bw = m.kaazing_bandwidth(1_000, 871)
    # 1000 * 871 * 8 = 6,968,000 bits/s
    assert bw.bits_per_s == pytest.approx(6_968_000)
    # / 1e6 = 6.968 SI Mbps
    assert bw.si_mbps == pytest.approx(6.968)
    # / 1,048,576 = 6.64520263671875 "paper Mbps"
    assert bw.paper_mbps == pytest.approx(6.64520263671875)
    # messages_per_second scales linearly: 2 msg/s -> 13,936,000 bits/s
    assert m.kaazing_bandwidth(1_000, 871, 2.0).bits_per_s == pytest.approx(13_936_000)


def _decimals(x: float) -> int:
    """Number of decimals printed in a published figure (6.6 -> 1, 665 -> 0)."""
    s = repr(x)
    return len(s.split(".")[1]) if "." in s else 0


def test_kaazing_table_reproduces_paper_figures():
    df = m.kaazing_table()
    assert list(df.columns) == [
        "clients",
        "polling_paper_mbps",
        "polling_si_mbps",
        "websocket_paper_mbps",
        "websocket_si_mbps",
    ]
    assert df["clients"].tolist() == [1_000, 10_000, 100_000]
    # polling: 871*8*N/2**20 = 6.645 / 66.452 / 664.520
    #   rounded as printed: 6.645 -> 6.6, 66.45 -> 66, 664.52 -> 665
    # websocket: 2*8*N/2**20 = 0.015259 / 0.152588 / 1.525879
    #   rounded as printed: 0.015, 0.153, 1.526
    for col, published in (
        ("polling_paper_mbps", m.KAAZING_PAPER_POLLING_MBPS),
        ("websocket_paper_mbps", m.KAAZING_PAPER_WS_MBPS),
    ):
        for value, paper in zip(df[col], published, strict=True):
            assert round(value, _decimals(paper)) == pytest.approx(paper)
    np.testing.assert_allclose(df["polling_paper_mbps"], [6.64520264, 66.4520264, 664.520264])
    np.testing.assert_allclose(
        df["websocket_paper_mbps"], [0.0152588, 0.152588, 1.52588], rtol=1e-5
    )
    # SI: 6.968 / 69.68 / 696.8 and 0.016 / 0.16 / 1.6
    np.testing.assert_allclose(df["polling_si_mbps"], [6.968, 69.68, 696.8])
    np.testing.assert_allclose(df["websocket_si_mbps"], [0.016, 0.16, 1.6])


def test_kaazing_paper_mbps_are_not_si():
    # the SI reading would give 6.968 -> "7.0", not the printed 6.6
    df = m.kaazing_table()
    assert round(df["polling_si_mbps"][0], 1) != m.KAAZING_PAPER_POLLING_MBPS[0]


def test_kaazing_table_custom_args():
    df = m.kaazing_table(header_bytes=100, frame_bytes=6, clients=[1, 2])
    # 100*8*1/1e6 = 0.0008 ; 6*8*2/1e6 = 0.000096
    np.testing.assert_allclose(df["polling_si_mbps"], [0.0008, 0.0016])
    np.testing.assert_allclose(df["websocket_si_mbps"], [0.000048, 0.000096])
    assert len(df) == 2


# ---------------------------------------------------------------------------
# 7. TCP/IP overhead
# ---------------------------------------------------------------------------


def test_tcpip_bytes_hand_values():
    # 20 (IPv4) + 20 (TCP) + 12 (timestamps) = 52
    assert m.TCPIP_HEADER_BYTES_IPV4_TS == 20 + 20 + 12 == 52
    # 40 (IPv6) + 20 + 12 = 72
    assert m.TCPIP_HEADER_BYTES_IPV6_TS == 72
    # 100 + 2*52 = 204
    assert m.tcpip_bytes(100, 2) == pytest.approx(204)
    # IPv6: 100 + 2*72 = 244
    assert m.tcpip_bytes(100, 2, m.TCPIP_HEADER_BYTES_IPV6_TS) == pytest.approx(244)
    # on Ethernet: 100 + 2*(52+14) = 232
    assert m.tcpip_bytes(100, 2, 52 + m.ETHERNET_HEADER_BYTES) == pytest.approx(232)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


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
