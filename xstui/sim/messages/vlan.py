"""VLAN: create and destroy."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError
from ..schema import NULL_REF

CLASS = "VLAN"


@message()
def create(ctx: Ctx, tagged_PIF, tag, network):  # noqa: N803
    st = ctx.store
    tagged = st.get("PIF", tagged_PIF)
    st.get("network", network)
    try:
        tag = int(tag)
    except (TypeError, ValueError):
        raise XapiError("VLAN_TAG_INVALID", tag) from None
    if not 0 <= tag <= 4094:
        raise XapiError("VLAN_TAG_INVALID", tag)
    if tagged["VLAN_master_of"] != NULL_REF and st.exists("VLAN", tagged["VLAN_master_of"]):
        raise XapiError("PIF_IS_VLAN", tagged_PIF)
    if tagged["bond_slave_of"] != NULL_REF and st.exists("Bond", tagged["bond_slave_of"]):
        raise XapiError("CANNOT_ADD_VLAN_TO_BOND_SLAVE", tagged_PIF)
    for v in tagged["VLAN_slave_of"]:
        if st.exists("VLAN", v) and st.get("VLAN", v)["tag"] == tag:
            raise XapiError("PIF_VLAN_EXISTS", tagged_PIF)
    if any(
        p["network"] == network and p["host"] == tagged["host"] for p in st.table("PIF").values()
    ):
        raise XapiError("NETWORK_ALREADY_CONNECTED", network, tagged_PIF)
    untagged = st.create(
        "PIF",
        {
            "device": tagged["device"],
            "host": tagged["host"],
            "network": network,
            "MAC": tagged["MAC"],
            "MTU": st.get("network", network)["MTU"],
            "physical": False,
            "currently_attached": True,
            "VLAN": tag,
            "managed": True,
            "metrics": NULL_REF,
            "ip_configuration_mode": "None",
        },
    )
    vlan = st.create("VLAN", {"tagged_PIF": tagged_PIF, "untagged_PIF": untagged, "tag": tag})
    st.set("PIF", untagged, VLAN_master_of=vlan)
    return vlan


@message()
def destroy(ctx: Ctx, vlan):
    st = ctx.store
    rec = st.get("VLAN", vlan)
    untagged = st.table("PIF").get(rec["untagged_PIF"])
    if untagged and untagged["management"]:
        raise XapiError("PIF_IS_MANAGEMENT_INTERFACE", rec["untagged_PIF"])
    st.destroy("VLAN", vlan)
    if untagged is not None:
        st.destroy("PIF", rec["untagged_PIF"])
    return ""


# network -------------------------------------------------------------------------
