"""Reliability: servers that are broken or hostile. The CLI exits 3 with one
line, within its deadline; the console's connection says why and never hangs."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.xapi import transport
from xstui.xapi.connection import ConnectError, Connection, ConnectionLost
from xstui.xapi.targets import parse_target

from .hostile import MODES, HostileServer


@pytest.fixture
def hostile(request):
    """request.param: a mode, or (mode, misbehave already at login)."""
    mode, at_login = request.param if isinstance(request.param, tuple) else (request.param, False)
    server = HostileServer(mode, at_login=at_login)
    yield server
    server.close()


@pytest.mark.parametrize("hostile", [(m, True) for m in MODES], indirect=True, ids=MODES)
def test_the_cli_says_one_line_and_exits_3(hostile):
    env = {**os.environ, "XSTUI_PASSWORD": "x"}
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "status", hostile.url, "--json", "--timeout", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 3, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stdout == ""
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("hostile", [(m, False) for m in MODES], indirect=True, ids=MODES)
def test_after_login_every_call_fails_in_words_within_the_deadline(hostile, monkeypatch):
    monkeypatch.setattr(transport, "MAX_REPLY_BYTES", 8 * 1024 * 1024)
    conn = Connection(parse_target(hostile.url), "root", "x", watch=watched_types(), timeout=3)
    conn.login()
    started = time.monotonic()
    with pytest.raises(ConnectionLost) as err:
        conn.load_once()
    assert time.monotonic() - started < 10
    assert str(err.value)
    conn.close()


@pytest.mark.parametrize("hostile", ["malformed-xml", "wrong-types"], indirect=True)
def test_login_to_a_server_that_is_not_xapi_is_refused(hostile):
    conn = Connection(parse_target(hostile.url), "root", "x", timeout=3)
    hostile.at_login = True
    with pytest.raises(ConnectError, match="XAPI|reach"):
        conn.login()


@pytest.mark.parametrize("hostile", ["not-xapi-events", "malformed-xml"], indirect=True)
def test_the_console_says_why_instead_of_loading_forever(hostile):
    conn = Connection(parse_target(hostile.url), "root", "x", watch=watched_types(), timeout=3)
    conn.login()
    states = []
    conn.on_state = lambda state, detail: states.append((state, detail))
    conn.start_events()
    try:
        reasons = wait_for(
            lambda: [d for s, d in states if s == "reconnecting"], what="a reason to reconnect"
        )
        assert "XAPI" in reasons[0], states
    finally:
        conn.close()


def test_target_port_0_and_overlong_labels_are_refused_in_words():
    from xstui.xapi.targets import TargetError

    for text in ("https://host:0", "https://" + "a" * 64 + ".example"):
        with pytest.raises(TargetError):
            parse_target(text)
