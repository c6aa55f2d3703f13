"""Turning HA on and off, the failures it must tolerate, and which VMs it
protects. Every number the plan depends on is XAPI's own
(``pool.ha_compute_max_host_failures_to_tolerate`` and its hypothetical
twin), read before anything is changed; a change that would break the plan
is refused with the reason, before any write."""

from __future__ import annotations

import shlex

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import Connection
from ...xapi.records import NULL_REF
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, optional, problem_of
from ..values import listing

STATEFILE_TYPES = ("nfs", "lvmoiscsi", "lvmohba", "gfs2", "smb", "ext")
TIMEOUTS = ("30", "120")  # XAPI's default; the book's preset for slow storage failover
PRIORITIES = ("restart", "best-effort", "unprotected")
BREAKS_PLAN = (
    "it would break the failover plan (HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN): there is "
    "not enough free memory on the survivors to restart every protected VM"
)


def heartbeat_candidates(cache: Cache) -> tuple[list[str], list[str]]:
    """(SR names that can hold the statefile, "name: why not" for the others)."""
    ok, not_ok = [], []
    with cache.lock:
        hosts = [h for h in cache.table("host").values() if views.is_live(cache, h)]
        for sr in sorted(cache.table("sr").values(), key=lambda s: s.name_label):
            plugged = {
                p.host
                for p in (cache.get("pbd", ref) for ref in sr.PBDs)
                if p is not None and p.currently_attached
            }
            if not sr.shared:
                owners = sorted(cache.label("host", h) for h in plugged) or ["no host"]
                not_ok.append(f"{sr.name_label}: local to {', '.join(owners)}")
            elif sr.type not in STATEFILE_TYPES:
                not_ok.append(f"{sr.name_label}: type {sr.type} cannot hold a statefile")
            elif not all(h.ref in plugged for h in hosts):
                not_ok.append(f"{sr.name_label}: not attached on every host")
            else:
                ok.append(sr.name_label)
    return ok, not_ok


def failures_to_tolerate(text: str, computed_max: int) -> int:
    """At most what XAPI computes the pool can tolerate now (refused before any call)."""
    value = v.int_in_range(text, "failures to tolerate", 0, 64)
    if value > computed_max:
        raise InvalidInput(
            [f"the pool can tolerate at most {computed_max} host failure(s) now: {BREAKS_PLAN}"]
        )
    return value


