import pytest

import wslab
from wslab.core.errors import ConfigError
from wslab.core.profiles import PROFILES, headers_for


def test_headers_for_fills_in_the_origin():
    h = headers_for("browser", "http://127.0.0.1:4321/poll")
    assert h["Referer"] == "http://127.0.0.1:4321/"
    assert "Chrome/156" in h["User-Agent"] and h["Cookie"].startswith("session=")
    assert headers_for(None, "http://x/") == {} and headers_for("aiohttp", "http://x/") == {}
    with pytest.raises(ConfigError, match="allowed: aiohttp, browser"):
        headers_for("mosaic", "http://x/")
    assert set(PROFILES) == {"aiohttp", "browser"}


def test_browser_profile_costs_about_545_request_bytes(tmp_path):
    """Measured from kernel counters: bytes up per poll with each profile."""
    per_request = {}
    with wslab.Lab() as lab:
        for profile in ("aiohttp", "browser"):
            r = lab.run("short-poll", clients=1, rate=20, duration=1, interval=0.05,
                        schedule="fixed", options={"headers": profile},
                        out=str(tmp_path / profile), progress=False)
            assert r.summary["lost"] == 0
            per_request[profile] = r.summary["bytes_up"] / r.summary["requests"]
    # Chromium 156 with one cookie sends about 545 B of request headers (docs/references.md);
    # the request line here is shorter than a page's, so allow +-10 %.
    assert 490 <= per_request["browser"] <= 600
    assert per_request["aiohttp"] < 200
