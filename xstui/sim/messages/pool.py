"""pool: handing the master role to another host, and the recovery calls
for when the master is gone (HA off): a member takes over, then the others
are pointed at it."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError
from . import _placement as place
from ._net import ha_enabled

CLASS = "pool"


@message()
def designate_new_master(ctx: Ctx, host):
    """The host becomes the master. Both toolstacks restart (their clients'
    connections drop); afterwards the old master answers HOST_IS_SLAVE with
    the new master's address, as every member does."""
    sim = ctx.sim
    old = sim.master
    if host == old:
        return ""  # XAPI: nothing to do
    if ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    place.require_live(ctx, host)
    ctx.work(0.5, progress=0.5)
    ctx.store.set("pool", sim.pool, master=host)
    for h in ctx.store.table("host"):  # a healthy pool: every member follows
        sim.believed_master[h] = host
    for h in (old, host):
        sim.go_down(h, seconds=sim.agent_restart_seconds, reboot=False)
    return ""


def _on_member(ctx: Ctx) -> str:
    return ctx.caller.host or ctx.sim.master


@message()
def emergency_transition_to_master(ctx: Ctx):
    """Run on a member (local login) whose master is unreachable: it becomes
    the master. The other members still point at the old one."""
    sim, host = ctx.sim, _on_member(ctx)
    if host == sim.master and sim.master not in sim.down:
        return ""  # already the master
    if ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    old = sim.master
    for other in ctx.store.table("host"):  # the others still believe in the old master
        sim.believed_master.setdefault(other, old)
    ctx.store.set("pool", sim.pool, master=host)
    sim.believed_master[host] = host
    return ""


@message()
def recover_slaves(ctx: Ctx):
    """On the (new) master: every member that can be reached is told to
    follow it; returns the hosts that were recovered."""
    sim = ctx.sim
    recovered = []
    for host in ctx.store.table("host"):
        if host == sim.master or host in sim.down:
            continue
        if sim.master_of(host) != sim.master:
            sim.believed_master[host] = sim.master
            recovered.append(host)
    return recovered


@message()
def emergency_reset_master(ctx: Ctx, master_address):
    """Run on a member (local login): follow the master at ``master_address``."""
    sim, host = ctx.sim, _on_member(ctx)
    target = sim.host_by_address(str(master_address))
    if target is None:
        raise XapiError("HOST_NOT_LIVE")  # nothing answers there: XAPI cannot reach it
    sim.believed_master[host] = target
    return ""
