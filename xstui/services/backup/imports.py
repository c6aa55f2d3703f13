"""VMs brought back from files, one way whatever the file: an XVA (``PUT
/import``, as ``xe vm-import``: the VM and its disks, to an SR) or VM
metadata only (``PUT /import_metadata``: the records of VMs whose disks are
still on the pool's SRs), told apart by what the file holds.

An XVA is read before anything is sent (``ova.xml``: the VM, its disks, its
MACs, the release that wrote it) and refused in words when it cannot come:
from a newer release, a restore whose VM or MACs are in the pool already,
an SR without room. It is then streamed with its progress in bytes, every
block's checksum checked as it goes; a fault stops it, and what the host had
made of it is removed (the host does it itself unless forced: the console
then does), or named when it cannot be. The VM comes in halted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...xapi.cache import Cache
from ...xapi.connection import XapiFailure
from ...xapi.transfer import upload
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..disks import disk_sr, disk_srs, sr_host
from ..fields import HERE, Field, problem_of
from ..leftovers import destroy_snapshot
from ..values import listing, size
from .transfers import backup_folder, task_result, with_task
from .vms import ImportMetadata, read_metadata
from .xva import BadXva, XvaCheck, XvaHeader, read_xva

# a restore keeps the VM's UUID and its MACs; otherwise the pool gives new ones
RESTORE = {"new ones (a copy)": False, "kept (a restore)": True}
FORCE = {"no": False, "yes: let bad blocks in, keep what fails": True}
LEFTOVER_SECONDS = 15  # how long the host is given to remove a failed import itself


@dataclass(frozen=True)
class XvaFile:
    """A full XVA chosen to import, and what its ``ova.xml`` says."""

    path: Path
    header: XvaHeader


def source_fields() -> list[Field]:
    """The newest backup of the backup folder is offered (what a restore
    most often wants), else the folder: never a refusal before anything is typed."""
    folder = backup_folder()
    try:
        offered = max(folder.glob("*.xva"), key=lambda p: p.stat().st_mtime, default=folder)
    except OSError:
        offered = folder
    return [Field("path", f"File or folder ({HERE})", str(offered), problem_of(_source_path))]


def _source_path(text: str) -> Path:
    """Checked as typed: a folder of metadata files, or a file that is an XVA."""
    path = Path(text.strip()).expanduser()
    if path.is_dir():
        v.folder_to_read(str(path), ImportMetadata.PATTERN)
        return path
    if text.strip() and not path.exists() and path.parent.is_dir():
        raise InvalidInput([f"there is no file or folder {path.absolute()}"])
    path = v.file_to_read(text)
    try:
        read_xva(path)
    except BadXva as exc:
        raise InvalidInput([f"{path} is not an XVA nor VM metadata: {exc}"]) from None
    return path


def import_source(cache: Cache, text: str) -> XvaFile | ImportMetadata:
    """What the path holds: VM metadata (a folder of ``.meta.xva`` files, or
    one: ImportMetadata) or a full XVA (to import with ImportVm)."""
    path = _source_path(text)
    if path.is_dir():
        return ImportMetadata.of_folder(cache, str(path))
    header, full = read_xva(path)
    if not full:
        return ImportMetadata([read_metadata(cache, path)])
    return XvaFile(path, header)


def _version(text: str) -> tuple[int, int]:
    parts = [int(p) if p.isdigit() else 0 for p in (text.split(".") + ["0"])[:2]]
    return parts[0], parts[1]


def pool_xapi(cache: Cache) -> tuple[int, int]:
    """The version of the master's toolstack (what an XVA's is compared with)."""
    with cache.lock:
        pool = next(iter(cache.table("pool").values()), None)
        master = cache.get("host", pool.master) if pool is not None else None
        text = master.software_version.get("xapi", "") if master is not None else ""
    return _version(text)


class ImportVm(Action):
    # VM.destroy and VDI.destroy: what a failed import left, when the host did not remove it
    calls = ("http/put_import", "VM.destroy", "VDI.destroy")

    @staticmethod
    def fields(cache: Cache, header: XvaHeader) -> list[Field]:
        srs = list(disk_srs(cache))
        macs = {m.lower() for m in header.macs}
        with cache.lock:  # a restore is offered first when nothing of it is in the pool
            present = any(vm.uuid == header.vm_uuid for vm in cache.table("vm").values()) or any(
                vif.MAC.lower() in macs for vif in cache.table("vif").values()
            )
        restore = next(label for label, keep in RESTORE.items() if keep != present)
        return [
            Field("sr", "Disks to SR", srs[0] if srs else "", choices=srs),
            Field("restore", "UUID and MACs", restore, choices=list(RESTORE)),
            Field("force", "Force", "no", choices=list(FORCE)),
        ]

    def __init__(self, cache: Cache, xva: XvaFile, sr: str, restore: str, force: str):
        self.path, header = xva.path, xva.header
        self.header, self.name = header, header.vm_name or xva.path.name
        if restore not in RESTORE or force not in FORCE:
            raise InvalidInput(["choose whether the UUID and MACs are kept, and force or not"])
        self.restore, self.force = RESTORE[restore], FORCE[force]
        chosen = disk_sr(cache, sr)
        if chosen is None:
            raise InvalidInput(["choose the SR the disks go to"])
        self.sr, self.sr_label = chosen, sr
        problems = []
        theirs, ours = header.xapi, pool_xapi(cache)
        if theirs > ours and ours != (0, 0):
            problems.append(
                f"{self.path.name} comes from a newer release ({header.product or 'unknown'}, "
                f"XAPI {theirs[0]}.{theirs[1]}; this pool has {ours[0]}.{ours[1]}): "
                "import it on a pool of that release or newer"
            )
        with cache.lock:
            rec = cache.get("sr", self.sr)
            self.sr_uuid, self.sr_type = rec.uuid, rec.type
            self.free = max(0, rec.physical_size - rec.physical_utilisation)
            if self.restore:
                problems += self._clashes(cache)
        if problems:
            raise InvalidInput(problems)
        self.host = sr_host(cache, self.sr)
        with cache.lock:
            pool = next(iter(cache.table("pool").values()), None)
            if pool is not None and self.host == pool.master:
                self.host = ""
        try:
            self.size = self.path.stat().st_size
        except OSError as exc:
            raise InvalidInput([f"{self.path} cannot be read: {exc.strerror or exc}"]) from None
        self.report = None
        self.made: list[str] = []

    def _clashes(self, cache: Cache) -> list[str]:
        """A restore keeps the VM's UUID and MACs: neither may be in the pool."""
        header, out = self.header, []
        same = next((vm for vm in cache.table("vm").values() if vm.uuid == header.vm_uuid), None)
        if same is not None:
            out.append(
                f"a VM with its UUID is in the pool already: {same.name_label} "
                f"({same.power_state.lower()}, {header.vm_uuid}); destroy it first, "
                "or import a copy (new UUID and MACs)"
            )
        macs = {m.lower() for m in header.macs}
        taken = [
            f"{vif.MAC} ({cache.label('vm', vif.VM)})"
            for vif in cache.table("vif").values()
            if vif.MAC.lower() in macs
        ]
        if taken and same is None:
            out.append(
                f"its MACs are in use: {listing(taken, 4)}; import a copy (new MACs) instead"
            )
        return out

    def precheck(self, conn) -> None:
        """Room on the SR, as its storage manager counts it: a thin SR (files)
        takes what the disks hold, a thick one (LVM) their whole size."""
        thin = _thin(conn, self.sr_type)
        disks = self.header.disks
        need = sum(d.used if thin else d.virtual_size for d in disks)
        if need > self.free:
            how = "what they hold" if thin else "their full size: this SR allocates disks whole"
            raise InvalidInput(
                [
                    f"{self.sr_label.split(' (')[0]} has {size(self.free)} free; the "
                    f"{len(disks)} disk(s) of {self.name} need {size(need)} ({how}): "
                    "choose another SR"
                ]
            )

    def plan(self) -> Plan:
        header = self.header
        what = "template" if header.template else "VM"
        disks = sum(d.virtual_size for d in header.disks)
        impact = [
            f"the {what} {self.name} comes in halted ({size(header.memory)} memory, "
            f"{header.vcpus} vCPU), with {len(header.disks)} disk(s) of {size(disks)} "
            f"on {self.sr_label}"
        ]
        if self.restore:
            impact.append(
                f"a restore: it keeps its UUID {header.vm_uuid} and its MACs "
                f"({listing(header.macs, 3) or 'no network interface'})"
            )
        else:
            impact.append("a copy: it gets a new UUID and new MACs")
        impact.append(
            "every block's checksum is checked as it is sent: a fault stops the import "
            "and what it made is removed"
            if not self.force
            else "force: bad blocks are let in (the disks may be corrupt) and a failed import "
            "is kept by the host (the console removes it)"
        )
        options = (" preserve=true" if self.restore else "") + (" force=true" if self.force else "")
        return Plan(
            title=f"Import {self.name}",
            summary=f"{self.path} ({size(self.size)}) is imported into the pool.",
            xe=[f"xe vm-import filename={self.path} sr-uuid={self.sr_uuid}{options}"],
            steps=["PUT /import (streamed, each block checked as it goes)"],
            impact=impact,
            risk="medium" if self.force else "low",
        )

    def run(self, ctx: RunContext) -> str:
        conn = ctx.conn
        with conn.cache.lock:
            before = set(conn.cache.table("vm"))
        check = XvaCheck(keep_going=self.force)
        total = max(self.size, 1)

        def progress(done: int) -> None:
            ctx.progress(0.98 * done / total)
            ctx.note(
                f"{done / (1 << 20):.0f} of {total / (1 << 20):.0f} MiB sent, "
                f"{check.blocks} block(s) checked"
            )

        def transfer(task: str) -> str:
            query = {
                "task_id": task,
                "sr_id": self.sr,
                "restore": str(self.restore).lower(),
                "force": str(self.force).lower(),
            }
            upload(
                conn,
                "/import",
                query,
                self.path,
                progress=progress,
                cancel=ctx.cancel,
                tap=check.feed,
                host=self.host,
            )
            return task_result(conn, task)

        ctx.on_undo(
            f"remove what the import of {self.name} made", lambda: self._remove(ctx, before)
        )
        try:
            result = with_task(ctx, f"xstui: import {self.name}", transfer)
            self.report = check.finish()
        except BadXva as exc:
            raise InvalidInput(
                [f"{self.path.name}: {exc}: the import was stopped (nothing more was sent)"]
            ) from None
        self.made = re.findall(r"OpaqueRef:[0-9A-Za-z-]+", result or "")
        return self._outcome(conn, check)

    def _outcome(self, conn, check: XvaCheck) -> str:
        cache, names = conn.cache, []
        for ref in self.made:
            cache.wait_for(lambda r=ref: cache.get("vm", r) is not None, 10)
            with cache.lock:
                rec = cache.get("vm", ref)
            names.append(f"{rec.name_label} (uuid {rec.uuid})" if rec is not None else ref)
        kept = " with its UUID and MACs" if self.restore else ""
        bad = (
            f"; {len(check.bad)} block(s) failed their checksum and were let in: "
            f"{listing(check.bad, 3)}"
            if check.bad
            else ""
        )
        return (
            f"Imported{kept}, halted: {listing(names, 3) or self.name}; "
            f"{self.report.disks} disk(s), {self.report.blocks} block(s) checked{bad}."
        )

    def _remove(self, ctx: RunContext, before: set[str]) -> None:
        """What the import made goes: the VMs it returned, or, when it failed,
        those that appeared meanwhile under its name (the host removes them
        itself unless forced: given LEFTOVER_SECONDS first)."""
        cache = ctx.conn.cache

        def leftovers() -> list[str]:
            with cache.lock:
                if self.made:
                    return [r for r in self.made if cache.get("vm", r) is not None]
                return [
                    vm.ref
                    for vm in cache.table("vm").values()
                    if vm.ref not in before and vm.name_label == self.header.vm_name
                ]

        if not self.made:
            cache.wait_for(lambda: not leftovers(), LEFTOVER_SECONDS)
        for ref in leftovers():
            with cache.lock:
                disks = [
                    b.VDI
                    for b in cache.table("vbd").values()
                    if b.VM == ref and b.type == "Disk" and cache.get("vdi", b.VDI) is not None
                ]
            destroy_snapshot(ctx, ref, disks)


def _thin(conn, sr_type: str) -> bool:
    """Whether the SR's storage manager provisions thinly (its SM record's
    capabilities, or features on newer releases); unknown counts as thin,
    the host then refusing what does not fit."""
    try:
        records = conn.call("SM.get_all_records_where", f'field "type" = "{sr_type}"')
    except XapiFailure:
        return True
    if not records:
        return True
    return any(
        "THIN_PROVISIONING" in (r.get("capabilities") or [])
        or "THIN_PROVISIONING" in (r.get("features") or {})
        for r in records.values()
    )
