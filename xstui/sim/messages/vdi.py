"""VDI.*: destroying a disk (a snapshot's, after an export)."""

from ..api import Ctx, message
from ..errors import XapiError

CLASS = "VDI"


@message()
def destroy(ctx: Ctx, self):
    """Refused while a running VM uses it (VDI_IN_USE); detached VBDs of
    halted VMs go with it, as in XAPI."""
    st = ctx.store
    rec = st.get("VDI", self)
    for vbd in list(rec["VBDs"]):
        if st.get("VBD", vbd)["currently_attached"]:
            raise XapiError("VDI_IN_USE", self, "destroy")
    for vbd in list(rec["VBDs"]):
        st.destroy("VBD", vbd)
    st.destroy("VDI", self)
    return ""


@message()
def create(ctx: Ctx, args):
    """A new, empty disk on an SR (what xe-backup-metadata -c makes)."""
    st = ctx.store
    record = dict(args or {})
    sr = str(record.get("SR", ""))
    if not st.exists("SR", sr):
        raise XapiError("HANDLE_INVALID", "SR", sr)
    size = int(record.get("virtual_size", 0))
    if size <= 0:
        raise XapiError("INVALID_VALUE", "virtual_size", str(size))
    return st.create(
        "VDI",
        {
            "SR": sr,
            "name_label": str(record.get("name_label", "")),
            "name_description": str(record.get("name_description", "")),
            "virtual_size": size,
            "physical_utilisation": 0,
            "type": str(record.get("type", "user")),
            "sharable": bool(record.get("sharable", False)),
            "read_only": bool(record.get("read_only", False)),
            "other_config": {str(k): str(v) for k, v in (record.get("other_config") or {}).items()},
            "managed": True,
        },
    )
