"""wslab.models.framing: RFC 6455 frame sizes at every length boundary, TCP/IP
segment headers."""

from __future__ import annotations

import numpy as np
import pytest

from wslab import models as m


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
