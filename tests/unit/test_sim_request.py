"""The simulator's own request reader (xstui.sim.request): headers as
http.server reads them, its refusals kept, over a real socket."""

import io
import socket
from urllib.parse import urlparse

import pytest

from xstui.sim.request import MAX_HEADERS, HeaderError, read_headers


def test_headers_any_case_first_value_kept():
    headers = read_headers(
        io.BytesIO(b"Content-Length: 12\r\nX-Two: a\r\nx-two: b\r\nno colon\r\n\r\nbody")
    )
    assert headers.get("content-length") == "12"
    assert headers.get("CONTENT-LENGTH") == "12"
    assert headers.get("X-Two") == "a"
    assert headers.get("Missing", "none") == "none"


def test_headers_past_the_limits_refused():
    with pytest.raises(HeaderError, match="Too many"):
        read_headers(io.BytesIO(b"A: b\r\n" * (MAX_HEADERS + 1) + b"\r\n"))
    with pytest.raises(HeaderError, match="too long"):
        read_headers(io.BytesIO(b"A: " + b"x" * 70000 + b"\r\n\r\n"))


def exchange(url: str, request: bytes) -> bytes:
    """What the listener answers to ``request`` before it closes."""
    where = urlparse(url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(request)
        out = b""
        while chunk := conn.recv(65536):
            out += chunk
    return out


@pytest.mark.parametrize(
    ("request_line", "status"),
    [
        (b"POST / HTTP/2.0", b"505"),
        (b"POST / HTTX/1.1", b"400"),
        (b"POST /", b"400"),
        (b"POST / HTTP/1.1 extra", b"400"),
    ],
)
def test_bad_request_lines_refused(running_sim, request_line, status):
    # as http.server: a request line it cannot read gets an error page, no status line
    answer = exchange(running_sim.url, request_line + b"\r\nContent-Length: 0\r\n\r\n")
    assert b"Error code: " + status in answer


def test_kept_alive_until_the_client_says_close(running_sim):
    call = (
        b"<?xml version='1.0'?><methodCall><methodName>session.logout</methodName>"
        b"<params><param><value>OpaqueRef:none</value></param></params></methodCall>"
    )
    head = b"POST / HTTP/1.1\r\nHost: x\r\ncontent-length: %d\r\n" % len(call)
    # two requests on one connection; the second asks to close, so the reply ends it
    answer = exchange(
        running_sim.url, head + b"\r\n" + call + head + b"Connection: close\r\n\r\n" + call
    )
    assert answer.count(b"HTTP/1.1 200") == 2
    assert answer.count(b"SESSION_INVALID") == 2


def test_the_wire_counted_by_the_time_the_client_has_the_reply(running_sim):
    """Every byte each way, headers included, in the simulator's ``wire``
    (what the metrics bench reads) before the reply reaches the client."""
    call = (
        b"<?xml version='1.0'?><methodCall><methodName>session.logout</methodName>"
        b"<params><param><value>OpaqueRef:none</value></param></params></methodCall>"
    )
    request = b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\ncontent-length: %d\r\n\r\n"
    request = request % len(call) + call
    wire = running_sim.sim.wire
    before = dict(wire)
    answer = exchange(running_sim.url, request)
    assert wire["received"] - before.get("received", 0) == len(request)
    assert wire["sent"] - before.get("sent", 0) == len(answer)
