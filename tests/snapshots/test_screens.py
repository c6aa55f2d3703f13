"""Snapshots of the Status screen on the demo pool at 80x24 and 120x40.

Deterministic: fixed port (it shows in the header), seeded scenario, relative
times only, no clock, no animation."""

import time
import zlib

import pytest
from xstui.screens.status import StatusScreen

from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


# Fixed ports (they show in the header), below the ephemeral range so that no
# client socket holds them, one per test so that no test waits on another's.
def snapshot_port(request) -> int:
    return 29101 + zlib.crc32(request.node.name.encode()) % 3000


@pytest.fixture
def demo_connection(request):
    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", port=snapshot_port(request), password="snapshot")
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    try:
        conn.login()
        yield conn
    finally:
        conn.close()
        running.close()


async def _loaded(pilot):
    app = pilot.app
    deadline = time.monotonic() + 10
    while not (isinstance(app.screen, StatusScreen) and app.screen.status is not None):
        assert time.monotonic() < deadline
        await pilot.pause(0.05)
    await pilot.pause(0.2)


def _press_then_load(*keys):
    async def run_before(pilot):
        await _loaded(pilot)
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.1)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_status_host(snap_compare, demo_connection, size):
    assert snap_compare(
        XstuiApp(demo_connection), terminal_size=size, run_before=_press_then_load()
    )


@pytest.mark.parametrize("tab", ["p", "s", "a"])
def test_status_tabs_80x24(snap_compare, demo_connection, tab):
    assert snap_compare(
        XstuiApp(demo_connection), terminal_size=(80, 24), run_before=_press_then_load(tab)
    )


@pytest.mark.parametrize("tab", ["", "c"])
def test_network_80x24(snap_compare, demo_connection, tab):
    keys = ["f2", tab] if tab else ["f2"]
    assert snap_compare(
        XstuiApp(demo_connection), terminal_size=(80, 24), run_before=_press_then_load(*keys)
    )


@pytest.mark.parametrize(
    "keys", [("down",) * 6 + ("m",), ("b",)], ids=["management-form", "bond-form"]
)
def test_network_forms_80x24(snap_compare, demo_connection, keys):
    assert snap_compare(
        XstuiApp(demo_connection), terminal_size=(80, 24), run_before=_press_then_load("f2", *keys)
    )
