"""network: create and destroy."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError

CLASS = "network"


@message()
def create(ctx: Ctx, args):
    args = dict(args)
    st = ctx.store
    fields = {
        k: v
        for k, v in args.items()
        if k
        in ("name_label", "name_description", "MTU", "other_config", "tags", "bridge", "managed")
    }
    fields.setdefault("MTU", 1500)
    fields.setdefault("bridge", f"xapi{len(st.table('network'))}")
    mtu = int(fields["MTU"])
    if not 68 <= mtu <= 9216:
        raise XapiError("INVALID_VALUE", "MTU", mtu)
    return st.create("network", fields)


@message()
def destroy(ctx: Ctx, network):
    st = ctx.store
    rec = st.get("network", network)
    attached = [p for p in rec["PIFs"] if st.exists("PIF", p)]
    if attached:
        raise XapiError("NETWORK_CONTAINS_PIF", ",".join(attached))
    vifs = [
        v for v in rec["VIFs"] if st.exists("VIF", v) and st.get("VIF", v)["currently_attached"]
    ]
    if vifs:
        raise XapiError("NETWORK_CONTAINS_VIF", ",".join(vifs))
    st.destroy("network", network)
    return ""


# host ----------------------------------------------------------------------------
