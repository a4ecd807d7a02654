"""Request header profiles that the kit's HTTP clients can replay.

The kit's own client (aiohttp) sends lean requests (138 B with the request
line, measured in notebook 04); a browser sends several times that on every
poll. ``browser`` reproduces the request headers of a headless Chromium 156
``fetch()`` poll to a local page, with one session cookie: about 545 bytes of
request headers when recorded (docs/references.md, "Browsers"; the replay
measures 568 B with the request line), the figure that replaces Kaazing's 871
bytes in the header-overhead model. Real browser clients are planned (claim
C11); this profile lets any run pay a browser's header bill.
"""

from __future__ import annotations

from .errors import ConfigError

__all__ = ["PROFILES", "headers_for"]

_CHROMIUM_156 = {
    "Connection": "keep-alive",
    "sec-ch-ua-platform": '"Linux"',
    "User-Agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0.0.0 Safari/537.36"
    ),
    "sec-ch-ua": '"Chromium";v="156", "Not)A;Brand";v="24", "HeadlessChrome";v="156"',
    "sec-ch-ua-mobile": "?0",
    "Accept": "*/*",
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
    "Referer": "{origin}/",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "en-US,en;q=0.9",
    "Cookie": "session=8f14e45fceea167a5a36dedd4bea2543",
}

#: profile name -> extra request headers ("{origin}" is replaced by the server's origin)
PROFILES: dict[str, dict[str, str]] = {"aiohttp": {}, "browser": _CHROMIUM_156}


def headers_for(profile: str | None, url: str) -> dict[str, str]:
    """The headers of ``profile`` for requests to ``url`` (empty for the default)."""
    if not profile:
        return {}
    if profile not in PROFILES:
        raise ConfigError(f"unknown header profile {profile!r}; allowed: {', '.join(PROFILES)}")
    origin = "/".join(url.split("/", 3)[:3])
    return {k: v.replace("{origin}", origin) for k, v in PROFILES[profile].items()}
