"""Snapshots of every screen and dialog on the demo pool, at 80x24 (the
iLO/DRAC console) and 120x40.

Deterministic: seeded scenario, the console's and the simulator's clock fixed
(tests/snapshots/conftest.py), free ports (the header names the demo "demo"),
no animation. Every step waits for what it needs (the screen, its rows, the
dialog, no redraw pending), never for a fixed time."""

import pytest
from xstui.screens.network import NetworkScreen
from xstui.screens.status import StatusScreen

from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.demo import demo_target
from xstui.widgets.countdown import CountdownModal
from xstui.widgets.plan import PlanModal
from xstui.widgets.rowlist import RowList
from xstui.xapi.connection import Connection
from xstui.xapi.targets import Target


def demo_login(running, user: str = "root", password: str | None = None) -> Connection:
    """A session of the console on a started simulator, named "demo" on screen."""
    conn = Connection(
        demo_target(running),
        user,
        running.password if password is None else password,
        watch=watched_types(),
    )
    conn.login()
    return conn


@pytest.fixture
def demo_connection(request):
    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", password="snapshot")
    try:
        conn = demo_login(running)
        yield conn
    finally:
        conn.close()
        running.close()


async def status_loaded(pilot) -> None:
    app = pilot.app
    await until(
        pilot,
        lambda: (
            isinstance(app.screen, StatusScreen)
            and app.screen.status
            and app.screen.probed is not None
        ),  # the health probes answered
    )


async def network_loaded(pilot) -> NetworkScreen:
    app = pilot.app
    await status_loaded(pilot)
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(app.screen, NetworkScreen) and app.screen.rows)
    return app.screen


def security_read(app) -> bool:
    """The Security screen with what it reads once, in a worker (the CRLs):
    it shows them in the background of its dialogs too."""
    from xstui.screens.security import SecurityScreen

    return isinstance(app.screen, SecurityScreen) and bool(app.screen.crls)


def quiet(app) -> bool:
    """No screen has a redraw pending (a screen draws what changed at most
    every REDRAW_INTERVAL) and no button shows its press (for 0.2 s)."""
    return not any(getattr(s, "redraw_pending", False) for s in app.screen_stack) and not (
        app.screen.query("Button.-active")
    )


async def settle(pilot) -> None:
    """Until the screen is quiet, then its last redraw's own refresh."""
    await until(pilot, lambda: quiet(pilot.app), what="the screen to draw what changed")
    await pilot.pause()


def at_status(*keys):
    async def run_before(pilot):
        await status_loaded(pilot)
        for key in keys:
            await pilot.press(key)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_status_host(snap_compare, demo_connection, size):
    """Status, Host tab: identity, management interface, capacity, security."""
    assert snap_compare(XstuiApp(demo_connection), terminal_size=size, run_before=at_status())


@pytest.mark.parametrize("tab", ["p", "s", "a"], ids=["pool", "storage", "health"])
def test_status_tabs_80x24(snap_compare, demo_connection, tab):
    """Status, the Pool, Storage and Health tabs."""
    assert snap_compare(
        XstuiApp(demo_connection), terminal_size=(80, 24), run_before=at_status(tab)
    )


@pytest.mark.parametrize("tab", ["", "c"], ids=["interfaces", "pool-check"])
def test_network_80x24(snap_compare, demo_connection, tab):
    """Networking: the interfaces of the master, and the pool check."""

    async def run_before(pilot):
        await network_loaded(pilot)
        if tab:
            await pilot.press(tab)
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def on_eth4_press(key: str):
    async def run_before(pilot):
        screen = await network_loaded(pilot)
        index = next(i for i, r in enumerate(screen.rows) if r.device == "eth4")
        screen.query_one("#pifs", RowList).go_to(index)
        await pilot.press(key)
        await until(pilot, lambda: form_mounted(pilot.app))
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("key", ["m", "b", "v"], ids=["management-form", "bond-form", "vlan-form"])
def test_network_forms_80x24(snap_compare, demo_connection, key):
    """The forms: pick lists for choices, one line a field, buttons visible."""
    assert snap_compare(
        XstuiApp(demo_connection), terminal_size=(80, 24), run_before=on_eth4_press(key)
    )


