"""What an admin does with hotfixes: upload a file (6.x patch, 7.x update),
precheck it on hosts, apply it to one host or the whole pool, clean up its
files; on XenServer 8, sync the repositories and apply what a host lacks.
Each apply says afterwards what its guidance asks (reboot, toolstack...)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import XapiFailure
from ...xapi.errors import describe
from ...xapi.records import NULL_REF
from ...xapi.transfer import upload
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext, task_result
from ..backup.transfers import with_task
from ..fields import HERE, Field
from ..values import listing, size
from .generation import PATCHES, REPOSITORIES, UPDATES, YUM
from .guidance import explain, needs_reboot
from .model import Update, UpdatesView

MiB = 1 << 20


# reading a file before it goes -------------------------------------------------------
@dataclass(frozen=True)
class UpdateFile:
    path: Path
    size: int


# what an update or patch file starts with: the ``<update .../>`` element of
# its update.xml (as the simulator's files, and the metadata a 7.x update
# carries), an ISO 9660 image (a 7.x update: "CD001" at byte 32769) or, for a
# 6.x patch (.xsupdate), an OpenPGP signed message (binary, or armored)
UPDATE_ELEMENT = re.compile(rb"<update\s")
ISO_MAGIC, ISO_AT = b"CD001", 32769
PGP_ARMOR = b"-----BEGIN PGP "
PGP_PACKETS = {2, 4, 8, 11}  # signature, one-pass signature, compressed, literal data


def _pgp(head: bytes) -> bool:
    """An OpenPGP message's first packet: armored, or a binary packet tag."""
    if head.startswith(PGP_ARMOR):
        return True
    if not head or not head[0] & 0x80:
        return False
    tag = head[0] & 0x3F if head[0] & 0x40 else (head[0] >> 2) & 0x0F
    return tag in PGP_PACKETS


def update_file(text: str, generation=None) -> UpdateFile:
    """The file to upload: a readable regular file (checked as every file to
    read is), not empty, whose start looks like an update (an ISO or its
    update.xml) or, on 6.x (``generation`` PATCHES), a signed patch."""
    if not text.strip():
        raise InvalidInput(["give the update file's path (an .iso or .xsupdate)"])
    path = v.file_to_read(text)
    try:
        size_ = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(ISO_AT + len(ISO_MAGIC))
    except OSError as exc:
        raise InvalidInput([f"{path} cannot be read: {exc.strerror or exc}"]) from None
    if size_ == 0:
        raise InvalidInput([f"{path} is empty"])
    looks = UPDATE_ELEMENT.search(head[: v.HEAD]) or head[ISO_AT:].startswith(ISO_MAGIC)
    if generation is PATCHES:
        if not (looks or _pgp(head)):
            raise InvalidInput(
                [f"{path} is not a patch: expected a signed .xsupdate (OpenPGP) or an update.xml"]
            )
    elif not looks:
        raise InvalidInput(
            [f"{path} is not an update: expected an ISO (an .iso) or an update.xml's <update>"]
        )
    return UpdateFile(path, size_)


def candidate_files(folders: list[Path]) -> list[str]:
    """Update files (.iso, .xsupdate, .update) in these folders, newest first."""
    found = []
    for folder in folders:
        try:
            found += [
                p
                for p in folder.iterdir()
                if p.suffix in (".iso", ".xsupdate", ".update") and p.is_file()
            ]
        except OSError:
            continue
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [str(p) for p in found]


def upload_srs(cache: Cache) -> list[str]:
    """SRs an update can be uploaded to (7.x): the default SR first, then the
    shared ones, then the master's local SRs, by name."""
    with cache.lock:
        master, pool = views.master_ref(cache), views.pool(cache)
        default = pool.default_SR if pool else NULL_REF
        local = {p.SR for p in cache.table("pbd").values() if p.host == master}
        names = []
        for ref, sr in cache.table("sr").items():
            if sr.content_type in ("iso", "udev") or sr.type in ("iso", "udev"):
                continue
            if sr.shared or ref in local:
                names.append((ref != default, not sr.shared, sr.name_label.lower(), sr.name_label))
    return [n[-1] for n in sorted(names)]


