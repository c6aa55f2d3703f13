"""Pilot tests at 80x24 of the Host and VMs screens, end to end against the
simulator: maintenance mode there and back, a reboot of the master followed
through the reconnect, a bulk start of 50 VMs, finding a VM by typing and
migrating it; the Host forms of the admin's trial (issue #27): syslog with a
port, time zone and keyboard layout from the host's lists, the emergency
network reset, joining a pool with another root password."""

import pytest
from textual.widgets import Select, Static
from xstui.screens.host import HostScreen, PrecheckModal
from xstui.screens.status import StatusScreen
from xstui.screens.vms import VmsScreen

from tests.app.test_console import flat, screen_text
from tests.app.test_network_app import (  # noqa: F401 (a fixture)
    action_over,
    confirm_plan,
    fill_form,
    local_connection,
)
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.services.vms import MigrateVms
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal
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
        await until(pilot, lambda: screen.rows[1].state == "enabled")
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
        await confirm_plan(pilot, "xcp-b")  # every client is cut off: the name is typed
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


async def test_recovery_points_a_member_and_switches_ha_off_where_hosts_answer(
    running_sim, connection
):
    """Point member and HA off, the recovery dialog's acts: a form that asks
    which member, and HA off on the hosts that answer, planned and done with
    the master gone."""
    from xstui.screens.recovery import RecoveryModal

    st = running_sim.sim.store
    app = XstuiApp(connection)
    app.MASTER_CHECK_SECONDS = 0.5
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_host(pilot, "xcp-a")
        running_sim.sim.kill_host(running_sim.sim.master)
        with st.lock:  # HA on, broken: it elects no master (on before the kill, it would)
            st.set("pool", running_sim.sim.pool, ha_enabled=True)
        await until(pilot, lambda: connection.state != "connected", what="the master gone")
        await pilot.press("ctrl+r")  # with HA on it is not offered by itself: HA may elect
        await until(pilot, lambda: isinstance(app.screen, RecoveryModal))
        modal = app.screen
        await until(pilot, lambda: modal.diagnosis is not None, what="the hosts' answers")
        # at 80 columns: every button whole, and the paths' keys said beside them
        await until(pilot, lambda: "t take over" in screen_text(app), what="the keys said")
        row = next(
            line
            for line in screen_text(app).splitlines()
            if "Take over " in line and "Close" in line
        )
        assert "Ask again" in row and "HA off" in row, row
        modal.query_one("#point").press()  # the members follow the dead master: which one?
        await until(pilot, lambda: isinstance(app.screen, FormModal), what="the form")
        assert app.screen.title_text == "Point a member at the master"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is modal, what="back in the recovery dialog")
        await pilot.press("h")  # the key on HA off's button
        plan = await confirm_plan(pilot, "ha off")
        assert "xcp-b" in plan.plan.summary and "xcp-a" not in plan.plan.summary
        await until(
            pilot,
            lambda: (
                app.screen is modal
                and not any(w.is_running for w in modal.workers if w.group == "recovery-action")
            ),
            what="HA off done",
        )
        with st.lock:
            assert not st.get("pool", running_sim.sim.pool)["ha_enabled"]


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
            await until(
                pilot,
                lambda: isinstance(app.screen, ChoiceModal) and app.screen.query("#answer-trust"),
                what="the question with its answers",
            )
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


# issue #27, the admin's trial at 80x24 ------------------------------------------------
async def test_remote_syslog_takes_host_and_port(running_sim, connection):
    """Item 8: host:port as XAPI's logging:syslog_destination takes it; a
    port out of range is refused in the form, in words, nothing changed."""
    st = running_sim.sim.store
    b = st.find_one("host", name_label="xcp-b")
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "xcp-b")
        await pilot.press("l")
        await fill_form(pilot, destination="logs.corp.invalid:70000", scope="this host")
        form = app.screen
        assert isinstance(form, FormModal)
        problem = str(form.query_one("#problem-destination", Static).render())
        assert "port must be between 1 and 65535" in problem
        await fill_form(pilot, destination="127.10.0.5:1514", scope="this host")
        plan = await confirm_plan(pilot)
        assert "UDP 1514" in " ".join(plan.plan.impact)
        await until(
            pilot,
            lambda: st.get("host", b)["logging"].get("syslog_destination") == "127.10.0.5:1514",
            what="the destination with its port",
        )
        await action_over(pilot)


async def pick_by_typing(pilot, field: str, typed: str) -> Select:
    """Open the form's pick list and type the first letters of a choice, as
    an admin does in a long list at 80x24."""
    app = pilot.app
    await until(pilot, lambda: form_mounted(app), what="a form, mounted")
    select = app.screen.query_one(f"#field-{field}", Select)
    select.focus()
    await pilot.press("space")
    await until(pilot, lambda: select.expanded, what="the list open")
    await pilot.press(*typed, "enter")
    await until(pilot, lambda: not select.expanded, what="the list closed")
    return select


