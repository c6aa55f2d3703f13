"""Host and VM actions against the simulator over real HTTP: maintenance mode
there and back, reboot followed to the end, NTP, SSH, syslog, bulk VM power
operations, migration and memory; every refusal happens before any write."""

import pytest

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.services import host as hs
from xstui.services import vms
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.host.maintenance import KEYS
from xstui.sim.scenario import build, generate
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


@pytest.fixture
def live(connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("vm"))
    return connection


def host_ref(running, name):
    return running.sim.store.find_one("host", name_label=name)


def vm_ref(running, name):
    return running.sim.store.find_one("VM", name_label=name)


def resident(running, host):
    st = running.sim.store
    return sorted(
        st.get("VM", v)["name_label"]
        for v in st.get("host", host)["resident_VMs"]
        if not st.get("VM", v)["is_control_domain"]
    )


def writes(running):
    """A counter of calls that change the pool (tasks and setters)."""
    st = running.sim.store
    return st.generation


def test_precheck_names_what_keeps_each_vm_and_changes_nothing(running_sim, live):
    b = host_ref(running_sim, "xcp-b")
    before = writes(running_sim)
    blockers = hs.evacuation_blockers(live, b)
    assert [x.name for x in blockers] == ["build-agent-1", "jenkins", "log-collector"]
    assert all(
        "Local storage" in x.reason and "the other hosts cannot reach" in x.reason for x in blockers
    )
    with pytest.raises(InvalidInput) as refused:
        hs.EnterMaintenance(live.cache, b, blockers, "refuse")
    said = refused.value.problems[0]
    assert "3 VM(s) cannot move: build-agent-1, jenkins, log-collector: " in said
    assert said.count(blockers[0].reason) == 1  # one reason said once for the three
    assert writes(running_sim) == before


def test_maintenance_there_and_back(running_sim, live):
    b = host_ref(running_sim, "xcp-b")
    was_there = resident(running_sim, b)
    blockers = hs.evacuation_blockers(live, b)
    action = hs.EnterMaintenance(live.cache, b, blockers, "shut down")
    plan = action.plan()
    assert plan.risk == "high" and plan.xe[0].startswith("xe host-disable")
    notes = []
    outcome = action.execute(RunContext(live, note=notes.append))
    assert "4 VM(s) moved, 3 shut down" in outcome
    assert resident(running_sim, b) == []
    host = running_sim.sim.store.get("host", b)
    assert host["enabled"] is False and host["other_config"]["MAINTENANCE_MODE"] == "true"
    assert any(n.startswith("Moved") for n in notes)
    wait_for(lambda: hs.in_maintenance(live.cache, b))

    back = hs.ExitMaintenance(live.cache, b, "yes")
    assert len(back.vms) == 7 and any("vm-start" in x for x in back.plan().xe)
    back.execute(RunContext(live))
    assert resident(running_sim, b) == was_there
    host = running_sim.sim.store.get("host", b)
    assert host["enabled"] is True and not set(KEYS) & set(host["other_config"])


def test_a_failed_evacuation_undoes_itself(running_sim, live):
    b = host_ref(running_sim, "xcp-b")
    blockers = hs.evacuation_blockers(live, b)
    running_sim.sim.inject_failure("Async.host.evacuate", ["HOST_NOT_ENOUGH_FREE_MEMORY", "1", "0"])
    action = hs.EnterMaintenance(live.cache, b, blockers, "suspend")
    with pytest.raises(Exception) as failed:
        action.execute(RunContext(live))
    assert "undone" in failed.value.undo_report()
    st = running_sim.sim.store
    assert st.get("host", b)["enabled"] is True
    assert st.get("VM", vm_ref(running_sim, "jenkins"))["power_state"] == "Running"


def test_reboot_a_member_and_follow_it_back(running_sim, live):
    c = host_ref(running_sim, "xcp-c")
    blockers = hs.evacuation_blockers(live, c)
    with pytest.raises(InvalidInput):
        hs.RebootHost(live.cache, c, blockers, "move them")  # local-storage VMs cannot move
    action = hs.RebootHost(live.cache, c, blockers, "shut them down")
    assert action.plan().confirm_word == "reboot"
    notes = []
    outcome = action.execute(RunContext(live, note=notes.append))
    assert "is back after" in outcome
    assert any("rebooting" in n for n in notes)
    metrics = running_sim.sim.store.get("host", c)["metrics"]
    assert running_sim.sim.store.get("host_metrics", metrics)["live"] is True


def test_toolstack_restart_of_the_master_reconnects(running_sim, live):
    a = host_ref(running_sim, "xcp-a")
    action = hs.RestartToolstack(live.cache, a, this_host=live.this_host)
    assert any("reconnects by itself" in i for i in action.plan().impact)
    outcome = action.execute(RunContext(live))
    assert "connected again" in outcome
    assert live.call("host.get_name_label", a) == "xcp-a"


