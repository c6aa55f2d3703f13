"""Bond: create and destroy (the address moves onto and off the bond)."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError
from ..schema import NULL_REF
from ._net import MAC_RE, ha_enabled

CLASS = "Bond"


@message()
def create(ctx: Ctx, network, members, MAC, mode, properties=None):  # noqa: N803
    st = ctx.store
    st.get("network", network)
    members = list(members)
    if len(members) < 2:
        raise XapiError("PIF_BOND_NEEDS_MORE_MEMBERS")
    recs = [st.get("PIF", m) for m in members]
    hosts = {r["host"] for r in recs}
    if len(hosts) > 1:
        raise XapiError("PIF_CANNOT_BOND_CROSS_HOST")
    mode = str(mode) or "balance-slb"
    if mode not in ("balance-slb", "active-backup", "lacp"):
        raise XapiError("INVALID_VALUE", "mode", mode)
    if mode == "lacp" and len(members) > 4:
        raise XapiError("INVALID_VALUE", "members", "LACP bonds take at most 4 interfaces")
    for m, r in zip(members, recs, strict=True):
        if r["bond_slave_of"] != NULL_REF and st.exists("Bond", r["bond_slave_of"]):
            raise XapiError("PIF_ALREADY_BONDED", m)
        if not r["physical"]:
            raise XapiError("PIF_IS_NOT_PHYSICAL", m)
        if r["VLAN_slave_of"]:
            raise XapiError("PIF_VLAN_STILL_EXISTS", m)
    if sum(1 for r in recs if r["ip_configuration_mode"] != "None") > 1:
        raise XapiError("PIF_BOND_MORE_THAN_ONE_IP")
    (host,) = hosts
    management = next((m for m, r in zip(members, recs, strict=True) if r["management"]), None)
    if management and ha_enabled(ctx):
        raise XapiError("HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE")
    if MAC and not MAC_RE.match(str(MAC)):
        raise XapiError("MAC_INVALID", MAC)
    ctx.work(0.3, progress=0.5)
    index = sum(
        1 for p in st.table("PIF").values() if p["host"] == host and p["device"].startswith("bond")
    )
    # the bond takes over the address of the member that had one (management first)
    source_ref = management or next(
        (m for m, r in zip(members, recs, strict=True) if r["ip_configuration_mode"] != "None"),
        members[0],
    )
    source = st.get("PIF", source_ref)
    master = st.create(
        "PIF",
        {
            "device": f"bond{index}",
            "host": host,
            "network": network,
            "MAC": MAC or recs[0]["MAC"],
            "MTU": st.get("network", network)["MTU"],
            "physical": False,
            "currently_attached": True,
            "VLAN": -1,
            "managed": True,
            "metrics": NULL_REF,
            "management": bool(management),
            "ip_configuration_mode": source["ip_configuration_mode"],
            "IP": source["IP"],
            "netmask": source["netmask"],
            "gateway": source["gateway"],
            "DNS": source["DNS"],
        },
    )
    bond = st.create(
        "Bond",
        {
            "master": master,
            "mode": mode,
            "primary_slave": source_ref,
            "links_up": len(members),
            "properties": dict(properties or {}),
            "auto_update_mac": not MAC,
        },
    )
    for m in members:
        # the IP configuration moves to the bond; members carry no address
        st.set(
            "PIF",
            m,
            bond_slave_of=bond,
            management=False,
            ip_configuration_mode="None",
            IP="",
            netmask="",
            gateway="",
            DNS="",
        )
    return bond


@message()
def destroy(ctx: Ctx, bond):
    st = ctx.store
    rec = st.get("Bond", bond)
    master = st.get("PIF", rec["master"])
    if master["VLAN_slave_of"]:
        raise XapiError("PIF_VLAN_STILL_EXISTS", rec["master"])
    if master["management"] and ha_enabled(ctx):
        raise XapiError("HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE")
    ctx.work(0.3, progress=0.5)
    primary = (
        rec["primary_slave"]
        if st.exists("PIF", rec["primary_slave"])
        else (rec["slaves"] or [None])[0]
    )
    for m in list(rec["slaves"]):
        st.set("PIF", m, bond_slave_of=NULL_REF)
    if primary and master["ip_configuration_mode"] != "None":
        # the address returns to the primary member, as XAPI does
        st.set(
            "PIF",
            primary,
            management=master["management"],
            ip_configuration_mode=master["ip_configuration_mode"],
            IP=master["IP"],
            netmask=master["netmask"],
            gateway=master["gateway"],
            DNS=master["DNS"],
        )
    st.destroy("Bond", bond)
    st.destroy("PIF", rec["master"])
    return ""


# VLAN ----------------------------------------------------------------------------