async def test_the_time_zone_is_picked_from_the_hosts_list(running_sim, connection):
    """Item 8: the time zone is one of the host's own (host.list_timezones),
    picked from a list that opens within 80x24 and jumps as it is typed."""
    st = running_sim.sim.store
    c = st.find_one("host", name_label="xcp-c")
    zones = connection.call("host.list_timezones", c)
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "xcp-c")
        assert st.get("host", c)["timezone"] == "UTC"
        await pilot.press("z")
        select = await pick_by_typing(pilot, "timezone", "Europe/Par")
        assert select.value == "Europe/Paris"
        assert len(select._options) >= len(zones) > 100  # the whole list, not free text
        await fill_form(pilot, scope="this host")
        await confirm_plan(pilot)
        await until(pilot, lambda: st.get("host", c)["timezone"] == "Europe/Paris")
        await action_over(pilot)


@pytest.fixture
def in_dom0(local_connection, tmp_path, monkeypatch):  # noqa: F811
    """The console in the master's dom0 (xstui local), over a fake dom0."""
    from xstui.services.host.local import LocalSystem
    from xstui.sim.dom0 import make_dom0

    root = make_dom0(tmp_path / "dom0")
    monkeypatch.setenv("XSTUI_DOM0_ROOT", str(root))
    running, conn = local_connection
    return running, conn, LocalSystem(root)


async def test_the_keyboard_layout_is_picked_from_dom0s_list(in_dom0):
    """Item 8: the layout is one of dom0's (localectl list-keymaps)."""
    running, conn, system = in_dom0
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "xcp-a")
        await pilot.press("k")
        select = await pick_by_typing(pilot, "keymap", "de-")
        assert select.value == "de-latin1"
        assert [value for _, value in select._options if value != Select.BLANK] == system.keymaps()
        await fill_form(pilot)
        await confirm_plan(pilot)
        await until(pilot, lambda: system.keymap() == "de-latin1", what="the layout set")
        await action_over(pilot)


async def test_emergency_network_reset_force_stops_the_vms_on_a_vlan(in_dom0):
    """Item 10: with VMs running (nothing can migrate in a network emergency)
    the reset is offered; its plan names the VMs it force-stops, is high
    risk and takes the typed word; the NIC is picked, the VLAN given."""
    running, conn, system = in_dom0
    st = running.sim.store
    a = st.find_one("host", name_label="xcp-a")
    guests = sorted(
        st.get("VM", v)["name_label"]
        for v in st.get("host", a)["resident_VMs"]
        if not st.get("VM", v)["is_control_domain"]
        and st.get("VM", v)["power_state"] in ("Running", "Paused")
    )
    assert guests
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "xcp-a")
        await pilot.press("e")
        await until(pilot, lambda: form_mounted(app), what="the reset form")
        nics = app.screen.query_one("#field-device", Select)
        assert [value for _, value in nics._options] == ["eth0", "eth1", "eth2", "eth3", "eth4"]
        # the form starts from the addressing the pool has now (static here), not dhcp
        assert app.screen.query_one("#field-mode", Select).value == "static"
        assert app.screen.query_one("#field-ip").value == "127.10.0.11"
        await fill_form(pilot, device="eth1", vlan="42", mode="dhcp")
        plan = await until(pilot, lambda: isinstance(app.screen, PlanModal) and app.screen)
        assert plan.plan.risk == "high" and plan.plan.confirm_word == "reset"
        stops = next(line for line in plan.plan.impact if line.startswith("FORCE-STOPS"))
        assert all(name in stops for name in guests)
        assert plan.plan.xe == ["xe-reset-networking --device=eth1 --vlan=42 --mode=dhcp"]
        await confirm_plan(pilot, "reset")
        written = system.root / "tmp/network-reset"
        await until(pilot, written.exists, what="xe-reset-networking run")
        assert "--device=eth1 --vlan=42" in written.read_text()
        await action_over(pilot)


async def test_joining_with_another_root_password_logs_in_with_the_pools(running_sim):
    """Item 12: a host whose root password differs from the pool's joins it;
    it takes the pool's root password, and the console follows it to the
    master logged in with that one (typed in the join form), not stuck
    reconnecting with the old."""
    from xstui.widgets.plan import PlanModal

    standalone = running_sim.standalone["xcp-d"]
    standalone.sim.password = "Its-Own-Pass1"
    conn = Connection(parse_target(standalone.url), "root", "Its-Own-Pass1", watch=watched_types())
    conn.login()
    states = []
    app = XstuiApp(conn)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await open_host(pilot, "xcp-d")
            watched = conn.on_state

            def noted(state, detail):
                states.append(state)
                watched(state, detail)

            conn.on_state = noted
            await pilot.press("J")
            await fill_form(
                pilot, address="127.10.0.11", password=running_sim.password, force="refuse"
            )
            plan = await until(pilot, lambda: isinstance(app.screen, PlanModal) and app.screen)
            assert any("root password becomes the pool's" in i for i in plan.plan.impact)
            await confirm_plan(pilot)
            await until(
                pilot,
                lambda: (
                    conn.state == "connected"
                    and conn.target.host == "127.10.0.11"
                    and len(conn.cache.table("host")) == 4
                ),
                what="the console on the pool's master, with four hosts",
            )
            assert "refused" not in states and not conn.password_refused
            await action_over(pilot)
    finally:
        conn.close()