def test_ntp_validated_set_and_probed(running_sim, live):
    a, c = host_ref(running_sim, "xcp-a"), host_ref(running_sim, "xcp-c")

    def every_host_asked():  # one host a round
        return [hs.time_probe(live) for _ in running_sim.sim.store.table("host")][-1]

    flags = every_host_asked()
    assert [f.text for f in flags] == [
        "The clock of xcp-c is not synchronised by NTP: see Host, Time tab (F7, t)"
    ]
    before = writes(running_sim)
    for bad in ("bad host!", "127.0.0.300", "a.b, a.b"):
        with pytest.raises(InvalidInput):
            hs.SetNtp(live.cache, c, "Custom", bad)
    with pytest.raises(InvalidInput):
        hs.SetNtp(live.cache, c, "Custom", "")
    assert writes(running_sim) == before
    hs.SetNtp(live.cache, c, "Custom", "127.10.0.123", "this host").execute(RunContext(live))
    assert every_host_asked() == []
    state = hs.read_time(live, c)
    assert state.synchronised is True and state.server_status == {"127.10.0.123": "synced"}
    assert abs(state.skew) < 5
    assert running_sim.sim.store.get("host", a)["ntp_custom_servers"] == [
        "127.10.0.123",
        "127.10.0.124",
    ]


def test_the_time_probe_asks_a_few_hosts_first_then_one_a_round():
    from xstui.services.host.clock import TimeSyncProbe
    from xstui.sim.runner import start_simulator

    running = start_simulator(generate(20, 20), members=False)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    try:
        conn.login()
        conn.load_once()
        probe = TimeSyncProbe()
        before = conn.calls
        first = probe(conn)
        assert conn.calls - before == 8  # the first round
        second = probe(conn)
        assert conn.calls - before == 9  # then one a round, whatever the pool's size
        for _ in range(11):
            flags = probe(conn)
        assert conn.calls - before == 20  # every host asked after 12 rounds
        # the generated hosts cannot reach NTP
        assert (len(first), len(second), len(flags)) == (8, 9, 20)
    finally:
        conn.close()
        running.close()


def test_timezone_refuses_unknown_zones(running_sim, live):
    a = host_ref(running_sim, "xcp-a")
    zones = live.call("host.list_timezones", a)
    with pytest.raises(InvalidInput):
        hs.SetTimezone(live.cache, a, "Mars/Olympus", zones)
    hs.SetTimezone(live.cache, a, "America/New_York", zones, "every host").execute(RunContext(live))
    st = running_sim.sim.store
    assert {h["timezone"] for h in st.table("host").values()} == {"America/New_York"}


