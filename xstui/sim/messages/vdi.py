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
