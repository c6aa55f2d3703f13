"""PBD.*: attaching an SR on a host, and detaching it (refused while a VM
running on that host has a disk on it)."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError

CLASS = "PBD"


@message()
def plug(ctx: Ctx, self):
    st = ctx.store
    rec = st.get("PBD", self)
    if rec["currently_attached"]:
        return ""
    ctx.work(0.3)
    st.set("PBD", self, currently_attached=True)
    return ""


@message()
def unplug(ctx: Ctx, self):
    st = ctx.store
    rec = st.get("PBD", self)
    if not rec["currently_attached"]:
        return ""
    for vdi in st.get("SR", rec["SR"])["VDIs"]:
        for vbd in st.get("VDI", vdi)["VBDs"]:
            b = st.get("VBD", vbd)
            vm = st.get("VM", b["VM"])
            if b["currently_attached"] and vm["resident_on"] == rec["host"]:
                raise XapiError("VDI_IN_USE", vdi, "unplug")
    ctx.work(0.3)
    st.set("PBD", self, currently_attached=False)
    return ""
