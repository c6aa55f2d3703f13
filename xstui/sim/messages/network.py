"""Networking messages: PIF, Bond, VLAN, network, and the host's management
interface and hostname, with XAPI's checks and error codes."""

from __future__ import annotations

import ipaddress
import re

from ..api import Ctx, message
from ..errors import XapiError
from ..schema import NULL_REF

MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
HOSTNAME_RE = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _ha_enabled(ctx: Ctx) -> bool:
    return bool(ctx.store.get("pool", ctx.sim.pool)["ha_enabled"])


def _check_ip(value: str, param: str) -> None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise XapiError("INVALID_IP_ADDRESS_SPECIFIED", param) from None


# PIF ---------------------------------------------------------------------------
@message("PIF")
def reconfigure_ip(ctx: Ctx, pif, mode, IP, netmask, gateway, DNS):  # noqa: N803 (API names)
    st = ctx.store
    rec = st.get("PIF", pif)
    mode = str(mode)
    if mode.lower() not in ("none", "dhcp", "static"):
        raise XapiError("INVALID_VALUE", "mode", mode)
    if rec["management"] and _ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    if rec["bond_slave_of"] != NULL_REF and st.exists("Bond", rec["bond_slave_of"]):
        raise XapiError("CANNOT_CHANGE_PIF_PROPERTIES", pif)
    fields = {
        "ip_configuration_mode": {"none": "None", "dhcp": "DHCP", "static": "Static"}[mode.lower()]
    }
    if mode.lower() == "static":
        _check_ip(IP, "IP")
        _check_ip(netmask, "netmask")
        if gateway:
            _check_ip(gateway, "gateway")
        for server in filter(None, str(DNS).split(",")):
            _check_ip(server.strip(), "DNS")
        fields.update(IP=IP, netmask=netmask, gateway=gateway, DNS=DNS)
    elif mode.lower() == "dhcp":
        # The simulator's DHCP server hands out the address the PIF already has
        # (or one on loopback): it never invents an address off this machine.
        fields.update(
            IP=rec["IP"] or "127.10.99.1",
            netmask=rec["netmask"] or "255.255.255.0",
            gateway=rec["gateway"],
            DNS=rec["DNS"],
        )
    else:
        fields.update(IP="", netmask="", gateway="", DNS="")
    ctx.work(0.2, progress=0.5)
    st.set("PIF", pif, **fields)
    if (
        rec["management"]
        and fields.get("IP")
        and fields["IP"] != ctx.store.get("host", rec["host"])["address"]
    ):
        _move_address(ctx, rec["host"], fields["IP"])
    return ""


@message("PIF")
def plug(ctx: Ctx, pif):
    rec = ctx.store.get("PIF", pif)
    if rec["bond_slave_of"] != NULL_REF and ctx.store.exists("Bond", rec["bond_slave_of"]):
        raise XapiError("CANNOT_PLUG_BOND_SLAVE", pif)
    ctx.store.set("PIF", pif, currently_attached=True)
    return ""


@message("PIF")
def unplug(ctx: Ctx, pif):
    rec = ctx.store.get("PIF", pif)
    if rec["management"]:
        raise XapiError("PIF_IS_MANAGEMENT_INTERFACE", pif)
    if rec["disallow_unplug"]:
        raise XapiError("PIF_DOES_NOT_ALLOW_UNPLUG", pif)
    ctx.store.set("PIF", pif, currently_attached=False)
    return ""


@message("PIF")
def forget(ctx: Ctx, pif):
    st = ctx.store
    rec = st.get("PIF", pif)
    if rec["management"]:
        raise XapiError("PIF_IS_MANAGEMENT_INTERFACE", pif)
    if rec["bond_slave_of"] != NULL_REF and st.exists("Bond", rec["bond_slave_of"]):
        raise XapiError("PIF_ALREADY_BONDED", pif)
    if rec["VLAN_slave_of"]:
        raise XapiError("PIF_VLAN_STILL_EXISTS", pif)
    if st.exists("PIF_metrics", rec["metrics"]):
        st.destroy("PIF_metrics", rec["metrics"])
    st.destroy("PIF", pif)
    return ""


