"""Networking actions against the simulator over real HTTP: each one works,
refuses bad preconditions before any call, and undoes itself on failure."""

import json
import subprocess
import sys

import pytest

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.services import network as net
from xstui.services.actions import ActionFailed, InvalidInput, RunContext, TaskFailed
from xstui.services.network.consistency import check_pool
from xstui.xapi.connection import Connection, XapiFailure
from xstui.xapi.targets import parse_target


@pytest.fixture
def live(connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("pif"))
    return connection


def refs(running, host_name, device, physical=True):
    st = running.sim.store
    host = st.find_one("host", name_label=host_name)
    pif = next(
        r
        for r, p in st.table("PIF").items()
        if p["host"] == host
        and p["device"] == device
        and p["physical"] == physical
        and p["VLAN"] == -1
    )
    return host, pif


def count(conn, cls: str, test) -> int:
    """Records of ``cls`` that pass ``test``, read under the cache's lock (the
    event thread adds records meanwhile)."""
    with conn.cache.lock:
        return sum(1 for r in conn.cache.table(cls).values() if test(r))


def net_ref(running, name):
    return running.sim.store.find_one("network", name_label=name)


def test_pif_rows_describe_the_host(running_sim, live):
    rows = {(r.device, r.vlan): r for r in net.pif_rows(live.cache, running_sim.sim.master)}
    assert rows[("eth0", -1)].management and rows[("eth0", -1)].ip == "127.10.0.11"
    assert rows[("eth1", -1)].mtu == 9000 and rows[("eth1", -1)].speed == 10000
    assert rows[("eth2", -1)].bond == "in bond0" and rows[("bond0", -1)].bond == "master"
    assert rows[("bond0", 20)].network == "VLAN 20 Prod"


def test_management_change_on_a_member(running_sim, live):
    host, pif = refs(running_sim, "xcp-b", "eth4")
    config = net.IpConfig.checked(
        "static", "127.10.0.42", "255.255.255.0", "127.10.0.1", "127.10.0.53"
    )
    action = net.ReconfigureManagement(
        live.cache, host, pif, config, session_host="127.10.0.11", local=False
    )
    plan = action.plan()
    assert plan.risk == "medium" and "xe host-management-reconfigure" in plan.xe[1]
    assert not action.cuts_session
    action.execute(RunContext(live))
    st = running_sim.sim.store
    assert st.get("host", host)["address"] == "127.10.0.42" and st.get("PIF", pif)["management"]
    assert live.target.host == "127.10.0.11"  # our session is with the master: unchanged


def test_the_master_moving_tells_its_members(running_sim, live):
    """Members know the master by its address: a new one leaves them in
    emergency mode (not live) until pool.recover_slaves, which the action
    runs once the master answers at the new address."""
    sim = running_sim.sim
    host, pif = refs(running_sim, "xcp-a", "eth4")
    config = net.IpConfig.checked("static", "127.10.0.21", "255.255.255.0", "127.10.0.1", "")
    action = net.ReconfigureManagement(
        live.cache, host, pif, config, session_host="127.10.0.11", local=False
    )
    plan = action.plan()
    assert "xe pool-recover-slaves" in plan.xe
    assert any("lose their master" in i and "xcp-b" in i for i in plan.impact)
    result = action.execute(RunContext(live))
    assert "follow" in result and not sim.lost_master
    st = sim.store
    members = [h for h in st.table("host") if h != host]
    assert all(st.get("host_metrics", st.get("host", h)["metrics"])["live"] for h in members)


def test_the_simulator_leaves_members_without_their_moved_master(running_sim, live):
    """What the action repairs: the move alone leaves the members not live."""
    sim = running_sim.sim
    host, pif = refs(running_sim, "xcp-a", "eth4")
    live.call("PIF.reconfigure_ip", pif, "Static", "127.10.0.23", "255.255.255.0", "", "")
    live.retarget("127.10.0.23")
    live.call("host.management_reconfigure", pif)
    st = sim.store
    members = {h for h in st.table("host") if h != host}
    assert sim.lost_master == members
    assert not any(st.get("host_metrics", st.get("host", h)["metrics"])["live"] for h in members)
    assert sorted(live.call("pool.recover_slaves")) == sorted(members)
    assert not sim.lost_master


