"""Hostile clients for the kit's servers (claim C10 in docs/questions.md).

- `wslab.net.hostile.wire`: sans-I/O bytes: requests, WebSocket frames
  (valid or not), deflate bombs; parsers of response heads and server frames;
- `wslab.net.hostile.cases`: seeded malformed inputs by family;
- `wslab.net.hostile.probe`: one case over one loopback connection, classified;
- `wslab.net.hostile.campaign`: many cases with health checks, and slowloris;
- `wslab.net.hostile.origin`: cross-origin requests and what each endpoint answers.

Everything connects to loopback addresses only (`wslab.core.addresses.check_loopback`)
and is bounded in count and time.
"""

__all__: list[str] = []
