"""Snapshot schedules through the console's services against the simulator:
listed with their VMs, last run and status; made, changed, switched off, run
now, deleted, each with its xe equivalent; bad input refused in words
before any call; a failed step undone; unavailable before XenServer 7.2."""

from __future__ import annotations

import pytest

from tests.waiting import wait_for
from xstui.services import backup as bk
from xstui.services.actions import ActionFailed, InvalidInput, RunContext
from xstui.services.backup.schedules import at_time, week_days


def values(**over) -> dict:
    return {
        "name": "daily-web",
        "type": "snapshot",
        "frequency": "daily",
        "time": "02:30",
        "days": "",
        "kept": "7",
        "vms": ["web-01", "web-02"],
        **over,
    }


def row(conn, name: str):
    return next((r for r in bk.schedule_rows(conn.cache) if r.name == name), None)


def test_the_demo_schedule_is_listed(live):
    wait_for(lambda: row(live, "nightly-sql"), what="the demo's schedule")
    r = row(live, "nightly-sql")
    assert (r.kind, r.when, r.kept, r.vms) == (
        "snapshot",
        "daily 01:00",
        7,
        ("sql-prod-01", "sql-prod-02"),
    )
    assert (r.last_run, r.status, r.enabled) == ("never", "", True)


def test_bad_input_is_refused_in_words():
    assert at_time("2:15", "daily") == (2, 15)
    assert at_time(":45", "hourly") == (0, 45)
    for text, words in (
        ("25:00", "from 0 to 23"),
        ("02:10", "00, 15, 30 or 45"),
        ("noon", "HH:MM"),
    ):
        with pytest.raises(InvalidInput, match=words):
            at_time(text, "daily")
    assert week_days("mon, Thu friday") == ["Monday", "Thursday", "Friday"]
    with pytest.raises(InvalidInput, match="not a day"):
        week_days("Mon,Funday")
    with pytest.raises(InvalidInput, match="at least one day"):
        week_days("")


def test_create_daily_with_retention_7_then_edit_run_toggle_delete(live, running_sim):
    conn, st = live, running_sim.sim.store
    wait_for(lambda: row(conn, "nightly-sql"))
    for bad, words in (
        (values(kept="0"), "between 1 and 10"),
        (values(kept="11"), "between 1 and 10"),
        (values(time="02:20"), "00, 15, 30 or 45"),
        (values(frequency="weekly"), "at least one day"),
        (values(days="Mon"), "weekly schedule only"),
        (values(name="nightly-sql"), "exists already"),
        (values(vms=["no-such-vm"]), "no VM"),
    ):
        with pytest.raises(InvalidInput, match=words):
            bk.CreateSchedule(conn.cache, bad)
    action = bk.CreateSchedule(conn.cache, values())
    plan = action.plan()
    assert plan.xe[0] == (
        "SCHEDULE=$(xe vmss-create name-label=daily-web type=snapshot frequency=daily "
        "retained-snapshots=7 schedule:hour=2 schedule:min=30)"
    )
    assert plan.xe[1].endswith("snapshot-schedule=$SCHEDULE") and len(plan.xe) == 3
    assert "daily 02:30" in plan.impact[0] and "newest 7" in plan.impact[0]
    action.execute(RunContext(conn))
    r = wait_for(lambda: (x := row(conn, "daily-web")) and len(x.vms) == 2 and x, what="made")
    assert (r.when, r.kept, r.vms) == ("daily 02:30", 7, ("web-01", "web-02"))
    ref = st.find_one("VMSS", name_label="daily-web")
    assert st.get("VMSS", ref)["schedule"] == {"hour": "2", "min": "30"}

    # weekly on Sundays, 3 kept, web-02 out
    edit = bk.EditSchedule(
        conn.cache,
        r.ref,
        values(frequency="weekly", days="Sun", kept="3", time="04:00", vms=["web-01"]),
    )
    assert edit.plan().xe[0] == (
        f"xe vmss-param-set uuid={st.get('VMSS', ref)['uuid']} frequency=weekly "
        "schedule:days=Sunday schedule:hour=4 schedule:min=0 retained-snapshots=3"
    )
    edit.execute(RunContext(conn))
    r = wait_for(lambda: (x := row(conn, "daily-web")) and x.kept == 3 and len(x.vms) == 1 and x)
    assert r.when == "weekly Sun 04:00"
    with pytest.raises(InvalidInput, match="nothing was changed"):
        bk.EditSchedule(
            conn.cache,
            r.ref,
            values(frequency="weekly", days="Sun", kept="3", time="04:00", vms=["web-01"]),
        )

    # run now: a snapshot of web-01, the run's time and status listed
    bk.RunScheduleNow(conn.cache, r.ref).execute(RunContext(conn))
    r = wait_for(lambda: (x := row(conn, "daily-web")) and x.status and x, what="the run seen")
    assert r.status == "ok" and r.last_run != "never"

    bk.ToggleSchedule(conn.cache, r.ref).execute(RunContext(conn))
    wait_for(lambda: not row(conn, "daily-web").enabled, what="switched off")

    delete = bk.DeleteSchedule(conn.cache, r.ref)
    assert delete.plan().xe[-1].startswith("xe vmss-destroy uuid=")
    delete.execute(RunContext(conn))
    wait_for(lambda: row(conn, "daily-web") is None, what="deleted")
    web = st.find_one("VM", name_label="web-01", is_a_snapshot=False)
    assert st.get("VM", web)["snapshot_schedule"] == "OpaqueRef:NULL"


def test_a_failed_step_is_undone(live, running_sim):
    conn, sim = live, running_sim.sim
    wait_for(lambda: row(conn, "nightly-sql"))
    sim.inject_failure("VM.set_snapshot_schedule", ["INTERNAL_ERROR", "injected"], after=1)
    with pytest.raises(ActionFailed) as err:
        bk.CreateSchedule(conn.cache, values()).execute(RunContext(conn))
    assert "undone" in err.value.undo_report()
    assert sim.store.find_one("VMSS", name_label="daily-web") is None
    web = sim.store.find_one("VM", name_label="web-01", is_a_snapshot=False)
    assert sim.store.get("VM", web)["snapshot_schedule"] == "OpaqueRef:NULL"


def test_run_now_needs_vms(live, running_sim):
    conn = live
    bk.CreateSchedule(conn.cache, values(vms=[])).execute(RunContext(conn))
    r = wait_for(lambda: row(conn, "daily-web"))
    with pytest.raises(InvalidInput, match="no VM to snapshot"):
        bk.RunScheduleNow(conn.cache, r.ref)


class Old:
    """A connection to XenServer 7.1, as Action.unavailable asks it."""

    release = "XenServer 7.1.2"

    def lacks(self, calls):
        return [c for c in calls if c.startswith("VMSS.") or c == "VM.set_snapshot_schedule"]


def test_unavailable_before_7_2_says_why():
    why = bk.CreateSchedule.unavailable(Old())
    assert why.startswith("XenServer 7.1.2 has no VMSS.create: snapshot schedules (VMSS) came")
    assert "cron entries in dom0, made with xstui local" in why
