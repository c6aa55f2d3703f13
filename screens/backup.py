"""The Backup screen: the pool database (dump; restore only after XAPI's dry
run, shown beside what would change), a host's backup, and the VMs, each
exported to an XVA without downtime (or just their metadata)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from xstui.services import backup as bk
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.backup.transfers import backup_folder
from xstui.services.fields import Field
from xstui.services.host.local import LocalSystem
from xstui.services.values import size
from xstui.widgets.flow import ask, connected, perform, read
from xstui.widgets.form import FormModal
from xstui.widgets.modal import Dialog
from xstui.widgets.notice import error_text
from xstui.widgets.rowlist import RowList
from xstui.xapi import views

from .base import AreaScreen, requires

COLUMNS = [("VM", 26), ("Power", 9), ("Host", 10), ("Disks use", 10), ("Snaps", 5)]


class RestoreCheckModal(Dialog):
    """XAPI's verdict on the file, and what a restore would change; dismisses
    True to go on to the restore (offered only when the dry run passed)."""

    DEFAULT_CSS = """
    RestoreCheckModal #check-body { height: auto; max-height: 60vh; }
    """
    BINDINGS = [Binding("escape", "dismiss(False)", "Close", id="restorecheck.close")]

    def __init__(self, text: Text, passed: bool):
        super().__init__(classes="-warning" if passed else "-high")
        self.text, self.passed = text, passed

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Restore dry run", classes="dialog-title")
            with VerticalScroll(id="check-body"):
                yield Static(self.text)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", compact=True)
                if self.passed:
                    yield Button("Restore...", id="restore", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "restore")


def comparison(path: Path, summary: bk.DbSummary, now: bk.DbSummary, verdict: str) -> Text:
    text = Text()
    text.append(f"{path}\n", style="bold")
    text.append(verdict + "\n\n")
    text.append(f"{'':8}{'in the file':>14}{'in the pool now':>18}\n", style="bold")
    text.append(f"{'pool':8}{summary.pool[:13]:>14}{now.pool[:17]:>18}\n")
    for kind in bk.pooldb.KINDS:
        file_n, pool_n = summary.names[kind].total(), now.names[kind].total()
        text.append(f"{kind + 's':8}{file_n:>14}{pool_n:>18}\n")
    changes = bk.compare(summary, now)
    text.append("\nA restore would change:\n" if changes else "\nNo object would come or go.\n")
    for kind, name, what in changes:
        text.append(f"  {kind:5} {name[:40]:<40} {what}\n")
    return text


class BackupScreen(AreaScreen):
    BINDINGS = [
        Binding("d", "dump", "Dump DB", id="backup.dump"),
        Binding("r", "restore", "Restore DB", id="backup.restore", show=False),
        Binding("h", "host_backup", "Host backup", id="backup.host"),
        Binding("H", "next_host", "Next host", id="backup.next_host", show=False),
        Binding("e", "export", "Back up VM", id="backup.export"),
        Binding("m", "metadata", "Metadata", id="backup.metadata", show=False),
        Binding("i", "import_metadata", "Import metadata", id="backup.import", show=False),
        Binding("b", "metadata_backup", "Metadata to SR", id="backup.metadata_sr", show=False),
        Binding(
            "g", "metadata_restore", "Restore metadata", id="backup.metadata_restore", show=False
        ),
        Binding("t", "schedule", "Schedule", id="backup.schedule", show=False),
    ]
    DRAWN_FROM = frozenset({"vm", "vbd", "vdi", "host"})

    def compose_body(self) -> ComposeResult:
        yield Static("", id="backup-head")
        yield RowList(COLUMNS, id="backup-vms")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RowList).focus()

    @property
    def local(self) -> bool:
        return self.conn is not None and self.conn.target.kind == "local"

    @property
    def scheduled(self) -> str:
        return bk.schedule(LocalSystem())

    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        cache = self.conn.cache
        host = cache.label("host", self.shown_host())
        head = Text()
        head.append("Pool database ", style="bold")
        head.append("d: dump to a file; r: restore one (XAPI's dry run first)\n")
        head.append("Host backup   ", style="bold")
        head.append(f"h: back up {host} (H: another host; restored from install media)\n")
        head.append("VMs           ", style="bold")
        head.append("e: back up the VM under the cursor to an XVA, without downtime;\n")
        head.append(
            "              m: export the metadata of the marked VMs (space marks); i: import\n"
        )
        head.append("Metadata SR   ", style="bold")
        if self.local:
            head.append(f"b: back up to an SR; g: restore from one; t: schedule ({self.scheduled})")
        else:
            head.append("a dom0 job: b, g and t say how (this console is remote)")
        self.query_one("#backup-head", Static).update(head)
        with cache.lock:
            used: dict[str, int] = {}
            for vbd in cache.table("vbd").values():
                vdi = cache.get("vdi", vbd.VDI) if vbd.type == "Disk" else None
                if vdi is not None:
                    used[vbd.VM] = used.get(vbd.VM, 0) + vdi.physical_utilisation
            rows = [
                (
                    vm.ref,
                    (
                        vm.name_label,
                        vm.power_state,
                        cache.label("host", vm.resident_on, ""),
                        size(used.get(vm.ref, 0)),
                        str(len(vm.snapshots)),
                    ),
                )
                for vm in sorted(views.user_vms(cache), key=lambda v: v.name_label.lower())
            ]
        self.query_one(RowList).set_rows(rows)

    # the pool database -------------------------------------------------------------
    @requires(bk.DumpDatabase)
    @work(exit_on_error=False, group="action", description="dump database")
    async def action_dump(self) -> None:
        cache = self.conn.cache
        action = await ask(
            self.app,
            "Dump the pool database",
            bk.DumpDatabase.fields(cache),
            lambda v: bk.DumpDatabase(cache, v["path"]),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(bk.RestoreDatabase)
    @work(exit_on_error=False, group="action", description="restore database")
    async def action_restore(self) -> None:
        if not connected(self.app):
            return
        conn = self.conn
        dumps = sorted(backup_folder().glob("*.db"), key=lambda p: p.stat().st_mtime)
        path = await self.app.push_screen_wait(
            FormModal(
                "Restore the pool database: which file?",
                [Field("path", "Database file", str(dumps[-1]) if dumps else "")],
                lambda v: _existing(v["path"]),
            )
        )
        if path is None:
            return
        checked = await read(
            self.app, _dry_run, conn, path, note="Checking the file with the pool (dry run)..."
        )
        if checked is None:
            return
        summary, verdict, passed = checked
        now = bk.pooldb.current(conn.cache)
        text = comparison(path, summary, now, verdict)
        if not await self.app.push_screen_wait(RestoreCheckModal(text, passed)):
            return
        changes = bk.compare(summary, now)
        await perform(self.app, bk.RestoreDatabase(conn.cache, path, changes))

    # host backup -----------------------------------------------------------------
    @requires(bk.HostBackup)
    @work(exit_on_error=False, group="action", description="host backup")
    async def action_host_backup(self) -> None:
        cache, host = self.conn.cache, self.shown_host()
        action = await ask(
            self.app,
            f"Back up the host {cache.label('host', host)}",
            bk.HostBackup.fields(cache, host),
            lambda v: bk.HostBackup(cache, host, v["path"]),
        )
        if action is not None and await perform(self.app, action):
            self.app.notify("To restore it later: " + " ".join(bk.HOST_RESTORE_STEPS), timeout=20)

    # VMs ----------------------------------------------------------------------------
    @requires(bk.BackupVm)
    @work(exit_on_error=False, group="action", description="back up VM")
    async def action_export(self) -> None:
        cache, vm = self.conn.cache, self.query_one(RowList).cursor_key
        if vm is None:
            return
        action = await ask(
            self.app,
            f"Back up {cache.label('vm', vm)} to an XVA file",
            bk.BackupVm.fields(cache, vm),
            lambda v: bk.BackupVm(cache, vm, v["path"]),
        )
        if action is not None:
            await perform(self.app, action)

    @work(exit_on_error=False, group="action", description="VM metadata")
    async def action_metadata(self) -> None:
        if not connected(self.app):
            return
        vms = self.query_one(RowList).chosen()
        if not vms:
            return
        folder = backup_folder() / "metadata"
        paths = await read(self.app, bk.export_metadata, self.conn, vms, folder)
        if paths is None:
            return
        self.app.notify(f"Metadata of {len(paths)} VM(s) saved in {folder}.", timeout=10)

    @requires(bk.ImportMetadata)
    @work(exit_on_error=False, group="action", description="import metadata")
    async def action_import_metadata(self) -> None:
        cache = self.conn.cache
        action = await ask(
            self.app,
            "Import VM metadata files (.meta.xva) from a folder",
            [Field("folder", "Folder", str(backup_folder() / "metadata"))],
            lambda v: bk.ImportMetadata(
                [bk.read_metadata(cache, p) for p in _metadata_files(v["folder"])]
            ),
        )
        if action is not None:
            await perform(self.app, action)

    # VM metadata on an SR (dom0) ------------------------------------------------------
    def _remote(self) -> bool:
        if self.local:
            return False
        self.app.notify(bk.REMOTE, severity="warning", timeout=15)
        return True

    async def _choose_sr(self, title: str) -> bk.SrChoice | None:
        choices = bk.metadata_srs(self.conn.cache)
        labels = {
            (c.name if c.shared else f"{c.name} (local: a single point of failure)")
            + f" {c.uuid[:8]}": c
            for c in choices
        }
        picked = await self.app.push_screen_wait(
            FormModal(
                title,
                [Field("sr", "SR", next(iter(labels), ""), choices=list(labels))],
                lambda v: labels.get(v["sr"]) or _refuse("choose an SR"),
            )
        )
        return picked

    @requires(bk.BackupMetadata)
    @work(exit_on_error=False, group="action", description="metadata backup")
    async def action_metadata_backup(self) -> None:
        if self._remote() or not connected(self.app):
            return
        choice = await self._choose_sr("Back up VM metadata to which SR?")
        if choice is not None:
            await perform(self.app, bk.BackupMetadata(LocalSystem(), choice))

    @requires(bk.RestoreMetadata)
    @work(exit_on_error=False, group="action", description="metadata restore")
    async def action_metadata_restore(self) -> None:
        if self._remote() or not connected(self.app):
            return
        choice = await self._choose_sr("Restore VM metadata from which SR?")
        if choice is None:
            return
        system = LocalSystem()
        found = await read(self.app, bk.probe_backups, system, choice.uuid)
        if found is None:
            return
        vdi, dates = found
        modes = {
            "Only VMs on this SR": "sr",
            "All VM metadata": "all",
        }
        action = await ask(
            self.app,
            f"Restore VM metadata from {choice.name} (newest first)",
            [
                Field("date", "Backup of", dates[0], choices=dates),
                Field("mode", "Which VMs", next(iter(modes)), choices=list(modes)),
            ],
            lambda v: bk.RestoreMetadata(
                system, choice, vdi, v["date"], modes[v["mode"]], dry_run=True
            ),
        )
        if action is None or not await perform(self.app, action):
            return
        if not action.would_import:
            return  # the dry run's outcome said why
        real = bk.RestoreMetadata(
            system, choice, vdi, action.date, action.mode, False, dry_run_said=action.said
        )
        await perform(self.app, real)  # its plan, with the dry run's verdict, confirms

    @work(exit_on_error=False, group="action", description="metadata schedule")
    async def action_schedule(self) -> None:
        if self._remote():
            return
        system = LocalSystem()
        action = await ask(
            self.app,
            "Schedule metadata backups",
            [Field("frequency", "How often", bk.schedule(system), choices=bk.FREQUENCIES)],
            lambda v: bk.SetSchedule(system, v["frequency"]),
        )
        if action is not None and await perform(self.app, action):
            self.refresh_view()


def _dry_run(conn, path: Path) -> tuple[bk.DbSummary, str, bool]:
    """The file read, and XAPI's verdict on it (a refusal is a verdict, not an error)."""
    summary = bk.summarize(path)
    try:
        bk.dry_run(RunContext(conn), path)
    except Exception as exc:
        return summary, f"Dry run refused: {error_text(exc, conn.cache)}", False
    return summary, "Dry run: XAPI accepts this file for this pool.", True


def _refuse(problem: str):
    raise InvalidInput([problem])


def _metadata_files(folder: str) -> list[Path]:
    files = sorted(Path(folder.strip()).expanduser().glob("*.meta.xva"))
    if not files:
        raise InvalidInput([f"no .meta.xva file in {folder}"])
    return files


def _existing(text: str) -> Path:
    path = Path(text.strip()).expanduser()
    if not path.is_file():
        raise InvalidInput([f"{path} is not a file"])
    return path
