"""The probing client: send one hostile case to a loopback server, say what it answered.

A probe opens one TCP connection, writes a case's bytes (`wslab.net.hostile.cases`)
and reads until the server has shown its hand, within a time bound:

- ``HTTP nnn``: a response head with that status (a refusal such as 400 or
  431, or ``200`` when the request was served);
- ``101 + close nnnn``: the WebSocket opening handshake succeeded, the
  case's frames followed, and the server sent a close frame with that code
  (1002 protocol error, 1007 invalid data, 1009 too big, RFC 6455 §7.4.1;
  1000 or an echoed code when it accepted everything);
- ``plain close`` / ``101 + plain close``: the server closed TCP (FIN or RST)
  without a response or a close frame;
- ``no answer`` / ``101 + no answer``: nothing within the bound (the server
  waits for more bytes, or holds the request);
- ``answered`` (raw TCP): bytes came back, then the close.

Every connection ends with an abortive close (``SO_LINGER`` 0), so a
campaign of thousands of cases leaves no ``TIME_WAIT`` behind on the
client's side. Only loopback addresses are accepted (`check_loopback`).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass

from ...core.addresses import check_loopback
from .cases import Case
from .wire import CLOSE, FrameReader, close_payload, frame, parse_close, parse_response_head

__all__ = ["Outcome", "probe", "read_head"]

_LINGER0 = struct.pack("ii", 1, 0)
_READ = 1 << 16


@dataclass(frozen=True)
class Outcome:
    """What the server did with one case (see the module docstring for ``label``)."""

    label: str
    status: int | None = None  # HTTP status of the response head, if one came
    code: int | None = None  # close code of the server's close frame, if one came
    headers: tuple[tuple[str, str], ...] = ()  # of the response head
    body: bytes = b""  # bytes after the head read within the bound (at most 64 KiB)

    def header(self, name: str) -> str | None:
        """A response header's value (``name`` in lower case), or ``None``."""
        return dict(self.headers).get(name)


async def _read(reader: asyncio.StreamReader, deadline: float) -> bytes | None:
    """Bytes (``b""`` at EOF or reset), or ``None`` when the deadline passes."""
    left = deadline - asyncio.get_running_loop().time()
    if left <= 0:
        return None
    try:
        return await asyncio.wait_for(reader.read(_READ), left)
    except TimeoutError:
        return None
    except (ConnectionError, OSError):
        return b""


async def read_head(reader: asyncio.StreamReader, deadline: float,
                    ) -> tuple[int, dict[str, str], bytes] | str:
    """The response head (see `parse_response_head`), or ``"plain close"`` /
    ``"no answer"``."""
    data = b""
    while True:
        chunk = await _read(reader, deadline)
        if chunk is None:
            return "no answer"
        if not chunk:
            return "plain close"
        data += chunk
        head = parse_response_head(data)
        if head is not None:
            return head
        if len(data) > 1 << 20:  # not HTTP: count it as an answer without a head
            return 0, {}, data


async def _write(writer: asyncio.StreamWriter, data: bytes) -> bool:
    """Write and drain; ``False`` if the server already closed."""
    try:
        writer.write(data)
        await writer.drain()
        return True
    except (ConnectionError, OSError):
        return False


async def _after_upgrade(case: Case, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter, rest: bytes, deadline: float) -> Outcome:
    for data in case.frames:
        if not await _write(writer, data):
            break
    else:
        # End with a valid close (1000) unless the case sent a close itself:
        # a server that accepted every frame then answers 1000 (RFC 6455 §5.5.1).
        if not any(f and f[0] & 0x0F == CLOSE for f in case.frames):
            await _write(writer, frame(CLOSE, close_payload(1000)))
    frames = FrameReader()
    pending = rest
    while True:
        for f in frames.feed(pending):
            if f.opcode == CLOSE:
                code = parse_close(f.payload)
                return Outcome(f"101 + close {code if code is not None else 'empty'}",
                               101, code)
        chunk = await _read(reader, deadline)
        if chunk is None:
            return Outcome("101 + no answer", 101)
        if not chunk:
            return Outcome("101 + plain close", 101)
        pending = chunk


async def probe(host: str, port: int, case: Case, timeout: float = 1.0) -> Outcome:
    """Send ``case`` to ``host:port`` (loopback only) and classify the answer,
    spending at most about ``timeout`` seconds after the connection opened."""
    host = check_loopback(host)
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return Outcome("connect failed")
    sock = writer.get_extra_info("socket")
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER0)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        deadline = loop.time() + timeout
        await _write(writer, case.data)
        if case.eof:
            try:
                writer.write_eof()  # half-close: the server sees the end of the request
            except (OSError, RuntimeError):
                pass
        if case.raw:  # no HTTP: whatever comes back, then the close
            got = b""
            while (chunk := await _read(reader, deadline)):
                got += chunk
            if got:
                return Outcome("answered", body=got[:_READ])
            return Outcome("no answer" if chunk is None else "plain close")
        head = await read_head(reader, deadline)
        if isinstance(head, str):
            return Outcome(head)
        status, headers, rest = head
        if status == 101 and case.frames:
            return await _after_upgrade(case, reader, writer, rest, deadline)
        if case.read_body and status == 200:  # what a cross-origin page would get
            while len(rest) < _READ and (chunk := await _read(reader, deadline)):
                rest += chunk
        return Outcome(f"HTTP {status}", status, headers=tuple(headers.items()),
                       body=rest[:_READ])
    finally:
        writer.close()  # abortive (SO_LINGER 0): an RST, no TIME_WAIT here
