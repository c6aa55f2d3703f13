"""VM actions on a selection: power operations and migration within the
pool, one XAPI task per VM, and the memory of one VM. A VM that is not in a
state for the operation is named before anything runs; in a bulk run, one
VM's failure does not stop the others, and Esc stops after the current VM."""

from __future__ import annotations

from dataclasses import dataclass

from ...xapi import operations, views
from ...xapi.cache import Cache
from ...xapi.connection import XapiFailure
from ..actions import Action, Cancelled, InvalidInput, Plan, RunContext, TaskFailed
from ..placement import reason_in_words
from ..values import listing, size, vms_named


@dataclass(frozen=True)
class PowerOp:
    name: str  # what the admin picks
    method: str
    xe: str
    downtime: bool
    args: tuple = ()

    @property
    def operation(self) -> str:
        """XAPI's name for it, as allowed_operations lists it."""
        return self.method.split(".", 1)[1]


OPS = {
    op.name: op
    for op in (
        PowerOp("start", "VM.start", "xe vm-start", False, (False, False)),
        PowerOp("shut down", "VM.clean_shutdown", "xe vm-shutdown", True),
        PowerOp("force shut down", "VM.hard_shutdown", "xe vm-shutdown --force", True),
        PowerOp("reboot", "VM.clean_reboot", "xe vm-reboot", True),
        PowerOp("force reboot", "VM.hard_reboot", "xe vm-reboot --force", True),
        PowerOp("suspend", "VM.suspend", "xe vm-suspend", True),
        PowerOp("resume", "VM.resume", "xe vm-resume", False, (False, False)),
        PowerOp("pause", "VM.pause", "xe vm-pause", True),
        PowerOp("unpause", "VM.unpause", "xe vm-unpause", False),
    )
}


class _Bulk(Action):
    """Runs one task per VM; failures are collected, not undone."""

    def __init__(self, cache: Cache, vms: list[str]):
        if not vms:
            raise InvalidInput(["select at least one VM"])
        with cache.lock:
            self.vms = []
            for ref in vms:
                rec = cache.get("vm", ref)
                if rec is None:
                    raise InvalidInput(["a selected VM no longer exists"])
                self.vms.append(rec)

    def each(self, ctx: RunContext, verb: str, call) -> str:
        ctx.commit()  # each VM done stays done; Esc stops after the current one
        failed, done = [], 0
        for i, vm in enumerate(self.vms):
            if ctx.cancel.is_set():
                break
            ctx.note(f"{verb} {vm.name_label} ({i + 1} of {len(self.vms)})")
            try:
                call(vm, (i / len(self.vms), (i + 1) / len(self.vms)))
                done += 1
            except Cancelled:
                break
            except TaskFailed as exc:
                failed.append(f"{vm.name_label}: {exc.failure.human}")
            except XapiFailure as exc:
                failed.append(f"{vm.name_label}: {exc.human}")
        text = f"{verb}: {done} of {len(self.vms)} VM(s) done."
        if ctx.cancel.is_set():
            text += " Stopped by Esc."
        if failed:
            text += " Failed: " + listing(failed, 5, "; ")
        return text


ANY_HOST = "any host"
PLACED = {"start": "VM.start_on", "resume": "VM.resume_on"}  # the operations that take a host


class PowerVms(_Bulk):
    calls = (
        "VM.start",
        "VM.clean_shutdown",
        "VM.hard_shutdown",
        "VM.clean_reboot",
        "VM.hard_reboot",
        "VM.suspend",
        "VM.resume",
        "VM.pause",
        "VM.unpause",
    )

    @staticmethod
    def offered(cache: Cache, vms: list[str]) -> list[str]:
        """The operations every one of ``vms`` allows now (hold the cache's lock)."""
        return [
            name
            for name, op in OPS.items()
            if not operations.refusals(cache, "vm", vms, op.operation)
        ]

    @staticmethod
    def hosts(cache: Cache) -> list[tuple[str, str]]:
        """(label, ref) for the "on host" choice: any, then live enabled hosts by name."""
        live = sorted(
            (h.name_label, h.ref)
            for h in cache.table("host").values()
            if h.enabled and views.is_live(cache, h)
        )
        return [(ANY_HOST, ""), *live]

    def __init__(self, cache: Cache, vms: list[str], op: str, host: str = ""):
        super().__init__(cache, vms)
        if op not in OPS:
            raise InvalidInput([f"unknown operation {op!r}"])
        self.op = OPS[op]
        self.host, self.host_name = host, ""
        if host:
            rec = cache.get("host", host)
            if op not in PLACED:
                raise InvalidInput([f"only {' and '.join(PLACED)} take a host; {op} does not"])
            if rec is None or not rec.enabled or not views.is_live(cache, rec):
                raise InvalidInput(["the chosen host is not live and enabled"])
            self.host_name = rec.name_label
        self.calls = (PLACED[op] if host else self.op.method,)
        with cache.lock:  # what XAPI lists in each VM's allowed_operations now
            wrong = operations.refusals(cache, "vm", [vm.ref for vm in self.vms], self.operation)
        if wrong:
            raise InvalidInput([f"cannot {op} {listing(wrong, 5, '; ')}"])
        with cache.lock:
            self.protected = (
                [vm.name_label for vm in self.vms if vm.ha_restart_priority == "restart"]
                if views.ha_enabled(cache)
                else []
            )

    @property
    def operation(self) -> str:
        """XAPI's name for what runs (start_on when a host is chosen)."""
        return self.calls[0].split(".", 1)[1]

    def plan(self) -> Plan:
        names = [vm.name_label for vm in self.vms]
        impact = []
        if self.op.downtime:
            impact.append(f"Downtime for {vms_named(names)}")
        if self.protected and self.op.name in ("shut down", "force shut down", "suspend"):
            impact.append(
                f"HA-protected VMs stop and will not be restarted by HA: {listing(self.protected)}"
            )
        on = f" on={self.host_name}" if self.host else ""
        return Plan(
            f"{self.op.name.capitalize()} {names[0] if len(names) == 1 else 'VMs'}",
            f"{self.op.name.capitalize()} {vms_named(names)}"
            + (f" on {self.host_name}" if self.host else "")
            + ".",
            [f"{self.op.xe} uuid={vm.uuid}{on}" for vm in self.vms],
            impact=impact,
            risk="medium" if self.op.downtime else "low",
        )

    def run(self, ctx: RunContext) -> str:
        if self.host:
            method, args = PLACED[self.op.name], (self.host, *self.op.args)
        else:
            method, args = self.op.method, self.op.args
        return self.each(
            ctx,
            self.op.name.capitalize(),
            lambda vm, span: ctx.task(method, vm.ref, *args, span=span),
        )


