"""Pilot tests of the Networking screen: management change (remote reconnect,
local confirm and local revert), bond creation and the NIC wizard."""

import secrets
import time

import pytest
from textual.widgets import Button, Input, SelectionList
from xstui.screens.network import NetworkScreen

from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.widgets.countdown import CountdownModal
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal
from xstui.widgets.rowlist import RowList
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


async def open_network(pilot, device: str | None = None) -> NetworkScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("pif"), what="the PIFs loaded")
    # Status's health probes (reads, once a minute) done: tests count calls
    await until(
        pilot, lambda: getattr(app.screen, "probed", None) is not None, what="the health probes"
    )
    await pilot.press("f2")
    await until(
        pilot,
        lambda: isinstance(app.screen, NetworkScreen) and app.screen.rows,
        what="the Networking screen and its rows",
    )
    screen = app.screen
    if device:
        index = next(i for i, r in enumerate(screen.rows) if r.device == device and r.vlan < 0)
        screen.query_one("#pifs", RowList).go_to(index)
    return screen


async def fill_form(pilot, **values):
    app = pilot.app
    await until(
        pilot,
        lambda: form_mounted(app) and app.screen.query("#ok"),
        what="a form, mounted",
    )
    for name, value in values.items():
        widget = app.screen.query_one(f"#field-{name}")
        if isinstance(widget, SelectionList):
            widget.deselect_all()
            for item in value.split(","):
                widget.select(item)
        else:  # Input or Select
            widget.value = value
    app.screen.query_one("#ok").press()
    await pilot.pause()  # the form checks its values on the press, at once


async def confirm_plan(pilot, word: str | None = None) -> PlanModal:
    app = pilot.app
    await until(
        pilot,
        lambda: isinstance(app.screen, PlanModal) and app.screen.query("#apply"),
        what="a plan",
    )
    modal = app.screen
    apply = modal.query_one("#apply", Button)
    if word is not None:
        modal.query_one("#confirm-word", Input).value = word
        await until(pilot, lambda: not apply.disabled, what=f"Apply enabled by {word!r}")
    apply.press()
    return modal


async def action_over(pilot) -> None:
    """The action's worker has ended (its progress box closed): the screen
    takes keys again."""
    app = pilot.app
    await until(
        pilot,
        lambda: all(w.is_finished for w in app.workers if w.group == "action"),
        what="the action over",
    )


def mgmt_device(running, host_name="xcp-a") -> str | None:
    """None for a moment while the management interface moves."""
    st = running.sim.store
    with st.lock:
        host = st.find_one("host", name_label=host_name)
        return next(
            (
                p["device"]
                for p in st.table("PIF").values()
                if p["host"] == host and p["management"]
            ),
            None,
        )


