"""Pilot tests at 80x24 of the Host and VMs screens, end to end against the
simulator: maintenance mode there and back, a reboot of the master followed
through the reconnect, a bulk start of 50 VMs, finding a VM by typing and
migrating it."""

import pytest
from xstui.screens.host import HostScreen, PrecheckModal
from xstui.screens.vms import VmsScreen

from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.services.vms import MigrateVms
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.rowlist import RowList
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


async def open_host(pilot, name: str) -> HostScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("host"))
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(app.screen, HostScreen) and app.screen.rows)
    screen = app.screen
    index = next(i for i, r in enumerate(screen.rows) if r.name == name)
    for _ in range(index):
        await pilot.press("down")
    assert screen.host == screen.rows[index].ref
    return screen


def resident(running, host_name):
    st = running.sim.store
    host = st.find_one("host", name_label=host_name)
    return sorted(
        st.get("VM", v)["name_label"]
        for v in st.get("host", host)["resident_VMs"]
        if not st.get("VM", v)["is_control_domain"]
    )


async def test_maintenance_there_and_back(running_sim, connection):
    st = running_sim.sim.store
    b = st.find_one("host", name_label="xcp-b")
    was_there = resident(running_sim, "xcp-b")
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "xcp-b")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, PrecheckModal))
        assert [x.name for x in app.screen.blockers] == [
            "build-agent-1",
            "jenkins",
            "log-collector",
        ]
        await pilot.press("enter")  # Continue
        await fill_form(pilot, blocked="shut down")
        await confirm_plan(pilot, "maintenance")
        await until(pilot, lambda: resident(running_sim, "xcp-b") == [])
        await until(pilot, lambda: screen.rows[1].state == "maintenance")
        assert st.get("host", b)["enabled"] is False
        await action_over(pilot)

        await pilot.press("x")
        await fill_form(pilot, bring_back="yes")
        await confirm_plan(pilot)
        await until(pilot, lambda: resident(running_sim, "xcp-b") == was_there)
        await until(pilot, lambda: screen.rows[1].state == "up")
        await action_over(pilot)


async def test_reboot_of_the_master_is_followed_back(running_sim, connection):
    running_sim.sim.reboot_seconds = 20  # x time_scale 0.05: 1 s away
    app = XstuiApp(connection)
    notices = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notices.append(message)
        await open_host(pilot, "xcp-a")
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal))  # the master
        app.screen.query_one("#answer-go").press()
        await until(pilot, lambda: isinstance(app.screen, PrecheckModal))
        await pilot.press("enter")
        await fill_form(pilot, vms="shut them down")
        await confirm_plan(pilot, "reboot")
        await until(pilot, lambda: any("is back after" in n for n in notices))
        assert connection.state == "connected"
        assert resident(running_sim, "xcp-a") == []


@pytest.fixture
def sim_250():
    from xstui.sim.runner import start_simulator
    from xstui.sim.scenario import generate

    running = start_simulator(generate(8, 250), task_delay=0.01)
    running.sim.time_scale = 0.02
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    yield running, conn
    conn.close()
    running.close()


async def test_bulk_start_of_50_vms(sim_250):
    running, conn = sim_250
    st = running.sim.store
    halted = [
        r
        for r, v in st.table("VM").items()
        if v["power_state"] == "Halted" and not v["is_a_template"]
    ]
    assert len(halted) == 50
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.cache.table("vm"))
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows)
        await pilot.press("slash", *"halted", "enter", "A")
        await until(
            pilot,
            lambda: len(app.screen.query_one(RowList).marked) == 50,
            what="the 50 halted VMs selected",
        )
        await pilot.press("p")
        await fill_form(pilot, op="start")
        await confirm_plan(pilot)
        await until(
            pilot,
            lambda: all(st.get("VM", r)["power_state"] == "Running" for r in halted),
        )
        await action_over(pilot)


async def test_find_a_vm_by_typing_and_migrate_it(running_sim, connection):
    st = running_sim.sim.store
    vm = st.find_one("VM", name_label="web-03")
    a = st.find_one("host", name_label="xcp-a")
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.cache.table("vm"))
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows)
        await pilot.press("slash", *"web-03", "enter")
        await until(
            pilot, lambda: [r.name for r in app.screen.shown] == ["web-03"], what="web-03 alone"
        )
        await pilot.press("g")
        targets = MigrateVms.targets(connection.cache, [vm])
        await fill_form(pilot, host=next(label for label, ref in targets if ref == a))
        await confirm_plan(pilot)
        await until(pilot, lambda: st.get("VM", vm)["resident_on"] == a)
        await action_over(pilot)


