"""Pilot tests of the Backup area's snapshot schedules at 80x24 on the Linux
console (issue 29): a daily schedule with retention 7 made from the form,
its xe equivalent in the plan, listed once made; a bad retention refused in
the form, in words; on XenServer 7.1 the tab says why there are none."""

from __future__ import annotations

import secrets

import pytest

from tests.app.test_backup_app import open_backup, open_form, refused
from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.sim.runner import start_simulator
from xstui.widgets.plan import PlanModal
from xstui.widgets.rowlist import RowList
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


async def open_schedules(pilot):
    screen = await open_backup(pilot)
    await pilot.press("s")
    await until(pilot, lambda: screen.tab == "schedules", what="the Schedules tab")
    return screen


async def test_a_daily_schedule_with_retention_7(console, running_sim, connection):  # noqa: F811
    st, app = running_sim.sim.store, XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_schedules(pilot)
        listing = screen.query_one("#schedule-list", RowList)
        await until(pilot, lambda: listing.rows, what="the demo's schedule listed")
        text = screen_text(app)
        assert "nightly-sql      daily 01:00        7    2   never" in text
        form = await open_form(pilot, "n", "New snapshot schedule")
        await refused(pilot, form, "kept", "12", "snapshots kept must be between 1 and 10")
        await refused(pilot, form, "time", "02:10", "XAPI takes 00, 15, 30 or 45 only")
        await fill_form(pilot, name="daily-web", time="03:15", kept="7", vms="web-01,web-02")
        await until(pilot, lambda: isinstance(app.screen, PlanModal), what="the plan")
        assert "xe vmss-create name-label=daily-web" in flat(screen_text(app))  # shown
        xe = app.screen.plan.xe
        assert xe[0] == (
            "SCHEDULE=$(xe vmss-create name-label=daily-web type=snapshot frequency=daily "
            "retained-snapshots=7 schedule:hour=3 schedule:min=15)"
        )
        assert [line.split()[-1] for line in xe[1:]] == ["snapshot-schedule=$SCHEDULE"] * 2
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(
            pilot,
            lambda: "daily-web        daily 03:15        7    2   never" in screen_text(app),
            what="the new schedule listed",
        )
        ref = st.find_one("VMSS", name_label="daily-web")
        assert st.get("VMSS", ref)["retained_snapshots"] == 7
        assert sorted(st.get("VM", vm)["name_label"] for vm in st.get("VMSS", ref)["VMs"]) == [
            "web-01",
            "web-02",
        ]
        # the cursor on it: run it now, its last run and status listed
        listing.cursor = next(i for i, (k, _c) in enumerate(listing.rows) if k == ref)
        await pilot.press("r")
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(
            pilot,
            lambda: (row := dict(listing.rows).get(ref)) and row[5] == "ok",
            what="the run listed",
        )


@pytest.mark.parametrize("release_conn", ["xenserver-7.1"], indirect=True)
async def test_no_schedules_on_7_1_says_why(console, release_conn):  # noqa: F811
    app = XstuiApp(release_conn[1])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_schedules(pilot)
        text = await until(
            pilot,
            lambda: (t := flat(screen_text(app))) and "XenServer 7.1" in t and t,
            what="the reason",
        )
        assert "snapshot schedules (VMSS) came with XenServer 7.2" in text
        assert "they are cron entries in dom0, made with xstui local on the master" in text
        await pilot.press("n")
        await until(
            pilot,
            lambda: any(
                "has no VMSS.create" in n.message and "xstui local" in n.message
                for n in app._notifications
            ),
            what="n refused in words",
        )


@pytest.fixture
def dom0_71(tmp_path, monkeypatch):
    """The console in dom0 of a XenServer 7.1 master (no VMSS)."""
    path = f"/tmp/xstui-local-{secrets.token_hex(4)}.sock"
    running = start_simulator(
        "demo", unix_socket=path, members=False, task_delay=0.01, release="xenserver-7.1"
    )
    root = tmp_path / "dom0"
    (root / "etc" / "cron.d").mkdir(parents=True)
    monkeypatch.setenv("XSTUI_XAPI_SOCKET", path)
    monkeypatch.setenv("XSTUI_DOM0_ROOT", str(root))
    conn = Connection(parse_target("local"), "root", "", watch=watched_types())
    conn.login()
    yield conn, root
    conn.close()
    running.close()


async def test_in_dom0_on_7_1_a_schedule_is_a_cron_entry(console, dom0_71):  # noqa: F811
    conn, root = dom0_71
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_schedules(pilot)
        await until(pilot, lambda: "these are cron entries" in flat(screen_text(app)))
        await open_form(pilot, "n", "New snapshot schedule (cron in dom0)")
        await fill_form(pilot, name="nightly-web", kept="3", vms="web-01")
        plan = await until(pilot, lambda: isinstance(app.screen, PlanModal) and app.screen)
        assert plan.plan.xe[0].endswith("> /etc/cron.d/xstui-snapshots-nightly-web")
        await confirm_plan(pilot)
        await action_over(pilot)
        listing = screen.query_one("#schedule-list", RowList)
        await until(
            pilot,
            lambda: [c[:4] for _k, c in listing.rows] == [("nightly-web", "daily 02:00", "3", "1")],
            what="the cron schedule listed",
        )
        line = (root / "etc/cron.d/xstui-snapshots-nightly-web").read_text().splitlines()[-1]
        assert line.startswith("0 2 * * * root ") and "--keep 3" in line
        await pilot.press("x")
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(pilot, lambda: not listing.rows, what="removed")
        assert not (root / "etc/cron.d/xstui-snapshots-nightly-web").exists()
