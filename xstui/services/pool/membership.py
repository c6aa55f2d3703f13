"""Pool membership: ejecting a member (``pool.eject``). The member reboots
as a host of its own and the data on its local disks is erased, so the plan
lists what goes with it and the host's name must be typed."""

from __future__ import annotations

from ...xapi import views
from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..guards import refuse_while_ha
from ..host.hosts import guests_on, host_or_refuse


class EjectHost(Action):
    calls = ("pool.eject",)

    def __init__(self, cache: Cache, host: str):
        with cache.lock:
            rec = host_or_refuse(cache, host)
            self.host, self.name, self.uuid = host, rec.name_label, rec.uuid
            master = views.master_ref(cache)
            running = [vm.name_label for vm in guests_on(cache, host)]
            local = [
                sr.ref
                for sr in cache.table("sr").values()
                if not sr.shared
                and any(p.SR == sr.ref and p.host == host for p in cache.table("pbd").values())
            ]
            disks = {v.ref for v in cache.table("vdi").values() if v.SR in local}
            self.losing = sorted(
                {
                    cache.label("vm", b.VM)
                    for b in cache.table("vbd").values()
                    if b.VDI in disks
                    and cache.get("vm", b.VM) is not None
                    and not cache.get("vm", b.VM).is_a_snapshot
                }
            )
        problems = []
        if host == master:
            problems.append(f"{self.name} is the pool master: designate another master first (D)")
        if running:
            problems.append(
                f"VMs run on {self.name}: {', '.join(running[:6])}; enter maintenance mode "
                "first (m), which moves them"
            )
        if problems:
            raise InvalidInput(problems)
        refuse_while_ha(cache, "ejecting a host")

    def plan(self) -> Plan:
        impact = [
            f"{self.name} reboots as a host of its own, with the factory pool settings",
            "the data on its local disks is erased",
        ]
        if self.losing:
            impact.insert(
                0, f"these VMs lose their disks on its local storage: {', '.join(self.losing)}"
            )
        return Plan(
            title=f"Eject {self.name} from the pool",
            summary=f"{self.name} leaves the pool; shared SRs stay with the pool.",
            xe=[f"xe pool-eject host-uuid={self.uuid}"],
            steps=["pool.eject (the host reboots)"],
            impact=impact,
            risk="high",
            confirm_word=self.name,
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("pool.eject", self.host)
        ctx.commit()
        return f"{self.name} left the pool and is rebooting as a host of its own."
