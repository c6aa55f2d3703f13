"""PIF: addressing, plug/unplug, forget/introduce and scan, with XAPI's checks."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError
from ..schema import NULL_REF
from ._net import MAC_RE, check_ip, ha_enabled, move_address

CLASS = "PIF"


@message()
def reconfigure_ip(ctx: Ctx, pif, mode, IP, netmask, gateway, DNS):  # noqa: N803 (API names)
    st = ctx.store
    rec = st.get("PIF", pif)
    mode = str(mode)
    if mode.lower() not in ("none", "dhcp", "static"):
        raise XapiError("INVALID_VALUE", "mode", mode)
    if rec["management"] and ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    if rec["bond_slave_of"] != NULL_REF and st.exists("Bond", rec["bond_slave_of"]):
        raise XapiError("CANNOT_CHANGE_PIF_PROPERTIES", pif)
    fields = {
        "ip_configuration_mode": {"none": "None", "dhcp": "DHCP", "static": "Static"}[mode.lower()]
    }
    if mode.lower() == "static":
        check_ip(IP, "IP")
        check_ip(netmask, "netmask")
        if gateway:
            check_ip(gateway, "gateway")
        for server in filter(None, str(DNS).split(",")):
            check_ip(server.strip(), "DNS")
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
        move_address(ctx, rec["host"], fields["IP"])
    return ""


@message()
def plug(ctx: Ctx, pif):
    rec = ctx.store.get("PIF", pif)
    if rec["bond_slave_of"] != NULL_REF and ctx.store.exists("Bond", rec["bond_slave_of"]):
        raise XapiError("CANNOT_PLUG_BOND_SLAVE", pif)
    # brought up with its network's MTU, or the PIF's own other_config:mtu
    # (ocaml/xapi/nm.ml determine_mtu): a network.set_MTU takes effect here
    network = ctx.store.get("network", rec["network"]) if rec["network"] != NULL_REF else {}
    mtu = int(network.get("MTU") or rec["MTU"])
    try:
        mtu = int(rec["other_config"].get("mtu", mtu))
    except ValueError:
        pass  # an invalid value: XAPI warns and keeps the network's
    ctx.store.set("PIF", pif, currently_attached=True, MTU=mtu)
    return ""


@message()
def unplug(ctx: Ctx, pif):
    rec = ctx.store.get("PIF", pif)
    if rec["management"]:
        raise XapiError("PIF_IS_MANAGEMENT_INTERFACE", pif)
    if rec["disallow_unplug"]:
        raise XapiError("PIF_DOES_NOT_ALLOW_UNPLUG", pif)
    ctx.store.set("PIF", pif, currently_attached=False)
    return ""


@message()
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


@message()
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


@message()
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


@message()
def set_disallow_unplug(ctx: Ctx, pif, value):
    """A storage NIC is marked so that it is never unplugged (XAPI refuses
    the change on a management interface, which is never unpluggable anyway)."""
    rec = ctx.store.get("PIF", pif)
    if rec["management"] and not value:
        raise XapiError("PIF_IS_MANAGEMENT_INTERFACE", pif)
    ctx.store.set("PIF", pif, disallow_unplug=bool(value))
    return ""
