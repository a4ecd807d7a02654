"""TLS for every transport: certificates made in memory, one context per side.

A `Lab` started with ``tls="1.3"`` (or ``"1.2"``) makes a throw-away
certificate authority and a certificate for its loopback host with trustme;
nothing is written to the repository and the key never leaves the run's
processes (the server child loads it through a private temporary file,
deleted at once, since `ssl` reads certificates only from files). The server
child gets the certificate and key (`server_context`), the fleets get the CA
(`client_context`), and every transport serves ``wss://``, ``https://`` or
``tls://`` with the same code path as in clear.

Versions are pinned (minimum = maximum), so a run measures the version it
names. Record overhead per TLS record, which `record_overhead` gives and the
tests check against the kernel's byte counters:

- TLS 1.3 (RFC 8446 §5.2): a 5-byte header, the 1-byte inner content type and
  a 16-byte AEAD tag (AES-GCM or ChaCha20-Poly1305): 22 bytes;
- TLS 1.2 with AES-GCM (RFC 5288 §3): a 5-byte header, an 8-byte explicit
  nonce and a 16-byte tag: 29 bytes (the cipher suites are limited to the
  ECDHE AES-GCM ones so that the figure holds).
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["TLS_VERSIONS", "TlsMaterial", "check_version", "client_context", "record_overhead",
           "server_context"]

TLS_VERSIONS = ("1.2", "1.3")
_VERSION = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
#: bytes a TLS record adds to what it carries (see the module docstring)
_OVERHEAD = {"1.2": 5 + 8 + 16, "1.3": 5 + 1 + 16}
_TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"


def check_version(version: Any) -> str | None:
    """``version`` as one of `TLS_VERSIONS`, None for clear text; `ConfigError` otherwise."""
    if version is None or version is False:
        return None
    text = str(version).removeprefix("TLSv").removeprefix("tls")
    if text not in TLS_VERSIONS:
        raise ConfigError(f"tls must be one of {', '.join(TLS_VERSIONS)} (or none), "
                          f"not {version!r}")
    return text


def record_overhead(version: str) -> int:
    """Bytes one TLS record adds: 22 for TLS 1.3, 29 for TLS 1.2 AES-GCM."""
    return _OVERHEAD[check_version(version) or ""]


@dataclass(frozen=True)
class TlsMaterial:
    """A CA and a server certificate for ``host``, as PEM text (JSON-friendly)."""

    version: str
    ca_pem: str
    cert_pem: str
    key_pem: str

    @classmethod
    def make(cls, version: str, host: str) -> TlsMaterial:
        """New in-memory material for ``host`` (a loopback address)."""
        import trustme

        version = check_version(version) or "1.3"
        ca = trustme.CA()
        leaf = ca.issue_cert(host)
        return cls(version, ca.cert_pem.bytes().decode(),
                   b"".join(b.bytes() for b in leaf.cert_chain_pems).decode(),
                   leaf.private_key_pem.bytes().decode())

    def server_config(self) -> dict[str, str]:
        """What the server child needs (`server_context` takes it back)."""
        return {"version": self.version, "cert": self.cert_pem, "key": self.key_pem}

    def client_config(self) -> dict[str, str]:
        """What a fleet needs (`client_context` takes it back): the CA, not the key."""
        return {"version": self.version, "ca": self.ca_pem}


def _pin(ctx: ssl.SSLContext, version: str) -> ssl.SSLContext:
    ctx.minimum_version = ctx.maximum_version = _VERSION[version]
    if version == "1.2":
        ctx.set_ciphers(_TLS12_CIPHERS)
    return ctx


def server_context(config: dict[str, str],
                   alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext:
    """The server side's context from `TlsMaterial.server_config`, offering the
    ``alpn`` protocols (RFC 7301): HTTP/1.1 for every transport but the HTTP/2
    ones, which need a context of their own offering ``h2`` (RFC 9113 §3.2)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    fd, path = tempfile.mkstemp(prefix="wslab-tls-", suffix=".pem")
    try:  # ssl loads keys from files only: a private file, removed at once
        with os.fdopen(fd, "w") as f:
            f.write(config["key"] + config["cert"])
        ctx.load_cert_chain(path)
    finally:
        os.unlink(path)
    ctx.set_alpn_protocols(list(alpn))
    return _pin(ctx, config["version"])


def client_context(config: dict[str, str]) -> ssl.SSLContext:
    """A client context that trusts only the run's CA (`TlsMaterial.client_config`)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=config["ca"])
    ctx.set_alpn_protocols(["http/1.1"])
    return _pin(ctx, config["version"])
