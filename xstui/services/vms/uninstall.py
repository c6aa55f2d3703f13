"""Deleting a VM as ``xe vm-uninstall`` does: a halted VM goes with the
disks only it uses (read-write, in no other VM's drive); a disk another VM
also uses, a CD image and the VM's snapshots stay. Nothing of it can be
taken back: the plan says so, names the disks, and asks for the VM's name."""

from __future__ import annotations

from ...areas import see
from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..disks import vm_disks
from ..leftovers import destroy_snapshot
from ..values import listing, size


class DeleteVm(Action):
    calls = ("VM.destroy", "VDI.destroy")

    def __init__(self, cache: Cache, vm: str):
        with cache.lock:
            rec = cache.get("vm", vm)
            if rec is None or rec.is_a_template or rec.is_a_snapshot or rec.is_control_domain:
                raise InvalidInput(["choose a VM (not a template, snapshot or control domain)"])
            self.vm, self.name, self.uuid = vm, rec.name_label, rec.uuid
            if rec.power_state != "Halted":
                raise InvalidInput(
                    [
                        f"{self.name} is {rec.power_state.lower()}: shut it down first in {see('vms', 'p')}"
                    ]
                )
            if rec.allowed_operations and "destroy" not in rec.allowed_operations:
                raise InvalidInput([f"XAPI does not allow deleting {self.name} now"])
            own, shared = [], []
            for vdi in vm_disks(cache, vm):
                users = {b.VM for b in cache.table("vbd").values() if b.VDI == vdi.ref}
                (own if users <= {vm} and not vdi.read_only else shared).append(vdi)
            self.disks = [(d.ref, d.name_label, d.virtual_size) for d in own]
            self.shared = [d.name_label for d in shared]
            self.snapshots = sorted(
                s.name_label
                for s in cache.table("vm").values()
                if s.is_a_snapshot and s.snapshot_of == vm
            )

    def plan(self) -> Plan:
        disks = [f"{name} ({size(n)})" for _, name, n in self.disks]
        impact = [
            f"there is no undo: back it up first in {see('backup', 'e')} if it may be needed again",
            f"its {len(disks)} disk(s) are destroyed: {listing(disks, 4)}"
            if disks
            else "it has no disk of its own",
        ]
        if self.shared:
            impact.append(f"disks other VMs use too stay: {listing(self.shared, 4)}")
        if self.snapshots:
            impact.append(
                f"its {len(self.snapshots)} snapshot(s) stay, with their disks: "
                f"{listing(self.snapshots, 3)}"
            )
        return Plan(
            title=f"Delete the VM {self.name}",
            summary=f"The VM {self.name} and the disks only it uses are destroyed.",
            xe=[f"xe vm-uninstall uuid={self.uuid} force=true"],
            impact=impact,
            risk="high",
            confirm_word=self.name,
        )

    def run(self, ctx: RunContext) -> str:
        ctx.commit()  # each part destroyed stays destroyed
        ctx.note(f"deleting {self.name} and its disks")
        destroy_snapshot(ctx, self.vm, [ref for ref, _, _ in self.disks])
        return f"{self.name} deleted with {len(self.disks)} disk(s)."