async def test_remote_management_change_reconnects(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_network(pilot, "eth4")
        await pilot.press("m")
        await fill_form(
            pilot,
            device="eth4",
            mode="static",
            ip="127.10.0.21",
            netmask="255.255.255.0",
            gateway="127.10.0.1",
        )
        loads = connection.cache.loads
        plan = await confirm_plan(pilot, "eth4")
        assert plan.plan.risk == "high" and any("will drop" in i for i in plan.plan.impact)
        await until(
            pilot,
            lambda: (
                connection.target.host == "127.10.0.21"
                and connection.cache.loads > loads  # loaded again from there
                and connection.state == "connected"
                and getattr(connection.cache.get("host", running_sim.sim.master), "address", "")
                == "127.10.0.21"
            ),
            what="the console connected again at 127.10.0.21",
        )
    assert mgmt_device(running_sim) == "eth4"


async def test_bad_input_changes_nothing(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot, "eth4")
        generation, calls = running_sim.sim.store.generation, connection.calls
        await pilot.press("m")
        await fill_form(
            pilot, device="eth4", mode="static", ip="127.10.0.21", netmask="255.0.255.0", gateway=""
        )
        form = app.screen
        assert isinstance(form, FormModal)  # refused in the form
        await until(
            pilot,
            lambda: not form.query_one("#problem-netmask").disabled,
            what="the netmask refused in words",
        )
        form.query_one("#field-netmask", Input).value = "255.255.255.0"
        form.query_one("#field-gateway", Input).value = "127.99.0.1"
        form.query_one("#ok").press()
        # gateway outside the subnet: refused in the form, what was typed is kept
        await until(
            pilot,
            lambda: "outside the subnet" in str(form.query_one("#problem-form").render()),
            what="the gateway refused in words",
        )
        assert app.screen is form
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


async def change_locally(pilot, seconds: int):
    screen = await open_network(pilot, "eth4")
    screen.confirm_seconds = seconds
    await pilot.press("m")
    await fill_form(
        pilot,
        device="eth4",
        mode="static",
        ip="127.10.0.22",
        netmask="255.255.255.0",
        gateway="127.10.0.1",
    )
    await confirm_plan(pilot, "eth4")
    await until(pilot, lambda: isinstance(pilot.app.screen, CountdownModal), what="the countdown")


async def test_local_change_kept_when_confirmed(local_connection):
    running, conn = local_connection
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await change_locally(pilot, seconds=60)  # time enough to press k on a busy machine
        countdown = app.screen
        await pilot.press("k")
        # kept: the action ends without the revert (it would wait for it)
        await action_over(pilot)
        assert not isinstance(app.screen, CountdownModal)
        assert countdown.left > 0  # kept by the key, not timed out
        assert mgmt_device(running) == "eth4"


async def test_local_change_reverted_without_confirmation(local_connection):
    running, conn = local_connection
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await change_locally(pilot, seconds=2)
        assert mgmt_device(running) == "eth4"
        st = running.sim.store
        host = st.find_one("host", name_label="xcp-a")
        eth4 = next(
            r for r, p in st.table("PIF").items() if p["host"] == host and p["device"] == "eth4"
        )
        await until(
            pilot,
            lambda: (
                mgmt_device(running) == "eth0"
                and st.get("PIF", eth4)["ip_configuration_mode"] == "None"
            ),
            what="the change reverted after the countdown",
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
        network = await until(
            pilot,
            lambda: running_sim.sim.store.find_one("network", name_label="Storage bond"),
            what="the bond's network created",
        )
        st = running_sim.sim.store

        def pifs_on_the_bond() -> int:
            with st.lock:  # the simulator is adding them meanwhile
                return len([p for p in st.table("PIF").values() if p["network"] == network])

        await until(
            pilot, lambda: pifs_on_the_bond() == 3, what="the bond's three PIFs on its network"
        )
        await until(
            pilot,
            lambda: any(r.network == "Storage bond" for r in getattr(app.screen, "rows", [])),
            what="the bond on the screen",
        )
        await action_over(pilot)


async def test_the_bond_name_follows_the_nics_ticked(running_sim, connection):
    """At 80x24: eth0 and eth1 ticked with the keys, the default name says so;
    OK with both carrying addresses on every host says why once, naming the hosts."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot)
        await pilot.press("b")
        await until(pilot, lambda: form_mounted(app) and app.screen.query("#ok"), what="the form")
        form = app.screen
        nics = form.query_one("#field-devices", SelectionList)
        name = form.query_one("#field-name", Input)
        assert app.focused is nics and nics.get_option_at_index(0).value == "eth0"
        await pilot.press("space", "down", "space")  # eth0, eth1
        await until(
            pilot, lambda: name.placeholder == "(Bond eth0+eth1)", what="the name following"
        )
        await pilot.press("space")  # eth1 unticked
        await until(pilot, lambda: name.placeholder == "(Bond eth0)", what="eth1 gone")
        await pilot.press("space")
        form.query_one("#ok").press()
        problem = form.query_one("#problem-form")
        await until(pilot, lambda: not problem.disabled, what="the refusal")
        text = str(problem.render())
        assert text.count("both have an IP address") == 1
        assert "on xcp-a, xcp-b, xcp-c" in text


async def test_nic_wizard_from_the_screen(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_network(pilot)
        await pilot.press("H")  # xcp-b: a member (the master cannot enter maintenance)
        await until(
            pilot, lambda: screen.rows and screen.rows[0].host_name == "xcp-b", what="xcp-b shown"
        )
        index = next(i for i, r in enumerate(screen.rows) if r.device == "eth4")
        screen.query_one("#pifs", RowList).go_to(index)
        await pilot.press("r")
        await confirm_plan(pilot, "eth4")
        await until(pilot, lambda: form_mounted(app))
        await fill_form(pilot, mac="02:de:ad:be:ef:01")
        await confirm_plan(pilot)
        await until(
            pilot,
            lambda: any(
                r.device == "eth4" and r.mac == "02:de:ad:be:ef:01"
                for r in getattr(app.screen, "rows", [])
            ),
            what="the new NIC's MAC on the screen",
        )
        await action_over(pilot)
    host = running_sim.sim.store.find_one("host", name_label="xcp-b")
    assert running_sim.sim.store.get("host", host)["enabled"] is True


async def test_while_disconnected_one_notice_and_no_forms(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot, "eth4")
        retries = []
        tell_app = connection.on_state

        def on_state(state, detail):
            tell_app(state, detail)
            retries.append(state)

        connection.on_state = on_state
        running_sim.server.close()
        await until(
            pilot,
            lambda: retries.count("reconnecting") >= 4,
            what="several retries with backoff",
        )
        # the app has taken in the states told so far (messages are handled in order)
        handled = []
        app.call_later(handled.append, True)
        await until(pilot, lambda: handled, what="the app's messages handled")
        lost = [n for n in app._notifications if "Connection lost" in n.message]
        assert len(lost) == 1
        await pilot.press("m")
        await until(
            pilot,
            lambda: any(
                "Not available while the connection is down" in n.message
                for n in app._notifications
            ),
            what="the refusal in words",
        )
        assert not isinstance(app.screen, FormModal)


async def test_the_keymap_of_the_config_is_applied(running_sim, connection):
    from xstui.xapi.config import Config

    app = XstuiApp(connection, config=Config(keymap={"network.bond": "B"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot)
        await pilot.press("B")
        await until(pilot, lambda: form_mounted(app))
        assert "bond" in str(app.screen.title_text).lower()


async def test_the_cursor_stays_put_while_changes_stream_in(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_network(pilot, "eth4")
        table = screen.query_one("#pifs", RowList)
        before = table.cursor
        st = running_sim.sim.store
        backup = st.find_one("network", name_label="Backup")
        for i in range(20):
            st.set("network", backup, name_label=f"Backup {i}")
            # not a wait: spreads the changes out, so that they reach the
            # screen in several batches while it is shown
            await pilot.pause(0.02)
        await until(
            pilot,
            lambda: any(r.network == "Backup 19" for r in screen.rows),
            what="the last change drawn",
        )
        await pilot.pause()  # the table's own messages after the redraw
        assert table.cursor == before and screen.selected().device == "eth4"


async def test_ctrl_q_quits_while_an_action_runs_after_asking(running_sim, connection):
    running_sim.sim.task_delay = 30  # the action's first task stays pending
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_network(pilot)
        await pilot.press("v")
        await fill_form(pilot, tag="33", over="Backup")
        await confirm_plan(pilot)
        from xstui.widgets.progress import TaskProgressModal

        await until(pilot, lambda: isinstance(app.screen, TaskProgressModal), what="the progress")
        started = time.monotonic()
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, PlanModal), what="the quit question")
        assert "Quit while an action runs" in app.screen.plan.title
        app.screen.query_one("#apply").press()
        await until(pilot, lambda: not app.is_running, what="the app ended")
        # without waiting for the pending task
        assert time.monotonic() - started < running_sim.sim.task_delay


async def test_task_progress_does_not_redraw_the_screens(running_sim, connection):
    """Tasks are watched so that actions can wait on them; screens draw none."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_network(pilot)
        drawn = []
        original = screen.refresh_view
        screen.refresh_view = lambda classes=None: (drawn.append(classes), original(classes))
        screen.cache_changed(frozenset({"task"}))
        screen.cache_changed(frozenset({"pif"}))
        # the next redraw draws what changed: the PIFs alone, not the tasks
        await until(pilot, lambda: drawn, what="a redraw")
        assert drawn == [frozenset({"pif"})]
