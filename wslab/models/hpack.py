"""HTTP/2 header bytes per request: HPACK (RFC 7541) and the frame header (RFC 9113 §4.1).

An HTTP/2 request's header fields travel as one HEADERS frame: a 9-byte
frame header and an HPACK header block. HPACK keeps, per connection and per
direction, a dynamic table of the fields sent recently (RFC 7541 §2.3.2,
4,096 bytes by default, an entry weighing ``32 + len(name) + len(value)``,
§4.1). A field is sent as

* an index into the static table (Appendix A) or the dynamic table when the
  name and the value are there: one byte up to index 126 (§6.1, a 7-bit
  prefix integer, §5.1);
* otherwise a literal "with incremental indexing" (§6.2.1), which then
  enters the dynamic table: the name as an index (6-bit prefix) when the
  name alone is known, or as a string, and the value as a string. Strings
  are Huffman-coded (Appendix B) behind a 7-bit length prefix (§5.2).

So a poller's first request pays nearly every header as a literal, and a
repeat pays about one byte per header plus the fields that changed (the
``:path`` whose ``since`` moved) plus the 9-byte frame header. The
simulator here follows the encoder of the ``hpack`` library (the one h2 and
httpx use): Huffman always, incremental indexing always, except the fields
RFC 7541 §7.1.3 says to keep out of the table (h2 marks ``authorization``
and cookies shorter than 20 bytes "never indexed"). The static table and
the Huffman code lengths are RFC 7541's, taken from that library's copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..core.errors import ConfigError

__all__ = ["H2_FRAME_HEADER_BYTES", "HPACK_DEFAULT_TABLE_BYTES", "HpackEncoderModel",
           "h2_headers_frame_bytes", "hpack_block_bytes", "hpack_integer_bytes",
           "hpack_string_bytes"]

#: RFC 9113 §4.1: every frame starts with 9 bytes
H2_FRAME_HEADER_BYTES = 9
#: RFC 7541 §4.2 / RFC 9113 §6.5.2 SETTINGS_HEADER_TABLE_SIZE default
HPACK_DEFAULT_TABLE_BYTES = 4096
#: RFC 7541 §4.1: an entry's size is its name and value lengths plus 32
_ENTRY_OVERHEAD = 32


def _tables() -> tuple[tuple[tuple[bytes, bytes], ...], list[int]]:
    from hpack.huffman_constants import REQUEST_CODES_LENGTH  # RFC 7541 Appendix B
    from hpack.table import HeaderTable  # RFC 7541 Appendix A

    return HeaderTable.STATIC_TABLE, list(REQUEST_CODES_LENGTH)


def hpack_integer_bytes(value: int, prefix_bits: int) -> int:
    """Bytes of ``value`` as an HPACK integer with an N-bit prefix (RFC 7541 §5.1)."""
    if not 1 <= prefix_bits <= 8:
        raise ConfigError(f"prefix_bits must be from 1 to 8, not {prefix_bits!r}")
    if value < 0:
        raise ConfigError(f"an HPACK integer must be >= 0, not {value!r}")
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return 1
    value -= limit
    n = 2
    while value >= 128:  # 7 bits per continuation byte
        value >>= 7
        n += 1
    return n


def hpack_string_bytes(text: str | bytes, huffman: bool = True) -> int:
    """Bytes of a string literal (RFC 7541 §5.2): 7-bit-prefix length, then the
    octets, Huffman-coded (Appendix B, padded to a whole byte) if ``huffman``."""
    raw = text.encode() if isinstance(text, str) else bytes(text)
    if huffman:
        lengths = _tables()[1]
        size = (sum(lengths[b] for b in raw) + 7) // 8
    else:
        size = len(raw)
    return hpack_integer_bytes(size, 7) + size


class HpackEncoderModel:
    """The size of each header block an HPACK encoder sends on one connection.

    ``block_bytes(headers)`` returns the bytes of the next block and updates
    the dynamic table, as the encoder does (module docstring).
    """

    def __init__(self, table_bytes: int = HPACK_DEFAULT_TABLE_BYTES, huffman: bool = True
                 ) -> None:
        if table_bytes < 0:
            raise ConfigError(f"table_bytes must be >= 0, not {table_bytes!r}")
        self.static, _ = _tables()
        self.max_bytes = table_bytes
        self.huffman = huffman
        self.dynamic: list[tuple[bytes, bytes]] = []  # newest first (index 62 + i)

    @property
    def table_bytes(self) -> int:
        """Bytes the dynamic table holds now (RFC 7541 §4.1)."""
        return sum(_ENTRY_OVERHEAD + len(n) + len(v) for n, v in self.dynamic)

    def _search(self, name: bytes, value: bytes) -> tuple[int | None, int | None]:
        """(index of name and value, index of the name alone), static table first."""
        name_index = None
        for i, (n, v) in enumerate(self.static, 1):
            if n == name:
                if v == value:
                    return i, i
                name_index = name_index or i
        for i, (n, v) in enumerate(self.dynamic, len(self.static) + 1):
            if n == name:
                if v == value:
                    return i, name_index or i
                name_index = name_index or i
        return None, name_index

    def _add(self, name: bytes, value: bytes) -> None:
        self.dynamic.insert(0, (name, value))
        while self.dynamic and self.table_bytes > self.max_bytes:  # evict the oldest (§4.4)
            self.dynamic.pop()

    def field_bytes(self, name: str | bytes, value: str | bytes) -> int:
        """Bytes of one field, updating the dynamic table."""
        n = name.lower().encode() if isinstance(name, str) else bytes(name).lower()
        v = value.encode() if isinstance(value, str) else bytes(value)
        full, name_only = self._search(n, v)
        if full is not None:
            return hpack_integer_bytes(full, 7)  # §6.1 indexed field
        never = n in (b"authorization", b"proxy-authorization") or (
            n == b"cookie" and len(v) < 20)
        prefix = 4 if never else 6  # §6.2.3 never indexed vs §6.2.1 incremental
        size = (hpack_integer_bytes(name_only, prefix) if name_only is not None
                else 1 + hpack_string_bytes(n, self.huffman))
        size += hpack_string_bytes(v, self.huffman)
        if not never:
            self._add(n, v)
        return size

    def block_bytes(self, headers: Iterable[tuple[str | bytes, str | bytes]]) -> int:
        """Bytes of the header block of ``headers`` (in order), updating the table."""
        return sum(self.field_bytes(n, v) for n, v in headers)


def hpack_block_bytes(requests: Sequence[Sequence[tuple[str, str]]],
                      table_bytes: int = HPACK_DEFAULT_TABLE_BYTES) -> list[int]:
    """Header block bytes of successive requests on one connection (RFC 7541)."""
    model = HpackEncoderModel(table_bytes)
    return [model.block_bytes(headers) for headers in requests]


def h2_headers_frame_bytes(block_bytes: int) -> int:
    """Bytes of a HEADERS frame carrying a block (RFC 9113 §6.2: no padding, no
    priority), which fits one frame below SETTINGS_MAX_FRAME_SIZE (16,384)."""
    if block_bytes < 0:
        raise ConfigError(f"block_bytes must be >= 0, not {block_bytes!r}")
    return H2_FRAME_HEADER_BYTES + block_bytes
