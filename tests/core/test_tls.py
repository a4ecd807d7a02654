"""TLS material and contexts (`wslab.core.tls`); runs over TLS are in
tests/transports/test_tls.py."""

import ssl

import pytest

from wslab.core.errors import ConfigError
from wslab.core.tls import (
    TlsMaterial,
    check_version,
    client_context,
    record_overhead,
    server_context,
)


def test_versions_and_their_record_overhead():
    assert check_version(None) is None and check_version("TLSv1.3") == "1.3"
    assert (record_overhead("1.3"), record_overhead("1.2")) == (22, 29)  # RFC 8446, RFC 5288
    with pytest.raises(ConfigError, match=r"tls must be one of 1.2, 1.3 \(or none\), not '1.1'"):
        check_version("1.1")


def test_the_client_gets_the_ca_not_the_key():
    m = TlsMaterial.make("1.3", "127.0.0.1")
    assert "PRIVATE KEY" in m.server_config()["key"]
    assert not any("PRIVATE KEY" in v for v in m.client_config().values())
    server, client = server_context(m.server_config()), client_context(m.client_config())
    assert server.minimum_version == server.maximum_version == ssl.TLSVersion.TLSv1_3
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname
