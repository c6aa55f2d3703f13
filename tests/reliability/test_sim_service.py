"""Reliability: the simulator as a network service facing careless or hostile
clients. It must answer with an error, never block others, never leak."""

from __future__ import annotations

import http.client
import os
import socket
import stat
import time

import pytest
import XenAPI

from tests.waiting import TIMEOUT
from xstui.sim.runner import start_simulator
from xstui.sim.server import TLS_HANDSHAKE_SECONDS


def test_session_refs_cannot_be_guessed():
    refs = []
    for _ in range(2):
        running = start_simulator("demo", members=False, password="pw")
        try:
            session = XenAPI.Session(running.url)
            session.xenapi.login_with_password("root", "pw")
            refs.append(session._session)
        finally:
            running.close()
    assert refs[0] != refs[1], "the same scenario gave the same first session"


def test_an_idle_tls_client_does_not_hold_up_the_others():
    running = start_simulator("demo", tls=True, members=False, password="pw")
    address, port = running.server.listeners[0].server.server_address
    idle = socket.create_connection((address, port))  # connects, never says hello
    try:
        import ssl

        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        started = time.monotonic()
        conn = http.client.HTTPSConnection(address, port, timeout=TIMEOUT, context=ctx)
        conn.request(
            "POST",
            "/jsonrpc",
            '{"jsonrpc":"2.0","method":"session.login_with_password","params":["root","pw"],"id":1}',
        )
        assert conn.getresponse().status == 200
        # not held up until the idle client's handshake is given up
        assert time.monotonic() - started < TLS_HANDSHAKE_SECONDS
    finally:
        idle.close()
        running.close()


def test_unix_socket_never_replaces_a_file_and_is_private(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    with pytest.raises(FileExistsError):
        start_simulator("demo", members=False, unix_socket=str(victim))
    assert victim.read_text() == "keep me"
    path = tmp_path / "xapi.sock"
    old = os.umask(0)
    try:
        running = start_simulator("demo", members=False, unix_socket=str(path))
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        running.close()


@pytest.mark.parametrize(
    "headers, body, status",
    [
        ({"Content-Length": str(700 * 1024 * 1024)}, b"", 413),
        ({"Content-Length": "lots"}, b"", 400),
        ({}, b"<methodCall>" + b"<value><array><data>" * 5000 + b"</methodCall>", 500),
    ],
    ids=["huge-body", "bad-length", "deep-nesting"],
)
def test_oversized_or_malformed_requests_get_an_error(headers, body, status):
    running = start_simulator("demo", members=False)
    try:
        address, port = running.server.listeners[0].server.server_address
        conn = http.client.HTTPConnection(address, port, timeout=TIMEOUT)
        conn.putrequest("POST", "/")
        for key, value in headers.items():
            conn.putheader(key, value)
        if "Content-Length" not in headers:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body and "Content-Length" not in headers:
            conn.send(body)
        assert conn.getresponse().status == status
    finally:
        running.close()
