"""Snapshot schedules (VMSS) in the simulator, through the unmodified XenAPI
client: created with XAPI's checks and errors, VMs in and out, run now, the
runner on its compressed clock snapshotting and pruning by retention; a
release from before 7.2 has none."""

from __future__ import annotations

import pytest
import XenAPI

from tests.waiting import wait_for
from xstui.sim import schedules
from xstui.sim.runner import start_simulator


def daily(**over) -> dict:
    return {
        "name_label": "nightly",
        "name_description": "",
        "enabled": True,
        "type": "snapshot",
        "retained_snapshots": "7",
        "frequency": "daily",
        "schedule": {"hour": "2", "min": "30"},
        **over,
    }


def refused(call, *args) -> list[str]:
    with pytest.raises(XenAPI.Failure) as err:
        call(*args)
    return err.value.details


def vm_named(x, name: str) -> str:
    return next(r for r in x.VM.get_by_name_label(name) if not x.VM.get_is_a_snapshot(r))


def test_create_checks_as_xapi_does(xapi):
    x = xapi.xenapi
    ref = x.VMSS.create(daily())
    rec = x.VMSS.get_record(ref)
    assert rec["schedule"] == {"hour": "2", "min": "30"}
    assert rec["retained_snapshots"] == "7" and rec["frequency"] == "daily"
    assert rec["last_run_time"].value.startswith("19700101")
    # hourly: the other keys are not its own; weekly's days default to Monday
    assert x.VMSS.get_schedule(x.VMSS.create(daily(frequency="weekly", schedule={}))) == {
        "hour": "0",
        "min": "0",
        "days": "Monday",
    }
    bad = [
        (daily(retained_snapshots="0"), ["INVALID_VALUE", "retained_snapshots", "0"]),
        (daily(retained_snapshots="11"), ["INVALID_VALUE", "retained_snapshots", "11"]),
        (daily(schedule={"hour": "24"}), ["INVALID_VALUE", "schedule:hour", "24"]),
        (daily(schedule={"min": "10"}), ["INVALID_VALUE", "schedule:min", "10"]),
        (daily(frequency="hourly"), ["INVALID_VALUE", "schedule:hour", "2"]),
        (daily(frequency="monthly"), ["INVALID_VALUE", "frequency", "monthly"]),
        (daily(type="backup"), ["INVALID_VALUE", "type", "backup"]),
        (
            daily(frequency="weekly", schedule={"days": "Monday,Funday"}),
            ["INVALID_VALUE", "schedule:days", "Monday,Funday"],
        ),
    ]
    for args, error in bad:
        assert refused(x.VMSS.create, args) == error
    assert len(x.VMSS.get_all()) == 3  # the demo's and the two above
    # the setters check the same
    assert refused(x.VMSS.set_retained_snapshots, ref, "12")[0] == "INVALID_VALUE"
    assert refused(x.VMSS.add_to_schedule, ref, "hour", "3")[0] == "MAP_DUPLICATE_KEY"
    assert refused(x.VMSS.add_to_schedule, ref, "sec", "3") == ["INVALID_VALUE", "schedule", "sec"]
    x.VMSS.set_frequency(ref, "hourly")
    assert x.VMSS.get_schedule(ref) == {"min": "30"}
    x.VMSS.set_frequency(ref, "weekly")
    assert x.VMSS.get_schedule(ref) == {"min": "30", "hour": "0", "days": "Monday"}
    x.VMSS.set_enabled(ref, False)
    assert x.VMSS.get_enabled(ref) is False


def test_vms_in_and_out_and_destroy(xapi):
    x = xapi.xenapi
    ref = x.VMSS.create(daily())
    vm = vm_named(x, "web-01")
    x.VM.set_snapshot_schedule(vm, ref)
    assert x.VMSS.get_VMs(ref) == [vm] and x.VM.get_snapshot_schedule(vm) == ref
    assert refused(x.VMSS.destroy, ref) == ["VMSS_HAS_VM"]
    # no VM of the simulator has the VSS agent
    assert refused(x.VMSS.set_type, ref, "snapshot_with_quiesce")[0] == (
        "VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED"
    )
    x.VM.set_snapshot_schedule(vm, "OpaqueRef:NULL")
    assert x.VMSS.get_VMs(ref) == []
    x.VMSS.destroy(ref)
    assert refused(x.VMSS.get_record, ref)[0] == "HANDLE_INVALID"


