"""HPACK sizes against RFC 7541's own worked examples and the hpack encoder."""

import pytest
from hpack import Encoder, NeverIndexedHeaderTuple

from wslab.core.errors import ConfigError
from wslab.core.profiles import PROFILES
from wslab.models.hpack import (
    HpackEncoderModel,
    h2_headers_frame_bytes,
    hpack_block_bytes,
    hpack_integer_bytes,
    hpack_string_bytes,
)


def test_integers_follow_rfc7541_appendix_c1():
    assert hpack_integer_bytes(10, 5) == 1  # C.1.1
    assert hpack_integer_bytes(1337, 5) == 3  # C.1.2
    assert hpack_integer_bytes(42, 8) == 1  # C.1.3
    assert hpack_integer_bytes(62, 6) == 1 and hpack_integer_bytes(63, 6) == 2
    with pytest.raises(ConfigError, match="prefix_bits must be from 1 to 8"):
        hpack_integer_bytes(1, 0)


def test_strings_huffman_coded_as_in_appendix_c4():
    assert hpack_string_bytes("www.example.com") == 1 + 12  # C.4.1: 0x8c + 12 octets
    assert hpack_string_bytes("no-cache") == 1 + 6  # C.4.2
    assert hpack_string_bytes("custom-value", huffman=False) == 1 + 12


def test_the_three_requests_of_appendix_c4():
    """C.4.1-C.4.3: one connection, Huffman: blocks of 17, 12 and 24 bytes."""
    first = [(":method", "GET"), (":scheme", "http"), (":path", "/"),
             (":authority", "www.example.com")]
    second = [*first, ("cache-control", "no-cache")]
    third = [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"),
             (":authority", "www.example.com"), ("custom-key", "custom-value")]
    model = HpackEncoderModel()
    assert [model.block_bytes(h) for h in (first, second, third)] == [17, 12, 24]
    assert model.table_bytes == 164  # C.4.3's dynamic table size


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_pollers_requests_match_the_hpack_encoder_byte_for_byte(profile):
    extra = [(k.lower(), v.replace("{origin}", "http://127.0.0.1:8080"))
             for k, v in PROFILES[profile].items() if k.lower() != "connection"]
    requests = [[(":method", "GET"), (":authority", "127.0.0.1:8080"), (":scheme", "http"),
                 (":path", f"/poll?since={7 * i}"), ("user-agent", "python-httpx/0.28.1"),
                 *extra] for i in range(40)]
    encoder = Encoder()
    measured = [len(encoder.encode(h)) for h in requests]
    model = hpack_block_bytes(requests)
    assert model == measured
    # repeats: about one byte per header, plus the :path that changed
    assert model[5] <= len(requests[5]) + 15 < model[0]


def test_small_tables_evict_and_sensitive_fields_stay_literal():
    headers = [("x-a", "1" * 40), ("x-b", "2" * 40)]
    tiny = hpack_block_bytes([headers, headers], table_bytes=80)  # room for one entry
    assert tiny[1] > 2  # the first entry was evicted by the second: no full index
    # h2 sends authorization "never indexed" (RFC 7541 §7.1.3): a literal every time
    secret = [NeverIndexedHeaderTuple("authorization", "Bearer abc")]
    encoder = Encoder()
    measured = [len(encoder.encode(secret)) for _ in range(2)]
    assert hpack_block_bytes([[("authorization", "Bearer abc")]] * 2) == measured
    assert h2_headers_frame_bytes(18) == 27
    with pytest.raises(ConfigError, match="block_bytes must be >= 0"):
        h2_headers_frame_bytes(-1)
