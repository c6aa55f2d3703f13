"""A VM's snapshots: the tree XAPI keeps (each snapshot's ``parent`` is the
one it followed, the VM's own ``parent`` is where it stands now), with the
time each was taken and what its disks hold; take one (with the memory of a
running VM: a checkpoint), go back to one (the current state kept first, as
a choice), delete one with its disks (as ``xe snapshot-uninstall``), make a
template of one (a fast clone, or a full copy to an SR), export one to an
XVA file (the Backup area's export)."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass

from ...areas import see
from ...datamodel import NULL_REF
from ...xapi import operations
from ...xapi.cache import Cache
from ...xapi.connection import XapiFailure
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext, TaskFailed, run_task
from ..backup.transfers import new_file, save_to
from ..backup.vms import CHAIN_WARNING, export_checked
from ..disks import disk_sr, disk_srs, used, vm_disks
from ..fields import Field, problem_of
from ..leftovers import destroy_snapshot, snapshot_disks
from ..values import moment, size

# what a snapshot is, by its power state: a checkpoint keeps the memory too
KINDS = {"Halted": "snapshot", "Suspended": "checkpoint"}
NOW = "> now"


@dataclass(frozen=True)
class SnapshotRow:
    ref: str  # the snapshot; the VM itself for the row that says where it is now
    name: str  # drawn with the tree's lines before it
    taken: str  # local time
    size: str  # what its disks (and memory image) hold
    kind: str  # snapshot, checkpoint; the VM's power state for "now"
    now: bool = False


def taken(rec) -> str:
    return moment(rec.snapshot_time)


def snapshot_rows(cache: Cache, vm: str) -> list[SnapshotRow]:
    """The VM's snapshots as a tree, oldest first under each, and where the
    VM stands now (under the snapshot it last came from: its parent)."""
    with cache.lock:
        rec = cache.get("vm", vm)
        if rec is None:
            return []
        snaps = {s: r for s in rec.snapshots if (r := cache.get("vm", s)) is not None}
        children: dict[str, list[str]] = {}
        for ref, snap in snaps.items():
            children.setdefault(snap.parent if snap.parent in snaps else "", []).append(ref)
        for refs in children.values():
            refs.sort(key=lambda r: (snaps[r].snapshot_time is None, snaps[r].snapshot_time))
        children.setdefault(rec.parent if rec.parent in snaps else "", []).append(vm)
        rows: list[SnapshotRow] = []

        def walk(ref: str, prefix: str, last: bool, top: bool) -> None:
            line = "" if top else ("`- " if last else "|- ")
            if ref == vm:
                state = rec.power_state.lower()
                rows.append(SnapshotRow(vm, prefix + line + NOW, "", "", state, now=True))
            else:
                snap = snaps[ref]
                kind = KINDS.get(snap.power_state, snap.power_state.lower())
                rows.append(
                    SnapshotRow(
                        ref,
                        prefix + line + snap.name_label,
                        taken(snap),
                        size(used(cache, ref)),
                        kind,
                    )
                )
            below = children.get(ref, [])
            deeper = prefix if top else prefix + ("   " if last else "|  ")
            for i, child in enumerate(below):
                walk(child, deeper, i == len(below) - 1, False)

        for root in children.get("", []):
            walk(root, "", True, True)
        return rows


def _snapshot(cache: Cache, snapshot: str):
    """The snapshot and the VM it was taken of (InvalidInput, in words, when
    either is gone); hold the cache's lock."""
    snap = cache.get("vm", snapshot)
    if snap is None or not snap.is_a_snapshot:
        raise InvalidInput(["choose a snapshot (the row under the cursor is not one)"])
    vm = cache.get("vm", snap.snapshot_of)
    if vm is None:
        raise InvalidInput([f"the VM {snap.name_label!r} was taken of is gone"])
    return snap, vm