def test_management_change_refused_with_ha(running_sim, live):
    running_sim.sim.store.set("pool", running_sim.sim.pool, ha_enabled=True)
    wait_for(lambda: next(iter(live.cache.table("pool").values())).ha_enabled)
    host, pif = refs(running_sim, "xcp-a", "eth4")
    calls = live.calls
    with pytest.raises(InvalidInput, match="HA is enabled"):
        net.ReconfigureManagement(
            live.cache, host, pif, net.IpConfig("DHCP"), session_host="127.10.0.11", local=False
        )
    assert live.calls == calls


def test_management_failure_midway_restores_the_interface(running_sim, live):
    host, pif = refs(running_sim, "xcp-b", "eth4")
    config = net.IpConfig.checked("static", "127.10.0.43", "255.255.255.0", "", "")
    action = net.ReconfigureManagement(
        live.cache, host, pif, config, session_host="127.10.0.11", local=False
    )
    running_sim.sim.inject_failure(
        "Async.host.management_reconfigure", ["PIF_CONFIGURATION_ERROR", pif, "link down"]
    )
    with pytest.raises(ActionFailed) as err:
        action.execute(RunContext(live))
    assert isinstance(err.value.cause, XapiFailure)
    assert "could not configure the interface" in str(err.value)
    assert err.value.undone == 1 and "pool is as it was" in err.value.undo_report()
    rec = running_sim.sim.store.get("PIF", pif)
    assert rec["ip_configuration_mode"] == "None" and rec["IP"] == "" and not rec["management"]
    assert running_sim.sim.store.get("host", host)["address"] == "127.10.0.12"


def test_hostname_and_dns(running_sim, live):
    host = running_sim.sim.master
    with pytest.raises(InvalidInput):
        net.SetHostname(live.cache, host, "bad_name")
    net.SetHostname(live.cache, host, "xcp-a.lab").execute(RunContext(live))
    assert running_sim.sim.store.get("host", host)["hostname"] == "xcp-a.lab"
    with pytest.raises(InvalidInput):
        net.SetDns(live.cache, host, "127.10.0.53, nonsense")
    net.SetDns(live.cache, host, "127.10.0.60 127.10.0.61").execute(RunContext(live))
    _, pif = refs(running_sim, "xcp-a", "eth0")
    assert running_sim.sim.store.get("PIF", pif)["DNS"] == "127.10.0.60,127.10.0.61"


def test_bond_validation(live):
    cases = [
        (["eth4"], "active-backup", "at least 2 NICs"),
        (["eth2", "eth4"], "active-backup", "already in a bond"),
        (["eth1", "eth4"], "round-robin", "bond mode"),
        (["eth0", "eth1", "eth4", "eth9", "eth8"], "lacp", "at most 4"),
    ]
    for devices, mode, message in cases:
        with pytest.raises(InvalidInput, match=message):
            net.CreateBond(live.cache, "x", devices, mode)


def test_bond_across_the_pool_then_destroy(running_sim, live):
    action = net.CreateBond(live.cache, "Storage bond", ["eth1", "eth4"], "lacp", 9000)
    assert "LACP needs the switch" in " ".join(action.plan().impact)
    action.execute(RunContext(live))
    st = running_sim.sim.store
    network = net_ref(running_sim, "Storage bond")
    masters = [p for p in st.table("PIF").values() if p["network"] == network]
    assert len(masters) == 3 and {p["MTU"] for p in masters} == {9000}
    wait_for(lambda: count(live, "pif", lambda p: p.network == network) == 3)
    net.DestroyBond(live.cache, network).execute(RunContext(live))
    assert not any(p["network"] == network for p in st.table("PIF").values())
    assert not st.exists("network", network)


def test_bond_failure_on_one_host_undoes_the_others(running_sim, live):
    running_sim.sim.inject_failure(
        "Async.Bond.create", ["PIF_CONFIGURATION_ERROR", "x", "NIC failed"], after=1
    )
    bonds_before = len(running_sim.sim.store.table("Bond"))
    with pytest.raises(ActionFailed) as err:
        net.CreateBond(live.cache, "Doomed", ["eth1", "eth4"], "active-backup").execute(
            RunContext(live)
        )
    assert err.value.undone == 1  # the network and what was made on it, as the pool has them
    st = running_sim.sim.store
    assert len(st.table("Bond")) == bonds_before
    assert net_ref(running_sim, "Doomed") is None


