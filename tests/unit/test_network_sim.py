"""The simulator's networking messages follow XAPI's rules and error codes."""

import pytest
import XenAPI

from tests.waiting import wait_for


def pif_of(running, host_name: str, device: str, physical=True) -> str:
    st = running.sim.store
    host = st.find_one("host", name_label=host_name)
    return next(
        r
        for r, p in st.table("PIF").items()
        if p["host"] == host
        and p["device"] == device
        and p["physical"] == physical
        and p["VLAN"] == -1
    )


def fails(code, fn, *args):
    with pytest.raises(XenAPI.Failure) as err:
        fn(*args)
    assert err.value.details[0] == code, err.value.details
    return err.value.details


def test_reconfigure_ip_checks_addresses(running_sim, xapi):
    pif = pif_of(running_sim, "xcp-a", "eth4")
    fails(
        "INVALID_IP_ADDRESS_SPECIFIED",
        xapi.xenapi.PIF.reconfigure_ip,
        pif,
        "Static",
        "300.1.1.1",
        "255.255.255.0",
        "",
        "",
    )
    fails("INVALID_VALUE", xapi.xenapi.PIF.reconfigure_ip, pif, "Bogus", "", "", "", "")
    xapi.xenapi.PIF.reconfigure_ip(
        pif, "Static", "127.10.0.31", "255.255.255.0", "127.10.0.1", "127.10.0.53"
    )
    rec = xapi.xenapi.PIF.get_record(pif)
    assert (rec["ip_configuration_mode"], rec["IP"], rec["DNS"]) == (
        "Static",
        "127.10.0.31",
        "127.10.0.53",
    )


def test_management_reconfigure_moves_the_address_and_listener(running_sim, xapi):
    member = running_sim.sim.store.find_one("host", name_label="xcp-b")
    pif = pif_of(running_sim, "xcp-b", "eth4")
    fails("PIF_HAS_NO_NETWORK_CONFIGURATION", xapi.xenapi.host.management_reconfigure, pif)
    xapi.xenapi.PIF.reconfigure_ip(pif, "Static", "127.10.0.32", "255.255.255.0", "127.10.0.1", "")
    xapi.xenapi.host.management_reconfigure(pif)
    assert xapi.xenapi.host.get_address(member) == "127.10.0.32"
    assert xapi.xenapi.PIF.get_management(pif) is True
    assert xapi.xenapi.PIF.get_management(pif_of(running_sim, "xcp-b", "eth0")) is False

    def answer() -> list | None:  # the member now answers on its new address
        try:
            XenAPI.Session(
                f"http://127.10.0.32:{running_sim.url.rsplit(':', 1)[1]}"
            ).xenapi.login_with_password("root", running_sim.password)
        except XenAPI.Failure as f:
            return f.details
        except OSError:
            return None  # not listening there yet
        return ["logged in"]

    assert wait_for(answer, what="an answer at 127.10.0.32") == ["HOST_IS_SLAVE", "127.10.0.11"]


def test_ha_blocks_management_changes(running_sim, xapi):
    running_sim.sim.store.set("pool", running_sim.sim.pool, ha_enabled=True)
    pif = pif_of(running_sim, "xcp-a", "eth0")
    fails("HA_IS_ENABLED", xapi.xenapi.host.management_reconfigure, pif)
    fails("HA_IS_ENABLED", xapi.xenapi.PIF.reconfigure_ip, pif, "DHCP", "", "", "", "")
    fails("HA_IS_ENABLED", xapi.xenapi.host.management_disable)


