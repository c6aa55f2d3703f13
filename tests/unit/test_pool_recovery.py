"""Pool recovery with HA off, end to end over real HTTP: the master is killed
through the simulator's control endpoint; the diagnosis sees it dead and the
members still pointing at it; a member takes over; the pool ends with one
master that every live member follows, and the console's connection with it."""

import json
import subprocess
import sys

import pytest

from tests.waiting import wait_for
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.pool import PointAtMaster, TakeOverAsMaster, diagnose
from xstui.sim.control import host_rows


def sim_ctl(running, *args):
    return subprocess.run(
        [sys.executable, "-m", "xstui", "sim-ctl", running.control_url, *args],
        capture_output=True,
        text=True,
        env={"XSTUI_PASSWORD": running.password, "PATH": ""},
        timeout=30,
    )


@pytest.fixture
def live(connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("host"))
    return connection


def test_a_healthy_pool_is_not_taken_over(running_sim, live):
    d = diagnose(live)
    assert d.master_answers and not d.master_dead
    assert {m.answer for m in d.members} == {"member of 127.10.0.11"}
    with pytest.raises(InvalidInput):
        TakeOverAsMaster(d, "xcp-b")


def test_the_control_endpoint_refuses_a_wrong_password(running_sim):
    import urllib.error
    import urllib.request

    body = json.dumps({"password": "wrong", "action": "kill-host", "host": "xcp-a"}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(running_sim.control_url, data=body))
    assert refused.value.code == 403
    assert all(r["live"] for r in host_rows(running_sim.sim))


def test_master_killed_a_member_takes_over_and_the_others_follow(running_sim, live):
    out = sim_ctl(running_sim, "kill-host", "xcp-a")
    assert out.returncode == 0, out.stderr
    wait_for(lambda: live.state != "connected")
    d = diagnose(live)
    assert not d.master_answers and d.master_dead
    assert all(m.follows == "127.10.0.11" for m in d.members)

    with pytest.raises(InvalidInput):  # no master answers yet
        PointAtMaster(d, "xcp-c", d.new_master)
    action = TakeOverAsMaster(d, "xcp-b")
    plan = action.plan()
    assert plan.risk == "high" and "xe pool-emergency-transition-to-master" in plan.xe[0]
    assert any(line.startswith("When:") for line in plan.impact)
    assert any(line.startswith("Risk:") for line in plan.impact)
    outcome = action.execute(RunContext(live))
    assert "xcp-b is the master. Recovered: xcp-c" in outcome

    rows = {r["name"]: r for r in host_rows(running_sim.sim)}
    assert [n for n, r in rows.items() if r["master"]] == ["xcp-b"]
    assert rows["xcp-c"]["believes_master"] == "xcp-b"
    # the console follows the new master by itself
    wait_for(
        lambda: live.state == "connected" and "127.10.0.12" in live.target.url,
        what="the console on the new master",
    )
    assert live.call("pool.get_master", live.call("pool.get_all")[0]) == live.this_host


def test_a_member_that_missed_the_recovery_is_pointed_at_the_new_master(running_sim, live):
    sim_ctl(running_sim, "kill-host", "xcp-a")
    sim_ctl(running_sim, "kill-host", "xcp-c")  # down while the others recover
    d = diagnose(live)
    TakeOverAsMaster(d, "xcp-b").execute(RunContext(live))
    sim_ctl(running_sim, "revive-host", "xcp-c")
    # whether the console has reloaded from the new master yet or not
    for _ in range(2):
        d = diagnose(live)
        assert d.new_master == "127.10.0.12"
        wait_for(lambda: live.this_host == running_sim.sim.master)
    d = diagnose(live)
    stray = next(m for m in d.members if m.name == "xcp-c")
    assert stray.follows == "127.10.0.11" and d.new_master == "127.10.0.12"
    PointAtMaster(d, "xcp-c", d.new_master).execute(RunContext(live))
    rows = {r["name"]: r for r in host_rows(running_sim.sim)}
    assert rows["xcp-c"]["believes_master"] == "xcp-b"
