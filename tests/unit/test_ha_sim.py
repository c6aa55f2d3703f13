"""HA in the simulator against hand-worked examples, and a failover followed
by the console: with HA on, the master is killed; a survivor becomes master,
the protected VMs restart, and the console's connection follows by itself."""

import pytest
import XenAPI

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.sim.runner import start_simulator
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target

GiB = 1024**3


def small_pool(free_gb: list[int], vms: list[list]) -> dict:
    """Hosts with the given free memory; VMs: [name, host, GiB, priority]."""
    return {
        "name": "ha-test",
        "seed": 1,
        "pool": {"name": "HA test", "default_sr": "NFS"},
        "dns": ["127.40.0.53"],
        "gateway": "127.40.0.1",
        "netmask": "255.255.255.0",
        "hosts": [
            {
                "name": f"h{i}",
                "address": f"127.40.0.{11 + i}",
                "master": i == 0,
                "memory_gb": 256,
                "free_gb": free,
            }
            for i, free in enumerate(free_gb)
        ],
        "networks": [{"name": "Management", "device": "eth0", "management": True}],
        "srs": [
            {
                "name": "NFS",
                "type": "nfs",
                "shared": True,
                "size_gb": 1000,
                "used_gb": 10,
                "server": "127.40.0.5",
                "path": "/x",
            },
            {"name": "Local", "type": "lvm", "per_host": True, "size_gb": 100, "used_gb": 1},
        ],
        "vms": [[n, h, "Running", gb, 1, 10, sr, prio, 0] for n, h, gb, prio, sr in vms],
    }


def session(running):
    s = XenAPI.Session(running.url)
    s.xenapi.login_with_password("root", running.password)
    return s.xenapi


@pytest.mark.parametrize(
    "free, vms, expected",
    [
        # 16 GiB protected in all, 16 free on each host: even two failures fit on the third
        ([16, 16, 16], [["a", "h0", 8, "restart", "NFS"], ["b", "h1", 8, "restart", "NFS"]], 2),
        # a 16 GiB protected VM fits on no survivor (12 GiB free each)
        ([12, 12, 12], [["a", "h0", 16, "restart", "NFS"]], 0),
        # best-effort and unprotected VMs do not count
        ([4, 4, 4], [["a", "h0", 32, "best-effort", "NFS"], ["b", "h1", 32, "", "NFS"]], 2),
        # a protected VM on local storage cannot be restarted elsewhere
        ([64, 64, 64], [["a", "h0", 1, "restart", "Local@h0"]], 0),
    ],
)
def test_max_failures_hand_worked(free, vms, expected):
    running = start_simulator(small_pool(free, vms), members=False)
    try:
        assert int(session(running).pool.ha_compute_max_host_failures_to_tolerate()) == expected
    finally:
        running.close()


def test_protection_that_would_break_the_plan_is_refused():
    running = start_simulator(
        small_pool([12, 12, 12], [["a", "h0", 8, "restart", "NFS"], ["big", "h0", 16, "", "NFS"]]),
        members=False,
    )
    try:
        x = session(running)
        pool = x.pool.get_all()[0]
        nfs = x.SR.get_by_name_label("NFS")[0]
        x.pool.set_ha_host_failures_to_tolerate(pool, "1")
        x.pool.enable_ha([nfs], {"timeout": "30"})
        big = x.VM.get_by_name_label("big")[0]
        hypothetical = x.pool.ha_compute_hypothetical_max_host_failures_to_tolerate(
            {big: "restart"}
        )
        assert int(hypothetical) == 0
        with pytest.raises(XenAPI.Failure) as refused:
            x.VM.set_ha_restart_priority(big, "restart")
        assert refused.value.details == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
        with pytest.raises(XenAPI.Failure) as too_many:
            x.pool.set_ha_host_failures_to_tolerate(pool, "3")
        assert too_many.value.details == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
        statefile = x.pool.get_ha_statefiles(pool)[0]
        assert x.VDI.get_type(statefile) == "ha_statefile"
        x.pool.disable_ha()
        assert not x.pool.get_ha_enabled(pool)
        assert statefile not in x.VDI.get_all()
    finally:
        running.close()