async def submit_management_form(pilot, gateway: str):
    """Open the management form on eth4, type a static address, press OK."""
    await on_eth4_press("m")(pilot)
    form = pilot.app.screen
    typed = {"device": "eth4", "ip": "127.10.0.21", "netmask": "255.255.255.0", "gateway": gateway}
    for name, value in typed.items():
        form.query_one(f"#field-{name}").value = value
    form.query_one("#ok").press()
    return form


def test_form_refusal_wraps_80x24(snap_compare, demo_connection):
    """A cross-field refusal (gateway outside the subnet) shown in the form,
    wrapped, with what was typed kept."""

    async def run_before(pilot):
        form = await submit_management_form(pilot, "127.99.0.1")
        await until(pilot, lambda: not form.query_one("#problem-form").disabled)
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_high_risk_plan_80x24(snap_compare, demo_connection):
    """The plan of a management change that cuts this session: what happens,
    the xe commands, the impact, the word to type, and both buttons."""

    async def run_before(pilot):
        await submit_management_form(pilot, "127.10.0.1")
        await until(pilot, lambda: isinstance(pilot.app.screen, PlanModal))
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_countdown_80x24(snap_compare, demo_connection):
    """The apply-then-confirm question in dom0, wrapped, with its buttons."""

    async def run_before(pilot):
        await status_loaded(pilot)
        pilot.app.push_screen(
            CountdownModal(
                "The management interface is now eth4 (127.10.0.21). Can you still reach "
                "the host? Keep this configuration?",
                seconds=60,
            )
        )
        await until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, CountdownModal) and hasattr(pilot.app.screen, "timer")
            ),
        )
        pilot.app.screen.timer.pause()
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


async def host_loaded(pilot):
    from xstui.screens.host import HostScreen

    app = pilot.app
    await status_loaded(pilot)
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(app.screen, HostScreen) and app.screen.rows)
    return app.screen


def test_host_80x24(snap_compare, demo_connection):
    async def run_before(pilot):
        await host_loaded(pilot)
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_host_time_80x24(snap_compare, demo_connection):
    async def run_before(pilot):
        screen = await host_loaded(pilot)
        await pilot.press("down", "down", "t")  # xcp-c: its NTP server cannot be reached
        await until(pilot, lambda: screen.time_state is not None)
        # the clocks themselves change every second: keep the lines that do not
        screen.time_state.skew = None
        screen._draw_time(screen.time_state)
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_maintenance_precheck_80x24(snap_compare, demo_connection):
    from xstui.screens.host import PrecheckModal

    async def run_before(pilot):
        await host_loaded(pilot)
        await pilot.press("down", "m")
        await until(pilot, lambda: isinstance(pilot.app.screen, PrecheckModal))
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_vms_filtered_80x24(snap_compare, demo_connection):
    from xstui.screens.vms import VmsScreen

    async def run_before(pilot):
        app = pilot.app
        await status_loaded(pilot)
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows)
        await pilot.press("slash", *"xcp-b", "enter", "space", "space")
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def pinned_metrics_connection(request):
    """The demo with the simulator's performance data at one fixed instant:
    the same figures and sparklines on every run."""
    import datetime as dt

    from xstui.sim.runner import start_simulator

    from .conftest import SNAPSHOT_CLOCK

    running = start_simulator("demo", password="snapshot")
    at = dt.datetime.fromisoformat(SNAPSHOT_CLOCK.replace("Z", "+00:00")).timestamp()
    running.sim.clock = lambda: at + 2.5
    try:
        conn = demo_login(running)
        yield conn
    finally:
        conn.close()
        running.close()


