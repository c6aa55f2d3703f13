"""Pilot tests of the Networking screen: management change (remote reconnect,
local confirm and local revert), bond creation and the NIC wizard."""

import secrets
import time

import pytest
from textual.widgets import DataTable, Input, SelectionList
from xstui.screens.network import NetworkScreen

from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.widgets.countdown import CountdownModal
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


async def wait_until(pilot, predicate, timeout=8.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


async def open_network(pilot, device: str | None = None) -> NetworkScreen:
    app = pilot.app
    await wait_until(pilot, lambda: app.connection.cache.table("pif"))
    # Status's health probes (reads, once a minute) done: tests count calls
    await wait_until(pilot, lambda: getattr(app.screen, "probed", None) is not None)
    await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(app.screen, NetworkScreen) and app.screen.rows)
    screen = app.screen
    if device:
        index = next(i for i, r in enumerate(screen.rows) if r.device == device and r.vlan < 0)
        screen.query_one("#pifs", DataTable).move_cursor(row=index)
    return screen


async def fill_form(pilot, **values):
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen.query("#ok"))
    for name, value in values.items():
        widget = app.screen.query_one(f"#field-{name}")
        if isinstance(widget, SelectionList):
            widget.deselect_all()
            for item in value.split(","):
                widget.select(item)
        else:  # Input or Select
            widget.value = value
    app.screen.query_one("#ok").press()
    await pilot.pause()


async def confirm_plan(pilot, word: str | None = None) -> PlanModal:
    app = pilot.app
    await wait_until(
        pilot, lambda: isinstance(app.screen, PlanModal) and app.screen.query("#apply")
    )
    modal = app.screen
    if word is not None:
        modal.query_one("#confirm-word", Input).value = word
        await pilot.pause()
    modal.query_one("#apply").press()
    return modal


def mgmt_device(running, host_name="xcp-a") -> str:
    st = running.sim.store
    host = st.find_one("host", name_label=host_name)
    return next(
        p["device"] for p in st.table("PIF").values() if p["host"] == host and p["management"]
    )


async def test_remote_management_change_reconnects(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_network(pilot, "eth4")
        await pilot.press("m")
        await fill_form(
            pilot, mode="static", ip="127.10.0.21", netmask="255.255.255.0", gateway="127.10.0.1"
        )
        plan = await confirm_plan(pilot, "eth4")
        assert plan.plan.risk == "high" and any("will drop" in i for i in plan.plan.impact)
        await wait_until(
            pilot,
            lambda: (
                connection.target.host == "127.10.0.21"
                and connection.state == "connected"
                and getattr(connection.cache.get("host", running_sim.sim.master), "address", "")
                == "127.10.0.21"
            ),
            timeout=20,
        )
    assert mgmt_device(running_sim) == "eth4"


async def test_bad_input_changes_nothing(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot, "eth4")
        generation, calls = running_sim.sim.store.generation, connection.calls
        await pilot.press("m")
        await fill_form(pilot, mode="static", ip="127.10.0.21", netmask="255.0.255.0", gateway="")
        assert isinstance(app.screen, FormModal)  # refused in the form
        app.screen.query_one("#field-netmask", Input).value = "255.255.255.0"
        app.screen.query_one("#field-gateway", Input).value = "127.99.0.1"
        app.screen.query_one("#ok").press()
        await pilot.pause(0.3)
        # gateway outside the subnet: refused in the form, what was typed is kept
        assert isinstance(app.screen, FormModal)
        assert "outside the subnet" in str(app.screen.query_one("#problem-form").render())
        assert app.screen.query_one("#field-ip", Input).value == "127.10.0.21"
        assert running_sim.sim.store.generation == generation and connection.calls == calls


@pytest.fixture
def local_connection(monkeypatch):
    from xstui.sim.runner import start_simulator

    path = f"/tmp/xstui-local-{secrets.token_hex(4)}.sock"
    running = start_simulator("demo", unix_socket=path, members=False, task_delay=0.01)
    monkeypatch.setenv("XSTUI_XAPI_SOCKET", path)
    conn = Connection(parse_target("local"), "root", "", watch=watched_types())
    conn.login()
    yield running, conn
    conn.close()
    running.close()


async def change_locally(pilot):
    screen = await open_network(pilot, "eth4")
    screen.confirm_seconds = 2
    await pilot.press("m")
    await fill_form(
        pilot, mode="static", ip="127.10.0.22", netmask="255.255.255.0", gateway="127.10.0.1"
    )
    await confirm_plan(pilot, "eth4")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CountdownModal))


async def test_local_change_kept_when_confirmed(local_connection):
    running, conn = local_connection
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await change_locally(pilot)
        await pilot.press("k")
        await pilot.pause(0.5)
        assert mgmt_device(running) == "eth4"
        await pilot.pause(2.5)
        assert mgmt_device(running) == "eth4"


