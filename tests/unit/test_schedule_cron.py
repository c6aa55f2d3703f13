"""Snapshot schedules where the release has none (XenServer 7.1): a cron
entry in dom0 (a folder laid out like dom0 here) running ``xstui
snapshot-rotate``, which snapshots each VM and keeps the schedule's newest
N, deleting older ones with their disks; refusals in words."""

from __future__ import annotations

import pytest

from tests.waiting import wait_for
from xstui.cli import main
from xstui.services import backup as bk
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.backup.cron import TAG
from xstui.services.host.local import LocalSystem

SIM_RELEASE = "xenserver-7.1"


def values(**over) -> dict:
    return {
        "name": "nightly-web",
        "type": "snapshot",
        "frequency": "daily",
        "time": "02:30",
        "days": "",
        "kept": "2",
        "vms": ["web-01"],
        **over,
    }


def test_a_cron_entry_is_written_read_back_and_removed(live, tmp_path):
    conn, system = live, LocalSystem(tmp_path)
    wait_for(lambda: conn.cache.table("vm"))
    assert bk.CreateSchedule.unavailable(conn).startswith("XenServer 7.1.2 has no VMSS.create")
    action = bk.CronSchedule(system, conn.cache, values())
    uuid = next(v.uuid for v in conn.cache.table("vm").values() if v.name_label == "web-01")
    assert action.line.startswith("30 2 * * * root ")
    assert action.line.endswith(f"snapshot-rotate local --name nightly-web --keep 2 --vm {uuid}")
    assert action.plan().xe[0].endswith("> /etc/cron.d/xstui-snapshots-nightly-web")
    action.execute(RunContext(conn))
    weekly = bk.CronSchedule(
        system, conn.cache, values(name="weekly-web", frequency="weekly", days="Sun,Wed")
    )
    assert weekly.line.startswith("30 2 * * 3,0 root ")  # Wednesday, Sunday
    weekly.execute(RunContext(conn))
    rows = bk.cron_rows(conn.cache, system)
    assert [(r.ref, r.when, r.kept, r.vms) for r in rows] == [
        ("cron:nightly-web", "daily 02:30", 2, ("web-01",)),
        ("cron:weekly-web", "weekly Wed,Sun 02:30", 2, ("web-01",)),
    ]
    bk.RemoveCronSchedule(system, "weekly-web").execute(RunContext(conn))
    assert [e.name for e in bk.cron_entries(system)] == ["nightly-web"]


def test_refused_in_words(live, tmp_path):
    conn, system = live, LocalSystem(tmp_path)
    wait_for(lambda: conn.cache.table("vm"))
    for over, words in (
        ({"name": "web nightly"}, "names its file"),
        ({"type": "quiesced snapshot (VSS)"}, "needs XAPI's schedules"),
        ({"vms": []}, "at least one VM"),
        ({"kept": "0"}, "between 1 and 10"),
    ):
        with pytest.raises(InvalidInput, match=words):
            bk.CronSchedule(system, conn.cache, values(**over))
    with pytest.raises(InvalidInput, match="run xstui local"):
        bk.CronSchedule(None, conn.cache, values())
    bk.CronSchedule(system, conn.cache, values()).execute(RunContext(conn))
    with pytest.raises(InvalidInput, match="exists already"):
        bk.CronSchedule(system, conn.cache, values())


def test_what_cron_runs_snapshots_and_keeps_the_newest(running_sim, monkeypatch, capsys):
    st = running_sim.sim.store
    vm = st.find_one("VM", name_label="web-01", is_a_snapshot=False)
    uuid = st.get("VM", vm)["uuid"]
    monkeypatch.setenv("XSTUI_PASSWORD", running_sim.password)
    args = ["snapshot-rotate", running_sim.url, "--name", "nightly-web", "--keep", "2"]
    for _ in range(3):
        assert main([*args, "--vm", uuid]) == 0
    mine = [s for s in st.get("VM", vm)["snapshots"] if st.get("VM", s)["other_config"].get(TAG)]
    assert len(mine) == 2  # the oldest went, with its disk
    assert "1 older deleted" in capsys.readouterr().out
    assert main([*args, "--vm", "no-such-uuid"]) == 1
    assert main(["snapshot-rotate", running_sim.url, "--name", "x", "--keep", "11"]) == 2