def test_vms_top_80x24(snap_compare, pinned_metrics_connection):
    """VMs, Top tab (T): the running VMs busiest first, with a CPU sparkline."""
    from xstui.screens.vms import VmsScreen

    async def run_before(pilot):
        app = pilot.app
        await status_loaded(pilot)
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows)
        await pilot.press("T")
        await until(pilot, lambda: app.screen.query_one("#top-list", RowList).rows)
        await settle(pilot)

    app = XstuiApp(pinned_metrics_connection)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_status_load_80x24(snap_compare, pinned_metrics_connection):
    """Status, Load tab (l): each host's CPU, memory, network and disk, and its CPU over 10 min."""

    async def run_before(pilot):
        app = pilot.app
        await status_loaded(pilot)
        await pilot.press("l")
        await until(pilot, lambda: len(app.screen.query_one("#load-hosts", RowList).rows) == 3)
        await settle(pilot)

    app = XstuiApp(pinned_metrics_connection)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def ha_connection(request):
    from xstui.sim.runner import start_simulator

    running = start_simulator("ha-demo", password="snapshot")
    try:
        conn = demo_login(running)
        yield conn
    finally:
        conn.close()
        running.close()


async def ha_loaded(pilot):
    from xstui.screens.ha import HaScreen

    app = pilot.app
    await status_loaded(pilot)
    await pilot.press("f3")
    await until(
        pilot,
        lambda: (
            isinstance(app.screen, HaScreen)
            and app.screen.status is not None
            and app.screen.status.computed_max is not None
        ),
    )
    return app.screen


def test_ha_panel_80x24(snap_compare, ha_connection):
    async def run_before(pilot):
        await ha_loaded(pilot)
        await settle(pilot)

    assert snap_compare(XstuiApp(ha_connection), terminal_size=(80, 24), run_before=run_before)


def test_ha_enable_wizard_80x24(snap_compare, demo_connection):
    from xstui.widgets.choice import ChoiceModal

    async def run_before(pilot):
        await ha_loaded(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceModal))
        pilot.app.screen.query_one("#answer-go").press()
        await until(pilot, lambda: form_mounted(pilot.app))
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_security_guide_80x24(snap_compare, demo_connection):

    async def run_before(pilot):
        await status_loaded(pilot)
        await pilot.press("f6")
        await until(pilot, lambda: security_read(pilot.app), what="Security and its CRLs")
        await until(pilot, lambda: pilot.app.screen.crls)  # read once, in a worker
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_root_password_form_80x24(snap_compare, demo_connection):

    async def run_before(pilot):
        await status_loaded(pilot)
        await pilot.press("f6")
        await until(pilot, lambda: security_read(pilot.app), what="Security and its CRLs")
        await pilot.press("w")
        await until(pilot, lambda: form_mounted(pilot.app))
        form = pilot.app.screen
        form.query_one("#field-current").value = "old-secret"
        form.query_one("#field-new").value = "secret-one"
        form.query_one("#field-again").value = "secret-two"
        form.query_one("#ok").press()  # refused: they differ
        await until(pilot, lambda: not form.query_one("#problem-form").disabled)
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def joined_pool(request):
    """The demo with the pool in its AD domain: alice read-only, the xen-admins
    group pool-operator."""
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
    running = start_simulator(sc, password="snapshot")
    yield running
    running.close()


def login_as(running, user: str, password: str) -> Connection:
    return demo_login(running, user, password)


async def security_tab(pilot, tab_key: str):

    await status_loaded(pilot)
    await pilot.press("f6")
    await until(pilot, lambda: security_read(pilot.app), what="Security and its CRLs")
    await pilot.press(tab_key)


def test_security_users_80x24(snap_compare, joined_pool):
    """Users tab of a joined pool: the directory, its subjects and the roles."""
    conn = login_as(joined_pool, "root", "snapshot")

    async def run_before(pilot):
        await security_tab(pilot, "u")
        await until(pilot, lambda: pilot.app.screen.query_one("#subjects").rows)
        await settle(pilot)

    try:
        assert snap_compare(XstuiApp(conn), terminal_size=(80, 24), run_before=run_before)
    finally:
        conn.close()