class EnableHa(Action):
    exclusive = "an HA enable"  # one console at a time (services.claims)
    calls = ("pool.enable_ha", "pool.set_ha_host_failures_to_tolerate")

    @staticmethod
    def fields(cache: Cache, computed_max: int) -> list[Field]:
        srs, _ = heartbeat_candidates(cache)
        return [
            Field("sr", "Heartbeat SR", srs[0] if srs else "", choices=srs),
            Field("timeout", "Timeout (s)", "30", placeholder="30; 120 for slow storage"),
            Field(
                "tolerate",
                f"Host failures to tolerate (max {computed_max})",
                str(min(1, computed_max)),
            ),
        ]

    def __init__(self, cache: Cache, sr: str, timeout: str, tolerate: str, computed_max: int):
        srs, _ = heartbeat_candidates(cache)
        if sr not in srs:
            raise InvalidInput(["choose a shared SR attached on every host (see the list)"])
        self.timeout = v.int_in_range(timeout, "the timeout", 10, 3600)
        self.tolerate = failures_to_tolerate(tolerate, computed_max)
        with cache.lock:
            pool = views.pool(cache)
            if pool is None or pool.ha_enabled:
                raise InvalidInput(["HA is already enabled"])
            self.pool, self.pool_uuid = pool.ref, pool.uuid
            record = next(s for s in cache.table("sr").values() if s.name_label == sr)
            self.sr, self.sr_name, self.sr_uuid = record.ref, sr, record.uuid
            self.hosts = len(cache.table("host"))
            self.old_timeout = pool.ha_configuration.get("timeout", "")
            self.pinned = sorted(
                vm.name_label
                for vm in views.user_vms(cache)
                if vm.ha_restart_priority == "restart" and vm.affinity != NULL_REF
            )
        self.local: list[str] = []  # protected VMs with disks on local storage (precheck)

    def precheck(self, conn: Connection) -> None:
        """Protected VMs whose disks no other host reaches (reads)."""
        cache = conn.cache
        with cache.lock:
            protected = [v.ref for v in views.user_vms(cache) if v.ha_restart_priority == "restart"]
        for vm in protected:
            for vbd in conn.call("VM.get_VBDs", vm):
                vdi = conn.call("VBD.get_VDI", vbd)
                if vdi == NULL_REF:
                    continue
                sr = conn.call("VDI.get_SR", vdi)
                if not conn.call("SR.get_shared", sr):
                    self.local.append(cache.label("vm", vm))
                    break

    def plan(self) -> Plan:
        warnings = []
        if self.hosts < 3:
            warnings.append(
                f"Only {self.hosts} hosts: with two, a network split fences one host at random "
                "(three or more are advised)."
            )
        if self.local:
            warnings.append(
                f"Protected VMs on local storage cannot restart elsewhere: {listing(self.local)}"
            )
        if self.pinned:
            warnings.append(
                f"Protected VMs pinned to a host (affinity) restart elsewhere only if it fails: "
                f"{listing(self.pinned)}"
            )
        if self.old_timeout and self.old_timeout != str(self.timeout):
            warnings.append(
                f"The timeout was {self.old_timeout} s; re-enabling with the default resets a "
                "custom timeout: check it is the one you want."
            )
        warnings.append(
            "A host that loses the heartbeat SR and its peers for the timeout is fenced "
            "(rebooted at once): keep the storage network solid."
        )
        return Plan(
            "Enable HA",
            f"Enable HA with its heartbeat on {self.sr_name}, timeout {self.timeout} s, "
            f"tolerating {self.tolerate} host failure(s).",
            [
                f"xe pool-param-set uuid={self.pool_uuid} ha-host-failures-to-tolerate={self.tolerate}",
                f"xe pool-ha-enable heartbeat-sr-uuids={self.sr_uuid} ha-config:timeout={self.timeout}",
            ],
            steps=["pool.set_ha_host_failures_to_tolerate", "pool.enable_ha"],
            impact=warnings,
            risk="high",
            confirm_word="ha",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task(
            "pool.set_ha_host_failures_to_tolerate", self.pool, str(self.tolerate), span=(0, 0.1)
        )
        ctx.task("pool.enable_ha", [self.sr], {"timeout": str(self.timeout)}, span=(0.1, 1.0))
        return f"HA is on: heartbeat on {self.sr_name}, {self.tolerate} failure(s) tolerated."


class DisableHa(Action):
    calls = ("pool.disable_ha",)

    def __init__(self, cache: Cache):
        with cache.lock:
            pool = views.pool(cache)
            if pool is None or not pool.ha_enabled:
                raise InvalidInput(["HA is not enabled"])
            self.protected = sorted(
                vm.name_label for vm in views.user_vms(cache) if vm.ha_restart_priority == "restart"
            )

    def plan(self) -> Plan:
        return Plan(
            "Disable HA",
            "Disable HA on the pool: the statefile is released, nothing is restarted after a failure.",
            ["xe pool-ha-disable"],
            impact=[
                f"{len(self.protected)} protected VM(s) are no longer restarted if their host fails.",
                "Needed before changing the management interface or bonds, and before an "
                "emergency transition; enable HA again afterwards.",
            ],
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("pool.disable_ha")
        return "HA is off."


class SetTolerate(Action):
    calls = ("pool.set_ha_host_failures_to_tolerate",)

    @staticmethod
    def fields(cache: Cache, computed_max: int) -> list[Field]:
        pool = views.pool(cache)
        return [
            Field(
                "tolerate",
                f"Host failures to tolerate (max now {computed_max})",
                str(pool.ha_host_failures_to_tolerate if pool else 0),
            )
        ]

    def __init__(self, cache: Cache, tolerate: str, computed_max: int):
        self.value = failures_to_tolerate(tolerate, computed_max)
        with cache.lock:
            pool = views.pool(cache)
            self.pool, self.uuid, self.old = pool.ref, pool.uuid, pool.ha_host_failures_to_tolerate
        if self.value == self.old:
            raise InvalidInput(["nothing changes"])

    def plan(self) -> Plan:
        return Plan(
            "Failures to tolerate",
            f"HA plans for {self.value} host failure(s) (was {self.old}).",
            [f"xe pool-param-set uuid={self.uuid} ha-host-failures-to-tolerate={self.value}"],
            impact=[
                "Fewer failures tolerated: less memory held back; more: fewer VMs can be protected."
            ],
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("pool.set_ha_host_failures_to_tolerate", self.pool, str(self.value))
        ctx.undo_task(
            "restore the failures to tolerate",
            "pool.set_ha_host_failures_to_tolerate",
            self.pool,
            str(self.old),
        )
        return f"HA now plans for {self.value} host failure(s)."


class SetProtection(Action):
    """Restart priority, order and start delay of a selection of VMs."""

    calls = ("VM.set_ha_restart_priority", "VM.set_order", "VM.set_start_delay")

    @staticmethod
    def fields() -> list[Field]:
        return [
            Field("priority", "Restart priority", "restart", choices=PRIORITIES),
            Field(
                "order",
                "Start order (0 first)",
                "",
                optional(problem_of(v.int_in_range, "the order", 0, 9999)),
                placeholder="empty: keep each VM's",
            ),
            Field(
                "delay",
                "Start delay (s)",
                "",
                optional(problem_of(v.int_in_range, "the start delay", 0, 86400)),
                placeholder="empty: keep each VM's",
            ),
        ]

    def __init__(self, cache: Cache, vms: list[str], priority: str, order: str, delay: str):
        if not vms:
            raise InvalidInput(["select at least one VM"])
        if priority not in PRIORITIES:
            raise InvalidInput([f"restart priority is one of {', '.join(PRIORITIES)}"])
        self.priority = "" if priority == "unprotected" else priority
        self.order = v.int_in_range(order, "the order", 0, 9999) if order.strip() else None
        self.delay = v.int_in_range(delay, "the start delay", 0, 86400) if delay.strip() else None
        with cache.lock:
            pool = views.pool(cache)
            self.ha_on = bool(pool and pool.ha_enabled)
            self.tolerate = pool.ha_host_failures_to_tolerate if pool else 0
            self.vms = []
            for ref in vms:
                vm = cache.get("vm", ref)
                if vm is None:
                    raise InvalidInput(["a selected VM no longer exists"])
                self.vms.append(
                    (
                        vm.ref,
                        vm.uuid,
                        vm.name_label,
                        vm.ha_restart_priority,
                        vm.order,
                        vm.start_delay,
                    )
                )
        self.becomes: int | None = None  # the plan with this change (precheck)

    def precheck(self, conn: Connection) -> None:
        """What the plan becomes (XAPI's hypothetical computation); refused
        when HA is on and it would no longer cover the failures to tolerate."""
        self.becomes = int(
            conn.call(
                "pool.ha_compute_hypothetical_max_host_failures_to_tolerate",
                {ref: self.priority for ref, *_ in self.vms},
            )
        )
        if self.ha_on and self.becomes < self.tolerate:
            raise InvalidInput(
                [
                    f"with this change the pool tolerates {self.becomes} host failure(s), not the "
                    f"{self.tolerate} HA must: {BREAKS_PLAN}. Protect fewer VMs, lower the "
                    "failures to tolerate, or free memory first"
                ]
            )

    def plan(self) -> Plan:
        names = [name for _ref, _uuid, name, *_ in self.vms]
        word = self.priority or "unprotected"
        xe = []
        for _ref, uuid, *_ in self.vms:
            args = f"ha-restart-priority={shlex.quote(self.priority)}"
            if self.order is not None:
                args += f" order={self.order}"
            if self.delay is not None:
                args += f" start-delay={self.delay}"
            xe.append(f"xe vm-param-set uuid={uuid} {args}")
        after = (
            f"The plan then tolerates {self.becomes} host failure(s) (HA must tolerate {self.tolerate})."
            if self.becomes is not None
            else ""
        )
        return Plan(
            "VM protection",
            f"{len(names)} VM(s) become {word}: {listing(names)}.",
            xe,
            impact=[line for line in (after,) if line],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        for i, (ref, _uuid, name, old_priority, old_order, old_delay) in enumerate(self.vms):
            ctx.note(f"{name}")
            ctx.task("VM.set_ha_restart_priority", ref, self.priority)
            ctx.undo_task(
                f"restore {name}'s priority", "VM.set_ha_restart_priority", ref, old_priority
            )
            if self.order is not None and self.order != old_order:
                ctx.task("VM.set_order", ref, str(self.order))
                ctx.undo_task(f"restore {name}'s order", "VM.set_order", ref, str(old_order))
            if self.delay is not None and self.delay != old_delay:
                ctx.task("VM.set_start_delay", ref, str(self.delay))
                ctx.undo_task(f"restore {name}'s delay", "VM.set_start_delay", ref, str(old_delay))
            ctx.progress((i + 1) / len(self.vms))
        return f"{len(self.vms)} VM(s) are {self.priority or 'unprotected'}."