def test_with_ha_on_a_dead_master_is_replaced_and_its_vms_restart():
    running = start_simulator("ha-demo", task_delay=0.01)
    running.sim.time_scale = 0.05
    st = running.sim.store
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    conn.start_events()
    try:
        wait_for(lambda: conn.cache.table("vm"))
        a = running.sim.master
        protected = sorted(
            v["name_label"]
            for v in st.table("VM").values()
            if v["resident_on"] == a and v["ha_restart_priority"] == "restart"
        )
        running.sim.kill_host(a)
        wait_for(
            lambda: conn.state == "connected" and conn.this_host != a,
            what="the console on the new master",
        )
        new = running.sim.master
        assert new != a and conn.this_host == new
        running_now = {
            v["name_label"] for v in st.table("VM").values() if v["power_state"] == "Running"
        }
        assert set(protected) <= running_now
    finally:
        conn.close()
        running.close()


def test_ha_broken_is_switched_off_through_the_emergency_path():
    from xstui.services import ha
    from xstui.services.actions import ActionFailed, RunContext
    from xstui.services.pool import EmergencyHaOff, diagnose

    running = start_simulator("ha-demo", task_delay=0.01)
    running.sim.time_scale = 0.05
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    conn.start_events()
    try:
        wait_for(lambda: conn.cache.table("host"))
        running.sim.lose_statefile()
        wait_for(
            lambda: any("Heartbeat SR unreachable" in f.text for f in ha.health(conn.cache, 0))
        )
        with pytest.raises(ActionFailed) as failed:
            ha.DisableHa(conn.cache).execute(RunContext(conn))
        assert "HA_LOST_STATEFILE" in str(failed.value) or "statefile" in str(failed.value)
        action = EmergencyHaOff(diagnose(conn))
        assert action.plan().confirm_word == "ha off"
        action.execute(RunContext(conn))
        assert not running.sim.store.get("pool", running.sim.pool)["ha_enabled"]
    finally:
        conn.close()
        running.close()


def test_a_host_that_loses_its_heartbeat_fences_itself_and_comes_back():
    running = start_simulator("ha-demo", task_delay=0.01)
    running.sim.time_scale = 0.02
    st = running.sim.store
    try:
        c = st.find_one("host", name_label="xcp-c")
        vpn = st.find_one("VM", name_label="vpn-gw")  # protected, on xcp-c
        running.sim.cut_heartbeat(c)
        metrics = st.get("host", c)["metrics"]
        assert st.get("host_metrics", metrics)["live"] is False
        wait_for(
            lambda: (
                st.get("host_metrics", metrics)["live"]
                and st.get("VM", vpn)["power_state"] == "Running"
            ),
            what="xcp-c back and vpn-gw running",
        )
        assert st.get("VM", vpn)["resident_on"] != c  # restarted elsewhere while it was fenced
    finally:
        running.close()


def test_ha_refusals_make_no_write(running_sim, connection):
    from xstui.services import ha
    from xstui.services.actions import InvalidInput

    connection.start_events()
    wait_for(lambda: connection.cache.table("sr"))
    st = running_sim.sim.store
    generation = st.generation
    most = int(connection.call("pool.ha_compute_max_host_failures_to_tolerate"))
    with pytest.raises(InvalidInput, match="at most"):
        ha.EnableHa(connection.cache, "NFS VM store", "30", str(most + 1), most)
    with pytest.raises(InvalidInput, match="shared SR"):
        ha.EnableHa(connection.cache, "ISO library", "30", "0", most)
    with pytest.raises(InvalidInput, match="timeout"):
        ha.EnableHa(connection.cache, "NFS VM store", "5", "0", most)
    with pytest.raises(InvalidInput, match="at most"):
        ha.SetTolerate(connection.cache, str(most + 1), most)
    with pytest.raises(InvalidInput, match="not enabled"):
        ha.DisableHa(connection.cache)
    assert st.generation == generation