def test_vlans(running_sim, live):
    backup = net_ref(running_sim, "Backup")
    with pytest.raises(InvalidInput, match="between 0 and 4094"):
        net.CreateVlan(live.cache, "", "5000", backup)
    with pytest.raises(InvalidInput, match="already exists"):
        net.CreateVlan(live.cache, "again", 20, net_ref(running_sim, "VM Bond"))
    net.CreateVlan(live.cache, "VLAN 30", 30, backup).execute(RunContext(live))
    vlan_net = net_ref(running_sim, "VLAN 30")
    assert len([v for v in running_sim.sim.store.table("VLAN").values() if v["tag"] == 30]) == 3
    wait_for(lambda: count(live, "vlan", lambda v: v.tag == 30) == 3)
    with pytest.raises(InvalidInput, match="carries VLANs"):
        net.DestroyBond(live.cache, net_ref(running_sim, "VM Bond"))
    net.DestroyVlan(live.cache, vlan_net).execute(RunContext(live))
    assert not running_sim.sim.store.exists("network", vlan_net)


def test_replace_nic_wizard_survives_a_console_restart(running_sim, live):
    host, pif = refs(running_sim, "xcp-b", "eth4")
    running_sim.sim.store.set(
        "PIF", pif, ip_configuration_mode="Static", IP="127.10.3.12", netmask="255.255.255.0"
    )
    wait_for(lambda: live.cache.get("pif", pif).IP == "127.10.3.12")
    net.ForgetNic(live.cache, pif, live.this_host).execute(RunContext(live))
    st = running_sim.sim.store
    assert not st.exists("PIF", pif) and st.get("host", host)["enabled"] is False
    # a new console (fresh cache) finds the waiting replacement on the host record
    fresh = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    fresh.login()
    fresh.start_events()
    try:
        wait_for(lambda: net.pending_replacements(fresh.cache))
        assert [h for h, _ in net.pending_replacements(fresh.cache)] == [host]
        with pytest.raises(InvalidInput):
            net.IntroduceNic(fresh.cache, host, "nonsense")
        net.IntroduceNic(fresh.cache, host, "02:12:34:56:78:9a").execute(RunContext(fresh))
    finally:
        fresh.close()
    new = next(p for p in st.table("PIF").values() if p["host"] == host and p["device"] == "eth4")
    assert (new["MAC"], new["IP"], new["ip_configuration_mode"]) == (
        "02:12:34:56:78:9a",
        "127.10.3.12",
        "Static",
    )
    assert st.get("host", host)["enabled"] is True
    assert "xstui_nic_replacement" not in st.get("host", host)["other_config"]


def test_replace_nic_on_the_master_says_designate_a_new_master(running_sim, live):
    _, pif = refs(running_sim, "xcp-a", "eth4")
    with pytest.raises(InvalidInput, match="designate a new master first"):
        net.ForgetNic(live.cache, pif, live.this_host)


def test_replace_management_nic_of_a_member_is_refused(running_sim, live):
    _, pif = refs(running_sim, "xcp-b", "eth0")
    with pytest.raises(InvalidInput, match="console"):
        net.ForgetNic(live.cache, pif, live.this_host)


def test_consistency_flags_the_demo_mtu_mismatch(running_sim, live):
    findings = check_pool(live.cache)
    assert [(f.rule, f.text) for f in findings] == [
        ("mtu", "MTU mismatch on network Storage: xcp-c eth1=1500 (others 9000)")
    ]
    _, pif = refs(running_sim, "xcp-c", "eth1")
    running_sim.sim.store.set("PIF", pif, MTU=9000)
    wait_for(lambda: live.cache.get("pif", pif).MTU == 9000)
    assert check_pool(live.cache) == []
    _, b0 = refs(running_sim, "xcp-b", "eth0")
    running_sim.sim.store.set("PIF", b0, IP="127.10.9.12")
    running_sim.sim.store.set("PIF", refs(running_sim, "xcp-a", "eth4")[1], MTU=9000)
    wait_for(lambda: live.cache.get("pif", b0).IP == "127.10.9.12")
    rules = {f.rule for f in check_pool(live.cache)}
    assert {"management", "mtu", "jumbo"} <= rules


