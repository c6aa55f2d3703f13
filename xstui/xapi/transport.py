"""The one way to reach a target over HTTP: dom0's unix socket, TLS pinned to
one certificate, or plain HTTP, always with a timeout (a dead peer must not
hang us). Both XML-RPC (via XenAPI) and JSON-RPC use it."""

from __future__ import annotations

import http.client
import socket
import xmlrpc.client

from .targets import Target
from .tls import FingerprintMismatch, format_fingerprint, insecure_context


class UnixConnection(http.client.HTTPConnection):
    path = ""

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout:
            self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class PinnedConnection(http.client.HTTPSConnection):
    """HTTPS that accepts exactly one certificate, by SHA-256 fingerprint."""

    fingerprint = ""

    def connect(self):
        super().connect()
        actual = format_fingerprint(self.sock.getpeercert(binary_form=True))
        if actual != self.fingerprint:
            self.sock.close()
            raise FingerprintMismatch(self.fingerprint, actual)


def http_connection(
    target: Target, fingerprint: str | None, timeout: float | None
) -> http.client.HTTPConnection:
    if target.kind == "local":
        conn = UnixConnection("localhost", timeout=timeout)
        conn.path = target.socket_path
        return conn
    if target.scheme == "https":
        conn = PinnedConnection(
            target.host, target.port, timeout=timeout, context=insecure_context()
        )
        conn.fingerprint = (fingerprint or "").upper()
        return conn
    return http.client.HTTPConnection(target.host, target.port, timeout=timeout)


class TargetTransport(xmlrpc.client.Transport):
    """XML-RPC transport for the XenAPI client, over :func:`http_connection`."""

    def __init__(self, target: Target, fingerprint: str | None, timeout: float | None):
        super().__init__()
        self.target, self.fingerprint, self.timeout = target, fingerprint, timeout

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        conn = http_connection(self.target, self.fingerprint, self.timeout)
        self._connection = host, conn
        return conn
