"""The loopback-only rule and address parsing (wslab.core.addresses)."""

import pytest

from wslab.core.addresses import check_loopback, netloc, parse_address, same_host
from wslab.core.errors import ConfigError


def test_check_loopback_accepts_loopback_only():
    assert check_loopback("127.0.0.1") == "127.0.0.1"
    assert check_loopback("127.3.2.1") == "127.3.2.1"
    assert check_loopback("::1") == "::1"
    assert check_loopback("0:0:0:0:0:0:0:1") == "::1"  # canonical form
    assert check_loopback("localhost") == "127.0.0.1"


@pytest.mark.parametrize("host, message", [
    ("0.0.0.0", r"listen host must be a loopback address .*not '0.0.0.0'.*loopback only"),
    ("10.0.0.1", r"listen host must be a loopback address"),
    ("::", r"listen host must be a loopback address"),
    ("example.com", r"listen host must be a loopback IP address .* or 'localhost'"),
    ("", r"loopback IP address"),
])
def test_check_loopback_refuses_everything_else(host, message):
    with pytest.raises(ConfigError, match=message):
        check_loopback(host, "listen host")


def test_parse_address_forms():
    assert parse_address("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_address("[::1]:9") == ("::1", 9)
    assert parse_address("ws://localhost:81/ws?x=1") == ("localhost", 81)
    assert parse_address("http://127.0.0.1/poll") == ("127.0.0.1", 80)  # the scheme's port
    assert parse_address("wss://127.0.0.1") == ("127.0.0.1", 443)
    assert parse_address(("127.0.0.1", 0)) == ("127.0.0.1", 0)
    with pytest.raises(ConfigError, match="cannot read host:port"):
        parse_address("127.0.0.1")
    with pytest.raises(ConfigError, match=r"expected \(host, port\)"):
        parse_address(("127.0.0.1",))
    with pytest.raises(ConfigError, match="port must be an integer"):
        parse_address(("127.0.0.1", "80"))


def test_netloc_and_same_host():
    assert netloc("127.0.0.1", 80) == "127.0.0.1:80"
    assert netloc("::1", 80) == "[::1]:80"
    assert same_host("localhost", "127.0.0.1")
    assert same_host("::1", "0:0:0:0:0:0:0:1")
    assert not same_host("127.0.0.1", "127.0.0.2")
    assert same_host("Example.COM", "example.com")
