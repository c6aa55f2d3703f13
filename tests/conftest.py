"""Shared fixtures: a simulator on loopback, reached over real HTTP."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.waiting import wait_for

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(*parts: str) -> Path:
    """A file of ../shared; the test is skipped when the folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is only in the developers' checkout)")
    return path


@pytest.fixture
def running_sim():
    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", task_delay=0.01)
    running.sim.time_scale = 0.05
    yield running
    running.close()


@pytest.fixture
def xapi(running_sim):
    """A logged-in session of the unmodified PyPI XenAPI client."""
    import XenAPI

    session = XenAPI.Session(running_sim.url)
    session.xenapi.login_with_password("root", running_sim.password, "1.0", "xstui-tests")
    yield session
    try:
        session.xenapi.session.logout()
    except Exception:
        pass


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Config, audit log and backups go to a temporary folder, never the user's home."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XSTUI_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.delenv("XSTUI_PASSWORD", raising=False)
    monkeypatch.delenv("XSTUI_XAPI_SOCKET", raising=False)
    # the same screens whatever terminal runs the tests (TERM=linux changes glyphs)
    monkeypatch.setenv("TERM", "xterm-256color")


def _scheduled_by_a_simulator() -> list[threading.Timer]:
    """What simulators have scheduled and not yet done: a management address
    moving, a host going down or coming back, a listener restarting."""
    return [
        t
        for t in threading.enumerate()
        if isinstance(t, threading.Timer)
        and getattr(t.function, "__module__", "").startswith("xstui.sim")
    ]


@pytest.fixture(autouse=True)
def simulators_settle_before_closing(monkeypatch):
    """A simulator closes once what it has scheduled is done. SimServer.close
    races with a listener that a pending move or restart opens meanwhile: that
    one is closed without being shut down, and its serve_forever thread keeps
    polling the closed descriptor; once a later test's listener gets the same
    descriptor, each poll holds that socket open for a while after it is
    closed, and the host restarting there never listens again (EADDRINUSE)."""
    from xstui.sim.runner import RunningSim

    close = RunningSim.close

    def settled_close(self) -> None:
        wait_for(
            lambda: not _scheduled_by_a_simulator(), what="the simulator's scheduled events done"
        )
        close(self)

    monkeypatch.setattr(RunningSim, "close", settled_close)


@pytest.fixture
def connection(running_sim):
    from xstui.areas import watched_types
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    conn = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    conn.login()
    yield conn
    conn.close()


@pytest.fixture
def joined_sim():
    """The demo with the pool in its AD domain: alice (read-only) and the
    xen-admins group, bob in it (pool-operator), may log in."""
    from xstui.sim.runner import start_simulator
    from xstui.sim.scenario import load_scenario

    sc = load_scenario("demo")
    sc["directory"] = {
        **sc["directory"],
        "enabled": True,
        "subjects": [
            {"name": "alice", "role": "read-only"},
            {"name": "xen-admins", "role": "pool-operator"},
        ],
    }
    running = start_simulator(sc, task_delay=0.01)
    running.sim.time_scale = 0.05
    yield running
    running.close()
