"""What the scale sweep compares: the variants (a transport with its client
options, under a short name) and the published references per connection
(`ANCHORS`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["ANCHORS", "KIB", "VARIANTS", "Variant", "anchors_table", "variant_name"]

KIB = 1024.0

#: Published and previously measured memory per connection (KiB); sources in
#: docs/references.md (memory per connection, earlier measurements).
ANCHORS = pd.DataFrame(
    [
        ("websocket", "websockets docs, compression off", 14.0),
        ("websocket+deflate", "websockets docs, default permessage-deflate", 64.0),
        ("websocket", "prior kit run: 5,000 idle connections", 13.3),
        ("long-poll", "prior kit run: 10,000 held aiohttp requests", 6.0),
    ],
    columns=["variant", "source", "kib_per_connection"],
)


@dataclass(frozen=True)
class Variant:
    """A transport with client options, under a short name."""

    name: str
    transport: str
    options: Mapping[str, Any] = field(default_factory=dict)


#: The persistent transports the sweep compares, in figure order.
VARIANTS = (
    Variant("websocket", "websocket", {"compression": False, "fanout": "broadcast"}),
    Variant("websocket+deflate", "websocket", {"compression": True, "fanout": "broadcast"}),
    Variant("websocket queue", "websocket", {"compression": False, "fanout": "queue"}),
    Variant("sse", "sse"),
    Variant("long-poll", "long-poll"),
)


def anchors_table() -> pd.DataFrame:
    """`ANCHORS` with bytes per connection and per 10,000 connections (MiB)."""
    df = ANCHORS.copy()
    df["bytes_per_connection"] = (df.kib_per_connection * KIB).round().astype(int)
    df["mib_per_10k"] = (df.kib_per_connection * 10_000 / KIB).round(1)
    return df


def variant_name(transport: str, options: Mapping[str, Any] | None) -> str:
    """The `Variant` name of a run's transport and options."""
    options = options or {}
    if transport != "websocket":
        return transport
    if options.get("compression"):
        return "websocket+deflate"
    return "websocket queue" if options.get("fanout") == "queue" else "websocket"
