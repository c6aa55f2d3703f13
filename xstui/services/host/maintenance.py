"""Maintenance mode: disable the host and move its VMs away (``host.evacuate``),
with what keeps each VM from moving known before anything moves; leaving it
enables the host and brings back the VMs that were moved or stopped.

Which VMs left is kept on the host record in the keys XenCenter uses
(``MAINTENANCE_MODE_EVACUATED_VMS_*``), so that any console, or this one
after a restart, can bring them back."""

from __future__ import annotations

from dataclasses import dataclass

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import Connection, XapiFailure
from ..actions import Action, InvalidInput, Plan, RunContext, run_task
from ..fields import Field
from ..placement import reason_in_words
from ..values import listing
from .hosts import guest_tuples, host_or_refuse

MAINTENANCE = views.MAINTENANCE_MODE
MIGRATED = "MAINTENANCE_MODE_EVACUATED_VMS_MIGRATED"
HALTED = "MAINTENANCE_MODE_EVACUATED_VMS_HALTED"
SUSPENDED = "MAINTENANCE_MODE_EVACUATED_VMS_SUSPENDED"
KEYS = (MAINTENANCE, MIGRATED, HALTED, SUSPENDED)

BLOCKED_CHOICES = ("refuse", "shut down", "suspend")


@dataclass(frozen=True)
class Blocker:
    vm: str  # ref
    name: str
    reason: str  # in words


def blocked_text(blockers: list[Blocker]) -> str:
    """The VMs by reason: six VMs on one local SR read as one reason, not six."""
    by_reason: dict[str, list[str]] = {}
    for b in blockers:
        by_reason.setdefault(b.reason, []).append(b.name)
    return listing((f"{listing(names, 4)}: {why}" for why, names in by_reason.items()), 4, "; ")


def evacuation_blockers(conn: Connection, host: str) -> list[Blocker]:
    """What keeps VMs on the host, as XAPI's own plan says (a read: nothing moves)."""
    found = conn.call("host.get_vms_which_prevent_evacuation", host)
    cache = conn.cache
    with cache.lock:
        out = [
            Blocker(vm, cache.label("vm", vm), reason_in_words(cache, list(error)))
            for vm, error in found.items()
        ]
    return sorted(out, key=lambda b: b.name.lower())


def evacuated(cache: Cache, host: str) -> dict[str, list[str]]:
    """The VMs recorded as moved or stopped by entering maintenance, by key."""
    rec = cache.get("host", host)
    other = rec.other_config if rec is not None else {}
    return {
        key: [u for u in other.get(key, "").split(",") if u]
        for key in (MIGRATED, HALTED, SUSPENDED)
    }


def in_maintenance(cache: Cache, host: str) -> bool:
    rec = cache.get("host", host)
    return rec is not None and rec.other_config.get(MAINTENANCE) == "true"


def set_keys(conn: Connection, host: str, values: dict[str, str]) -> None:
    for key, value in values.items():
        conn.call("host.remove_from_other_config", host, key)
        if value:
            conn.call("host.add_to_other_config", host, key, value)


