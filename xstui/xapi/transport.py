"""The one way to reach a target over HTTP: dom0's unix socket, TLS pinned to
one certificate, or plain HTTP. Both XML-RPC (via XenAPI) and JSON-RPC use it.

A broken or hostile server must not hang or swamp us: every call has an
overall deadline (a watchdog shuts the socket when it passes, however slowly
the bytes trickle), replies have a size cap, and nothing is re-sent behind the
caller's back (a write that may have reached the host must not run twice)."""

from __future__ import annotations

import http.client
import socket
import threading
import xmlrpc.client
from contextlib import contextmanager

from .targets import Target
from .tls import FingerprintMismatch, format_fingerprint, insecure_context, same_fingerprint

# The first event.from of a 128-host / 8000-VM pool is ~90 MB of XML (~35 MB of
# JSON); a reply beyond this is not XAPI.
MAX_REPLY_BYTES = 256 * 1024 * 1024


class ReplyTooLarge(OSError):
    pass


class DeadlinePassed(TimeoutError):
    pass


@contextmanager
def deadline(conn: http.client.HTTPConnection, seconds: float | None):
    """Shut ``conn``'s socket if the block takes longer than ``seconds``."""
    if not seconds:
        yield
        return
    passed = threading.Event()

    def expire():
        passed.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as exc:  # a cut reply fails to read or to parse: say why
        if passed.is_set():
            raise DeadlinePassed(f"no complete reply within {seconds:.0f} s") from exc
        raise
    finally:
        timer.cancel()
    if passed.is_set():  # the cut came between reads: what was read is not the reply
        raise DeadlinePassed(f"no complete reply within {seconds:.0f} s")


def read_reply(response: http.client.HTTPResponse, cap: int | None = None) -> bytes:
    """The body, refusing one larger than ``cap`` (MAX_REPLY_BYTES by default)."""
    cap = MAX_REPLY_BYTES if cap is None else cap
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > cap:
        raise ReplyTooLarge(f"the reply is {int(length)} bytes, more than {cap}")
    if length and length.isdigit():
        return response.read()  # its length known: read into one buffer, not chunks joined
    chunks, size = [], 0
    while chunk := response.read(1024 * 1024):
        size += len(chunk)
        if size > cap:
            raise ReplyTooLarge(f"the reply is larger than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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
        if not same_fingerprint(self.fingerprint, actual):
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

    def request(self, host, handler, request_body, verbose=False):
        """One attempt, within the deadline. xmlrpc.client re-sends a request
        once when a kept-alive connection fails; that could apply a write
        twice, so retrying is left to the caller, who knows which calls are
        reads (xstui.xapi.connection)."""
        conn = self.make_connection(host)
        with deadline(conn, self.timeout):
            return self.single_request(host, handler, request_body, verbose)

    def parse_response(self, response):
        parser, unmarshaller = self.getparser()
        parser.feed(read_reply(response))
        parser.close()
        return unmarshaller.close()