def test_ad_join_form_80x24(snap_compare, demo_connection):
    """Users tab of the demo (not joined): the prerequisites, then the join form."""

    async def run_before(pilot):
        await security_tab(pilot, "u")
        await pilot.press("a")
        await until(pilot, lambda: form_mounted(pilot.app))
        form = pilot.app.screen
        form.query_one("#field-domain").value = "corp.example"
        form.query_one("#field-user").value = "Administrator"
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_read_only_user_80x24(snap_compare, joined_pool):
    """A read-only directory user on the Host screen: the bar names the role,
    the write keys are dimmed, and one pressed says which role it needs."""
    conn = login_as(joined_pool, "CORP\\alice", "Alice-Demo1")

    async def run_before(pilot):
        from xstui.screens.host import HostScreen

        await status_loaded(pilot)
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(pilot.app.screen, HostScreen))
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)

    try:
        assert snap_compare(XstuiApp(conn), terminal_size=(80, 24), run_before=run_before)
    finally:
        conn.close()


def test_backup_80x24(snap_compare, demo_connection):
    """Backup: the pool database, host backup and VM lines, and the VMs."""
    from xstui.screens.backup import BackupScreen

    async def run_before(pilot):
        await status_loaded(pilot)
        await pilot.press("f5")
        await until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, BackupScreen)
                and pilot.app.screen.query_one("#backup-vms").rows
            ),
        )
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_restore_dry_run_80x24(snap_compare, demo_connection, tmp_path, monkeypatch):
    """The dry run's verdict beside what a restore would change (a VM
    deleted and another renamed since the dump)."""
    from pathlib import Path

    from xstui.screens.backup import RestoreCheckModal

    from xstui.services import backup as bk
    from xstui.services.actions import RunContext

    # a path relative to a private working folder: shown the same every run,
    # and no other run (another worker, the 40-days-ahead run) shares the file
    monkeypatch.chdir(tmp_path)
    dump = Path("demo-pool.db")
    demo_connection.load_once()
    bk.DumpDatabase(demo_connection.cache, str(dump)).execute(RunContext(demo_connection))
    erp = next(
        v.ref for v in demo_connection.cache.table("vm").values() if v.name_label == "legacy-erp"
    )
    demo_connection.call("VM.destroy", erp)
    sandbox = next(
        v.ref for v in demo_connection.cache.table("vm").values() if v.name_label == "sandbox"
    )
    demo_connection.call("VM.set_name_label", sandbox, "sandbox-new")

    async def run_before(pilot):
        await status_loaded(pilot)
        await pilot.press("f5")
        await pilot.press("r")
        await until(pilot, lambda: form_mounted(pilot.app))
        form = pilot.app.screen
        form.query_one("#field-path").value = str(dump)
        form.query_one("#ok").press()
        await until(pilot, lambda: isinstance(pilot.app.screen, RestoreCheckModal), 20)
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_storage_80x24(snap_compare, demo_connection):
    """Storage: the SRs, where each is attached, the selected one's details."""
    from xstui.screens.storage import StorageScreen

    async def run_before(pilot):
        await status_loaded(pilot)
        await pilot.press("f9")
        await until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, StorageScreen)
                and pilot.app.screen.query_one("#srs").rows
            ),
        )
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_new_nfs_sr_form_80x24(snap_compare, demo_connection):
    """The NFS wizard's second step: the server's exports (the used one noted)."""
    from xstui.screens.storage import StorageScreen

    async def run_before(pilot):
        await status_loaded(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(pilot.app.screen, StorageScreen))
        await pilot.press("n")
        await until(pilot, lambda: form_mounted(pilot.app))
        pilot.app.screen.query_one("#ok").press()  # NFS, the first kind
        await until(
            pilot,
            lambda: form_mounted(pilot.app) and pilot.app.screen.query("#field-server"),
        )
        form = pilot.app.screen
        form.query_one("#field-server").value = "127.10.2.5"
        form.query_one("#ok").press()
        await until(
            pilot,
            lambda: form_mounted(pilot.app) and pilot.app.screen.query("#field-path"),
        )
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_logs_in_dom0_80x24(snap_compare, tmp_path, monkeypatch):
    """Logs in dom0: xensource.log from its end, the cursor on the next error."""
    from xstui.screens.logs import LogsScreen

    from xstui.sim.dom0 import make_dom0
    from xstui.sim.runner import start_simulator
    from xstui.xapi.targets import DOM0_SOCKET

    socket = str(tmp_path / "xapi")
    running = start_simulator("demo", password="snapshot", unix_socket=socket)
    monkeypatch.setenv("XSTUI_DOM0_ROOT", str(make_dom0(tmp_path / "dom0")))
    # named as in dom0, where the socket is XAPI's own
    target = Target("local", socket_path=socket, label=f"unix:{DOM0_SOCKET}")
    conn = Connection(target, "root", "", watch=watched_types())
    conn.login()

    async def run_before(pilot):
        await status_loaded(pilot)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(pilot.app.screen, LogsScreen))
        await pilot.press("g")
        await until(pilot, lambda: pilot.app.screen.lines)
        await pilot.press("e")
        await settle(pilot)

    try:
        assert snap_compare(XstuiApp(conn), terminal_size=(80, 24), run_before=run_before)
    finally:
        conn.close()
        running.close()


