"""SSH, NTP and the time zone on releases without their XAPI calls (issue
#23): in dom0 (xstui local) they are set through dom0's own tools, as each
release's dom0 has them (systemd and chronyd on XCP-ng 8.2, SysV init and
ntpd on XenServer 6.5); another host of the pool, or a remote console, is
told in words where it is done."""

import io
import secrets

import pytest
from rich.console import Console

from tests.app.test_host_app import open_host
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.services.host.local import LocalSystem
from xstui.sim.dom0 import make_dom0
from xstui.sim.profiles import PROFILES
from xstui.sim.runner import start_simulator
from xstui.widgets.plan import PlanModal
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


@pytest.fixture(params=["xcp-ng-8.2", "xenserver-6.5"])
def old_dom0(request, tmp_path, monkeypatch):
    """The console in dom0 of an older release's master, its tools as that release has them."""
    profile = PROFILES[request.param]
    path = f"/tmp/xstui-local-{secrets.token_hex(4)}.sock"
    running = start_simulator(
        "demo", unix_socket=path, members=False, task_delay=0.01, release=profile.name
    )
    root = make_dom0(tmp_path / "dom0", init=profile.init, ntp=profile.ntp)
    monkeypatch.setenv("XSTUI_XAPI_SOCKET", path)
    monkeypatch.setenv("XSTUI_DOM0_ROOT", str(root))
    conn = Connection(parse_target("local"), "root", "", watch=watched_types())
    conn.login()
    yield running, conn, LocalSystem(root), profile
    conn.close()
    running.close()


def shown(screen, selector: str) -> str:
    """The text of a Static holding a Rich renderable (the details, the Time pane)."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(screen.query_one(selector).content)
    return console.export_text()


def said(app) -> str:
    return " ".join(n.message for n in app._notifications)


async def test_ssh_ntp_and_time_zone_are_set_in_dom0_on_older_releases(old_dom0):
    running, conn, system, profile = old_dom0
    assert conn.lacks(["host.enable_ssh", "host.set_ntp_mode", "host.set_timezone"])
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "xcp-a")
        await until(pilot, lambda: screen.sshd is not None, what="sshd's state read")
        assert "on (sshd in dom0)" in shown(screen, "#host-details")
        # SSH off: the init system's commands, then sshd stopped
        await pilot.press("s")
        await fill_form(pilot, ssh="off")
        plan = await until(pilot, lambda: isinstance(app.screen, PlanModal) and app.screen)
        expected = {"systemd": "systemctl stop sshd", "sysv": "service sshd stop"}[profile.init]
        assert expected in plan.plan.xe and "timeout" in " ".join(plan.plan.impact)
        await confirm_plan(pilot)
        await until(pilot, lambda: not system.service_running("sshd"), what="sshd stopped")
        await action_over(pilot)
        await until(pilot, lambda: screen.sshd is False, what="the details follow")
        # NTP: the daemon's file, its other lines kept, the daemon restarted
        await pilot.press("n")
        await until(pilot, lambda: form_mounted(app), what="the NTP form")
        await fill_form(pilot, servers="127.10.0.200, 127.10.0.201")
        plan = await until(pilot, lambda: isinstance(app.screen, PlanModal) and app.screen)
        assert profile.ntp in plan.plan.summary
        await confirm_plan(pilot)
        await until(
            pilot,
            lambda: system.ntp_servers() == ["127.10.0.200", "127.10.0.201"],
            what="the servers written",
        )
        assert "driftfile" in system.read(system.ntp_daemon()[1])
        await action_over(pilot)
        # the time zone, from dom0's zone database
        await pilot.press("z")
        await until(pilot, lambda: form_mounted(app), what="the time-zone form")
        await fill_form(pilot, timezone="Europe/Paris")
        await confirm_plan(pilot)
        await until(pilot, lambda: system.timezone() == "Europe/Paris", what="the zone set")
        await action_over(pilot)
        # the Time pane shows dom0's daemon and zone
        await until(
            pilot,
            lambda: "Europe/Paris" in (t := shown(screen, "#host-time")) and profile.ntp in t,
            what="the Time pane from dom0",
        )


async def test_another_host_is_set_from_its_own_dom0(old_dom0):
    running, conn, system, profile = old_dom0
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "xcp-b")
        await pilot.press("s")
        await until(pilot, lambda: "run xstui local on xcp-b" in said(app), what="the reason")
        assert not form_mounted(app) and system.service_running("sshd")


@pytest.mark.parametrize("release", ["xcp-ng-8.2"])
async def test_a_remote_console_says_where_ssh_is_set(release):
    running = start_simulator("demo", release=release, task_delay=0.01)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    try:
        app = XstuiApp(conn)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_host(pilot, "xcp-a")
            assert "run xstui local on the host" in screen.refusal("ssh")
            await pilot.press("s")
            await until(pilot, lambda: "run xstui local" in said(app), what="the reason")
            assert not form_mounted(app)
            # the Time tab's hint offers only what works here (a trial: "n: NTP servers")
            assert screen.refusal("ntp") and screen.refusal("timezone")
            await pilot.press("t")
            hint = await until(
                pilot, lambda: "t: read again" in (t := shown(screen, "#time-hint")) and t
            )
            assert "n: NTP" not in hint and "z: time zone" not in hint
    finally:
        conn.close()
        running.close()
