"""Fixtures of the app tests."""

from __future__ import annotations

import pytest

from xstui.areas import watched_types
from xstui.sim.runner import start_simulator
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


@pytest.fixture
def release_conn(request):
    """The demo as ``request.param`` (a release profile), and a console's connection."""
    running = start_simulator("demo", release=request.param, task_delay=0.01)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    yield running, conn
    conn.close()
    running.close()