class MigrateVms(_Bulk):
    """Live migration within the pool (the disks stay on their SR)."""

    calls = ("VM.pool_migrate",)

    @staticmethod
    def targets(cache: Cache, vms: list[str]) -> list[tuple[str, str]]:
        """(label, host ref) of live enabled hosts, most free memory first."""
        records = [cache.get("vm", v) for v in vms if cache.get("vm", v) is not None]
        need = sum(vm.memory_static_max for vm in records)
        out = []
        for h in cache.table("host").values():
            metrics = cache.get("host_metrics", h.metrics)
            if not h.enabled or not views.is_live(cache, h) or metrics is None:
                continue
            if all(vm.resident_on == h.ref for vm in records):
                continue  # where they already are
            fits = "" if metrics.memory_free >= need else " - not enough memory"
            out.append(
                (
                    metrics.memory_free,
                    f"{h.name_label} ({size(metrics.memory_free)} free{fits})",
                    h.ref,
                )
            )
        return [(label, ref) for _free, label, ref in sorted(out, reverse=True)]

    def __init__(self, cache: Cache, vms: list[str], host: str):
        super().__init__(cache, vms)
        problems = []
        with cache.lock:
            target = cache.get("host", host)
            if target is None:
                raise InvalidInput(["choose a host to migrate to"])
            self.host, self.host_name, self.host_uuid = host, target.name_label, target.uuid
            metrics = cache.get("host_metrics", target.metrics)
            if not target.enabled or not views.is_live(cache, target):
                problems.append(f"{target.name_label} is not live and enabled")
            refused = operations.refusals(cache, "vm", [vm.ref for vm in self.vms], "pool_migrate")
            if refused:
                problems.append(f"cannot migrate {listing(refused, 5, '; ')}")
            self.vms = [vm for vm in self.vms if vm.resident_on != host]
            if not self.vms and not problems:
                problems.append(f"the selected VMs already run on {target.name_label}")
            need = sum(vm.memory_static_max for vm in self.vms)
            if metrics is not None and need > metrics.memory_free:
                problems.append(
                    f"{target.name_label} has {size(metrics.memory_free)} free; the VMs need {size(need)}"
                )
        if problems:
            raise InvalidInput(problems)

    def precheck(self, conn) -> None:
        """XAPI's own check of each VM against the target (its SRs reachable
        there, its networks, memory...): reads only; InvalidInput names the VMs
        that cannot go."""
        refused = []
        for vm in self.vms:
            try:
                conn.call("VM.assert_can_boot_here", vm.ref, self.host)
            except XapiFailure as exc:
                with conn.cache.lock:
                    why = reason_in_words(conn.cache, exc.details, self.host_name)
                refused.append(f"{vm.name_label}: {why} [{exc.code}]")
        if refused:
            raise InvalidInput([f"cannot run on {self.host_name}: " + "; ".join(refused)])

    def plan(self) -> Plan:
        names = [vm.name_label for vm in self.vms]
        return Plan(
            f"Migrate {names[0] if len(names) == 1 else 'VMs'}",
            f"Live-migrate {vms_named(names)} to {self.host_name}.",
            [
                f"xe vm-migrate uuid={vm.uuid} host-uuid={self.host_uuid} live=true"
                for vm in self.vms
            ],
            impact=["No downtime: each VM pauses for a fraction of a second at the switch-over."],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        return self.each(
            ctx,
            "Migrate",
            lambda vm, span: ctx.task(
                "VM.pool_migrate", vm.ref, self.host, {"live": "true"}, span=span
            ),
        )
