"""wslab.models.bandwidth: the load of N polling clients and the Kaazing table
against the paper's printed figures."""

from __future__ import annotations

import numpy as np
import pytest

from wslab import models as m


def test_polls_per_second_and_header_bandwidth():
    # N/T = 1000 / 0.5 = 2000 requests/s
    assert m.polls_per_second(1000, 0.5) == pytest.approx(2000.0)
    # 2000 * 871 = 1,742,000 bytes/s
    assert m.polling_header_bandwidth(1000, 0.5, 871) == pytest.approx(1_742_000.0)
    # vectorised over clients: [10, 100] / 2 * 500 = [2500, 25000]
    np.testing.assert_allclose(m.polling_header_bandwidth([10, 100], 2.0, 500), [2500, 25000])
    # zero clients -> zero load
    assert m.polls_per_second(0, 1.0) == 0.0

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
