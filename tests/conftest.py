"""Shared fixtures: a simulator on loopback, reached over real HTTP."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
# times are shown in the machine's zone: every test (and what it starts) in one
# zone, so snapshots and expected words read the same on any machine
os.environ["TZ"] = "UTC"
time.tzset()

SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(*parts: str) -> Path:
    """A file of ../shared; the test is skipped when the folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is only in the developers' checkout)")
    return path


@pytest.fixture
def running_sim(request):
    """The demo pool over HTTP; a test module's ``SIM_RELEASE`` plays that
    release profile instead of the demo's own."""
    from xstui.sim.runner import start_simulator

    release = getattr(request.module, "SIM_RELEASE", "")
    running = start_simulator("demo", task_delay=0.01, release=release)
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


def pytest_collection_modifyitems(items):
    """The longest tests first: a worker that starts one late keeps the whole
    run waiting for it (xdist hands tests out in this order)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


FLEET_PASSWORD = "Fleet-Pw1"


@pytest.fixture(scope="module")
def fleet():
    """Five simulated pools of one host and two VMs each (xstui.sim.fleet),
    shared by a module's tests: the healthy, HA broken, certificate ending,
    behind on updates and silent pools."""
    from xstui.sim.fleet import start_fleet

    running = start_fleet("fleet:5,1,2", password=FLEET_PASSWORD)
    yield running
    running.close()