def test_bond_rules(running_sim, xapi):
    net = xapi.xenapi.network.create(
        {"name_label": "b", "MTU": "1500", "other_config": {}, "name_description": "", "tags": []}
    )
    a4, a1, a2 = (pif_of(running_sim, "xcp-a", d) for d in ("eth4", "eth1", "eth2"))
    b4 = pif_of(running_sim, "xcp-b", "eth4")
    fails(
        "PIF_BOND_NEEDS_MORE_MEMBERS", xapi.xenapi.Bond.create, net, [a4], "", "active-backup", {}
    )
    fails(
        "PIF_CANNOT_BOND_CROSS_HOST",
        xapi.xenapi.Bond.create,
        net,
        [a4, b4],
        "",
        "active-backup",
        {},
    )
    fails("PIF_ALREADY_BONDED", xapi.xenapi.Bond.create, net, [a4, a2], "", "active-backup", {})
    fails("MAC_INVALID", xapi.xenapi.Bond.create, net, [a4, a1], "zz", "lacp", {})
    bond = xapi.xenapi.Bond.create(net, [a4, a1], "", "lacp", {})
    master = xapi.xenapi.Bond.get_master(bond)
    # the storage address moved from eth1 to the bond
    assert xapi.xenapi.PIF.get_IP(master) == "127.10.2.11" and xapi.xenapi.PIF.get_IP(a1) == ""
    fails("NETWORK_CONTAINS_PIF", xapi.xenapi.network.destroy, net)
    xapi.xenapi.Bond.destroy(bond)
    assert xapi.xenapi.PIF.get_IP(a1) == "127.10.2.11"  # back on the member that had it
    xapi.xenapi.network.destroy(net)


def test_vlan_rules(running_sim, xapi):
    net = xapi.xenapi.network.create(
        {"name_label": "v", "MTU": "1500", "other_config": {}, "name_description": "", "tags": []}
    )
    a4 = pif_of(running_sim, "xcp-a", "eth4")
    fails("VLAN_TAG_INVALID", xapi.xenapi.VLAN.create, a4, "4095", net)
    vlan = xapi.xenapi.VLAN.create(a4, "30", net)
    net2 = xapi.xenapi.network.create(
        {"name_label": "v2", "MTU": "1500", "other_config": {}, "name_description": "", "tags": []}
    )
    fails("PIF_VLAN_EXISTS", xapi.xenapi.VLAN.create, a4, "30", net2)
    untagged = xapi.xenapi.VLAN.get_untagged_PIF(vlan)
    fails("PIF_IS_VLAN", xapi.xenapi.VLAN.create, untagged, "31", net2)
    fails(
        "CANNOT_ADD_VLAN_TO_BOND_SLAVE",
        xapi.xenapi.VLAN.create,
        pif_of(running_sim, "xcp-a", "eth2"),
        "31",
        net2,
    )
    xapi.xenapi.VLAN.destroy(vlan)
    fails("HANDLE_INVALID", xapi.xenapi.PIF.get_record, untagged)


def test_forget_and_introduce(running_sim, xapi):
    host = running_sim.sim.store.find_one("host", name_label="xcp-a")
    fails(
        "PIF_IS_MANAGEMENT_INTERFACE", xapi.xenapi.PIF.forget, pif_of(running_sim, "xcp-a", "eth0")
    )
    a4 = pif_of(running_sim, "xcp-a", "eth4")
    network = xapi.xenapi.PIF.get_network(a4)
    xapi.xenapi.PIF.forget(a4)
    fails("MAC_INVALID", xapi.xenapi.PIF.introduce, host, "not-a-mac", "eth4", True)
    fails(
        "DUPLICATE_PIF_DEVICE_NAME",
        xapi.xenapi.PIF.introduce,
        host,
        "02:aa:bb:cc:dd:ee",
        "eth3",
        True,
    )
    new = xapi.xenapi.PIF.introduce(host, "02:AA:BB:CC:DD:EE", "eth4", True)
    assert xapi.xenapi.PIF.get_network(new) == network  # same device position, same network
    assert xapi.xenapi.PIF.get_MAC(new) == "02:aa:bb:cc:dd:ee"


def test_hostname_and_unplug_rules(running_sim, xapi):
    host = running_sim.sim.master
    fails("HOST_NAME_INVALID", xapi.xenapi.host.set_hostname_live, host, "bad name!")
    xapi.xenapi.host.set_hostname_live(host, "xcp-a.lab")
    assert xapi.xenapi.host.get_hostname(host) == "xcp-a.lab"
    fails(
        "PIF_IS_MANAGEMENT_INTERFACE", xapi.xenapi.PIF.unplug, pif_of(running_sim, "xcp-a", "eth0")
    )
    fails("PIF_DOES_NOT_ALLOW_UNPLUG", xapi.xenapi.PIF.unplug, pif_of(running_sim, "xcp-a", "eth1"))