def test_what_would_change_nothing_is_refused_and_plans_show_xe(running_sim, live):
    """Trial s12 item 7: SSH on, unchanged, planned "Enable SSH"; NTP with the
    same servers planned "Set NTP"; the equivalents were "# XenAPI ..." lines;
    an emptied SSH timeout was taken for "never"."""
    a = host_ref(running_sim, "xcp-a")
    rec = live.cache.get("host", a)
    before = writes(running_sim)
    state = "on" if rec.ssh_enabled else "off"
    with pytest.raises(InvalidInput, match=f"^nothing to change: SSH is already {state}"):
        hs.SetSsh(live.cache, a, state, str(rec.ssh_enabled_timeout // 60))
    with pytest.raises(InvalidInput, match="give the minutes after which SSH turns itself off"):
        hs.SetSsh(live.cache, a, "on", "")
    with pytest.raises(InvalidInput, match="^the SSH timeout 'x' is not a whole number"):
        hs.SetSsh(live.cache, a, "on", "x")
    servers = ", ".join(rec.ntp_custom_servers)
    with pytest.raises(InvalidInput, match="^nothing to change: NTP is already"):
        hs.SetNtp(live.cache, a, rec.ntp_mode, servers, "this host")
    zones = live.call("host.list_timezones", a)
    with pytest.raises(InvalidInput, match="^nothing to change: the time zone is already"):
        hs.SetTimezone(live.cache, a, rec.timezone, zones, "this host")
    assert writes(running_sim) == before
    other = "off" if rec.ssh_enabled else "on"
    assert hs.SetSsh(live.cache, a, other, "0").plan().xe == [
        f"xe host-{'enable' if other == 'on' else 'disable'}-ssh uuid={rec.uuid}"
    ]
    ntp = hs.SetNtp(live.cache, a, "Custom", "127.10.0.200", "this host").plan().xe
    assert f"xe host-param-set uuid={rec.uuid} ntp-custom-servers=127.10.0.200" in ntp
    assert not any("XenAPI" in line for line in ntp)


def test_ssh_and_syslog(running_sim, live):
    c = host_ref(running_sim, "xcp-c")
    with pytest.raises(InvalidInput):
        hs.SetSsh(live.cache, c, "on", "100000")  # minutes: beyond two days
    hs.SetSsh(live.cache, c, "on", "30").execute(RunContext(live))
    rec = running_sim.sim.store.get("host", c)
    assert rec["ssh_enabled"] is True and rec["ssh_enabled_timeout"] == 1800
    with pytest.raises(InvalidInput):
        hs.SetSyslog(live.cache, c, "not a host!")
    action = hs.SetSyslog(live.cache, c, "127.10.0.51", "every host")
    assert "xe host-syslog-reconfigure" in "\n".join(action.plan().xe)
    action.execute(RunContext(live))
    logging = {h["name_label"]: h["logging"] for h in running_sim.sim.store.table("host").values()}
    assert all(v == {"syslog_destination": "127.10.0.51"} for v in logging.values())


def test_bulk_power_and_migration(running_sim, live):
    halted = [vm_ref(running_sim, n) for n in ("backup-proxy", "test-ubuntu-24")]
    with pytest.raises(InvalidInput) as refused:
        vms.PowerVms(live.cache, [*halted, vm_ref(running_sim, "dc-01")], "start")
    assert "dc-01: the VM is running" in refused.value.problems[0]
    c = host_ref(running_sim, "xcp-b")  # xcp-c has room for one of them only (6 GiB free)
    with pytest.raises(InvalidInput):  # only start and resume take a host
        vms.PowerVms(live.cache, [vm_ref(running_sim, "dc-01")], "shut down", c)
    start_on = vms.PowerVms(live.cache, halted, "start", c)
    assert all(line.endswith(" on=xcp-b") for line in start_on.plan().xe)
    outcome = start_on.execute(RunContext(live))
    assert "2 of 2" in outcome
    assert {running_sim.sim.store.get("VM", v)["resident_on"] for v in halted} == {c}
    a = host_ref(running_sim, "xcp-a")
    jenkins = vms.MigrateVms(live.cache, [vm_ref(running_sim, "jenkins")], a)
    before = writes(running_sim)
    with pytest.raises(InvalidInput) as local:
        jenkins.precheck(live)  # XAPI's own check: its disks are on xcp-b's local SR
    assert (
        "jenkins: its disks are on Local storage, which xcp-a cannot reach [VM_REQUIRES_SR]"
        in local.value.problems[0]
    )
    assert writes(running_sim) == before
    web = vm_ref(running_sim, "web-02")
    assert [label for label, _ in vms.MigrateVms.targets(live.cache, [web])][0].startswith("xcp-a")
    vms.MigrateVms(live.cache, [web], a).execute(RunContext(live))
    assert running_sim.sim.store.get("VM", web)["resident_on"] == a


def test_memory_rule_checked_before_any_call(running_sim, live):
    erp = vm_ref(running_sim, "legacy-erp")
    before = writes(running_sim)
    values = {"static_min": "1G", "dynamic_min": "8G", "dynamic_max": "4G", "static_max": "12G"}
    with pytest.raises(InvalidInput) as refused:
        vms.SetMemory(live.cache, erp, values)
    assert "Dynamic min (8.0 GiB) must not exceed Dynamic max (4.0 GiB)" in refused.value.problems
    running = vm_ref(running_sim, "dc-01")
    with pytest.raises(InvalidInput):  # static limits of a running VM
        vms.SetMemory(live.cache, running, {**values, "dynamic_min": "2G"})
    assert writes(running_sim) == before
    offered = {f.name: f.value for f in vms.SetMemory.fields(live.cache, erp)}
    assert all(v.endswith((" GiB", " MiB")) for v in offered.values()), (
        offered
    )  # as shown elsewhere
    with pytest.raises(InvalidInput, match="nothing changes"):  # read back as the VM's own
        vms.SetMemory(live.cache, erp, offered)
    ok = {"static_min": "1G", "dynamic_min": "6G", "dynamic_max": "10G", "static_max": "16G"}
    vms.SetMemory(live.cache, erp, ok).execute(RunContext(live))
    rec = running_sim.sim.store.get("VM", erp)
    assert rec["memory_static_max"] == 16 * 1024**3 and rec["memory_dynamic_min"] == 6 * 1024**3


def test_filter_finds_a_vm_among_4000():
    from xstui.areas import watched_types
    from xstui.xapi.cache import Cache

    store = build(generate(64, 4000))
    cache = Cache(watched_types())
    cache.replace(
        [
            {"class": cls, "ref": ref, "operation": "add", "snapshot": rec}
            for cls, table in store.tables.items()
            for ref, rec in table.items()
        ]
    )
    rows = vms.vm_rows(cache)
    assert len(rows) == 4000
    assert [r.name for r in vms.filtered(rows.values(), "vm-03999")] == ["vm-03999"]
    assert all(r.host == "host-002" for r in vms.filtered(rows.values(), "host-002 running"))
