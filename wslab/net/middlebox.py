"""The HTTP-aware toxics' byte filters: what an HTTP/1.1 middlebox does to a direction.

A filter sits in one `wslab.net.pipe.Pipe` before the timing toxics:
``feed(data)`` returns the bytes to forward now (possibly none: they are
held), ``eof()`` the bytes to forward before the FIN. Filters are sans-I/O
(built on `wslab.net.http1.Framer`) and exist only on connections that have
an HTTP-aware toxic, so the proxy's plain path never parses HTTP.

- `UpgradeStripper` (``strip_upgrade``, upstream): forwards every request
  head without ``Upgrade`` and the ``upgrade`` option of ``Connection``, as a
  proxy that does not implement protocol switching must (RFC 9110 §7.8,
  formerly RFC 7230 §6.7: ``Upgrade`` is hop-by-hop); bodies pass unchanged.
- `ResponseBuffer` (``buffer``, downstream): nginx's ``proxy_buffering on``:
  a response's bytes are held until the response ends or ``size`` bytes
  are held; after ``101 Switching Protocols`` bytes pass unbuffered.
- `RequestWatch` (upstream of a ``buffer``): passes requests unchanged and
  tells the response side each request's method (a response to ``HEAD``
  has no body, RFC 9112 §6.3).
"""

from __future__ import annotations

from typing import Any

from .http1 import Framer, Head, strip_upgrade

__all__ = ["Chain", "RequestWatch", "ResponseBuffer", "UpgradeStripper"]


class UpgradeStripper:
    """Rewrite request heads going upstream: no ``Upgrade``, no ``Connection: upgrade``."""

    def __init__(self) -> None:
        self.stripped = 0  # request heads that lost an Upgrade
        self.framer = Framer("request", rewrite=self._rewrite)

    def _rewrite(self, head: Head) -> Head:
        new = strip_upgrade(head)
        if new is not head:
            self.stripped += 1
        return new

    def feed(self, data: bytes) -> bytes:
        parts = self.framer.feed(data)
        return b"".join(p.data for p in parts) if len(parts) != 1 else parts[0].data

    def eof(self) -> bytes:
        return b"".join(p.data for p in self.framer.eof())


class ResponseBuffer:
    """Hold a response's bytes until it ends, ``size`` bytes are held, or the stream ends.

    ``flushes`` counts the releases; ``held`` is the bytes held now.
    """

    def __init__(self, size: int, pass_head: bool = False) -> None:
        self.size = size
        self.pass_head = pass_head  # forward each head at once, hold only bodies
        self.framer = Framer("response")
        self._held: list[bytes] = []
        self.held = 0
        self.flushes = 0

    def feed(self, data: bytes) -> bytes:
        framer = self.framer
        if framer.tunnel and not self._held:
            return data  # after 101: pass through unbuffered
        out: list[bytes] = []
        for part in framer.feed(data):
            if part.kind == "tunnel" or (part.kind == "head" and self.pass_head):
                out += self._take()
                out.append(part.data)
                continue
            if part.data:
                self._held.append(part.data)
                self.held += len(part.data)
            if part.kind == "end" or framer.tunnel:  # a response ended, or 101 was its head
                out += self._take()
        if self.held >= self.size:
            out += self._take()
        return b"".join(out)

    def eof(self) -> bytes:
        rest = [p.data for p in self.framer.eof()]
        return b"".join(self._take() + rest)

    def _take(self) -> list[bytes]:
        held = self._held
        if held:
            self.flushes += 1
            self._held = []
            self.held = 0
        return held


class RequestWatch:
    """Pass requests unchanged; tell ``responses`` the method of each request."""

    def __init__(self, responses: ResponseBuffer) -> None:
        self.framer = Framer("request", on_head=lambda h: responses.framer.expect(h.method))

    def feed(self, data: bytes) -> bytes:
        if not self.framer.tunnel:
            self.framer.feed(data)
        return data

    def eof(self) -> bytes:
        return b""


class Chain:
    """Two filters in a row: ``first``'s output is ``second``'s input."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first = first
        self.second = second

    def feed(self, data: bytes) -> bytes:
        data = self.first.feed(data)
        return self.second.feed(data) if data else data

    def eof(self) -> bytes:
        rest = self.first.eof()
        return (self.second.feed(rest) if rest else b"") + self.second.eof()
