"""The Backup screen. Backup tab: the pool database (dump; restore only
after XAPI's dry run, shown beside what would change), a host's backup, and
the VMs, each exported to an XVA without downtime (or just their metadata)
and imported back from one (or from metadata). Schedules tab: the pool's
snapshot schedules (VMSS, from XenServer 7.2), made, changed, switched on
and off, run now and deleted."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Static

from xstui.services import backup as bk
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.fields import Field
from xstui.services.host.local import LocalSystem
from xstui.services.values import size, vms_named
from xstui.widgets.modal import Dialog, ResultModal, buttons
from xstui.widgets.notice import error_text
from xstui.widgets.rowlist import RowList
from xstui.widgets.tabbed import TabbedPanes, TabPane
from xstui.widgets.wizard import Wizard
from xstui.xapi import views

from .act import Act
from .base import AreaScreen, tab_keys

COLUMNS = [("VM", 26), ("Power", 9), ("Host", 10), ("Disks use", 10), ("Snaps", 5)]
SCHEDULE_COLUMNS = [
    ("Schedule", 16),
    ("When (UTC)", 18),
    ("Keep", 4),
    ("VMs", 3),
    ("Last run", 16),
    ("Status", 6),
    ("On", 3),
]


class RestoreCheckModal(Dialog):
    """XAPI's verdict on the file, and what a restore would change; dismisses
    True to go on to the restore (offered only when the dry run passed),
    False to go back to the choice of the file."""

    DEFAULT_CSS = """
    RestoreCheckModal #check-body { height: auto; max-height: 60vh; }
    """
    BINDINGS = [Binding("escape", "dismiss(False)", "Back", id="restorecheck.close")]

    def __init__(self, text: Text, passed: bool):
        super().__init__(classes="-warning" if passed else "-high")
        self.text, self.passed = text, passed

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Restore dry run", classes="dialog-title")
            with VerticalScroll(id="check-body"):
                yield Static(self.text)
            restore = Button("Restore...", id="restore", variant="error", compact=True)
            yield buttons(
                Button("Back", id="close", compact=True), *([restore] if self.passed else [])
            )

    def on_mount(self) -> None:
        self.query(Button).last().focus()  # the way on: the restore's own plan asks again

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


def _vm(turn) -> str | None:
    return turn.screen.query_one("#backup-vms", RowList).cursor_key


def _chosen(turn) -> list[str] | None:
    return turn.screen.query_one("#backup-vms", RowList).chosen() or None


def _schedule(turn) -> str | None:
    return turn.screen.query_one("#schedule-list", RowList).cursor_key


def _schedule_name(turn) -> str:
    return turn.cache.label("vmss", turn.subject)


def _new_schedule(turn):
    if turn.way is bk.CreateSchedule:
        return bk.CreateSchedule(turn.cache, turn.values)
    return bk.CronSchedule(LocalSystem(), turn.cache, turn.values)


def _delete_schedule(turn):
    if turn.subject.startswith("cron:"):
        return bk.RemoveCronSchedule(LocalSystem(), turn.subject.removeprefix("cron:"))
    return bk.DeleteSchedule(turn.cache, turn.subject)


def _on_schedule(key: str, name: str, label: str, actions, help: str, **kw) -> Act:
    """An act on the schedule under the Schedules tab's cursor."""
    return Act(
        key,
        name,
        label,
        tab="schedules",
        help=help,
        builds=actions if isinstance(actions, tuple) else (actions,),
        subject=_schedule,
        missing="No schedule under the cursor (n makes one).",
        **kw,
    )


def _dom0(turn) -> LocalSystem | None:
    """The host's own tools, in dom0; remotely it says how (the header promises it)."""
    if turn.app.in_dom0:
        return LocalSystem()
    turn.app.notify(bk.REMOTE, severity="warning", timeout=15)
    return None


async def _restore_steps(turn) -> None:
    """Where the backup went and how it is restored: kept on screen until
    closed (at 80x24 a notice that long covered the next dialog, then went)."""
    backup = turn.action
    steps = "\n".join(
        f"{i}. {step.replace('<uuid>', backup.uuid).replace('<file>', str(backup.path))}"
        for i, step in enumerate(bk.HOST_RESTORE_STEPS, 1)
    )
    await turn.app.push_screen_wait(
        ResultModal(
            f"The backup of {backup.name} is saved",
            f"{backup.path}\n\nTo restore it later:\n{steps}",
        )
    )


