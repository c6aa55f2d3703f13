"""TLS trust on first use, as XenCenter does: pin the host certificate's SHA-256
fingerprint, refuse a later mismatch with an explanation."""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import xmlrpc.client
from dataclasses import dataclass


def format_fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def insecure_context() -> ssl.SSLContext:
    """No CA verification: trust comes from the pinned fingerprint instead."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fetch_certificate(host: str, port: int, timeout: float = 10) -> bytes:
    """The DER certificate the server presents (no verification: we pin)."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with insecure_context().wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)


def server_fingerprint(host: str, port: int, timeout: float = 10) -> str:
    return format_fingerprint(fetch_certificate(host, port, timeout))


def live_fingerprint(target, cert_file: str = "/etc/xensource/xapi-ssl.pem") -> tuple[str, str]:
    """(fingerprint, how it was obtained) of the host certificate, computed now:
    a TLS handshake for https targets, the certificate file in dom0."""
    if target.kind == "remote" and target.scheme == "https":
        try:
            return server_fingerprint(target.host, target.port, timeout=5), "live TLS handshake"
        except (OSError, ssl.SSLError):
            return "", ""
    if target.kind == "local":
        try:
            pem = open(cert_file).read()
            start = pem.index("-----BEGIN CERTIFICATE-----")
            der = ssl.PEM_cert_to_DER_cert(
                pem[start : pem.index("-----END CERTIFICATE-----", start) + 25]
            )
            return format_fingerprint(der), cert_file
        except (OSError, ValueError):
            return "", ""
    return "", ""


class FingerprintMismatch(ssl.SSLError):
    def __init__(self, expected: str, actual: str):
        super().__init__(f"certificate fingerprint {actual} does not match the trusted {expected}")
        self.expected, self.actual = expected, actual


@dataclass
class TrustDecision:
    status: str  # "trusted", "unknown", "mismatch"
    fingerprint: str
    pinned: str | None = None


def check_trust(fingerprints: dict[str, str], key: str, actual: str) -> TrustDecision:
    pinned = fingerprints.get(key)
    if pinned is None:
        return TrustDecision("unknown", actual)
    if pinned.upper() == actual.upper():
        return TrustDecision("trusted", actual, pinned)
    return TrustDecision("mismatch", actual, pinned)


class PinnedTransport(xmlrpc.client.SafeTransport):
    """XML-RPC over TLS that accepts exactly one certificate (by fingerprint)."""

    def __init__(self, fingerprint: str, timeout: float | None = None):
        super().__init__(context=insecure_context())
        self.fingerprint = fingerprint.upper()
        self.timeout = timeout

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        chost, self._extra_headers, x509 = self.get_host_info(host)
        conn = PinnedConnection(chost, timeout=self.timeout, context=self.context)
        conn.fingerprint = self.fingerprint
        self._connection = host, conn
        return conn


class PinnedConnection(http.client.HTTPSConnection):
    fingerprint = ""

    def connect(self):
        super().connect()
        actual = format_fingerprint(self.sock.getpeercert(binary_form=True))
        if actual != self.fingerprint:
            self.sock.close()
            raise FingerprintMismatch(self.fingerprint, actual)


class TimeoutTransport(xmlrpc.client.Transport):
    """Plain HTTP XML-RPC with a socket timeout (a dead peer must not hang us)."""

    def __init__(self, timeout: float | None = None):
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn
