"""pool: handing the master role to another host."""

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
    for h in (old, host):
        sim.go_down(h, seconds=sim.agent_restart_seconds, reboot=False)
    return ""