class EnterMaintenance(Action):
    calls = (
        "host.disable",
        "host.evacuate",
        "host.enable",
        "host.add_to_other_config",
        "host.remove_from_other_config",
    )

    @staticmethod
    def fields(blockers: list[Blocker]) -> list[Field]:
        if not blockers:
            return []
        return [Field("blocked", "VMs that cannot move", "refuse", choices=BLOCKED_CHOICES)]

    def __init__(self, cache: Cache, host: str, blockers: list[Blocker], blocked: str = "refuse"):
        with cache.lock:
            rec = host_or_refuse(cache, host)
            self.host, self.uuid, self.name = host, rec.uuid, rec.name_label
            self.is_master = host == views.master_ref(cache)
            self.guests = guest_tuples(cache, host)
            others = [
                h
                for h in cache.table("host").values()
                if h.ref != host and h.enabled and views.is_live(cache, h)
            ]
            problems = []
            if in_maintenance(cache, host) and not rec.enabled:
                problems.append(f"{self.name} is already in maintenance mode")
            if not views.is_live(cache, rec):
                problems.append(f"{self.name} is not live: it cannot be evacuated")
            if self.guests and not others:
                problems.append("no other host is live and enabled to take the VMs")
        if blocked not in BLOCKED_CHOICES:
            problems.append(f"for VMs that cannot move, choose one of {', '.join(BLOCKED_CHOICES)}")
        self.blockers, self.blocked = blockers, blocked
        if blockers and blocked == "refuse":
            problems.append(
                f"{len(blockers)} VM(s) cannot move: "
                + blocked_text(blockers)
                + ". Choose to shut them down or suspend them, or deal with them first"
            )
        if problems:
            raise InvalidInput(problems)
        stopped = {b.vm for b in blockers}
        self.moving = [g for g in self.guests if g[0] not in stopped]

    def plan(self) -> Plan:
        stop = "xe vm-shutdown" if self.blocked == "shut down" else "xe vm-suspend"
        xe = [f"xe host-disable uuid={self.uuid}"]
        xe += [f"{stop} uuid={self.uuid_of(b.vm)}" for b in self.blockers]
        xe.append(f"xe host-evacuate uuid={self.uuid}")
        impact = [
            f"{len(self.moving)} VM(s) live-migrate to the other hosts: "
            + listing(g[2] for g in self.moving)
            if self.moving
            else "No VM runs here: nothing moves."
        ]
        if self.blockers:
            verb = "shut down" if self.blocked == "shut down" else "suspended"
            impact.append(
                f"{len(self.blockers)} VM(s) are {verb} (downtime): "
                + ", ".join(b.name for b in self.blockers)
            )
        impact.append("No new VM starts on this host until it leaves maintenance mode.")
        if self.is_master:
            impact.append(
                "This host is the pool master: maintenance mode designates no other master. "
                "The pool keeps running from it; to reboot it without losing pool management, "
                "designate a new master first."
            )
        return Plan(
            "Enter maintenance mode",
            f"Disable {self.name} and move its VMs to the other hosts.",
            xe,
            steps=["host.disable"] + [f"stop {b.name}" for b in self.blockers] + ["host.evacuate"],
            impact=impact,
            risk="high" if self.blockers else "medium",
            confirm_word="maintenance" if self.blockers else "",
        )

    def uuid_of(self, vm: str) -> str:
        return next((g[1] for g in self.guests if g[0] == vm), vm)

    def run(self, ctx: RunContext) -> str:
        conn = ctx.conn
        # the undo is leaving maintenance from what the pool has then
        ctx.on_undo(
            f"enable {self.name} and bring its VMs back", lambda: bring_back(conn, self.host)
        )
        stopped = [g for g in self.guests if g[0] in {b.vm for b in self.blockers}]
        set_keys(
            conn,
            self.host,
            {
                MAINTENANCE: "true",
                MIGRATED: ",".join(g[1] for g in self.moving),
                HALTED: ",".join(g[1] for g in stopped) if self.blocked == "shut down" else "",
                SUSPENDED: ",".join(g[1] for g in stopped) if self.blocked == "suspend" else "",
            },
        )
        ctx.task("host.disable", self.host, span=(0.0, 0.05))
        stop = "VM.clean_shutdown" if self.blocked == "shut down" else "VM.suspend"
        for i, (vm, _uuid, name, state) in enumerate(stopped):
            ctx.note(f"{'Shutting down' if self.blocked == 'shut down' else 'Suspending'} {name}")
            method = (
                "VM.hard_shutdown" if state == "Paused" and stop == "VM.clean_shutdown" else stop
            )
            ctx.task(
                method,
                vm,
                span=(0.05 + 0.25 * i / len(stopped), 0.05 + 0.25 * (i + 1) / len(stopped)),
            )
        cache = conn.cache
        moving = {g[0]: g[2] for g in self.moving}

        def moved() -> None:
            with cache.lock:
                gone = [
                    f"{name} -> {cache.label('host', cache.get('vm', vm).resident_on, '?')}"
                    for vm, name in moving.items()
                    if cache.get("vm", vm) is not None
                    and cache.get("vm", vm).resident_on != self.host
                ]
            done = f": {', '.join(gone[-3:])}" if gone else ""
            ctx.note(f"Moved {len(gone)} of {len(moving)}{done}")

        if self.moving:
            ctx.task("host.evacuate", self.host, span=(0.3, 1.0), on_change=moved)
        return (
            f"{self.name} is in maintenance mode: {len(self.moving)} VM(s) moved"
            + (
                f", {len(stopped)} {'shut down' if self.blocked == 'shut down' else 'suspended'}"
                if stopped
                else ""
            )
            + "."
        )