async def test_a_password_no_longer_accepted_is_asked_for_not_retried(running_sim, connection):
    """Item 12, whatever the cause (changed elsewhere, a join made from
    another console): reconnecting stops on the refusal and the console asks
    for the password, again after a wrong one, and logs in with it."""
    sim = running_sim.sim
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None, what="Status")
        sim.password = "Changed-Pass1"
        with sim.store.lock:  # the session ends (as after a toolstack restart)
            sim.store.destroy("session", connection.session_ref)
        st = sim.store
        st.set("host", sim.master, name_description="wake the event stream")
        await until(
            pilot,
            lambda: form_mounted(app) and app.screen.query("#field-password"),
            what="the password asked for",
        )
        assert connection.state == "refused" and connection.password_refused
        assert "no longer accepts the password of root" in app.screen.title_text
        first = app.screen
        await fill_form(pilot, password="wrong")
        await until(  # in the form asking again
            pilot,
            lambda: (
                form_mounted(app)
                and app.screen is not first
                and "not accepted" in str(app.screen.query_one("#problem-form").render())
            ),
            what="the wrong password said",
        )
        await fill_form(pilot, password="Changed-Pass1")
        await until(pilot, lambda: connection.state == "connected", what="logged in again")
        assert not connection.password_refused
        assert not isinstance(app.screen, FormModal)
        # and the events flow again
        st.set("host", sim.master, name_label="renamed-after-login")
        await until(
            pilot,
            lambda: connection.cache.get("host", sim.master).name_label == "renamed-after-login",
            what="a change seen after the login",
        )


async def test_the_host_shown_stays_under_the_cursor_while_the_pool_changes(
    running_sim, connection, xapi
):
    """Issue #27: the hosts are a RowList keyed by ref. A rename that puts
    the host chosen first keeps the cursor, and its details, on it (its name
    shown as it is, brackets and all); next_host moves the cursor, and the
    details follow."""
    st = running_sim.sim.store
    a, c = (st.find_one("host", name_label=n) for n in ("xcp-a", "xcp-c"))
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "xcp-c")
        listing = screen.query_one("#hosts", RowList)
        assert listing.cursor == 2
        xapi.xenapi.host.set_name_label(c, "[b]aaa-c")
        await until(pilot, lambda: screen.rows[0].ref == c, what="xcp-c renamed, first by name")
        assert listing.cursor == 0 and screen.host == c
        await until(pilot, lambda: "Name          [b]aaa-c" in screen_text(app), what="its details")
        assert "  [b]aaa-c  " in screen_text(app)  # the list: the name, not markup
        screen.next_host()  # AreaScreen's: the next by name
        assert listing.cursor == 1 and screen.host == a
        await until(
            pilot, lambda: "Name          xcp-a" in screen_text(app), what="xcp-a's details"
        )


async def test_health_says_whether_an_old_clock_skew_holds_as_the_time_tab_reads_it(
    running_sim, connection
):
    """Issue 27: the demo's old HOST_CLOCK_SKEW_DETECTED (xcp-c, 4 s) was
    listed by Health beside F7's "none measurable". Health says whether it
    holds now, from the host's last measure (the health probe's, then the
    Time tab's) in the Time tab's words, at 80x24."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StatusScreen) and app.screen.probed)
        await pilot.press("a")
        await until(
            pilot,
            lambda: (
                "HOST_CLOCK_SKEW_DETECTED, " in (text := flat(screen_text(app)))
                and (
                    ": The clock on xcp-c differs from the master by 4 seconds. (not so now: "
                    "difference from this machine none measurable (< 1.5 s))"
                )
                in text
            ),
            what="the probe's verdict",
        )
        screen = await open_host(pilot, "xcp-c")
        running_sim.sim.clock_skew[screen.host] = 6.5  # said in whole seconds: +6
        await pilot.press("t")
        await until(pilot, lambda: "Difference +6 s" in flat(screen_text(app)), what="Time tab")
        await pilot.press("f1")
        await until(
            pilot,
            lambda: (
                "(still so now: difference from this machine +6 s, see Host, Time tab (F7, t))"
                in flat(screen_text(app))
            ),
            what="the Time tab's measure in Health",
        )
