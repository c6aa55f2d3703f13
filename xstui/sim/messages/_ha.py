"""HA's failover plan, the way XAPI approximates it: for N host failures, the
worst case is the N hosts carrying the most protected memory; their running
VMs with restart priority ``restart`` must fit, biggest first, into the free
memory of the surviving live hosts that can reach their disks. The maximum
number of failures the pool tolerates is the largest N with such a plan."""

from __future__ import annotations

from itertools import combinations

from ..api import Ctx
from . import _placement as place

EXACT_UP_TO = 8  # hosts: every combination of failures is tried; above, the worst by memory


def protected(rec: dict, overrides: dict[str, str] | None = None, ref: str = "") -> bool:
    priority = (overrides or {}).get(ref, rec["ha_restart_priority"])
    return priority == "restart"


def _running_protected(ctx: Ctx, host: str, overrides: dict[str, str] | None) -> list[str]:
    st = ctx.store
    return [
        vm for vm in place.resident_guests(ctx, host) if protected(st.get("VM", vm), overrides, vm)
    ]


def _fits(ctx: Ctx, failed: tuple[str, ...], survivors: list[str], overrides) -> bool:
    st = ctx.store
    room = {h: place.free_memory(ctx, h) for h in survivors}
    vms = [vm for h in failed for vm in _running_protected(ctx, h, overrides)]
    vms.sort(key=lambda v: -st.get("VM", v)["memory_static_max"])
    for vm in vms:
        need = st.get("VM", vm)["memory_static_max"]
        srs = place.srs_of(ctx, vm)
        target = next(
            (
                h
                for h in sorted(survivors, key=lambda h: -room[h])
                if room[h] >= need and all(place.sees(ctx, h, sr) for sr in srs)
            ),
            None,
        )
        if target is None:
            return False
        room[target] -= need
    return True


def plan_exists_for(ctx: Ctx, failures: int, overrides: dict[str, str] | None = None) -> bool:
    st = ctx.store
    hosts = [h for h in st.table("host") if place.live(ctx, h)]
    if failures >= len(hosts):
        return failures == 0
    if len(hosts) <= EXACT_UP_TO:
        choices = combinations(hosts, failures)
    else:  # the worst case: the hosts carrying the most protected memory
        by_load = sorted(
            hosts,
            key=lambda h: (
                -sum(
                    st.get("VM", v)["memory_static_max"]
                    for v in _running_protected(ctx, h, overrides)
                )
            ),
        )
        choices = [tuple(by_load[:failures])]
    return all(
        _fits(ctx, failed, [h for h in hosts if h not in failed], overrides) for failed in choices
    )


def max_failures(ctx: Ctx, overrides: dict[str, str] | None = None) -> int:
    hosts = sum(1 for h in ctx.store.table("host") if place.live(ctx, h))
    best = 0
    for n in range(1, max(hosts, 1)):
        if not plan_exists_for(ctx, n, overrides):
            break
        best = n
    return best


def refresh_plan(ctx: Ctx) -> None:
    """The pool's plan fields after anything that changes it."""
    st = ctx.store
    pool = st.get("pool", ctx.sim.pool)
    if not pool["ha_enabled"]:
        return
    most = max_failures(ctx)
    wanted = pool["ha_host_failures_to_tolerate"]
    st.set(
        "pool",
        ctx.sim.pool,
        ha_plan_exists_for=min(most, wanted),
        ha_overcommitted=most < wanted,
    )
