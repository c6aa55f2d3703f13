"""Logs against the fake dom0 (never this machine's /var/log) and alerts
over the simulator: tail, search and next error, usage, the rotation profile
written only as its diff said (the old file kept), alerts dismissed."""

import pytest

from tests.waiting import wait_for
from xstui.services import logs
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.host.local import LocalSystem
from xstui.sim.dom0 import make_dom0


@pytest.fixture
def dom0(tmp_path):
    return LocalSystem(make_dom0(tmp_path / "root"))


def test_tail_search_and_errors(dom0):
    assert logs.log_names(dom0) == list(logs.LOGS)
    lines = logs.tail(dom0, "xensource.log")
    assert lines[-1].startswith("Nov 26 04:59")
    first_error = logs.find(lines, "", 0, errors=True)
    assert "SR_BACKEND_FAILURE_73" in lines[first_error]
    second = logs.find(lines, "", first_error, errors=True)
    assert second > first_error and "[error" in lines[second]
    assert logs.find(lines, "no such text", 0) is None
    hit = logs.find(lines, "D:42|", 0)
    assert "D:42|" in lines[hit]
    short = logs.tail(dom0, "xensource.log", limit=300)  # a cut first line is dropped
    assert all(line.startswith("Nov 26") for line in short)


def test_usage_biggest_first(dom0):
    used = logs.usage(dom0)
    assert used.biggest[0][0] == "xensource.log.1.gz" and used.total > 200_000


def test_rotation_profile_written_as_its_diff_says(dom0, connection):
    conf = dom0.path(logs.LOGROTATE)
    old = conf.read_text()
    action = logs.ApplyLogProfile(dom0)
    diff = action.diff()
    assert "+daily" in diff and "-weekly" in diff and "-rotate 4" in diff and "+maxsize 20M" in diff
    assert "include /etc/logrotate.d" in action.new  # blocks and includes kept
    action.execute(RunContext(connection))
    assert conf.read_text() == action.new and action.backup.read_text() == old
    with pytest.raises(InvalidInput, match="already"):
        logs.ApplyLogProfile(dom0)


def test_profile_rotates_daily_or_past_20m():
    """``size`` would override ``daily`` (rotation by size only): the profile
    says ``maxsize``, and a global ``size`` already there goes."""
    text = logs.with_profile("weekly\nsize 100k\nrotate 4\n/var/log/x {\n    size 1M\n}\n")
    head = text.split("/var/log/x")[0].splitlines()
    assert "daily" in head and "maxsize 20M" in head
    assert not [line for line in head if line.startswith("size") or line == "weekly"]
    assert "    size 1M" in text  # a block's own directives are its own


def test_alerts_newest_first_and_dismissed(connection, running_sim):
    connection.start_events()
    wait_for(lambda: connection.cache.table("message"))
    rows = logs.alerts(connection.cache)
    assert [a.name for a in rows][0] == "HOST_CLOCK_SKEW_DETECTED"
    assert rows[0].about == "Host xcp-c" and rows[0].severity == "warning"
    logs.DismissAlert(connection.cache, rows[0].ref).execute(RunContext(connection))
    wait_for(
        lambda: all(a.ref != rows[0].ref for a in logs.alerts(connection.cache)),
        what="the alert gone",
    )
    assert rows[0].ref not in running_sim.sim.store.table("message")


def test_a_schedules_alert_names_the_schedule(connection, xapi):
    """A trial: "About VMSS 0c3ce284", a UUID where the schedule has a name."""
    connection.start_events()
    (schedule,) = xapi.xenapi.VMSS.get_by_name_label("nightly-sql")
    xapi.xenapi.VMSS.snapshot_now(schedule)
    ran = wait_for(
        lambda: [a for a in logs.alerts(connection.cache) if a.name.startswith("VMSS_")],
        what="the run's alert",
    )
    assert ran[0].about == "VMSS nightly-sql"


def test_only_alarms_that_arrive_are_told_and_said_in_words(connection, running_sim, xapi):
    """AlarmWatch: perfmon's ALARMs of the first read are known already; one
    raised later is told once, in the console's units; other messages are not."""
    from xstui import clock
    from xstui.services.metrics import perfmon
    from xstui.sim import rrd

    sim = running_sim.sim
    sim.perfmon_stop.set()
    at = clock.now()
    sim.clock = lambda: at
    x = xapi.xenapi
    sql = x.VM.get_by_name_label("sql-prod-01")[0]  # ~70 % CPU
    old = '<config><variable><name value="cpu_usage"/><alarm_trigger_level value="0.5"/>'
    x.VM.add_to_other_config(sql, "perfmon", old + "</variable></config>")
    assert len(rrd.perfmon_round(sim)) == 1  # before the console looks
    connection.start_events()
    wait_for(lambda: any(m.name == "ALARM" for m in connection.cache.table("message").values()))
    watch = logs.AlarmWatch()
    assert watch.arrived(connection.cache) == []  # the first read: known already
    web = x.VM.get_by_name_label("web-01")[0]  # ~10 %
    action = perfmon.SetVmAlarms(
        web,
        x.VM.get_uuid(web),
        "web-01",
        perfmon.Config(),
        {"cpu_usage": "2", "network_usage": "", "disk_usage": "", "period": "1", "inhibit": "60"},
    )
    action.execute(RunContext(connection))
    assert len(rrd.perfmon_round(sim)) == 1  # sql-prod-01 is within its hour of quiet
    wait_for(lambda: len(logs.alerts(connection.cache)) == len(sim.store.table("message")))
    told = watch.arrived(connection.cache)
    assert len(told) == 1 and told[0].startswith("VM web-01: CPU usage ")
    assert told[0].endswith("% above the alarm's 2 %")
    assert watch.arrived(connection.cache) == []  # told once
