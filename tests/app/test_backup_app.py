"""Pilot tests of the Backup area at 80x24 on the Linux console (issue 27,
item 7): a path is checked in the form, where the console runs, the same way
in every form that takes one; a refusal stays in the form with what was
typed; results name the file written."""

from __future__ import annotations

import os
from pathlib import Path

from xstui.screens.backup import BackupScreen

from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.services.backup.transfers import backup_folder
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal
from xstui.widgets.rowlist import RowList


async def open_backup(pilot) -> BackupScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("vdi"), what="the pool loaded")
    await pilot.press("f5")
    return await until(
        pilot,
        lambda: (
            isinstance(app.screen, BackupScreen)
            and app.screen.query_one("#backup-vms", RowList).rows
            and app.screen
        ),
        what="the Backup screen",
    )


async def open_form(pilot, key: str, shows: str) -> FormModal:
    app = pilot.app
    await pilot.press(key)
    await until(pilot, lambda: form_mounted(app) and shows in flat(screen_text(app)), what=shows)
    return app.screen


async def refused(pilot, form: FormModal, field: str, typed: str, words: str) -> None:
    """``typed`` in ``field`` is refused in the form, in words, and stays typed."""
    await fill_form(pilot, **{field: typed})
    await until(
        pilot,
        lambda: words in str(form.query_one(f"#problem-{field}").render()),
        what=f"{words!r} in the form",
    )
    assert pilot.app.screen is form  # no plan, nothing asked of the pool
    assert form.query_one(f"#field-{field}").value == typed