async def _redraw(turn) -> None:
    turn.screen.refresh_view()


async def _restore_database(turn) -> None:
    """Which file (checked here as it is typed), XAPI's dry run shown beside
    what a restore would change, then the restore's own plan. A file that
    turns out not to be a readable database brings the form back, as typed;
    so does Back on the dry run's verdict."""
    app, conn = turn.app, turn.conn

    async def which(w: Wizard) -> None:
        path = await w.form(
            "Restore the pool database: which file?",
            bk.RestoreDatabase.fields(),
            lambda values: bk.pooldb.database_file(values["path"]),
        )
        summary, verdict, passed = await w.read(
            _dry_run, conn, path, note="Checking the file with the pool (dry run)..."
        )
        if summary is None:
            w.again(verdict)
        now = bk.pooldb.current(conn.cache)
        if not await app.push_screen_wait(
            RestoreCheckModal(comparison(path, summary, now, verdict), passed)
        ):
            w.again()
        await w.perform(bk.RestoreDatabase(conn.cache, path, bk.compare(summary, now)))

    await Wizard(app).run([which])


async def _import(turn) -> None:
    """One way in for every file: which file (or folder), told apart as it is
    typed; VM metadata goes through its dry run, an XVA asks where its disks
    go and whether it is a restore (its room checked with the pool first)."""
    app, cache = turn.app, turn.cache
    chosen = {}

    async def which(w: Wizard) -> None:
        chosen["source"] = source = await w.form(
            "Import: which XVA file, metadata file or folder?",
            bk.source_fields(),
            lambda values: bk.import_source(cache, values["path"]),
        )
        if isinstance(source, bk.ImportMetadata):
            await w.perform(source)
            w.follow([])

    async def where(w: Wizard) -> None:
        source = chosen["source"]
        action = await w.form(
            f"Import {source.header.vm_name or source.path.name} from {source.path.name}",
            bk.ImportVm.fields(cache, source.header),
            lambda values: bk.ImportVm(
                cache, source, values["sr"], values["restore"], values["force"]
            ),
        )
        await w.read(action.precheck, turn.conn, note="Checking the SR's room...")
        await w.perform(action)

    await Wizard(app).run([which, where])


RESTORE_MODES = {"Only VMs on this SR": "sr", "All VM metadata": "all"}


async def _restore_metadata(turn) -> None:
    """The SR, its backups (probed), a dry run, then the restore itself."""
    app, cache, system, found = turn.app, turn.cache, turn.subject, {}

    async def sr(w: Wizard) -> None:
        choice = await w.form(
            "Restore VM metadata from which SR?",
            [bk.sr_field(cache)],
            lambda values: bk.sr_chosen(cache, values["sr"]),
        )
        vdi, dates = await w.read(bk.probe_backups, system, choice.uuid)
        found.update(choice=choice, vdi=vdi, dates=dates)

    async def which(w: Wizard) -> None:
        choice, vdi, dates = found["choice"], found["vdi"], found["dates"]
        action = await w.form(
            f"Restore VM metadata from {choice.name} (newest first)",
            [
                Field("date", "Backup of", dates[0], choices=dates),
                Field("mode", "Which VMs", next(iter(RESTORE_MODES)), choices=list(RESTORE_MODES)),
            ],
            lambda values: bk.RestoreMetadata(
                system, choice, vdi, values["date"], RESTORE_MODES[values["mode"]], dry_run=True
            ),
        )
        await w.perform(action)
        if not action.would_import:
            return  # the dry run's outcome said why
        real = bk.RestoreMetadata(
            system, choice, vdi, action.date, action.mode, False, dry_run_said=action.said
        )
        await w.perform(real)  # its plan, with the dry run's verdict, confirms

    await Wizard(app).run([sr, which])


