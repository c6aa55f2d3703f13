"""Reliability: a pinned fingerprint is read one way wherever it comes from
(--fingerprint, the config file, hence the connect screen): any case, with or
without colons; what is not a SHA-256 fingerprint is refused in words, never
taken as a pin. And the console's secrets stay with it: dom0's tools and the
local shell get an environment without XSTUI_PASSWORD or XSTUI_PASSWORD_*."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
from pathlib import Path

import pytest

from tests.waiting import until
from xstui.areas import watched_types
from xstui.cli import main
from xstui.services.host.local import LocalSystem
from xstui.sim.runner import start_simulator
from xstui.xapi.config import Config, config_dir
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target
from xstui.xapi.tls import spaced

# 11: fingerprints ---------------------------------------------------------------

PIN = ":".join(f"{b:02X}" for b in range(0xA0, 0xC0))


@pytest.mark.parametrize(
    "written",
    [
        PIN,
        PIN.lower(),
        PIN.replace(":", ""),
        PIN.replace(":", "").lower(),
        spaced(PIN),
        f"sha256 Fingerprint={PIN}",
        f"  {PIN}\n",
    ],
)
def test_a_fingerprint_is_read_however_it_is_written(written):
    from xstui.xapi.tls import parse_fingerprint

    assert parse_fingerprint(written) == PIN


@pytest.mark.parametrize(
    "written,said",
    [
        ("AA:BB", "64 hexadecimal digits (32 pairs), not 4"),
        (PIN + ":CC", "not 66"),
        (PIN.replace("A0", "G0"), "hexadecimal digits (0-9, A-F)"),
        ("A:" + PIN.replace(":", "")[1:], "between pairs of digits"),
        ("", "hexadecimal digits"),
    ],
)
def test_what_is_not_a_fingerprint_is_refused_in_words(written, said):
    from xstui.xapi.tls import FingerprintError, parse_fingerprint

    with pytest.raises(FingerprintError, match=said.replace("(", r"\(").replace(")", r"\)")):
        parse_fingerprint(written)


@pytest.fixture(scope="module")
def tls_pool():
    running = start_simulator("demo", tls=True, password="pw", members=False, task_delay=0.01)
    yield running
    running.close()


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_the_right_fingerprint_in_lower_case_without_colons_is_trusted(tls_pool, monkeypatch):
    monkeypatch.setenv("XSTUI_PASSWORD", "pw")
    typed = tls_pool.fingerprint.replace(":", "").lower()
    code, out, err = cli("status", tls_pool.url, "--json", "--fingerprint", typed)
    assert code == 0, err
    assert json.loads(out)["pool"]["name"]
    key = parse_target(tls_pool.url).trust_key
    assert Config.load().fingerprints == {key: tls_pool.fingerprint}  # saved, as stored


def test_a_short_fingerprint_is_refused_before_anything(tls_pool, monkeypatch):
    monkeypatch.setenv("XSTUI_PASSWORD", "pw")
    code, out, err = cli("status", tls_pool.url, "--json", "--fingerprint", "AA:BB")
    assert (code, out) == (2, "")
    assert err == (
        "xstui: --fingerprint: a SHA-256 fingerprint has 64 hexadecimal digits (32 pairs), not 4\n"
    )
    assert not (config_dir() / "config.yaml").exists()  # nothing pinned


def status_shown(app) -> bool:
    from xstui.screens.status import StatusScreen

    return isinstance(app.screen, StatusScreen) and bool(app.screen.status)


def write_config(pins: dict[str, str]) -> Path:
    path = config_dir() / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("fingerprints:\n" + "".join(f"  '{k}': '{v}'\n" for k, v in pins.items()))
    return path


def test_pins_in_the_config_file_are_read_the_same_way(tls_pool):
    key = parse_target(tls_pool.url).trust_key
    write_config({key: tls_pool.fingerprint.replace(":", "").lower(), "h:443": "AA:BB"})
    config = Config.load()
    assert config.fingerprints == {key: tls_pool.fingerprint}  # the short one is not a pin
    assert "fingerprints.h:443: a SHA-256 fingerprint has 64" in config.problem
    conn = Connection(parse_target(tls_pool.url), "root", "pw", fingerprints=config.fingerprints)
    conn.login()  # trusted, no question
    conn.close()


async def test_the_connect_screen_trusts_a_pin_written_in_lower_case(tls_pool, monkeypatch):
    from xstui.app import XstuiApp

    key = parse_target(tls_pool.url).trust_key
    write_config({key: tls_pool.fingerprint.replace(":", "").lower()})
    monkeypatch.setenv("XSTUI_PASSWORD", "pw")  # the screen logs in at once
    app = XstuiApp(target=tls_pool.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: status_shown(app), what="logged in, no question asked")
        assert app.config.fingerprints == {key: tls_pool.fingerprint}


# 12: secrets ---------------------------------------------------------------------

ENV_TOOL = "#!/bin/sh\nenv\n"
SECRETS = {"XSTUI_PASSWORD": "s3cret", "XSTUI_PASSWORD_XCP_B": "other"}


def has_env_tool(root: Path) -> LocalSystem:
    """A dom0 whose df prints its environment."""
    tool = root / "usr/bin/df"
    tool.parent.mkdir(parents=True)
    tool.write_text(ENV_TOOL)
    tool.chmod(0o755)
    return LocalSystem(root)


def names(env_output: str) -> set[str]:
    return {line.split("=", 1)[0] for line in env_output.splitlines() if "=" in line}


def test_dom0_tools_get_no_secrets(tmp_path, monkeypatch):
    for name, value in {**SECRETS, "XSTUI_KEEP": "kept"}.items():
        monkeypatch.setenv(name, value)
    system = has_env_tool(tmp_path)
    seen = [
        system.run("df"),
        system.status("df")[1],
        "\n".join(system.stream("df")),
    ]
    for output in seen:
        assert not names(output) & set(SECRETS), output
        assert "XSTUI_KEEP" in names(output) and "PATH" in names(output)


async def test_the_local_shell_gets_no_secrets(tmp_path, monkeypatch):
    """The console in dom0 (xstui local); its local shell is a script that
    writes its environment down. (The headless test terminal cannot be
    handed over to a child: the app's suspension is left out, nothing else.)"""
    from xstui.app import XstuiApp

    socket = f"/tmp/xstui-local-{secrets.token_hex(4)}.sock"
    running = start_simulator("demo", unix_socket=socket, members=False, task_delay=0.01)
    monkeypatch.setenv("XSTUI_XAPI_SOCKET", socket)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    seen = tmp_path / "env.txt"
    shell = tmp_path / "shell"
    shell.write_text(f"#!/bin/sh\nenv > {seen}\n")
    shell.chmod(0o755)
    monkeypatch.setenv("SHELL", str(shell))
    conn = Connection(parse_target("local"), "root", "", watch=watched_types())
    conn.login()
    try:
        app = XstuiApp(conn)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: status_shown(app), what="the console in dom0")
            monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
            app.action_local_shell()
        assert names(seen.read_text()) >= {"PATH", "SHELL"}
        assert not names(seen.read_text()) & set(SECRETS)
    finally:
        conn.close()
        running.close()
        if os.path.exists(socket):
            os.unlink(socket)
