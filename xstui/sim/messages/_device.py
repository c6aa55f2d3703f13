"""What a VBD's and a VIF's plug and unplug share (xapi_vbd.ml, xapi_vif.ml)."""

from __future__ import annotations

from ..api import Ctx
from ..errors import XapiError


def resident_vm(ctx: Ctx, cls: str, device: str) -> dict:
    """The device's VM, running on a host (``Xapi_xenops.assert_resident_on``)."""
    st = ctx.store
    vm = st.get(cls, device)["VM"]
    rec = st.get("VM", vm)
    if not st.exists("host", rec["resident_on"]):
        raise XapiError("INTERNAL_ERROR", f"the VM {vm} is not resident on this host")
    return rec


def unplug_device(ctx: Ctx, cls: str, device: str) -> str:
    """An unplug (forced or not, the same here): detached from its running VM."""
    resident_vm(ctx, cls, device)
    ctx.work(0.2, progress=0.5)
    ctx.store.set(cls, device, currently_attached=False)
    return ""