def unwritable(tmp_path: Path) -> Path:
    """A folder this user may not write to (root may write almost anywhere:
    a process's folder in /proc is one it may not)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder if not os.access(folder, os.W_OK) else Path("/proc/1")


def notes(app) -> str:
    return " ".join(n.message for n in app._notifications)


async def test_a_dump_is_refused_in_the_form_where_it_cannot_be_written(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backup(pilot)
        form = await open_form(pilot, "d", "Dump the pool database")
        assert "Save to (this machine)" in flat(screen_text(app))  # where it is written
        default = form.query_one("#field-path").value
        # the default folder is made once a plan is confirmed, not as it is offered
        assert Path(default).parent == backup_folder() and not backup_folder().exists()
        ro = unwritable(tmp_path)
        await refused(pilot, form, "path", f"{ro}/pool.db", f"{ro}/pool.db ")  # the path given
        missing = tmp_path / "nowhere"
        await refused(pilot, form, "path", f"{missing}/pool.db", f"there is no directory {missing}")
        (tmp_path / "old.db").write_text("<database/>")
        await refused(pilot, form, "path", str(tmp_path / "old.db"), "exists already")
        await refused(pilot, form, "path", str(tmp_path), "is a directory")
        assert not missing.exists()
        await fill_form(pilot, path=str(tmp_path / "pool.db"))
        plan = await confirm_plan(pilot)
        assert str(tmp_path / "pool.db") in plan.plan.summary
        await action_over(pilot)
        # the result names the file (a notice is a message: it may still be on its way)
        said = f"to {tmp_path / 'pool.db'}."
        await until(pilot, lambda: said in notes(app), what="the result's notice")
    assert (tmp_path / "pool.db").read_bytes().startswith(b"<database>")


async def test_a_restore_from_a_file_that_is_not_a_pool_database_stays_in_the_form(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    not_db = tmp_path / "notes.txt"
    not_db.write_text("not a database\n")
    cut = tmp_path / "cut.db"
    cut.write_text('<database><manifest><pair key="schema_major_vsn" value="5"/></manifest><ta')
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backup(pilot)
        form = await open_form(pilot, "r", "Restore the pool database")
        assert "Database file (this machine)" in flat(screen_text(app))
        await refused(pilot, form, "path", str(not_db), f"{not_db} is not a pool database")
        await refused(pilot, form, "path", str(tmp_path / "gone.db"), "there is no file")
        await refused(pilot, form, "path", str(tmp_path), "is a directory")
        # it starts as a database but is not one: the form again, as typed, saying why
        await fill_form(pilot, path=str(cut))
        again = await until(
            pilot,
            lambda: (
                form_mounted(app)
                and app.screen is not form
                and "is not a readable pool database"
                in str(app.screen.query_one("#problem-form").render())
                and app.screen
            ),
            what="the form again, with the reason",
        )
        assert again.query_one("#field-path").value == str(cut)
        assert "is not a readable pool database" in flat(screen_text(app))  # in view at 80x24
        await pilot.press("escape")
        await action_over(pilot)
        assert isinstance(app.screen, BackupScreen)


async def test_every_save_field_refuses_the_kernels_file_systems_in_the_form(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Trial s12 item 2: /proc/x (or the folder /proc) passed the forms of
    Dump DB, Host backup, Back up VM and Metadata; the refusal names the path."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backup(pilot)
        for key, title, field, typed in (
            ("d", "Dump the pool database", "path", "/proc/x"),
            ("h", "Back up the host", "path", "/proc/x"),
            ("e", "to an XVA file", "path", "/sys/x.xva"),
            ("m", "Export the metadata", "folder", "/proc"),
        ):
            form = await open_form(pilot, key, title)
            await refused(pilot, form, field, typed, f"{typed} is on the kernel's")
            await pilot.press("escape")
            await until(pilot, lambda: not form_mounted(app), what="the form closed")


async def test_vm_metadata_goes_to_a_folder_checked_in_the_form(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_backup(pilot)
        listing = screen.query_one("#backup-vms", RowList)
        web = next(i for i, (_k, cells) in enumerate(listing.rows) if cells[0] == "web-01")
        listing.cursor = web
        form = await open_form(pilot, "m", "Export the metadata of web-01")
        assert "Save in folder (this machine)" in flat(screen_text(app))
        ro = unwritable(tmp_path)
        await refused(pilot, form, "folder", str(ro), f"{ro} ")
        await refused(pilot, form, "folder", str(tmp_path / "no"), "there is no folder")
        await fill_form(pilot, folder=str(tmp_path))
        await confirm_plan(pilot)
        await action_over(pilot)
        (written,) = tmp_path.glob("*.meta.xva")
        await until(pilot, lambda: f"saved to {written}." in notes(app), what="the result")
        # the import form checks its folder the same way
        form = await open_form(pilot, "i", "Import: which XVA file, metadata file or folder?")
        await refused(pilot, form, "path", str(ro), str(ro))  # no metadata there, or /proc
        await refused(pilot, form, "path", str(tmp_path / "no"), "there is no file or folder")
        await fill_form(pilot, path=str(tmp_path))
        await until(pilot, lambda: "is in the pool already" in flat(screen_text(app)))
        assert app.screen is form and not isinstance(app.screen, PlanModal)


async def test_the_backup_folder_is_made_only_once_confirmed(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Issue 27: opening a form makes no folder; the plan says it will be
    made, and it is, once confirmed. Elsewhere a missing folder is refused."""
    folder = backup_folder()
    assert not folder.exists()
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_backup(pilot)
        for key, shows in (("d", "Dump the pool database"), ("m", "Export the metadata of")):
            await open_form(pilot, key, shows)
            await pilot.press("escape")
            await action_over(pilot)
            assert app.screen is screen and not folder.exists(), key
        form = await open_form(pilot, "m", "Export the metadata of")
        assert form.query_one("#field-folder").value == str(folder / "metadata")
        nowhere = folder.parent / "elsewhere" / "metadata"
        await refused(pilot, form, "folder", str(nowhere), "there is no folder")
        await fill_form(pilot, folder=str(folder / "metadata"))
        plan = await until(
            pilot,
            lambda: (
                isinstance(app.screen, PlanModal)
                and "make the folder" in flat(screen_text(app))
                and app.screen.plan
            ),
            what="the plan, saying the folder is made",
        )
        assert plan.steps[0] == f"make the folder {folder / 'metadata'} (yours only, 0700)"
        assert not folder.exists()
        await confirm_plan(pilot)
        await action_over(pilot)
        assert len(list((folder / "metadata").glob("*.meta.xva"))) == 1
        assert (folder.stat().st_mode & 0o777) == 0o700
