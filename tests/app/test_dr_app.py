"""Pilot test of the disaster recovery wizard (Backup, R) at 80x24 on the
Linux console (issue 29): on the recovery pool, the production pool's SR is
found on the replicated iSCSI LUN, attached, and its VMs recovered from the
database on its metadata VDI, then started in order; each plan shows its
xe equivalent."""

from __future__ import annotations

from tests.app.test_backup_app import notes
from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.unit.test_dr import WHERE, dr_conn, dr_sim, user_vms  # noqa: F401 (fixtures)
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.widgets.plan import PlanModal


async def shows(pilot, *words: str) -> str:
    return await until(
        pilot,
        lambda: (t := flat(screen_text(pilot.app))) and all(w in t for w in words) and t,
        what=f"the screen showing {words}",
    )


async def test_vms_are_recovered_on_the_second_pool_from_a_portable_iscsi_sr(
    console,  # noqa: F811
    dr_sim,  # noqa: F811
    dr_conn,  # noqa: F811
):
    app = XstuiApp(dr_conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backup_empty(pilot)
        await shows(pilot, "R: recover VMs from another pool's SR")
        await pilot.press("R")
        await shows(pilot, "Disaster recovery: where is the other pool's SR?")
        await fill_form(pilot, target="127.30.9.9", chapuser="dr")  # half the CHAP pair
        await shows(pilot, "CHAP needs both a user and a password")
        assert not dr_sim.sim.calls["SR.probe"]  # refused before any call
        await fill_form(
            pilot, target=WHERE["target"], chapuser="dr", chappassword=WHERE["chappassword"]
        )
        await shows(pilot, "Which SR?", "Production iSCSI on 127.31.2.6 LUN 0")
        await fill_form(pilot)
        await until(pilot, lambda: isinstance(app.screen, PlanModal), what="the attach plan")
        await shows(pilot, "Attach the existing SR Production iSCSI", "xe sr-introduce")
        await confirm_plan(pilot)
        await shows(pilot, "Recover from Production's database", "VM build-box (an SR not here)")
        assert form_mounted(app)
        await fill_form(pilot)  # what can be recovered is marked already
        await until(pilot, lambda: isinstance(app.screen, PlanModal), what="the recovery plan")
        await shows(pilot, "Recover 4 VM(s) from Production", "xe appliance-recover uuid=")
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(
            pilot,
            lambda: "started in order: dns-01, shop-db, shop-web, intranet" in notes(app),
            what="the outcome",
        )
        assert user_vms(dr_sim.sim) == dict.fromkeys(
            ["dns-01", "shop-db", "shop-web", "intranet"], "Running"
        )
        await shows(pilot, "shop-db", "Running")  # the Backup screen lists them


async def open_backup_empty(pilot) -> None:
    """The Backup screen of a pool without VMs yet (open_backup waits for rows)."""
    from xstui.screens.backup import BackupScreen

    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("host"), what="the pool loaded")
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(app.screen, BackupScreen), what="the Backup screen")


async def test_the_search_form_shows_only_the_chosen_storage_kinds_fields(
    console,  # noqa: F811
    dr_sim,  # noqa: F811
    dr_conn,  # noqa: F811
):
    """A trial: the form showed CHAP user and password with NFS chosen. Only
    the fields of the kind chosen are shown (``Field.shown_if``); what was
    typed in a hidden one is not given (NFS refused CHAP typed for iSCSI)."""
    from xstui.widgets.form import FormModal

    app = XstuiApp(dr_conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backup_empty(pilot)
        await pilot.press("R")
        await shows(pilot, "Disaster recovery: where is the other pool's SR?", "CHAP user:")
        form = app.screen
        assert isinstance(form, FormModal)
        form.query_one("#field-chapuser").value = "dr"
        form.query_one("#field-storage").value = "NFS"
        await until(pilot, lambda: "CHAP" not in flat(screen_text(app)), what="CHAP hidden")
        assert "Target/server:" in flat(screen_text(app))
        assert form.values()["chapuser"] == ""
        form.query_one("#field-storage").value = "HBA / Fibre Channel"
        await until(pilot, lambda: "Target" not in flat(screen_text(app)), what="target hidden")
        form.query_one("#field-storage").value = "iSCSI"
        await shows(pilot, "Target/server:", "CHAP user:", "CHAP password:")
        assert form.values()["chapuser"] == "dr"  # kept while hidden