async def _disaster_recovery(turn) -> None:
    """XenCenter's Disaster Recovery wizard, over the API: where the other
    pool's SR is (the storage probed), which SR (introduced and attached on
    every host: its own plan), then what the database on its metadata VDI
    holds: the VMs and vApps to recover, started in order (its own plan)."""
    app, conn, cache, found = turn.app, turn.conn, turn.cache, {}

    async def storage(w: Wizard) -> None:
        where = await w.form(
            "Disaster recovery: where is the other pool's SR?", bk.search_fields(), bk.search
        )
        srs = await w.read(bk.find_srs, conn, where, note="Probing the storage...")
        if not srs:
            w.again("No SR there: check the target, or the LUN's replication.")
        found["srs"] = srs

    async def attach(w: Wizard) -> None:
        srs = found["srs"]
        labels = [f.label for f in srs]
        chosen = await w.form(
            "Which SR? (attached on every host of this pool)",
            [Field("sr", "SR", labels[0], choices=labels)],
            lambda values: srs[labels.index(values["sr"])],
        )
        with cache.lock:
            here = any(sr.uuid == chosen.uuid for sr in cache.table("sr").values())
        if not here:
            name = chosen.name or f"Recovered SR {chosen.uuid[:8]}"
            await w.perform(bk.attach_found(cache, chosen, name))
        found["sr"] = chosen

    async def recover(w: Wizard) -> None:
        db = await w.read(
            bk.open_metadata, conn, found["sr"].uuid, note="Reading its metadata VDI..."
        )
        action = await w.form(
            f"Recover from {db.pool_name}'s database (space marks)",
            bk.recover_fields(db),
            lambda values: bk.RecoverVms(
                cache, db, values["which"], values["start"] == bk.START_CHOICES[0]
            ),
        )
        await w.perform(action)

    await Wizard(app).run([storage, attach, recover])