def test_snapshot_now_snapshots_prunes_and_says_so(xapi, running_sim):
    x, st = xapi.xenapi, running_sim.sim.store
    ref = x.VMSS.create(daily(retained_snapshots="2", type="checkpoint"))
    vm = vm_named(x, "web-02")
    x.VM.set_snapshot_schedule(vm, ref)
    for _ in range(3):
        x.VMSS.snapshot_now(ref)
    snaps = [s for s in x.VM.get_snapshots(vm) if x.VM.get_is_vmss_snapshot(s)]
    assert len(snaps) == 2  # the oldest went, with its disk and memory image
    assert all(x.VM.get_power_state(s) == "Suspended" for s in snaps)
    assert x.VM.get_snapshot_schedule(snaps[0]) == "OpaqueRef:NULL"
    assert not x.VMSS.get_last_run_time(ref).value.startswith("1970")
    uuid = x.VMSS.get_uuid(ref)
    said = [m for m in st.table("message").values() if m["obj_uuid"] == uuid]
    assert [m["name"] for m in said] == ["VMSS_SNAPSHOT_SUCCEEDED"] * 3
    # a halted VM cannot be checkpointed: the run says so, the others still run
    halted = vm_named(x, "legacy-erp")
    x.VM.set_snapshot_schedule(halted, ref)
    assert "legacy-erp" in x.VMSS.snapshot_now(ref)
    said = [m for m in st.table("message").values() if m["obj_uuid"] == uuid]
    assert said[-1]["name"] == "VMSS_SNAPSHOT_FAILED" and "VM_BAD_POWER_STATE" in said[-1]["body"]


def test_operator_may_and_vm_admin_may_not(running_sim):
    from xstui.datamodel import permissions

    assert "vmss.create" in permissions("pool-operator")
    assert "vmss.create" not in permissions("vm-admin")
    assert "vm.set_snapshot_schedule" not in permissions("vm-power-admin")


def test_instants_follow_the_schedule():
    day = 86400
    start = 1_699_920_000  # 2023-11-14 00:00 UTC, a Tuesday
    got = list(schedules.instants("daily", {"hour": "2", "min": "30"}, start, start + 3 * day))
    assert got == [start + d * day + 2 * 3600 + 1800 for d in range(3)]
    hourly = list(schedules.instants("hourly", {"min": "15"}, start, start + 3 * 3600))
    assert hourly == [start + h * 3600 + 900 for h in range(3)]
    weekly = list(
        schedules.instants(
            "weekly", {"hour": "0", "min": "0", "days": "Friday"}, start, start + 7 * day
        )
    )
    assert weekly == [start + 3 * day]  # the Friday after


def test_runner_on_a_compressed_clock_snapshots_and_prunes():
    running = start_simulator("demo", task_delay=0.01, schedule_speed=4 * 3600)
    try:
        sim = running.sim
        sim.time_scale = 0.01
        st = sim.store
        ref = st.find_one("VMSS", name_label="nightly-sql")
        st.set("VMSS", ref, retained_snapshots=3, frequency="hourly", schedule={"min": "0"})
        vm = st.find_one("VM", name_label="sql-prod-01")

        def kept() -> list[str]:
            with st.lock:
                return [
                    s for s in st.get("VM", vm)["snapshots"] if st.get("VM", s)["is_vmss_snapshot"]
                ]

        uuid = st.get("VMSS", ref)["uuid"]

        def runs() -> int:
            with st.lock:
                return sum(m["obj_uuid"] == uuid for m in st.table("message").values())

        # an hour each 0.25 s: five runs made five snapshots, three are kept
        wait_for(lambda: runs() >= 5, what="five runs of the schedule", timeout=30)
        assert len(kept()) == 3
        assert st.get("VMSS", ref)["last_run_time"] > "19700101T00:00:00Z"
        # hours ran by in a second, yet no stamp is ahead of the hosts' clock
        # (a trial saw "Last run 13:03" at 09:06, and later snapshots as its children)
        from xstui.sim.store import now_xdate

        now = str(now_xdate())
        assert str(st.get("VMSS", ref)["last_run_time"]) <= now
        assert all(str(st.get("VM", s)["snapshot_time"]) <= now for s in kept())
    finally:
        running.close()


def test_no_schedules_before_7_2():
    running = start_simulator("demo", task_delay=0.01, release="xenserver-7.1")
    try:
        session = XenAPI.Session(running.url)
        session.xenapi.login_with_password("root", running.password, "1.0", "xstui-tests")
        x = session.xenapi
        assert refused(x.VMSS.get_all)[0] == "MESSAGE_METHOD_UNKNOWN"
        assert refused(x.VMSS.create, daily())[0] == "MESSAGE_METHOD_UNKNOWN"
        vm = vm_named(x, "web-01")
        assert "snapshot_schedule" not in x.VM.get_record(vm)
        assert not running.sim.store.table("VMSS")  # the scenario's schedule is not made
        session.xenapi.session.logout()
    finally:
        running.close()