async def patching_loaded(pilot):
    from xstui.screens.updates import UpdatesScreen

    await status_loaded(pilot)
    await pilot.press("f4")
    await until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, UpdatesScreen)
            and pilot.app.screen.generation is not None
            and pilot.app.screen.query_one("#update-hosts").rows
        ),
    )
    return pilot.app.screen


def test_patching_80x24(snap_compare, demo_connection):
    """Patching: each host's updates, the selected one's lack and guidance,
    the pool's updates with where they are applied."""

    async def run_before(pilot):
        await patching_loaded(pilot)
        await pilot.press("down", "down")
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_rolling_update_resumable_80x24(snap_compare, demo_connection, tmp_path, monkeypatch):
    """An unfinished rolling update (its journal on disk): per host how far it
    got, and the plan that continues it."""
    import json

    cache = demo_connection.cache
    demo_connection.load_once()
    uuids = {h.name_label: h.uuid for h in cache.table("host").values()}
    pool = next(iter(cache.table("pool").values()))
    folder = tmp_path / "state" / "xstui" / "rolling"
    folder.mkdir(parents=True)
    steps = {"xcp-a": ["disable"], "xcp-b": [], "xcp-c": []}  # the console died there
    (folder / f"{pool.uuid}.json").write_text(
        json.dumps(
            {
                "pool": pool.uuid,
                "started": "2026-11-26 02:00:00",
                "updates": ["XS82ECU1033", "XS82ECU1041", "XS82ECU1048"],
                "order": [uuids[n] for n in ("xcp-a", "xcp-b", "xcp-c")],
                "blocked": "shut them down",
                "hosts": {uuids[n]: {"steps": s} for n, s in steps.items()},
                "finished": False,
            }
        )
    )

    async def run_before(pilot):
        await patching_loaded(pilot)
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)


def test_rolling_update_plan_80x24(snap_compare, demo_connection):
    """The rolling update's plan: the order, what reboots, the VMs that are
    shut down meanwhile, HA, the guidance, the journal; the word to type."""

    async def run_before(pilot):
        await patching_loaded(pilot)
        await pilot.press("R")
        await until(pilot, lambda: form_mounted(pilot.app))
        form = pilot.app.screen
        form.query_one("#field-blocked").value = "shut them down"
        form.query_one("#ok").press()
        await until(pilot, lambda: isinstance(pilot.app.screen, PlanModal))
        await settle(pilot)

    assert snap_compare(XstuiApp(demo_connection), terminal_size=(80, 24), run_before=run_before)