async def test_maintenance_of_the_master_offers_a_designation_first(running_sim, connection):
    st = running_sim.sim.store
    b = st.find_one("host", name_label="xcp-b")
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "xcp-a")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal))
        await pilot.press("enter")  # Designate first
        await fill_form(pilot, host="xcp-b")
        await confirm_plan(pilot)
        await until(pilot, lambda: st.get("pool", running_sim.sim.pool)["master"] == b)
        await until(
            pilot,
            lambda: connection.state == "connected" and connection.this_host == b,
        )
        assert "127.10.0.12" in connection.target.url
        # the progress box may still be closing on a loaded machine
        await until(
            pilot,
            lambda: isinstance(app.screen, HostScreen) and app.screen.rows[1].role == "master",
        )
        await action_over(pilot)


async def test_a_dead_master_is_noticed_and_a_member_takes_over(running_sim, connection):
    from xstui.screens.recovery import RecoveryModal

    st = running_sim.sim.store
    b = st.find_one("host", name_label="xcp-b")
    app = XstuiApp(connection)
    app.MASTER_CHECK_SECONDS = 0.5
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "xcp-a")
        running_sim.sim.kill_host(running_sim.sim.master)
        # offered by itself, instead of reconnecting forever
        await until(pilot, lambda: isinstance(app.screen, RecoveryModal))
        modal = app.screen
        await until(
            pilot,
            lambda: (
                modal.query("#takeover")
                and modal.diagnosis is not None
                and modal.diagnosis.master_dead
            ),
        )
        modal.query_one("#takeover").press()
        await fill_form(pilot, member="xcp-b")
        plan = await confirm_plan(pilot, "takeover")
        assert any(line.startswith("When:") for line in plan.plan.impact)
        await until(
            pilot,
            lambda: connection.state == "connected" and connection.this_host == b,
        )
        assert "127.10.0.12" in connection.target.url
        assert running_sim.sim.master_of(st.find_one("host", name_label="xcp-c")) == b


async def test_over_https_the_recorded_certificates_are_trusted_on_the_recovery_screen():
    from xstui.screens.recovery import RecoveryModal

    from tests.app.test_app import text_of
    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", tls=True, own_certificates=True, task_delay=0.01)
    target = parse_target(running.url)
    conn = Connection(
        target,
        "root",
        running.password,
        watch=watched_types(),
        fingerprints={target.trust_key: running.fingerprint},
    )
    conn.login()
    app = XstuiApp(conn)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: len(conn.cache.table("certificate")) >= 3)
            running.sim.kill_host(running.sim.master)
            await until(pilot, lambda: conn.state != "connected")
            await pilot.press("ctrl+r")
            await until(
                pilot,
                lambda: isinstance(app.screen, RecoveryModal) and app.screen.diagnosis is not None,
            )
            modal = app.screen
            shown = text_of(modal.query_one("#recovery-state"))
            assert "matches what the pool recorded" in shown and "Not every host" in shown
            assert not modal.diagnosis.master_dead and modal.query_one("#trust").display
            modal.query_one("#trust").press()
            await until(pilot, lambda: isinstance(app.screen, ChoiceModal))
            assert "xcp-b (127.10.0.12)" in app.screen.text and "xcp-c" in app.screen.text
            app.screen.query_one("#answer-trust").press()
            await until(
                pilot,
                lambda: (
                    app.screen is modal
                    and modal.diagnosis is not None
                    and modal.diagnosis.master_dead
                ),
                what="the members asked once trusted",
            )
            assert not modal.query_one("#trust").display
            assert "is dead as far as its members can tell" in text_of(
                modal.query_one("#recovery-state")
            )
    finally:
        conn.close()
        running.close()


async def test_pointed_at_a_member_of_a_dead_master_the_member_takes_over(running_sim, monkeypatch):
    from xstui.screens.recovery import RecoveryModal

    st = running_sim.sim.store
    b = st.find_one("host", name_label="xcp-b")
    running_sim.sim.kill_host(running_sim.sim.master)
    monkeypatch.setenv("XSTUI_PASSWORD", running_sim.password)
    app = XstuiApp(target=running_sim.member_urls["xcp-b"])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot,
            lambda: isinstance(app.screen, ChoiceModal) and app.screen.query("#answer-recover"),
        )
        app.screen.query_one("#answer-recover").press()
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, RecoveryModal)
                and app.screen.query("#takeover")
                and app.screen.diagnosis is not None
                and app.screen.diagnosis.master_dead
            ),
        )
        app.screen.query_one("#takeover").press()
        await fill_form(pilot, member=running_sim.member_urls["xcp-b"].split("//")[1].split(":")[0])
        await confirm_plan(pilot, "takeover")
        await until(
            pilot,
            lambda: (
                app.connection is not None
                and app.connection.state == "connected"
                and app.connection.this_host == b
            ),
        )
        assert all(
            running_sim.sim.master_of(h) == b
            for h in st.table("host")
            if h not in running_sim.sim.killed
        )
        # the console opens on the new master (let Status finish mounting)
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None)