def bring_back(conn: Connection, host: str, ctx: RunContext | None = None) -> list[str]:
    """Enable the host and return the VMs recorded as evacuated, from where
    they are now; what cannot come back is listed, not fatal."""
    cache = conn.cache
    with cache.lock:
        recorded = evacuated(cache, host)
        by_uuid = {vm.uuid: vm for vm in views.user_vms(cache)}
    run = (lambda m, *a: ctx.task(m, *a)) if ctx else (lambda m, *a: run_task(conn, m, *a))
    run("host.enable", host)
    problems = []
    todo = [(key, uuid) for key in (MIGRATED, HALTED, SUSPENDED) for uuid in recorded[key]]
    for i, (key, uuid) in enumerate(todo):
        vm = by_uuid.get(uuid)
        if ctx:
            ctx.progress((i + 1) / (len(todo) + 1))
        if vm is None:
            continue  # deleted meanwhile
        now = cache.get("vm", vm.ref)
        try:
            if (
                key == MIGRATED
                and now.power_state in ("Running", "Paused")
                and now.resident_on != host
            ):
                if ctx:
                    ctx.note(f"Bringing back {vm.name_label}")
                run("VM.pool_migrate", vm.ref, host, {"live": "true"})
            elif key == HALTED and now.power_state == "Halted":
                run("VM.start_on", vm.ref, host, False, False)
            elif key == SUSPENDED and now.power_state == "Suspended":
                run("VM.resume_on", vm.ref, host, False, False)
        except XapiFailure as exc:
            problems.append(f"{vm.name_label}: {exc.human}")
        except Exception as exc:  # TaskFailed and the like: said, not fatal
            problems.append(f"{vm.name_label}: {exc}")
    set_keys(conn, host, dict.fromkeys(KEYS, ""))
    return problems


class ExitMaintenance(Action):
    calls = ("host.enable", "host.add_to_other_config", "host.remove_from_other_config")

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        count = sum(len(v) for v in evacuated(cache, host).values())
        if not count:
            return []
        return [
            Field(
                "bring_back",
                f"Bring back the {count} VM(s) that left",
                "yes",
                choices=("yes", "no"),
            )
        ]

    def __init__(self, cache: Cache, host: str, bring_back_vms: str = "yes"):
        with cache.lock:
            rec = host_or_refuse(cache, host)
            if rec.enabled and not in_maintenance(cache, host):
                raise InvalidInput([f"{rec.name_label} is not in maintenance mode"])
            if not views.is_live(cache, rec):
                raise InvalidInput([f"{rec.name_label} is not live yet: wait until it is back"])
            self.host, self.uuid, self.name = host, rec.uuid, rec.name_label
            recorded = evacuated(cache, host)
            by_uuid = {vm.uuid: vm.name_label for vm in views.user_vms(cache)}
        self.bring = bring_back_vms == "yes"
        # (xe command, VM name) for each VM that left and still exists
        commands = {
            MIGRATED: "xe vm-migrate uuid={} host-uuid=" + self.uuid + " live=true",
            HALTED: "xe vm-start uuid={} on=" + self.name,
            SUSPENDED: "xe vm-resume uuid={} on=" + self.name,
        }
        self.returns = [
            (commands[key].format(u), by_uuid[u])
            for key in recorded
            for u in recorded[key]
            if u in by_uuid
        ]
        self.vms = [name for _xe, name in self.returns]

    def plan(self) -> Plan:
        xe = [f"xe host-enable uuid={self.uuid}"]
        if self.bring and self.vms:
            xe.append(
                f"xe vm-migrate vm=<each> host-uuid={self.uuid} live=true   # and vm-start / vm-resume"
            )
        return Plan(
            "Exit maintenance mode",
            f"Enable {self.name}"
            + (
                f" and bring back {len(self.vms)} VM(s): {listing(self.vms, 8)}"
                if self.bring and self.vms
                else ""
            )
            + ".",
            xe,
            impact=["VMs brought back live-migrate (no downtime); stopped ones start again here."]
            if self.bring and self.vms
            else [],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        if not self.bring:
            ctx.task("host.enable", self.host)
            set_keys(ctx.conn, self.host, dict.fromkeys(KEYS, ""))
            return f"{self.name} is enabled."
        problems = bring_back(ctx.conn, self.host, ctx)
        if problems:
            return f"{self.name} is enabled; not brought back: " + "; ".join(problems) + "."
        return f"{self.name} is enabled" + (
            f" and {len(self.vms)} VM(s) are back." if self.vms else "."
        )
