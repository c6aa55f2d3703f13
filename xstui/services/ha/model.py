"""What the HA area shows, from the event cache, and the reads it adds (the
plan numbers XAPI computes, the heartbeat SR behind the statefile)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import clock
from ...areas import see
from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import Connection
from ...xapi.records import NULL_REF
from ..health import HealthFlag, Verdict, recent_alerts
from ..values import moment, size

PRIORITY_WORDS = {"restart": "restart", "best-effort": "best-effort", "": "unprotected"}


@dataclass(frozen=True)
class HaHost:
    name: str
    live: bool
    statefile: bool  # XAPI lists a statefile this host can reach
    peers: int  # hosts it sees on the network heartbeat


@dataclass
class HaStatus:
    enabled: bool
    timeout: str
    tolerate: int  # ha_host_failures_to_tolerate
    plan_for: int  # ha_plan_exists_for
    overcommitted: bool
    statefiles: list[str]
    hosts: list[HaHost]
    computed_max: int | None = None  # pool.ha_compute_max_host_failures_to_tolerate
    heartbeat_srs: list[str] = field(default_factory=list)  # names, read on demand
    last_alert: str = ""  # the week's newest HA alert, with whether it still holds


@dataclass(frozen=True)
class ProtectedVm:
    ref: str
    name: str
    priority: str
    order: int
    start_delay: int
    host: str
    power: str
    memory: str


def plan_now(cache: Cache) -> Verdict:
    """Whether HA_POOL_OVERCOMMITTED still holds, from the figures F3 shows
    (HA off: nothing is overcommitted)."""
    pool = views.pool(cache)
    if pool is None or not pool.ha_enabled:
        return Verdict(False, f"not so now: HA is {views.ha_word(False)}")
    if views.ha_overcommitted(pool):
        return Verdict(True, f"still so now: see {see('ha')}")
    return Verdict(
        False,
        f"not so now: HA's plan covers {pool.ha_plan_exists_for} host failure(s), "
        f"{pool.ha_host_failures_to_tolerate} to tolerate",
    )


def last_alert(cache: Cache, now: float) -> str:
    """The newest HA alert of the week (what Health and Logs list), as F3
    says it: its name, when (as Logs and Health say it), and whether it holds now."""
    msg = next((m for m in recent_alerts(cache, now) if m.name.startswith("HA_")), None)
    if msg is None:
        return ""
    said = f"{msg.name}, {moment(msg.timestamp)}"
    return f"{said} ({plan_now(cache)})" if msg.name == "HA_POOL_OVERCOMMITTED" else said


def ha_status(cache: Cache, now: float | None = None) -> HaStatus:
    now = clock.now() if now is None else now
    with cache.lock:
        pool = views.pool(cache)
        hosts = [
            HaHost(
                h.name_label,
                views.is_live(cache, h),
                bool(h.ha_statefiles),
                len(h.ha_network_peers),
            )
            for h in sorted(cache.table("host").values(), key=lambda h: h.name_label)
        ]
        if pool is None:
            return HaStatus(False, "", 0, 0, False, [], hosts)
        return HaStatus(
            pool.ha_enabled,
            pool.ha_configuration.get("timeout", "30" if pool.ha_enabled else ""),
            pool.ha_host_failures_to_tolerate,
            pool.ha_plan_exists_for,
            views.ha_overcommitted(pool),
            list(pool.ha_statefiles),
            hosts,
            last_alert=last_alert(cache, now),
        )


PLAN_CALL = "pool.ha_compute_max_host_failures_to_tolerate"  # a read, for Pool Operators up


def read_plan(conn: Connection, statefiles: list[str]) -> tuple[int, list[str]]:
    """The maximum XAPI computes now, and the SR of each statefile (reads)."""
    most = int(conn.call(PLAN_CALL))
    srs = [conn.call("VDI.get_SR", vdi) for vdi in statefiles]
    return most, [conn.cache.label("sr", sr) if sr != NULL_REF else "?" for sr in srs]


SORTS = ("priority", "name", "host", "memory")


def protection_rows(cache: Cache, sort: str = "priority") -> list[ProtectedVm]:
    with cache.lock:
        vms = list(views.user_vms(cache))
        memory = {vm.ref: vm.memory_static_max for vm in vms}
        rows = [
            ProtectedVm(
                vm.ref,
                vm.name_label,
                vm.ha_restart_priority if vm.ha_restart_priority in PRIORITY_WORDS else "",
                vm.order,
                vm.start_delay,
                cache.label("host", vm.resident_on, "") if vm.resident_on != NULL_REF else "",
                vm.power_state,
                size(vm.memory_static_max),
            )
            for vm in vms
        ]
    rank = {"restart": 0, "best-effort": 1, "": 2}
    keys = {
        # protected first, in restart order (what HA does), then by name
        "priority": lambda r: (rank[r.priority], r.order, r.name.lower()),
        "name": lambda r: r.name.lower(),
        "host": lambda r: (r.host == "", r.host, rank[r.priority], r.name.lower()),
        "memory": lambda r: (-memory[r.ref], r.name.lower()),
    }
    return sorted(rows, key=keys[sort])


def health(cache: Cache, now: float) -> list[HealthFlag]:
    """HA's flags on Status: a broken plan, overcommitment, hosts without the statefile."""
    pool = views.pool(cache)
    if pool is None or not pool.ha_enabled:
        return []
    flags = []
    if views.ha_overcommitted(pool):
        flags.append(
            HealthFlag(
                "critical",
                "ha",
                f"HA is overcommitted: it can restart the protected VMs after "
                f"{pool.ha_plan_exists_for} host failure(s), not the "
                f"{pool.ha_host_failures_to_tolerate} it must tolerate",
            )
        )
    blind = [
        h.name_label
        for h in cache.table("host").values()
        if views.is_live(cache, h) and not h.ha_statefiles
    ]
    if blind:
        flags.append(
            HealthFlag(
                "critical",
                "ha",
                f"Heartbeat SR unreachable from {', '.join(sorted(blind))}: HA may fence it",
            )
        )
    return flags
