"""Pilot tests of the fleet overview at 80x24 on the Linux console, over a
real simulated fleet: the first screen when several pools are saved, worst
first; n opens the next pool with a finding, F12 comes back, Enter opens a
pool; a pool that does not answer says why."""

import socket

import pytest
import yaml
from xstui.screens.fleet import FleetScreen
from xstui.screens.status import StatusScreen

from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.sim.fleet import start_fleet
from xstui.widgets.rowlist import RowList

PASSWORD = "Fleet-Pw1"


def closed_port() -> int:
    """A port nobody listens on (taken from the system, then let go)."""
    with socket.socket() as s:
        s.bind(("127.64.250.11", 0))
        return s.getsockname()[1]


@pytest.fixture
def saved_fleet(tmp_path, monkeypatch):
    """Four pools that answer and one that does not, saved in the config."""
    fleet = start_fleet("fleet:4,1,2", password=PASSWORD)
    targets = [{"url": p.url, "name": p.name, "group": "sim"} for p in fleet.pools]
    dead = f"http://127.64.250.11:{closed_port()}"
    targets.append({"url": dead, "name": "dead-01", "group": "sim"})
    config = tmp_path / "config" / "xstui" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({"targets": targets}))
    monkeypatch.setenv("XSTUI_PASSWORD", PASSWORD)
    yield fleet
    fleet.close()


def settled(app) -> bool:
    rows = app.fleet.rows.values() if app.fleet else ()
    return bool(rows) and all(r.hosts_total or r.state == "unreachable" for r in rows)


def in_console(app, name: str) -> bool:
    conn = app.connection
    pools = app.fleet.pools
    return (
        isinstance(app.screen, StatusScreen)
        and conn is not None
        and conn.target.url == pools[name].url
        and app.screen.status is not None
    )


async def test_the_fleet_first_worst_first_and_the_next_problem(console, saved_fleet):  # noqa: F811
    app = XstuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet first")
        await until(pilot, lambda: settled(app), what="every pool answered or not")
        screen = app.screen
        rowlist = screen.query_one(RowList)
        await until(
            pilot,
            lambda: (
                [k for k, _ in rowlist.rows]
                == ["dead-01", "fleet-02", "fleet-03", "fleet-04", "fleet-01"]
            ),
            what="worst first",
        )
        text = flat(screen_text(app))  # (the detail wraps)
        assert "Fleet: 5 pools, 2 with a finding, 1 not asked" in text
        assert "connection refused" in text and "tried again in" in text  # the dead pool's why
        # n: the next pool with a finding after the one under the cursor (dead-01: passed over)
        await pilot.press("n")
        await until(pilot, lambda: in_console(app, "fleet-02"), what="fleet-02 in the console")
        first = app.connection
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet again")
        assert "in the console: fleet-02" in screen_text(app)
        await pilot.press("n")  # after the pool in the console
        await until(pilot, lambda: in_console(app, "fleet-03"), what="fleet-03 in the console")
        await until(pilot, lambda: first.state == "closed", what="fleet-02's connection closed")
        # Enter on the pool in the console goes back to it, as it is
        second = app.connection
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet again")
        await pilot.press("down", "down")
        await until(pilot, lambda: rowlist.cursor_key == "fleet-03", what="the cursor on it")
        await pilot.press("enter")
        await until(pilot, lambda: in_console(app, "fleet-03"), what="fleet-03 again")
        assert app.connection is second
        # F12 again on the fleet: back to the pool in the console, as it was
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet again")
        assert "Enter Open" in screen_text(app)  # in words: no ⏎ on a PC console font
        await pilot.press("f12")
        await until(pilot, lambda: in_console(app, "fleet-03"), what="F12 back to fleet-03")
        assert app.connection is second
        # a pool not in focus keeps its light subscription only
        light = app.fleet.connections["fleet-01"]
        assert "vm" not in light.event_classes and "vm" in app.connection.event_classes


async def test_one_saved_pool_opens_the_connect_screen(console, tmp_path):  # noqa: F811
    config = tmp_path / "config" / "xstui" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({"targets": ["http://127.64.250.11:1"]}))
    app = XstuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Connect to a XenServer" in screen_text(app), what="connect")
        assert app.fleet is None


def notices(app) -> str:
    return " ".join(n.message for n in app._notifications)


async def test_f11_goes_to_the_next_pool_with_a_problem_from_anywhere(console, saved_fleet):  # noqa: F811
    """F11 from the fleet, then from the pool's own screens: the next pool
    with a finding after the one in the console, in the overview's order
    (dead-01 passed over, fleet-04's info and the healthy fleet-01 too),
    going round; a notice says which and why."""
    app = XstuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet first")
        await until(pilot, lambda: settled(app), what="every pool answered or not")
        await pilot.press("f11")
        await until(pilot, lambda: in_console(app, "fleet-02"), what="fleet-02 in the console")
        assert "Next pool with a finding: fleet-02 (sim)" in notices(app)
        assert "Heartbeat" in notices(app)
        app.clear_notifications()
        await pilot.press("f11")  # from Status, not from the fleet
        await until(pilot, lambda: in_console(app, "fleet-03"), what="fleet-03 in the console")
        assert "fleet-03 (sim) as pool-admin: warning: Certificate" in notices(app)
        await pilot.press("f11")  # round again
        await until(pilot, lambda: in_console(app, "fleet-02"), what="fleet-02 again")


async def test_f11_with_no_pool_saved_says_so(console, tmp_path):  # noqa: F811
    config = tmp_path / "config" / "xstui" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({"targets": []}))
    app = XstuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Connect to a XenServer" in screen_text(app), what="connect")
        await pilot.press("f11")
        await until(pilot, lambda: "No saved pools" in notices(app), what="the notice")
        assert app.fleet is None


async def test_retry_and_back_work_or_say_why(console, saved_fleet):  # noqa: F811
    """Trial s12 item 5: r and Esc did nothing and said nothing, and the
    footer showed no way back."""
    app = XstuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet first")
        await until(pilot, lambda: settled(app), what="every pool answered or not")
        screen = app.screen
        rowlist = screen.query_one(RowList)
        await until(pilot, lambda: rowlist.cursor_key == "dead-01", what="the worst first")
        assert "r Retry" in screen_text(app)
        assert "Esc Back" not in screen_text(app)  # no pool open yet: dimmed (not drawn here)
        await pilot.press("escape")
        await until(pilot, lambda: "Back: no pool is open yet" in notices(app), what="why not")
        await pilot.press("r")
        await until(pilot, lambda: "Asking dead-01 again" in notices(app), what="r said")
        await pilot.press("down")
        await until(pilot, lambda: rowlist.cursor_key == "fleet-02", what="a pool that answers")
        assert screen.check_action("act", ("retry",)) is None  # dimmed
        await pilot.press("r")
        await until(pilot, lambda: "Retry: fleet-02 answers" in notices(app), what="why not")
        await pilot.press("enter")
        await until(pilot, lambda: in_console(app, "fleet-02"), what="fleet-02 in the console")
        await pilot.press("f12")
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), what="the fleet again")
        await until(pilot, lambda: "Esc Back" in screen_text(app), what="the way back shown")
        await pilot.press("escape")
        await until(pilot, lambda: in_console(app, "fleet-02"), what="Esc back to fleet-02")