class BackupScreen(AreaScreen):
    AREA = "backup"
    ACTS = (
        Act(
            "d",
            "dump",
            "Dump DB",
            tab="backup",
            help="Save the pool database to a file on this machine",
            builds=(bk.DumpDatabase,),
            title="Dump the pool database",
            fields=lambda t: bk.DumpDatabase.fields(t.cache),
            build=lambda t: bk.DumpDatabase(t.cache, t.values["path"]),
        ),
        Act(
            "r",
            "restore",
            "Restore DB",
            tab="backup",
            show=False,
            help="Restore the pool database from a file, after XAPI's dry run",
            builds=(bk.RestoreDatabase,),
            steps=_restore_database,
        ),
        Act(
            "h",
            "host_backup",
            "Host backup",
            tab="backup",
            show=False,  # the head line says h (the footer has no room left at 80 columns)
            id="backup.host",
            help="Save a host's control domain to a file on this machine",
            builds=(bk.HostBackup,),
            subject=lambda t: t.screen.shown_host(),
            title=lambda t: f"Back up the host {t.cache.label('host', t.subject)}",
            fields=lambda t: bk.HostBackup.fields(t.cache, t.subject),
            build=lambda t: bk.HostBackup(t.cache, t.subject, t.values["path"]),
            after=_restore_steps,
        ),
        Act("H", "next_host", "Next host", show=False, view=AreaScreen.next_host),
        Act(
            "e",
            "export",
            "Back up VM",
            tab="backup",
            help="Back up the VM under the cursor to an XVA file, without downtime",
            builds=(bk.BackupVm,),
            subject=_vm,
            missing="No VM under the cursor.",
            title=lambda t: f"Back up {t.cache.label('vm', t.subject)} to an XVA file",
            fields=lambda t: bk.BackupVm.fields(t.cache, t.subject),
            build=lambda t: bk.BackupVm(t.cache, t.subject, t.values["path"]),
        ),
        Act(
            "m",
            "metadata",
            "Metadata",
            tab="backup",
            show=False,
            help="Save the metadata of the marked VMs (space marks) in a folder",
            builds=(bk.ExportMetadata,),
            subject=_chosen,
            missing="No VM chosen: put the cursor on one, or mark several with space.",
            title=lambda t: (
                f"Export the metadata of {vms_named([t.cache.label('vm', r) for r in t.subject])}"
            ),
            fields=lambda t: bk.ExportMetadata.fields(),
            build=lambda t: bk.ExportMetadata(t.cache, t.subject, t.values["folder"]),
        ),
        Act(
            "i",
            "import",
            "Import",
            tab="backup",
            id="backup.import",
            help="Bring a VM back from an XVA file (xe vm-import), or VMs from metadata files",
            builds=(bk.ImportVm, bk.ImportMetadata),
            steps=_import,
        ),
        Act(
            "b",
            "metadata_backup",
            "Metadata to SR",
            id="backup.metadata_sr",
            show=False,
            help="Back up VM metadata to an SR (dom0's xe-backup-metadata)",
            builds=(bk.BackupMetadata,),
            subject=_dom0,
            title="Back up VM metadata to which SR?",
            fields=lambda t: [bk.sr_field(t.cache)],
            build=lambda t: bk.BackupMetadata(t.subject, bk.sr_chosen(t.cache, t.values["sr"])),
        ),
        Act(
            "g",
            "metadata_restore",
            "Restore metadata",
            show=False,
            help="Restore VM metadata from an SR's backup, after a dry run (dom0)",
            builds=(bk.RestoreMetadata,),
            subject=_dom0,
            steps=_restore_metadata,
        ),
        Act(
            "R",
            "disaster_recovery",
            "Recover SR",
            id="backup.dr",
            show=False,
            help="Disaster recovery: another pool's SR found, attached, its VMs recovered",
            builds=(bk.AttachExistingSr, bk.RecoverVms),
            steps=_disaster_recovery,
        ),
        Act(
            "t",
            "schedule",
            "Schedule",
            show=False,
            help="How often dom0 backs up VM metadata to an SR",
            builds=(bk.SetSchedule,),
            subject=_dom0,
            title="Schedule metadata backups",
            fields=lambda t: [
                Field("frequency", "How often", bk.schedule(t.subject), choices=bk.FREQUENCIES)
            ],
            build=lambda t: bk.SetSchedule(t.subject, t.values["frequency"]),
            after=_redraw,
        ),
        Act(
            "n",
            "new_schedule",
            "New",
            tab="schedules",
            help="A snapshot schedule: which VMs, how often, how many snapshots kept",
            builds=(bk.CreateSchedule, bk.CronSchedule),  # XAPI's; before 7.2, cron in dom0
            title=lambda t: (
                "New snapshot schedule"
                if t.way is bk.CreateSchedule
                else "New snapshot schedule (cron in dom0)"
            ),
            fields=lambda t: (
                bk.schedule_fields(t.cache)
                if t.way is bk.CreateSchedule
                else bk.CronSchedule.fields(t.cache)
            ),
            build=_new_schedule,
            after=_redraw,
        ),
        _on_schedule(
            "e",
            "edit_schedule",
            "Edit",
            bk.EditSchedule,
            "Change the schedule under the cursor: its times, retention, type and VMs",
            title=lambda t: f"Change the snapshot schedule {_schedule_name(t)}",
            fields=lambda t: bk.schedule_fields(t.cache, t.subject),
            build=lambda t: bk.EditSchedule(t.cache, t.subject, t.values),
        ),
        _on_schedule(
            "o",
            "toggle_schedule",
            "On/off",
            bk.ToggleSchedule,
            "Switch the schedule under the cursor off (it stops running) or on again",
            build=lambda t: bk.ToggleSchedule(t.cache, t.subject),
        ),
        _on_schedule(
            "r",
            "run_schedule",
            "Run now",
            bk.RunScheduleNow,
            "Snapshot the schedule's VMs now, as at its times (the oldest beyond retention go)",
            build=lambda t: bk.RunScheduleNow(t.cache, t.subject),
        ),
        _on_schedule(
            "x",
            "delete_schedule",
            "Delete",
            (bk.DeleteSchedule, bk.RemoveCronSchedule),
            "Delete the schedule under the cursor (its VMs leave it; their snapshots stay)",
            build=_delete_schedule,
            after=_redraw,
        ),
    )
    BINDINGS = [
        *tab_keys("backup", ("v", "backup", "Backup"), ("s", "schedules", "Schedules")),
    ]
    DRAWN_FROM = frozenset({"vm", "vbd", "vdi", "host", "vmss", "message"})
    schedule_rows: dict[str, bk.ScheduleRow] = {}  # the Schedules tab's, by ref

    def compose_body(self) -> ComposeResult:
        with TabbedPanes(id="backup-tabs", initial="backup"):
            with TabPane("Backup", id="backup"):
                yield Static("", id="backup-head")
                yield RowList(COLUMNS, id="backup-vms")
            with TabPane("Snapshot schedules", id="schedules"):
                yield Static("", id="schedules-head")
                yield RowList(SCHEDULE_COLUMNS, id="schedule-list", markable=False)
                yield Static("", id="schedule-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#backup-vms", RowList).focus()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedPanes).active = tab
        self.query_one("#schedule-list" if tab == "schedules" else "#backup-vms", RowList).focus()

    @on(RowList.Moved, "#schedule-list")
    def _schedule_moved(self) -> None:
        self.show_schedule()

    @property
    def local(self) -> bool:
        return self.conn is not None and self.conn.target.kind == "local"

    @property
    def scheduled(self) -> str:
        return bk.schedule(LocalSystem())

    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        self.show_schedules()
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
            "              i: import an XVA (or metadata); m: export the marked VMs' metadata\n"
        )
        head.append("Metadata SR   ", style="bold")
        if self.local:
            head.append(f"b: back up to an SR; g: restore from one; t: schedule ({self.scheduled})")
        else:
            head.append("a dom0 job: b, g and t say how (this console is remote)")
        head.append("\nDisaster      ", style="bold")
        head.append("R: recover VMs from another pool's SR (iSCSI, NFS, HBA)")
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
        self.query_one("#backup-vms", RowList).set_rows(rows)

    # snapshot schedules -------------------------------------------------------------
    def show_schedules(self) -> None:
        conn = self.conn
        why = bk.CreateSchedule.unavailable(conn)
        head = Text()
        if not why:
            rows = bk.schedule_rows(conn.cache)
            head.append("XAPI snapshots each schedule's VMs at its times (the master's clock, UTC)")
            head.append(" and keeps the newest few.")
        elif self.app.in_dom0:
            rows = bk.cron_rows(conn.cache, LocalSystem())
            head.append(
                f"{conn.release} has no XAPI schedules (7.2 and later): these are cron entries "
                "of this host (/etc/cron.d/xstui-snapshots-*), dom0's clock."
            )
        else:
            rows = []
            head.append(why[0].upper() + why[1:] + ".")
        self.schedule_rows = {r.ref: r for r in rows}
        self.query_one("#schedules-head", Static).update(head)
        rows = self.schedule_rows
        self.query_one("#schedule-list", RowList).set_rows(
            [
                (
                    r.ref,
                    (
                        r.name,
                        r.when,
                        str(r.kept),
                        str(len(r.vms)),
                        r.last_run,
                        r.status,
                        "on" if r.enabled else "off",
                    ),
                )
                for r in rows.values()
            ]
        )
        self.set_tab_count("schedules", "Snapshot schedules", len(rows))
        self.show_schedule()

    def show_schedule(self) -> None:
        """The schedule under the cursor: its type and VMs in full."""
        ref = self.query_one("#schedule-list", RowList).cursor_key
        r = self.schedule_rows.get(ref) if ref else None
        text = Text()
        if r is not None:
            text.append(f"{r.name}: ", style="bold")
            text.append(f"a {r.kind} of ")
            text.append(", ".join(r.vms) if r.vms else "no VM yet (e to add some)")
        self.query_one("#schedule-detail", Static).update(text)


def _dry_run(conn, path: Path) -> tuple[bk.DbSummary | None, str, bool]:
    """The file read, and XAPI's verdict on it (a refusal is a verdict, not an
    error); no summary when the file is not a readable database (the reason)."""
    try:
        summary = bk.summarize(path)
    except InvalidInput as exc:
        return None, "Not possible: " + "; ".join(exc.problems) + ".", False
    try:
        bk.dry_run(RunContext(conn), path)
    except Exception as exc:
        return summary, f"Dry run refused: {error_text(exc, conn.cache)}", False
    return summary, "Dry run: XAPI accepts this file for this pool.", True