def _refuse(cache: Cache, ref: str, op: str, what: str) -> None:
    why = operations.refusal(cache, "vm", ref, op)
    if why:
        raise InvalidInput([f"cannot {what}: {why}"])


def _delete(ctx: RunContext, ref: str, suspended: bool) -> None:
    """A snapshot (or a VM made here) and the disks it owns go."""
    destroy_snapshot(ctx, ref, snapshot_disks(ctx.conn, ref), suspended=suspended)


# take ---------------------------------------------------------------------------------
KEEP = {"disks (snapshot)": False, "disks and memory (checkpoint)": True}


class TakeSnapshot(Action):
    calls = ("VM.snapshot", "VM.checkpoint")

    @staticmethod
    def fields(cache: Cache, vm: str) -> list[Field]:
        rec = cache.get("vm", vm)
        name = f"{cache.label('vm', vm, 'vm')} {time.strftime('%Y-%m-%d %H:%M')}"
        fields = [Field("name", "Name", name, problem_of(v.object_name, "snapshot name"))]
        if rec is not None and "checkpoint" in rec.allowed_operations:
            fields.append(Field("keep", "Keep", next(iter(KEEP)), choices=list(KEEP)))
        return fields

    def __init__(self, cache: Cache, vm: str, name: str, keep: str = ""):
        self.name = v.object_name(name, "snapshot name")
        if keep and keep not in KEEP:
            raise InvalidInput([f"keep {keep!r}: choose one of {', '.join(KEEP)}"])
        self.memory = KEEP.get(keep, False)
        self.op = "checkpoint" if self.memory else "snapshot"
        with cache.lock:
            rec = cache.get("vm", vm)
            if rec is None or rec.is_a_template or rec.is_a_snapshot or rec.is_control_domain:
                raise InvalidInput(["choose a VM (not a template, snapshot or control domain)"])
            self.vm, self.vm_name, self.uuid = vm, rec.name_label, rec.uuid
            self.power = rec.power_state
            self.count = len(rec.snapshots)
            _refuse(cache, vm, self.op, f"take a {self.op} of {rec.name_label}")
        self.calls = (f"VM.{self.op}",)

    def plan(self) -> Plan:
        impact = []
        if self.memory:
            impact.append(
                f"{self.vm_name} pauses while its memory is saved (as long as a suspend), "
                "then runs on; a revert to it brings it back suspended, as it was"
            )
        elif self.power == "Running":
            impact.append(
                f"{self.vm_name} keeps running; the snapshot holds its disks only "
                "(a revert to it brings it back halted)"
            )
        if self.count + 1 >= CHAIN_WARNING:
            impact.append(
                f"warning: {self.vm_name} has {self.count} snapshots; VHD chains stop at "
                "about 28-30 and this adds one: delete old snapshots first"
            )
        return Plan(
            title=f"{self.op.capitalize()} {self.vm_name}",
            summary=f"A {self.op} of {self.vm_name} named {self.name!r}.",
            xe=[f"xe vm-{self.op} uuid={self.uuid} new-name-label={shlex.quote(self.name)}"],
            impact=impact,
            risk="medium" if self.memory else "low",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.note(f"taking the {self.op}")
        snap = ctx.task(f"VM.{self.op}", self.vm, self.name)
        ctx.on_undo(f"delete the {self.op} {self.name!r}", lambda: _delete(ctx, snap, self.memory))
        return f"{self.op.capitalize()} {self.name!r} of {self.vm_name} taken."


# revert -------------------------------------------------------------------------------
FIRST = {
    "take a snapshot first": "snapshot",
    "take a checkpoint first (memory too)": "checkpoint",
    "no: lose the current state": "",
}
# the revert failed after it had begun changing the VM (XAPI halts it)
CHANGED = ("VM_REVERT_FAILED", "SR_BACKEND_FAILURE_44", "SR_BACKEND_FAILURE_109")


class RevertToSnapshot(Action):
    calls = ("VM.revert", "VM.snapshot", "VM.checkpoint")
    optional = ("VM.snapshot", "VM.checkpoint")  # only when asked for first

    @staticmethod
    def fields(cache: Cache, snapshot: str) -> list[Field]:
        snap = cache.get("vm", snapshot)
        vm = cache.get("vm", snap.snapshot_of) if snap is not None else None
        choices = [
            label
            for label, op in FIRST.items()
            if not op or (vm is not None and op in vm.allowed_operations)
        ]
        return [Field("first", "Before reverting", choices[0], choices=choices)]

    def __init__(self, cache: Cache, snapshot: str, first: str):
        if first not in FIRST:
            raise InvalidInput([f"{first!r}: choose one of {', '.join(FIRST)}"])
        self.first = FIRST[first]
        with cache.lock:
            snap, vm = _snapshot(cache, snapshot)
            self.snapshot, self.snap_name, self.snap_uuid = snapshot, snap.name_label, snap.uuid
            self.taken, self.suspended = taken(snap), snap.power_state == "Suspended"
            self.vm, self.vm_name, self.uuid, self.power = (
                vm.ref,
                vm.name_label,
                vm.uuid,
                vm.power_state,
            )
            _refuse(cache, snapshot, "revert", f"revert to {snap.name_label!r}")
            if self.first:
                _refuse(cache, vm.ref, self.first, f"take a {self.first} of {vm.name_label} first")
        self.safety_name = f"{self.vm_name} before revert {time.strftime('%Y-%m-%d %H:%M')}"
        self.calls = ("VM.revert", *((f"VM.{self.first}",) if self.first else ()))

    def plan(self) -> Plan:
        impact = []
        if self.first:
            impact.append(
                f"first the current state is kept: a {self.first} named "
                f"{self.safety_name!r} (to come back: revert to it)"
            )
        else:
            impact.append(
                f"the current state of {self.vm_name} is lost: what its disks hold now "
                "is destroyed (take a snapshot first to keep it)"
            )
        if self.power in ("Running", "Paused"):
            memory = "kept in the checkpoint" if self.first == "checkpoint" else "lost"
            impact.append(
                f"{self.vm_name} is {self.power.lower()}: it is forced off (no clean "
                f"shutdown); what it holds in memory is {memory}"
            )
        impact.append(
            f"{self.vm_name} comes back suspended, as at the checkpoint: resume it to go on"
            if self.suspended
            else f"{self.vm_name} comes back halted: start it when ready"
        )
        xe = [f"xe snapshot-revert snapshot-uuid={self.snap_uuid}"]
        if self.first:
            xe.insert(
                0,
                f"xe vm-{self.first} uuid={self.uuid} "
                f"new-name-label={shlex.quote(self.safety_name)}",
            )
        return Plan(
            title=f"Revert {self.vm_name}",
            summary=f"{self.vm_name} goes back to {self.snap_name!r}, taken {self.taken}.",
            xe=xe,
            impact=impact,
            risk="high" if self.loses_data else "medium",
            confirm_word=self.vm_name if self.loses_data else "",
        )

    @property
    def loses_data(self) -> bool:
        """What the VM holds is lost: its disks (nothing kept first), or its
        memory (running or paused, forced off, no checkpoint first): typed
        confirmation, as every action that loses data."""
        running = self.power in ("Running", "Paused")
        return not self.first or (running and self.first != "checkpoint")

    def run(self, ctx: RunContext) -> str:
        conn, safety = ctx.conn, None
        if self.first:
            ctx.note(f"keeping the current state: taking a {self.first}")
            safety = ctx.task(f"VM.{self.first}", self.vm, self.safety_name, span=(0.0, 0.4))
            memory = self.first == "checkpoint"
            ctx.on_undo(
                f"delete the {self.first} {self.safety_name!r}",
                lambda: _delete(ctx, safety, memory),
            )
        ctx.note(f"reverting to {self.snap_name!r}")
        try:
            ctx.task("VM.revert", self.snapshot, span=(0.4 if safety else 0.0, 1.0))
        except TaskFailed as exc:
            if safety and exc.failure.code in CHANGED:
                # the VM was changed: the state kept first is the way back
                ctx.undo_steps.clear()
                ctx.on_undo(
                    f"revert {self.vm_name} to {self.safety_name!r}, its state before",
                    lambda: run_task(conn, "VM.revert", safety, give_up=ctx.cancel),
                )
            raise
        ctx.commit()  # reverted: the state kept first stays, whatever follows
        back = "suspended" if self.suspended else "halted"
        kept = f"; the state before is in {self.safety_name!r}" if safety else ""
        return f"{self.vm_name} reverted to {self.snap_name!r} ({back}){kept}."


# delete -------------------------------------------------------------------------------
class DeleteSnapshot(Action):
    calls = ("VM.destroy", "VDI.destroy", "VM.hard_shutdown")
    optional = ("VM.hard_shutdown",)  # a checkpoint's memory image goes first

    def __init__(self, cache: Cache, snapshot: str):
        with cache.lock:
            snap, vm = _snapshot(cache, snapshot)
            self.snapshot, self.name, self.uuid = snapshot, snap.name_label, snap.uuid
            self.vm_name, self.taken = vm.name_label, taken(snap)
            self.suspended = snap.power_state == "Suspended"
            self.disks = len(vm_disks(cache, snapshot))
            self.held = used(cache, snapshot)
            self.children = [
                c.name_label
                for c in cache.table("vm").values()
                if c.is_a_snapshot and c.parent == snapshot
            ]
            _refuse(cache, snapshot, "destroy", f"delete {snap.name_label!r}")
        self.calls = ("VM.destroy", "VDI.destroy") + (
            ("VM.hard_shutdown",) if self.suspended else ()
        )

    def plan(self) -> Plan:
        impact = [
            f"{self.vm_name} can no longer go back to {self.name!r}; the VM itself is not touched",
            f"its {self.disks} disk(s) ({size(self.held)}) are destroyed with it "
            "(the storage merges them back in the background)",
        ]
        if self.children:
            impact.append(
                f"the snapshots taken after it ({', '.join(self.children[:4])}) stay, "
                "one level up the tree"
            )
        return Plan(
            title=f"Delete the snapshot {self.name}",
            summary=f"The snapshot {self.name!r} of {self.vm_name}, taken {self.taken}, "
            "is deleted with its disks.",
            xe=[f"xe snapshot-uninstall snapshot-uuid={self.uuid} force=true"],
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.commit()  # each disk destroyed stays destroyed
        ctx.note(f"deleting {self.name!r} and its disks")
        _delete(ctx, self.snapshot, self.suspended)
        return f"Snapshot {self.name!r} of {self.vm_name} deleted with its disks."


# a template of one --------------------------------------------------------------------
FAST = "fast clone on the same SRs"
COPY = "full copy to "


class SnapshotToTemplate(Action):
    calls = ("VM.clone", "VM.copy")

    @staticmethod
    def fields(cache: Cache, snapshot: str) -> list[Field]:
        name = f"{cache.label('vm', snapshot, 'snapshot')} template"
        disks = [FAST, *(COPY + label for label in disk_srs(cache))]
        return [
            Field("name", "Template name", name, problem_of(v.object_name, "template name")),
            Field("disks", "Disks", FAST, choices=disks),
        ]

    def __init__(self, cache: Cache, snapshot: str, name: str, disks: str):
        self.name = v.object_name(name, "template name")
        self.sr, self.sr_label = NULL_REF, ""
        if disks != FAST:
            self.sr_label = disks.removeprefix(COPY)
            sr = disk_sr(cache, self.sr_label) if disks.startswith(COPY) else None
            if sr is None:
                raise InvalidInput(["choose where the disks go"])
            self.sr = sr
        self.op = "clone" if self.sr == NULL_REF else "copy"
        with cache.lock:
            snap, vm = _snapshot(cache, snapshot)
            self.snapshot, self.snap_name, self.uuid = snapshot, snap.name_label, snap.uuid
            self.suspended = snap.power_state == "Suspended"
            self.held = used(cache, snapshot)
            sr = cache.get("sr", self.sr)
            self.free = sr.physical_size - sr.physical_utilisation if sr is not None else None
            self.sr_uuid = sr.uuid if sr is not None else ""
            _refuse(cache, snapshot, self.op, f"{self.op} {snap.name_label!r}")
        self.calls = (f"VM.{self.op}",)

    def plan(self) -> Plan:
        impact = [f"a template {self.name!r} appears; VMs are made from it (xe vm-install)"]
        if self.op == "copy":
            impact.append(
                f"the disks are copied in full ({size(self.held)}) to {self.sr_label}: "
                "it takes a while, and the template depends on no snapshot"
            )
            if self.free is not None and self.free < self.held:
                impact.insert(
                    0,
                    f"warning: the SR has {size(self.free)} free; the disks hold {size(self.held)}",
                )
        else:
            impact.append("its disks are clones sharing the snapshot's data (quick, no space)")
        if self.suspended:
            impact.append("made from a checkpoint, the template is suspended like it")
        sr = f" sr-uuid={self.sr_uuid}" if self.op == "copy" else ""
        return Plan(
            title=f"Template from {self.snap_name}",
            summary=f"A template {self.name!r} made from the snapshot {self.snap_name!r}.",
            xe=[
                f"xe snapshot-{self.op} snapshot-uuid={self.uuid}{sr} "
                f"new-name-label={shlex.quote(self.name)}"
            ],
            impact=impact,
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.note(f"{'copying' if self.op == 'copy' else 'cloning'} {self.snap_name!r}")
        args = (self.snapshot, self.name) + ((self.sr,) if self.op == "copy" else ())
        template = ctx.task(f"VM.{self.op}", *args)
        ctx.on_undo(
            f"delete the template {self.name!r}",
            lambda: _delete(ctx, template, self.suspended),
        )
        try:
            uuid = ctx.conn.call("VM.get_uuid", template)
        except XapiFailure:
            uuid = "?"
        return f"Template {self.name!r} made from {self.snap_name!r} (uuid {uuid})."


# an XVA of one ------------------------------------------------------------------------
class ExportSnapshot(Action):
    calls = ("http/get_export",)

    @staticmethod
    def fields(cache: Cache, snapshot: str) -> list[Field]:
        return [save_to(cache.label("vm", snapshot, "snapshot"), ".xva")]

    def __init__(self, cache: Cache, snapshot: str, path: str):
        with cache.lock:
            snap, _vm = _snapshot(cache, snapshot)
            self.name, self.uuid, self.held = snap.name_label, snap.uuid, used(cache, snapshot)
            _refuse(cache, snapshot, "export", f"export {snap.name_label!r}")
        self.path = new_file(path)

    def plan(self) -> Plan:
        return Plan(
            title=f"Export {self.name} to an XVA",
            summary=f"The snapshot {self.name!r} is exported to {self.path}.",
            xe=[f"xe snapshot-export-to-template snapshot-uuid={self.uuid} filename={self.path}"],
            steps=["GET /export (streamed to a temporary file, checked, then renamed)"],
            impact=[
                f"up to {size(self.held)} is written (what its disks hold)",
                f"the file imports as a template with {see('backup', 'i')}, from which VMs are made",
            ],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        report = export_checked(ctx, self.name, self.uuid, self.path)
        return (
            f"{self.name} saved to {self.path} ({size(report.size)}, "
            f"{report.disks} disk(s), checked)."
        )