@message("PIF")
def introduce(ctx: Ctx, host, MAC, device, managed=True):  # noqa: N803
    st = ctx.store
    st.get("host", host)
    if not MAC_RE.match(str(MAC)):
        raise XapiError("MAC_INVALID", MAC)
    if any(
        p["device"] == device and p["physical"]
        for p in st.table("PIF").values()
        if p["host"] == host
    ):
        raise XapiError("DUPLICATE_PIF_DEVICE_NAME", device)
    network = _device_network(ctx, device)
    metrics = st.create(
        "PIF_metrics",
        {
            "carrier": True,
            "speed": 10000,
            "duplex": True,
            "vendor_name": "Intel Corporation",
            "device_name": "replacement NIC",
        },
    )
    mtu = st.get("network", network)["MTU"]
    return st.create(
        "PIF",
        {
            "device": device,
            "host": host,
            "network": network,
            "MAC": str(MAC).lower(),
            "MTU": mtu,
            "physical": True,
            "currently_attached": True,
            "metrics": metrics,
            "VLAN": -1,
            "managed": bool(managed),
            "ip_configuration_mode": "None",
        },
    )


@message("PIF")
def scan(ctx: Ctx, host):
    ctx.store.get("host", host)  # the simulator's hardware never changes by itself
    return ""


def _device_network(ctx: Ctx, device: str) -> str:
    """The pool-wide network other hosts use for this device (or a new one)."""
    st = ctx.store
    for pif in st.table("PIF").values():
        if pif["device"] == device and pif["physical"] and st.exists("network", pif["network"]):
            return pif["network"]
    return st.create(
        "network",
        {
            "name_label": f"Pool-wide network associated with {device}",
            "bridge": "xenbr" + device.removeprefix("eth"),
            "MTU": 1500,
        },
    )


# Bond ----------------------------------------------------------------------------
@message("Bond")
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
    if management and _ha_enabled(ctx):
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


@message("Bond")
def destroy(ctx: Ctx, bond):
    st = ctx.store
    rec = st.get("Bond", bond)
    master = st.get("PIF", rec["master"])
    if master["VLAN_slave_of"]:
        raise XapiError("PIF_VLAN_STILL_EXISTS", rec["master"])
    if master["management"] and _ha_enabled(ctx):
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
@message("VLAN")
def create(ctx: Ctx, tagged_PIF, tag, network):  # noqa: F811, N803  (VLAN.create, not Bond.create)
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


@message("VLAN")
def destroy(ctx: Ctx, vlan):  # noqa: F811
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
@message("network")
def create(ctx: Ctx, args):  # noqa: F811
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


@message("network")
def destroy(ctx: Ctx, network):  # noqa: F811
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
@message("host")
def management_reconfigure(ctx: Ctx, pif):
    st = ctx.store
    rec = st.get("PIF", pif)
    if _ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    if rec["ip_configuration_mode"] == "None" or not rec["IP"]:
        raise XapiError("PIF_HAS_NO_NETWORK_CONFIGURATION", pif)
    host = rec["host"]
    ctx.work(0.3, progress=0.5)
    for ref, other in st.table("PIF").items():
        if other["host"] == host and other["management"] and ref != pif:
            st.set("PIF", ref, management=False)
    st.set("PIF", pif, management=True, disallow_unplug=True)
    if st.get("host", host)["address"] != rec["IP"]:
        _move_address(ctx, host, rec["IP"])
    return ""


@message("host")
def management_disable(ctx: Ctx):
    st = ctx.store
    if _ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    host = ctx.sim.master  # the host this session is on
    for ref, pif in st.table("PIF").items():
        if pif["host"] == host and pif["management"]:
            st.set("PIF", ref, management=False)
    return ""


@message("host")
def set_hostname_live(ctx: Ctx, host, hostname):
    ctx.store.get("host", host)
    name = str(hostname)
    if not name:
        raise XapiError("HOST_NAME_INVALID", "hostname is empty")
    if len(name) > 255 or not HOSTNAME_RE.match(name):
        raise XapiError("HOST_NAME_INVALID", "hostname contains invalid characters")
    ctx.store.set("host", host, hostname=name)
    return ""


def _move_address(ctx: Ctx, host: str, address: str) -> None:
    """The host's management address changes: record it, and move the
    simulator's listener there once this call has been answered."""
    old = ctx.store.get("host", host)["address"]
    ctx.store.set("host", host, address=address)
    ctx.sim.address_changed(host, old, address)
