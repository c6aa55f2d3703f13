"""Pilot tests at 80x24 on the Linux console (issue 29): a VM's snapshots
in the VMs area's Snapshots tab (taken, reverted with the current state kept
first or lost, deleted, made a template, exported), and a VM brought back
from an XVA in the Backup area (the same way in as metadata), each refusal
in the form as words, each result naming what it did."""

from __future__ import annotations

import asyncio

from xstui.screens.backup import BackupScreen
from xstui.screens.vms import VmsScreen

from tests.app.test_backup_app import notes, open_backup, open_form, refused
from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.services import backup as bk
from xstui.services.actions import RunContext
from xstui.widgets.console import foreign_glyphs
from xstui.widgets.plan import PlanModal
from xstui.widgets.rowlist import RowList


async def snapshots_of(pilot, name: str) -> VmsScreen:
    """The VMs area, the VM found by typing, then its Snapshots tab (n)."""
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("vdi"), what="the pool loaded")
    await pilot.press("f8")
    await until(pilot, lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows)
    await pilot.press("slash", *name, "enter")
    await until(pilot, lambda: [r.name for r in app.screen.shown] == [name], what=name)
    await pilot.press("n")
    await until(
        pilot, lambda: f"Snapshots of {name}" in screen_text(app), what=f"{name}'s snapshots"
    )
    return app.screen


def rows(screen) -> list[str]:
    return [cells[0] for _key, cells in screen.query_one("#snap-list", RowList).rows]


async def cursor_on(pilot, screen, name: str) -> None:
    listing = screen.query_one("#snap-list", RowList)
    listing.go_to(next(i for i, row in enumerate(rows(screen)) if row.endswith(name)))
    await pilot.pause()


async def test_snapshots_taken_reverted_deleted_exported(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    st = running_sim.sim.store
    app, seen = XstuiApp(connection), []
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await snapshots_of(pilot, "web-01")
        assert rows(screen) == ["> now"]
        for name in ("before upgrade", "after upgrade"):
            form = await open_form(pilot, "s", "Take a snapshot of web-01")
            await refused(pilot, form, "name", "  ", "give a snapshot name")
            await fill_form(pilot, name=name)
            plan = await confirm_plan(pilot)
            assert "xe vm-snapshot" in plan.plan.xe[0]
            await action_over(pilot)
            await until(pilot, lambda n=name: f"Snapshot '{n}' of web-01 taken." in notes(app))
        await until(
            pilot,
            lambda: rows(screen) == ["before upgrade", "`- after upgrade", "   `- > now"],
            what="the tree",
        )
        seen.append(screen_text(app))
        # "now" is no snapshot: the keys that act on one say so
        await pilot.press("x")
        await until(pilot, lambda: "No snapshot under the cursor (it is on now)" in notes(app))
        # back to the first, nothing kept: a high-risk plan, the VM's name typed
        await cursor_on(pilot, screen, "before upgrade")
        await open_form(pilot, "r", "Revert to before upgrade")
        seen.append(screen_text(app))
        await fill_form(pilot, first="no: lose the current state")
        plan = await until(pilot, lambda: isinstance(app.screen, PlanModal) and app.screen)
        text = flat(screen_text(app))
        assert "the current state of web-01 is lost" in text and "Type web-01" in text
        seen.append(screen_text(app))
        await confirm_plan(pilot, "web-01")
        await action_over(pilot)
        await until(
            pilot,
            lambda: rows(screen) == ["before upgrade", "|- after upgrade", "`- > now"],
            what="now under the snapshot reverted to",
        )
        vm = st.find_one("VM", name_label="web-01")
        assert st.get("VM", vm)["power_state"] == "Halted"
        # deleted with its disks
        await cursor_on(pilot, screen, "after upgrade")
        await pilot.press("x")
        plan = await until(pilot, lambda: isinstance(app.screen, PlanModal) and app.screen)
        assert "xe snapshot-uninstall" in plan.plan.xe[0]
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(pilot, lambda: rows(screen) == ["before upgrade", "`- > now"])
        # exported: the result names the file
        await cursor_on(pilot, screen, "before upgrade")
        await open_form(pilot, "e", "Export before upgrade to an XVA file")
        path = tmp_path / "before.xva"
        await fill_form(pilot, path=str(path))
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(pilot, lambda: f"saved to {path}" in flat(notes(app)))
        # a template of it, a fast clone
        await open_form(pilot, "t", "A template from before upgrade")
        await fill_form(pilot, name="web template")
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(pilot, lambda: "Template 'web template' made" in notes(app))
        await pilot.press("escape")
        await until(pilot, lambda: screen.tab == "list", what="back to the VM list")
    assert path.exists()
    for text in seen:
        assert not foreign_glyphs(text), sorted(foreign_glyphs(text))


async def test_a_vm_comes_back_from_its_xva_in_the_backup_area(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    st, conn = running_sim.sim.store, connection
    path = tmp_path / "erp.xva"
    not_xva = tmp_path / "notes.txt"
    not_xva.write_text("not an XVA\n")
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backup(pilot)
        assert isinstance(app.screen, BackupScreen)
        vm = st.find_one("VM", name_label="legacy-erp")
        uuid = st.get("VM", vm)["uuid"]
        # backed up with the Backup area's code (halted: exported as it is)
        await asyncio.to_thread(bk.BackupVm(conn.cache, vm, str(path)).execute, RunContext(conn))
        form = await open_form(pilot, "i", "Import: which XVA file")
        await refused(pilot, form, "path", str(not_xva), "is not an XVA nor VM metadata")
        await fill_form(pilot, path=str(path))
        form = await until(
            pilot, lambda: "Import legacy-erp from erp.xva" in screen_text(app) and app.screen
        )
        text = screen_text(app)
        assert "new ones (a copy)" in text  # its UUID is in the pool: a copy is offered
        assert not foreign_glyphs(text), sorted(foreign_glyphs(text))
        await fill_form(pilot, restore="kept (a restore)")
        await until(
            pilot, lambda: "a VM with its UUID is in the pool already" in flat(screen_text(app))
        )
        assert app.screen is form
        await fill_form(pilot, restore="new ones (a copy)")
        plan = await until(pilot, lambda: isinstance(app.screen, PlanModal) and app.screen)
        assert "xe vm-import" in plan.plan.xe[0] and "preserve=true" not in plan.plan.xe[0]
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(pilot, lambda: "Imported, halted: legacy-erp" in flat(notes(app)))
    made = [r for r in st.find("VM", name_label="legacy-erp") if st.get("VM", r)["uuid"] != uuid]
    assert len(made) == 1 and st.get("VM", made[0])["power_state"] == "Halted"