async def test_local_change_reverted_without_confirmation(local_connection):
    running, conn = local_connection
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await change_locally(pilot)
        assert mgmt_device(running) == "eth4"
        st = running.sim.store
        host = st.find_one("host", name_label="xcp-a")
        eth4 = next(
            r for r, p in st.table("PIF").items() if p["host"] == host and p["device"] == "eth4"
        )
        await wait_until(
            pilot,
            lambda: (
                mgmt_device(running) == "eth0"
                and st.get("PIF", eth4)["ip_configuration_mode"] == "None"
            ),
            timeout=10,
        )
        assert st.get("host", host)["address"] == "127.10.0.11"


async def test_create_bond_from_the_screen(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot)
        await pilot.press("b")
        await fill_form(
            pilot, devices="eth1,eth4", mode="active-backup", name="Storage bond", mtu="9000"
        )
        await confirm_plan(pilot)
        await wait_until(
            pilot, lambda: running_sim.sim.store.find_one("network", name_label="Storage bond")
        )
        network = running_sim.sim.store.find_one("network", name_label="Storage bond")
        await wait_until(
            pilot,
            lambda: (
                len(
                    [
                        p
                        for p in running_sim.sim.store.table("PIF").values()
                        if p["network"] == network
                    ]
                )
                == 3
            ),
        )
        await wait_until(
            pilot, lambda: any(r.network == "Storage bond" for r in getattr(app.screen, "rows", []))
        )


async def test_nic_wizard_from_the_screen(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_network(pilot)
        await pilot.press("H")  # xcp-b: a member (the master cannot enter maintenance)
        await wait_until(pilot, lambda: screen.rows and screen.rows[0].host_name == "xcp-b")
        index = next(i for i, r in enumerate(screen.rows) if r.device == "eth4")
        screen.query_one("#pifs", DataTable).move_cursor(row=index)
        await pilot.press("r")
        await confirm_plan(pilot, "eth4")
        await wait_until(pilot, lambda: isinstance(app.screen, FormModal))
        await fill_form(pilot, mac="02:de:ad:be:ef:01")
        await confirm_plan(pilot)
        await wait_until(
            pilot,
            lambda: any(
                r.device == "eth4" and r.mac == "02:de:ad:be:ef:01"
                for r in getattr(app.screen, "rows", [])
            ),
        )
    host = running_sim.sim.store.find_one("host", name_label="xcp-b")
    assert running_sim.sim.store.get("host", host)["enabled"] is True


async def test_while_disconnected_one_notice_and_no_forms(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot, "eth4")
        running_sim.server.close()
        await wait_until(pilot, lambda: connection.state == "reconnecting", timeout=10)
        await pilot.pause(3)  # several retries with backoff
        lost = [n for n in app._notifications if "Connection lost" in n.message]
        assert len(lost) == 1
        await pilot.press("m")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, FormModal)
        assert any(
            "Not available while the connection is down" in n.message for n in app._notifications
        )


async def test_the_keymap_of_the_config_is_applied(running_sim, connection):
    from xstui.xapi.config import Config

    app = XstuiApp(connection, config=Config(keymap={"network.bond": "B"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot)
        await pilot.press("B")
        await wait_until(pilot, lambda: isinstance(app.screen, FormModal))
        assert "bond" in str(app.screen.title_text).lower()


async def test_the_cursor_stays_put_while_changes_stream_in(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_network(pilot, "eth4")
        table = screen.query_one("#pifs", DataTable)
        before = table.cursor_row
        st = running_sim.sim.store
        backup = st.find_one("network", name_label="Backup")
        for i in range(20):
            st.set("network", backup, name_label=f"Backup {i}")
            await pilot.pause(0.02)
        await wait_until(
            pilot, lambda: any(r.network == "Backup 19" for r in screen.rows), timeout=5
        )
        await pilot.pause(0.3)
        assert table.cursor_row == before and screen.selected().device == "eth4"


async def test_ctrl_q_quits_while_an_action_runs_after_asking(running_sim, connection):
    running_sim.sim.task_delay = 30  # the action's first task stays pending
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot)
        await pilot.press("v")
        await fill_form(pilot, tag="33", over="Backup")
        await confirm_plan(pilot)
        from xstui.widgets.progress import TaskProgressModal

        await wait_until(pilot, lambda: isinstance(app.screen, TaskProgressModal))
        started = time.monotonic()
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, PlanModal))
        assert "Quit while an action runs" in app.screen.plan.title
        app.screen.query_one("#apply").press()
        await wait_until(pilot, lambda: not app.is_running, timeout=5)
        assert time.monotonic() - started < 5


async def test_task_progress_does_not_redraw_the_screens(running_sim, connection):
    """Tasks are watched so that actions can wait on them; screens draw none."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_network(pilot)
        drawn = []
        original = screen.refresh_view
        screen.refresh_view = lambda classes=None: (drawn.append(classes), original(classes))
        screen.cache_changed(frozenset({"task"}))
        await pilot.pause(0.5)
        assert drawn == []
        screen.cache_changed(frozenset({"pif"}))
        await pilot.pause(0.5)
        assert drawn == [frozenset({"pif"})]
