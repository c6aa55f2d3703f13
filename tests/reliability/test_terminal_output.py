"""Reliability: text from a server reaches the terminal outside the TUI (the
CLI's lines, its errors) with its control characters escaped, so that a host
name cannot set the window title, clear the screen or forge a line; the JSON
output stays exact (json.dumps escapes them itself)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import unicodedata
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xstui.cli import main
from xstui.sim.runner import start_simulator

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m"  # sets the title, clears the screen, C1 CSI
NAMES = st.text(
    alphabet=st.one_of(
        st.characters(),  # any code point but surrogates
        st.sampled_from(["\x1b", "\x07", "\x00", "\x7f", "\x85", "\x9b", "\r", "\n", "\t", "["]),
    ),
    min_size=1,
    max_size=30,
)


def raw_controls(text: str) -> list[str]:
    """The control characters (C0, DEL, C1) a terminal would act on, but newlines."""
    return [c for c in text if unicodedata.category(c) == "Cc" and c != "\n"]


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    running = start_simulator("demo", members=False, password="pw", task_delay=0.01)
    baseline = tmp_path_factory.mktemp("baseline") / "baseline.yaml"
    baseline.write_text("require: [XS82ECU1033]\n")
    xcp_b = running.sim.store.find_one("host", name_label="xcp-b")  # named in findings
    yield running, str(baseline), xcp_b
    running.close()


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=NAMES)
@example(name=HOSTILE)
@example(name="xcp-b\ncritical network    forged line")
def test_no_cli_line_carries_a_raw_control_character_whatever_the_host_is_called(
    pool, monkeypatch, name
):
    running, baseline, host = pool
    monkeypatch.setenv("XSTUI_PASSWORD", "pw")
    running.sim.store.set("host", host, name_label=name)
    url = ["--timeout", "20"]
    check = cli("check", running.url, *url)
    drift = cli("check", running.url, "--baseline", baseline, *url)
    status = cli("status", running.url, "--json", *url)
    for code, out, err in (check, drift, status):
        assert code in (0, 1), err
        assert not raw_controls(out + err), (out + err)[-2000:]
        assert not any(line.startswith("critical network") for line in out.splitlines())
    if name == HOSTILE:  # the name is there, escaped
        assert "Certificate of \\x1b]0;owned\\x07\\x1b[2J\\x9b31m expires" in check[1]
        assert "ok       \\x1b]0;owned\\x07\\x1b[2J\\x9b31m\n" in drift[1]
    assert name in [h["name"] for h in json.loads(status[1])["pool"]["hosts"]]  # exact


C1 = "\x9b2J\x9d0;owned\x9c"  # what XML may carry: C1 controls (CSI, OSC, ST)


class Hostile(BaseHTTPRequestHandler):
    """Answers a login with text meant for the terminal: as the details of
    XAPI's failure, or in the HTTP status line."""

    mode = "failure"

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "failure":
            failure = {
                "Status": "Failure",
                "ErrorDescription": ["SESSION_AUTHENTICATION_FAILED", C1],
            }
            body = xmlrpc.client.dumps((failure,), methodresponse=True).encode()
            self.send_response(200)
        else:
            body = b"no"
            self.send_response(500, HOSTILE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(
    "mode,shown", [("failure", "\\x9b2J\\x9d0;owned\\x9c"), ("status-line", "\\x1b]0;owned\\x07")]
)
def test_a_servers_reply_before_login_is_escaped_in_the_error_line(mode, shown):
    handler = type("Handler", (Hostile,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "xstui", "status", f"http://127.0.0.1:{server.server_port}"],
            capture_output=True,
            text=True,
            env={**os.environ, "XSTUI_PASSWORD": "x"},
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert out.returncode == 3 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and not raw_controls(out.stderr), repr(out.stderr)
    assert shown in lines[0]