def test_check_cli(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "check", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 1, out.stderr
    assert json.loads(out.stdout)[0]["rule"] == "mtu"


def test_task_failure_is_reported_in_words(running_sim, live):
    host, pif = refs(running_sim, "xcp-a", "eth0")
    with pytest.raises(TaskFailed) as err:
        from xstui.services.actions import run_task

        run_task(live, "PIF.forget", pif)
    assert err.value.failure.code == "PIF_IS_MANAGEMENT_INTERFACE"


def test_management_by_dhcp_learns_the_leased_address(running_sim, live):
    host, pif = refs(running_sim, "xcp-c", "eth4")
    action = net.ReconfigureManagement(
        live.cache, host, pif, net.IpConfig("DHCP"), session_host="127.10.0.11", local=False
    )
    assert any("DHCP" in i for i in action.plan().impact)
    action.execute(RunContext(live))
    leased = running_sim.sim.store.get("PIF", pif)["IP"]
    assert leased.startswith("127.") and action.new_address == leased
    assert running_sim.sim.store.get("host", host)["address"] == leased


def test_a_vlan_that_vms_use_is_refused_with_their_names(running_sim, live):
    """Destroying it used to half-apply: VLANs gone, the network left behind."""
    st = running_sim.sim.store
    vlan_net = net_ref(running_sim, "VLAN 20 Prod")
    users = sorted(
        st.get("VM", st.get("VIF", vif)["VM"])["name_label"]
        for vif in st.get("network", vlan_net)["VIFs"]
    )
    assert users, "the demo has VMs on VLAN 20"
    generation, calls = st.generation, live.calls
    with pytest.raises(InvalidInput, match=f"VMs still use this VLAN: {users[0]}"):
        net.DestroyVlan(live.cache, vlan_net)
    assert st.generation == generation and live.calls == calls


def test_vlan_destroy_failing_midway_recreates_what_it_destroyed(running_sim, live):
    backup = net_ref(running_sim, "Backup")
    net.CreateVlan(live.cache, "VLAN 31", 31, backup).execute(RunContext(live))
    vlan_net = net_ref(running_sim, "VLAN 31")
    wait_for(lambda: count(live, "vlan", lambda v: v.tag == 31) == 3)
    running_sim.sim.inject_failure("Async.network.destroy", ["NETWORK_CONTAINS_VIF", "x"])
    with pytest.raises(ActionFailed) as err:
        net.DestroyVlan(live.cache, vlan_net).execute(RunContext(live))
    assert err.value.undone == 3 and "pool is as it was" in err.value.undo_report()
    st = running_sim.sim.store
    assert st.exists("network", vlan_net)
    assert len([v for v in st.table("VLAN").values() if v["tag"] == 31]) == 3


def test_a_bond_of_nics_that_both_have_addresses_is_refused(running_sim, live):
    st = running_sim.sim.store
    for device, ip in (("eth1", "127.10.5.11"), ("eth4", "127.10.6.11")):
        _, pif = refs(running_sim, "xcp-a", device)
        st.set("PIF", pif, ip_configuration_mode="Static", IP=ip, netmask="255.255.255.0")
    wait_for(lambda: live.cache.get("pif", refs(running_sim, "xcp-a", "eth4")[1]).IP)
    with pytest.raises(InvalidInput, match="PIF_BOND_MORE_THAN_ONE_IP"):
        net.CreateBond(live.cache, "two addresses", ["eth1", "eth4"], "active-backup")


def test_cancel_undoes_the_steps_already_done(running_sim, live):
    """Esc while a pool-wide VLAN is being created: the running task is
    cancelled and what was made is taken back."""
    running_sim.sim.task_delay = 0.5
    backup = net_ref(running_sim, "Backup")
    action = net.CreateVlan(live.cache, "VLAN 77", 77, backup)
    ctx = RunContext(live)
    st = running_sim.sim.store

    def progress(p):
        if any(v["tag"] == 77 for v in st.table("VLAN").values()):
            ctx.cancel.set()  # the first host's VLAN is made: the admin presses Esc

    ctx.progress = progress
    with pytest.raises(ActionFailed) as err:
        action.execute(ctx)
    assert err.value.cancelled and err.value.undone == 1, err.value.undo_problems
    assert net_ref(running_sim, "VLAN 77") is None
    assert not [v for v in st.table("VLAN").values() if v["tag"] == 77]


def test_actions_declare_their_fields_with_the_service_validators(running_sim, live):
    host, pif = refs(running_sim, "xcp-a", "eth4")
    fields = {f.name: f for f in net.ReconfigureManagement.fields(live.cache, host)}
    assert fields["device"].value == "eth0" and "eth4" in fields["device"].choices
    assert "eth2" not in fields["device"].choices  # a bond member: the bond carries it
    assert fields["mode"].choices == ("static", "dhcp")
    assert fields["ip"].check("") is None  # optional until DHCP/static is decided
    assert "not an IPv4 address" in fields["ip"].check("999.1.1.1")
    assert fields["netmask"].value == "255.255.255.0"  # from the management interface
    bond = {f.name: f for f in net.CreateBond.fields(live.cache, host)}
    assert bond["devices"].several and "eth2" not in bond["devices"].choices  # already bonded
    assert "between" in bond["mtu"].check("20000")
    vlan = {f.name: f for f in net.CreateVlan.fields(live.cache, host)}
    assert "VM Bond" in vlan["over"].choices and "VLAN 20 Prod" not in vlan["over"].choices


def test_an_undo_whose_outcome_is_unknown_is_reported_not_raised(live):
    from xstui.services.actions import OutcomeUnknown

    ctx = RunContext(live)

    def lost():
        raise OutcomeUnknown("VLAN.destroy: the host cannot be asked what it did")

    ctx.on_undo("destroy VLAN 30", lost)
    done, problems = ctx.rollback()
    assert done == 0 and "could not destroy VLAN 30" in problems[0]


def test_after_esc_with_the_host_gone_the_undo_is_reported_at_once(live):
    """Each undo would wait for a host the admin stopped waiting for: none is
    attempted, each is named."""
    ctx = RunContext(live)
    attempted = []
    ctx.on_undo("enable xcp-b", lambda: attempted.append("enable"))
    ctx.on_undo("start jenkins", lambda: attempted.append("start"))
    ctx.cancel.set()
    live.state = "reconnecting"
    done, problems = ctx.rollback()
    assert attempted == [] and done == 0
    assert [p.split(" (")[0] for p in problems] == [
        "could not start jenkins",
        "could not enable xcp-b",
    ]
    assert all("cannot be reached" in p for p in problems)


def test_a_bond_refusal_found_on_every_host_is_said_once(live):
    """eth0 and eth1 both carry addresses on each of the three hosts: one
    problem naming the hosts, not one per host."""
    with pytest.raises(InvalidInput) as err:
        net.CreateBond(live.cache, "", ["eth0", "eth1"], "active-backup")
    said = [p for p in err.value.problems if "both have an IP address" in p]
    assert len(said) == 1 and "on xcp-a, xcp-b, xcp-c;" in said[0]
    with pytest.raises(InvalidInput) as err:
        net.CreateBond(live.cache, "", ["eth2", "eth4"], "active-backup")
    assert err.value.problems == ["eth2 is already in a bond on xcp-a, xcp-b, xcp-c"]


def test_a_bond_at_a_lower_mtu_than_an_addressed_nic_says_jumbo_frames_go(live):
    """eth1 carries the storage address at MTU 9000 on xcp-a and xcp-b (1500
    on xcp-c): a bond at 1500 says they lose jumbo frames, and is not refused;
    a bond at 9000 says nothing of it."""
    impact = " ".join(
        net.CreateBond(live.cache, "", ["eth1", "eth4"], "active-backup").plan().impact
    )
    assert "eth1 carries an IP at MTU 9000 on xcp-a, xcp-b:" in impact
    assert "loses its jumbo frames" in impact and "xcp-c" not in impact
    at_9000 = net.CreateBond(live.cache, "", ["eth1", "eth4"], "active-backup", 9000)
    assert "jumbo" not in " ".join(at_9000.plan().impact)


def test_the_default_bond_name_is_its_nics(running_sim, live):
    """The name field's placeholder follows the NICs ticked; a bond left
    unnamed gets that name."""
    host, _ = refs(running_sim, "xcp-a", "eth1")
    name = next(f for f in net.CreateBond.fields(live.cache, host) if f.name == "name")
    assert name.placeholder_of({"devices": ["eth4", "eth1"]}) == "Bond eth1+eth4"
    assert net.CreateBond(live.cache, " ", ["eth4", "eth1"], "active-backup").name == (
        "Bond eth1+eth4"
    )
