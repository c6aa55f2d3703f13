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


@message()
def create(ctx: Ctx, args):
    """A PBD (unplugged) connecting an SR to a host with its device-config."""
    st = ctx.store
    record = dict(args or {})
    host, sr = str(record.get("host", "")), str(record.get("SR", ""))
    if not st.exists("host", host):
        raise XapiError("HANDLE_INVALID", "host", host)
    if not st.exists("SR", sr):
        raise XapiError("HANDLE_INVALID", "SR", sr)
    for pbd in st.get("SR", sr)["PBDs"]:
        if st.get("PBD", pbd)["host"] == host:
            raise XapiError("PBD_EXISTS", sr, host, pbd)
    config = {str(k): str(v) for k, v in dict(record.get("device_config") or {}).items()}
    return st.create(
        "PBD", {"host": host, "SR": sr, "device_config": config, "currently_attached": False}
    )
