"""A VM backed up to an XVA file without stopping it: a running VM through
a snapshot (made a VM record, not a template, for the export), exported,
checked, then the snapshot and its disks destroyed and the SRs rescanned; a
halted VM exported as it is (its UUID and MACs in the file, for a restore).
A step that fails undoes the ones before: no snapshot is left behind. Also
each VM's metadata alone (``/export_metadata``), for rebuilding records."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ...xapi.cache import Cache
from ...xapi.config import safe_stem
from ...xapi.connection import Connection, ConnectionLost, XapiFailure
from ...xapi.transfer import download, upload
from .. import validate as v
from ..actions import Action, InvalidInput, OutcomeUnknown, Plan, RunContext, TaskFailed
from ..disks import vm_disks
from ..fields import HERE, Field, problem_of
from ..leftovers import destroy_snapshot, snapshot_disks
from ..values import listing, size, vms_named
from .transfers import backup_folder, fetch, new_file, save_to, to_make, with_task, writable
from .xva import BadXva, XvaCheck, XvaReport, metadata_xml, vm_name

CHAIN_WARNING = 25  # VHD chains stop at ~28-30: a snapshot adds one


def long_chain(cache: Cache, vm: str) -> int:
    """How many snapshots the VM has (each one deepens its disks' VHD chain)."""
    rec = cache.get("vm", vm)
    return len(rec.snapshots) if rec is not None else 0


def export_checked(ctx: RunContext, name: str, uuid: str, path: Path, span=(0.0, 1.0)) -> XvaReport:
    """``GET /export`` of the VM (or snapshot) of that uuid to ``path``, each
    block's checksum checked as it comes (no second pass over the file); an
    export that is not a whole, intact XVA stops at the first fault and is
    not kept (InvalidInput says why)."""
    check = XvaCheck()
    try:
        fetch(ctx, f"xstui: export {name}", "/export", {"uuid": uuid}, path, span, tap=check.feed)
        return check.finish()
    except BadXva as exc:
        path.unlink(missing_ok=True)
        raise InvalidInput([f"the export is not usable: {exc}; the file was removed"]) from None


class BackupVm(Action):
    calls = (
        "VM.snapshot",
        "VM.set_is_a_template",
        "VM.destroy",
        "VDI.destroy",
        "SR.scan",
        "http/get_export",
    )

    @staticmethod
    def fields(cache: Cache, vm: str) -> list[Field]:
        return [save_to(cache.label("vm", vm, "vm"), ".xva")]

    def __init__(self, cache: Cache, vm: str, path: str):
        with cache.lock:
            rec = cache.get("vm", vm)
            if rec is None or rec.is_a_template or rec.is_a_snapshot or rec.is_control_domain:
                raise InvalidInput(["choose a VM (not a template, snapshot or control domain)"])
            self.vm, self.name, self.uuid = vm, rec.name_label, rec.uuid
            # a halted VM's disks do not change: exported as it is, no snapshot
            self.direct = rec.power_state == "Halted"
            disks = vm_disks(cache, vm)
            self.used = sum(d.physical_utilisation for d in disks)
            self.srs = sorted({d.SR for d in disks})
            self.snapshots = long_chain(cache, vm)
        self.path = new_file(path)
        self.free = _free_space(self.path.parent)
        self.report = None

    def plan(self) -> Plan:
        if self.direct:
            impact = [
                f"{self.name} is halted: it is exported as it is, with its UUID and MACs "
                "(a restore brings them back); it cannot start while the export streams"
            ]
        else:
            impact = [
                f"{self.name} keeps running; its disks work harder while the export streams",
                "the snapshot and its disks are destroyed afterwards (also if a step fails)",
                "the file holds the snapshot: its import is a copy of the VM (a new UUID), "
                "with the VM's MACs",
            ]
        if self.snapshots >= CHAIN_WARNING and not self.direct:
            impact.insert(
                0,
                f"warning: {self.name} has {self.snapshots} snapshots; VHD chains stop at about "
                "28-30 and this adds one: delete old snapshots first",
            )
        if self.free is not None and self.free < self.used:
            impact.insert(
                0,
                f"warning: {self.path.parent} has {size(self.free)} free; the export may need "
                f"up to {size(self.used)} (what the disks use)",
            )
        if self.direct:
            return Plan(
                title=f"Back up {self.name} to an XVA",
                summary=f"{self.name} is exported to {self.path}.",
                xe=[f"xe vm-export uuid={self.uuid} filename={self.path}"],
                steps=["GET /export (streamed to a temporary file, checked, then renamed)"],
                impact=impact,
                risk="low",
            )
        return Plan(
            title=f"Back up {self.name} to an XVA",
            summary=f"{self.name} is exported to {self.path} through a snapshot, without downtime.",
            xe=[
                f"xe vm-snapshot uuid={self.uuid} new-name-label=<name>",
                "xe template-param-set is-a-template=false uuid=<snapshot>",
                f"xe vm-export uuid=<snapshot> filename={self.path}",
                "xe vm-uninstall uuid=<snapshot> force=true",
            ],
            steps=[
                *to_make(self.path.parent),
                "VM.snapshot",
                "VM.set_is_a_template false (the snapshot becomes exportable)",
                "GET /export (streamed to a temporary file, checked, then renamed)",
                "VM.destroy and VDI.destroy of the snapshot, SR.scan",
            ],
            impact=impact,
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        if self.direct:
            self.report = export_checked(ctx, self.name, self.uuid, self.path)
            return f"{self.saved}."
        conn = ctx.conn
        label = f"{self.name} backup {time.strftime('%Y-%m-%d %H:%M')}"
        ctx.note("taking a snapshot")
        snap = ctx.task("VM.snapshot", self.vm, label, span=(0.0, 0.1))
        uuid = conn.call("VM.get_uuid", snap)
        ctx.leftover("snapshot", uuid, label)
        vdis = snapshot_disks(conn, snap)

        def tidy() -> None:
            destroy_snapshot(ctx, snap, vdis)
            ctx.tidied(uuid)

        ctx.on_undo(f"destroy the snapshot {label!r}", tidy)
        ctx.call("VM.set_is_a_template", snap, False)
        self.report = export_checked(ctx, self.name, uuid, self.path, (0.1, 0.9))
        ctx.note("destroying the snapshot")
        ctx.commit()  # the file is good: what remains is tidying, and Esc stops its waiting
        saved = self.saved
        try:
            tidy()
            for sr in self.srs:
                ctx.task("SR.scan", sr, span=(0.95, 1.0))
        except (XapiFailure, ConnectionLost, TaskFailed, OutcomeUnknown) as exc:
            return (
                f"{saved}; but the snapshot {label!r} could not be removed ({exc}): remove it "
                "with xe vm-uninstall"
            )
        return f"{saved}; the snapshot is gone."

    @property
    def saved(self) -> str:
        report = self.report
        return (
            f"{self.name} saved to {self.path} ({size(report.size)}, "
            f"{report.disks} disk(s), checked)"
        )


def _free_space(folder: Path) -> int | None:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _metadata_path(folder: Path, name: str, uuid: str) -> Path:
    return folder / f"{safe_stem(name)}-{uuid[:8]}.meta.xva"


def export_metadata(conn: Connection, vms: list[str], folder: Path) -> list[Path]:
    """Each VM's metadata (``GET /export_metadata``) into ``folder``."""
    out = []
    for vm in vms:
        with conn.cache.lock:
            rec = conn.cache.get("vm", vm)
            if rec is None:
                continue
            name, uuid = rec.name_label, rec.uuid
        path = _metadata_path(folder, name, uuid)
        download(conn, "/export_metadata", {"uuid": uuid}, path)
        out.append(path)
    return out


class ExportMetadata(Action):
    """The chosen VMs' metadata (their records, not their disks), one
    ``.meta.xva`` file each in a folder: what ImportMetadata brings back."""

    calls = ("http/get_export_metadata",)

    @staticmethod
    def fields() -> list[Field]:
        folder, made_in = backup_folder() / "metadata", backup_folder()
        check = problem_of(v.folder_to_write, made_in)
        return [Field("folder", f"Save in folder ({HERE})", str(folder), check)]

    def __init__(self, cache: Cache, vms: list[str], folder: str):
        self.folder = v.folder_to_write(folder, backup_folder())
        with cache.lock:
            recs = [cache.get("vm", vm) for vm in vms]
            self.vms = [(r.name_label, r.uuid) for r in recs if r is not None]
        if not self.vms:
            raise InvalidInput(["choose VMs (space marks them)"])
        self.paths = [_metadata_path(self.folder, name, uuid) for name, uuid in self.vms]

    @property
    def what(self) -> str:
        return vms_named([name for name, _ in self.vms])

    def plan(self) -> Plan:
        replaced = [p.name for p in self.paths if p.exists()]
        impact = ["nothing changes on the pool"]
        if replaced:
            impact.append(f"{len(replaced)} older file(s) are replaced: {listing(replaced, 4)}")
        return Plan(
            title=f"Export the metadata of {self.what}",
            summary=f"The VM's record (not its disks) is saved to {self.paths[0]}."
            if len(self.paths) == 1
            else f"Each VM's record (not its disks) is saved in {self.folder}, one file each.",
            xe=[
                f"xe vm-export metadata=true uuid={uuid} filename={path}"
                for (_, uuid), path in list(zip(self.vms, self.paths, strict=True))[:4]
            ],
            steps=[*to_make(self.folder), "GET /export_metadata for each VM"],
            impact=impact,
        )

    def run(self, ctx: RunContext) -> str:
        writable(self.paths[0])
        for i, ((name, uuid), path) in enumerate(zip(self.vms, self.paths, strict=True)):
            ctx.check_cancel()
            ctx.note(f"exporting {name}")
            download(ctx.conn, "/export_metadata", {"uuid": uuid}, path, cancel=ctx.cancel)
            ctx.progress((i + 1) / len(self.vms))
        if len(self.paths) == 1:
            return f"The metadata of {self.what} is saved to {self.paths[0]}."
        return f"The metadata of {len(self.vms)} VMs is saved in {self.folder}: " + ", ".join(
            p.name for p in self.paths
        )


@dataclass(frozen=True)
class MetadataFile:
    """What a VM metadata file (``.meta.xva``) holds, for the preview."""

    path: Path
    vm_name: str
    vm_uuid: str
    exists: bool  # a VM of that uuid is in the pool already


def read_metadata(cache: Cache, path: Path) -> MetadataFile:
    try:
        ova = metadata_xml(path)
    except BadXva as exc:
        raise InvalidInput([f"{path} is not VM metadata: {exc}"]) from None
    uuid = re.search(rb"<name>uuid</name>\s*<value>(?:<string>)?([^<]*)", ova)
    vm_uuid = uuid.group(1).decode() if uuid else ""
    with cache.lock:
        exists = any(v.uuid == vm_uuid for v in cache.table("vm").values())
    return MetadataFile(path, vm_name(ova), vm_uuid, exists)


class ImportMetadata(Action):
    """VM records back from metadata files (``PUT /import_metadata``), each
    checked by XAPI's dry run first: their disks must be on the pool's SRs."""

    calls = ("VM.import", "http/put_import_metadata")
    optional = ("VM.import",)  # the RBAC name: the import is the HTTP handler, on every release
    PATTERN = "*.meta.xva"

    @classmethod
    def of_folder(cls, cache: Cache, folder: str) -> ImportMetadata:
        """Every metadata file in the folder, each read for the preview."""
        return cls([read_metadata(cache, p) for p in v.folder_to_read(folder, cls.PATTERN)])

    def __init__(self, files: list[MetadataFile]):
        fresh = [f for f in files if not f.exists]
        if not fresh:
            raise InvalidInput(["every VM in these files is in the pool already"])
        self.files, self.skipped = fresh, [f for f in files if f.exists]

    def plan(self) -> Plan:
        impact = [
            f"{len(self.files)} VM record(s) come back, halted: "
            + listing((f.vm_name for f in self.files), 8)
        ]
        if self.skipped:
            impact.append(
                f"{len(self.skipped)} left out, already in the pool: "
                + listing((f.vm_name for f in self.skipped), 8)
            )
        return Plan(
            title=f"Import the metadata of {len(self.files)} VM(s)",
            summary="Each file is checked by XAPI (dry run), then imported; the VMs' disks "
            "must already be on the pool's SRs.",
            xe=[f"xe vm-import metadata=true filename={f.path}" for f in self.files[:4]],
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        for f in self.files:  # all checked before any is imported
            with_task(
                ctx,
                "xstui: metadata dry run",
                lambda task, f=f: upload(
                    ctx.conn, "/import_metadata", {"dry_run": "true", "task_id": task}, f.path
                ),
            )
        for i, f in enumerate(self.files):
            ctx.note(f"importing {f.vm_name}")
            with_task(
                ctx,
                "xstui: metadata import",
                lambda task, f=f: upload(ctx.conn, "/import_metadata", {"task_id": task}, f.path),
            )
            ctx.progress((i + 1) / len(self.files))
        return f"{len(self.files)} VM(s) imported: " + ", ".join(f.vm_name for f in self.files)
