"""VM_appliance.*: a vApp's recovery from another pool's database (sim/dr.py)
and its removal (its VMs stay, out of it)."""

from __future__ import annotations

from .. import dr
from ..api import Ctx, message
from ..schema import NULL_REF

CLASS = "VM_appliance"


@message()
def recover(ctx: Ctx, self, session_to, force):
    """With a session on a metadata VDI's database: the vApp and its VMs."""
    dr.assert_session_allows_dr(ctx.sim, session_to, "VM_appliance.recover")
    dr.recover_appliance(ctx.sim, ctx.store, self, bool(force))
    return ""


@message()
def assert_can_be_recovered(ctx: Ctx, self, session_to):
    dr.assert_session_allows_dr(ctx.sim, session_to, "VM_appliance.assert_can_be_recovered")
    for vm in ctx.store.get("VM_appliance", self)["VMs"]:
        dr.assert_can_be_recovered(ctx.sim, ctx.store, vm)
    return ""


@message()
def destroy(ctx: Ctx, self):
    st = ctx.store
    for vm in list(st.get("VM_appliance", self)["VMs"]):
        st.set("VM", vm, appliance=NULL_REF)
    st.destroy("VM_appliance", self)
    return ""