class UploadUpdate(Action):
    """6.x: ``PUT /pool_patch_upload``; 7.x: a VDI, ``PUT /import_raw_vdi``,
    ``pool_update.introduce``. The SHA-256 is computed as the bytes go."""

    calls = (
        "task.create",
        "VDI.create",
        "VDI.destroy",
        "pool_update.introduce",
        "http/put_import_raw_vdi",
        "http/put_pool_patch_upload",
    )
    optional = ("pool_update.introduce",)  # 6.x uploads with PUT /pool_patch_upload

    @staticmethod
    def fields(cache: Cache, files: list[str], generation) -> list[Field]:
        out = [
            Field(
                "path",
                f"Update file ({HERE})",
                files[0] if files else "",
                lambda text: v.problem(update_file, text, generation),
                placeholder="/path/file.iso",
            )
        ]
        if generation is UPDATES:
            srs = upload_srs(cache)
            out.append(Field("sr", "Upload to SR", srs[0] if srs else "", choices=srs))
        return out

    def __init__(self, cache: Cache, view: UpdatesView, path: str, sr: str = ""):
        why = view.generation.refusal("upload")
        if why:
            raise InvalidInput([why])
        self.generation = view.generation
        self.file = update_file(path, self.generation)
        self.sr = self.sr_name = self.sr_uuid = ""
        if self.generation is UPDATES:
            with cache.lock:
                found = [r for r, s in cache.table("sr").items() if s.name_label == sr]
                if len(found) != 1:
                    raise InvalidInput(
                        [f"no single SR called {sr!r}" if sr else "choose the SR to upload to"]
                    )
                rec = cache.get("sr", found[0])
                free = rec.physical_size - rec.physical_utilisation
                self.sr_uuid = rec.uuid
            if free < self.file.size:
                raise InvalidInput(
                    [f"{sr} has {size(free)} free; the file needs {size(self.file.size)}"]
                )
            self.sr, self.sr_name = found[0], sr

    def plan(self) -> Plan:
        name = self.file.path.name
        if self.generation is PATCHES:
            xe = [f"xe patch-upload file-name={self.file.path}"]
            steps = ["PUT /pool_patch_upload (the file, with its SHA-256 computed)"]
        else:
            xe = [f"xe update-upload file-name={self.file.path} sr-uuid={self.sr_uuid}"]
            steps = [
                f"VDI.create on {self.sr_name} ({size(self.vdi_size)})",
                "PUT /import_raw_vdi (the file, with its SHA-256 computed)",
                "pool_update.introduce",
            ]
        return Plan(
            "Upload update",
            f"Upload {name} ({size(self.file.size)}) to the pool.",
            xe,
            steps=steps,
            impact=["Nothing is applied yet: precheck and apply come after."],
            risk="low",
        )

    @property
    def vdi_size(self) -> int:
        return -(-self.file.size // MiB) * MiB  # whole MiB

    def run(self, ctx: RunContext) -> str:
        digest = hashlib.sha256()
        conn = ctx.conn

        def send(path: str, query: dict, task: str, span: tuple[float, float]):
            low, high = span

            def progress(done: int) -> None:
                ctx.progress(low + (high - low) * done / self.file.size)
                ctx.note(f"{done / MiB:.0f} of {self.file.size / MiB:.0f} MiB sent")

            upload(
                conn,
                path,
                {**query, "task_id": task},
                self.file.path,
                progress=progress,
                cancel=ctx.cancel,
                tap=digest.update,
            )

            def closed() -> bool:
                rec = conn.cache.get("task", task)
                return rec is not None and rec.status != "pending"

            conn.cache.wait_for(closed, 10)
            rec = conn.cache.get("task", task)
            return task_result(rec.result) if rec is not None else ""

        if self.generation is PATCHES:
            ctx.note("Uploading the patch")
            ref = with_task(
                ctx,
                "xstui: patch upload",
                lambda task: send("/pool_patch_upload", {}, task, (0.0, 0.95)),
            )
        else:
            ctx.note(f"Creating a disk on {self.sr_name} for the file")
            vdi = ctx.call(
                "VDI.create",
                {
                    "SR": self.sr,
                    "name_label": self.file.path.name,
                    "name_description": "update file uploaded by xstui",
                    "virtual_size": str(self.vdi_size),
                    "type": "user",
                    "sharable": False,
                    "read_only": False,
                    "other_config": {},
                    "xenstore_data": {},
                    "sm_config": {},
                    "tags": [],
                },
            )
            ctx.undo_task("remove the disk the file went to", "VDI.destroy", vdi)
            with_task(
                ctx,
                "xstui: update upload",
                lambda task: send(
                    "/import_raw_vdi", {"vdi": vdi, "format": "raw"}, task, (0.05, 0.85)
                ),
            )
            ctx.note("Introducing the update")
            ref = ctx.task("pool_update.introduce", vdi, span=(0.85, 1.0))
        cls = self.generation.api_class
        conn.cache.wait_for(lambda: conn.cache.get(cls, ref) is not None, 10)
        rec = conn.cache.get(cls, ref)
        name = rec.name_label if rec is not None else self.file.path.name
        return f"Uploaded {name} ({size(self.file.size)}, SHA-256 {digest.hexdigest()})."


# precheck (a read: nothing changes) ---------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    host: str  # name
    ok: bool
    text: str  # in words


def precheck(conn, view: UpdatesView, name: str, hosts: list[str]) -> list[Verdict]:
    """``pool_update.precheck`` / ``pool_patch.precheck`` on each host (refs),
    each failure explained. XenServer 8: ``pool.check_update_readiness``."""
    upd = _known(view, name)
    out = []
    if view.generation is YUM:  # yum resolves dependencies as it installs
        for ref in hosts:
            h = view.host(ref)
            n = len(h.missing) if h else 0
            out.append(Verdict(_name(view, ref), True, f"yum would update {n} package(s)"))
        return out
    if view.generation is REPOSITORIES:
        pool = views.pool(conn.cache)
        errors = conn.call("pool.check_update_readiness", pool.ref, False)
        by_host = {}
        for error in errors:
            desc = [str(e) for e in error]
            host = next((p for p in desc[1:] if p in {h.ref for h in view.hosts}), "")
            by_host.setdefault(host, []).append(describe(desc, conn.cache.name_of))
        for ref in hosts:
            problems = by_host.get(ref, []) + by_host.get("", [])
            out.append(Verdict(_name(view, ref), not problems, "; ".join(problems) or "ready"))
        return out
    method = "pool_patch.precheck" if view.generation is PATCHES else "pool_update.precheck"
    for ref in hosts:
        try:
            conn.call(method, upd.key, ref)
            out.append(Verdict(_name(view, ref), True, "passed"))
        except XapiFailure as exc:
            words = describe(exc.details, conn.cache.name_of)
            out.append(Verdict(_name(view, ref), False, str(words)))
    return out


def _name(view: UpdatesView, ref: str) -> str:
    h = view.host(ref)
    return h.name if h else ref


def _known(view: UpdatesView, name: str) -> Update:
    upd = view.update(name)
    if upd is None and not view.generation.lists_missing:
        raise InvalidInput([f"no update called {name!r} in this pool"])
    return upd


def after_apply(guidance) -> list[str]:
    return [f"{g}: {explain(g)}" for g in guidance]


# apply -------------------------------------------------------------------------------
class ApplyUpdate(Action):
    """One update on one host (6.x/7.x), or everything the host lacks (8.x)."""

    calls = ("pool_patch.apply", "pool_update.apply", "host.apply_updates", "host.call_plugin")
    # each generation its own calls (generation.py asks the API which it is)
    optional = calls

    def __init__(self, view: UpdatesView, name: str, host: str):
        self.view, self.generation = view, view.generation
        h = view.host(host)
        if h is None:
            raise InvalidInput(["that host is no longer in the pool"])
        self.host = h
        problems = []
        if not h.live:
            problems.append(f"{h.name} is not live")
        if self.generation.lists_missing:
            if not h.missing:
                problems.append(f"{h.name} lacks no update")
            if self.generation is REPOSITORIES and not view.hash:
                problems.append("the repositories have not been synced: sync first")
            self.update = None
            self.guidance = tuple(
                sorted({g for u in view.updates if u.name in h.missing for g in u.guidance})
            )
        else:
            self.update = _known(view, name)
            if name in h.applied:
                problems.append(f"{name} is applied on {h.name} already")
            elif not self.update.uploaded:
                problems.append(f"the files of {name} were cleaned up: upload it again")
            self.guidance = self.update.guidance
        if problems:
            raise InvalidInput(problems)

    def plan(self) -> Plan:
        h = self.host
        if self.generation is REPOSITORIES:
            what = f"every update it lacks ({listing(h.missing)})"
            xe = [f"xe host-apply-updates uuid={h.uuid} hash={self.view.hash}"]
            steps = ["host.apply_updates"]
        elif self.generation is YUM:
            what = f"every package yum would update ({listing(h.missing)})"
            xe = [f"xe host-call-plugin host-uuid={h.uuid} plugin=updater.py fn=update"]
            steps = ["host.call_plugin updater.py update (yum update)"]
        else:
            u = self.update
            what = u.name
            verb = self.generation.noun
            xe = [
                f"xe {verb}-precheck uuid={u.uuid} host-uuid={h.uuid}",
                f"xe {verb}-apply uuid={u.uuid} host-uuid={h.uuid}",
            ]
            steps = [f"pool_{verb}.precheck", f"pool_{verb}.apply"]
        impact = ["VMs keep running while the files are installed."]
        if self.generation is REPOSITORIES:  # as xapi_host.ml apply_updates does
            impact.append(
                f"XAPI disables {h.name} first: no VM starts there until its toolstack "
                "restarts with no guidance pending, it reboots, or you enable it."
            )
        impact += [f"Afterwards: {line}" for line in after_apply(self.guidance)]
        if needs_reboot(self.guidance):
            impact.append("Until the reboot, the host runs the old code.")
        return Plan(
            "Apply update",
            f"Install {what} on {h.name}.",
            xe,
            steps=steps,
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        h = self.host
        if self.generation is REPOSITORIES:
            ctx.note(f"Installing updates on {h.name}")
            ctx.task("host.apply_updates", h.ref, self.view.hash, span=(0.0, 1.0))
            what = f"{len(h.missing)} update(s)"
        elif self.generation is YUM:
            ctx.note(f"yum update on {h.name}")
            ctx.task("host.call_plugin", h.ref, "updater.py", "update", {}, span=(0.0, 1.0))
            what = f"{len(h.missing)} package(s)"
        else:
            cls = self.generation.api_class
            ctx.note(f"Prechecking {self.update.name} on {h.name}")
            ctx.task(f"{cls}.precheck", self.update.key, h.ref, span=(0.0, 0.2))
            ctx.note(f"Applying {self.update.name} on {h.name}")
            ctx.task(f"{cls}.apply", self.update.key, h.ref, span=(0.2, 1.0))
            what = self.update.name
        then = " ".join(explain(g) for g in self.guidance)
        return f"{what} applied on {h.name}." + (f" Now: {then}" if then else "")


class ApplyToPool(Action):
    """``pool_update.pool_apply`` / ``pool_patch.pool_apply``: every host that
    lacks it, the master first, in one call (no evacuation: for a rolling
    update with reboots, use the rolling pool update)."""

    calls = ("pool_patch.pool_apply", "pool_update.pool_apply")
    # each generation its own calls (generation.py asks the API which it is)
    optional = calls

    def __init__(self, view: UpdatesView, name: str):
        why = view.generation.refusal("pool_apply")
        if why:
            raise InvalidInput([why])
        self.view, self.update = view, _known(view, name)
        self.todo = [h for h in view.hosts if name not in h.applied]
        problems = []
        if not self.todo:
            problems.append(f"{name} is applied on every host already")
        elif not self.update.uploaded:
            problems.append(f"the files of {name} were cleaned up: upload it again")
        down = [h.name for h in self.todo if not h.live]
        if down:
            problems.append(f"not live: {listing(down)} (apply host by host instead)")
        if problems:
            raise InvalidInput(problems)

    def plan(self) -> Plan:
        u = self.update
        verb = self.view.generation.noun
        impact = [f"Hosts: {listing(h.name for h in self.todo)}. VMs keep running."]
        impact += [f"Afterwards, on each: {line}" for line in after_apply(u.guidance)]
        return Plan(
            "Apply update to the pool",
            f"Install {u.name} on every host that lacks it ({len(self.todo)}).",
            [f"xe {verb}-pool-apply uuid={u.uuid}"],
            steps=[f"pool_{verb}.pool_apply"],
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        cls = self.view.generation.api_class
        ctx.note(f"Applying {self.update.name} on {len(self.todo)} host(s)")
        ctx.task(f"{cls}.pool_apply", self.update.key, span=(0.0, 1.0))
        then = " ".join(explain(g) for g in self.update.guidance)
        return f"{self.update.name} applied on {len(self.todo)} host(s)." + (
            f" Now, on each: {then}" if then else ""
        )


class CleanUpdate(Action):
    """Remove an update's uploaded files from the pool (it stays applied)."""

    calls = ("pool_patch.pool_clean", "pool_update.pool_clean")
    # each generation its own calls (generation.py asks the API which it is)
    optional = calls

    def __init__(self, view: UpdatesView, name: str):
        why = view.generation.refusal("clean")
        if why:
            raise InvalidInput([why])
        self.view, self.update = view, _known(view, name)
        if not self.update.uploaded:
            raise InvalidInput([f"the files of {name} are gone already"])
        self.lacking = [h.name for h in view.hosts if name not in h.applied]

    def plan(self) -> Plan:
        verb = self.view.generation.noun
        where = (
            "its files in the hosts' dom0 (/var/patch) are removed"
            if self.view.generation is PATCHES
            else "the space its file took on the SR is freed"
        )
        impact = [f"Hosts that have it keep it; {where}."]
        if self.lacking:
            impact.append(
                f"Not applied on {listing(self.lacking)}: they cannot get it "
                "without uploading it again."
            )
        return Plan(
            "Clean up update files",
            f"Remove the uploaded files of {self.update.name}.",
            [f"xe {verb}-pool-clean uuid={self.update.uuid}"],
            steps=[f"pool_{verb}.pool_clean"],
            impact=impact,
            risk="medium" if self.lacking else "low",
        )

    def run(self, ctx: RunContext) -> str:
        cls = self.view.generation.api_class
        ctx.task(f"{cls}.pool_clean", self.update.key)
        return f"The files of {self.update.name} were removed."


class SyncUpdates(Action):
    """XenServer 8: fetch the repositories' metadata (``pool.sync_updates``)."""

    calls = ("pool.sync_updates",)
    older = (
        "update repositories came with XenServer 8: before, XenServer takes uploaded "
        "files (u) and XCP-ng installs yum packages host by host (a)"
    )

    def __init__(self, cache: Cache, view: UpdatesView):
        why = view.generation.refusal("sync")
        if why:
            raise InvalidInput([why])
        with cache.lock:
            pool = views.pool(cache)
            self.pool, self.pool_uuid = pool.ref, pool.uuid
            self.repos = [cache.label("repository", r) for r in pool.repositories]
        if not self.repos:
            raise InvalidInput(
                ["no repository is configured: xe repository-introduce, then pool-set-repositories"]
            )

    def plan(self) -> Plan:
        return Plan(
            "Sync updates",
            f"Fetch what the repositories offer ({listing(self.repos)}).",
            [f"xe pool-sync-updates uuid={self.pool_uuid}"],
            steps=["pool.sync_updates"],
            impact=["Nothing is installed: each host's missing updates are listed afterwards."],
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("pool.sync_updates", self.pool, False, "", "", span=(0.0, 1.0))
        return "The repositories were synced."
