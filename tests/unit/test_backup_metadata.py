"""VM metadata on a portable SR, the dom0 way, against the fake dom0 whose
xe-backup-metadata / xe-restore-metadata work on the simulator's data over
its dom0 socket: back up, list, dry run, restore a deleted VM; the schedule."""

import pytest
import XenAPI

from xstui.services import backup as bk
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.host.local import LocalSystem
from xstui.sim.dom0 import make_dom0
from xstui.sim.runner import start_simulator
from xstui.xapi.connection import Connection
from xstui.xapi.targets import Target


@pytest.fixture
def dom0(tmp_path, monkeypatch):
    socket = str(tmp_path / "xapi")
    running = start_simulator("demo", unix_socket=socket, task_delay=0.01)
    running.sim.time_scale = 0.05
    monkeypatch.setenv("XSTUI_XAPI_SOCKET", socket)
    system = LocalSystem(make_dom0(tmp_path / "root"))
    from xstui.areas import watched_types

    conn = Connection(Target("local", socket_path=socket), "root", "", watch=watched_types())
    conn.login()
    conn.load_once()
    yield running, system, conn
    conn.close()
    running.close()


def nfs(conn) -> bk.SrChoice:
    return next(c for c in bk.metadata_srs(conn.cache) if c.name == "NFS VM store")


def test_srs_shared_first(dom0):
    _running, _system, conn = dom0
    choices = bk.metadata_srs(conn.cache)
    assert choices[0].shared and not choices[-1].shared
    assert all(c.name != "ISO library" for c in choices)
    local = next(c for c in choices if not c.shared)
    plan = bk.BackupMetadata(dom0[1], local).plan()
    assert "single point of failure" not in plan.summary
    assert any("if this host is lost" in i for i in plan.impact)


def test_backup_list_dry_run_and_restore_a_deleted_vm(dom0):
    running, system, conn = dom0
    sr = nfs(conn)
    with pytest.raises(InvalidInput):
        bk.probe_backups(system, sr.uuid)  # nothing yet
    outcome = bk.BackupMetadata(system, sr).execute(RunContext(conn))
    assert "complete" in outcome
    store = running.sim.store
    backup_vdis = [
        v for v in store.table("VDI").values() if v["other_config"].get("ctxs-pool-backup")
    ]
    assert [v["name_label"] for v in backup_vdis] == ["Pool Metadata Backup"]
    bk.BackupMetadata(system, sr).execute(RunContext(conn))  # reuses the VDI
    assert (
        len([v for v in store.table("VDI").values() if v["other_config"].get("ctxs-pool-backup")])
        == 1
    )
    vdi, dates = bk.probe_backups(system, sr.uuid)
    assert (
        vdi == backup_vdis[0]["uuid"] and len(dates) >= 1 and dates == sorted(dates, reverse=True)
    )
    # a halted VM is lost from the pool database; its disk is still on the SR
    session = XenAPI.Session(running.url)
    session.xenapi.login_with_password("root", running.password, "1.0", "tests")
    x = session.xenapi
    erp = x.VM.get_by_name_label("legacy-erp")[0]
    x.VM.destroy(erp)
    dry = bk.RestoreMetadata(system, sr, vdi, dates[0], "sr", dry_run=True)
    said = dry.execute(RunContext(conn))
    assert said.startswith("1 VM(s) would be imported") and dry.would_import
    assert not x.VM.get_by_name_label("legacy-erp")  # a dry run changes nothing
    real = bk.RestoreMetadata(system, sr, vdi, dates[0], "sr", False, dry_run_said=said)
    assert "dry run said" in real.plan().summary
    assert real.execute(RunContext(conn)).startswith("1 VM(s) imported")
    back = x.VM.get_by_name_label("legacy-erp")
    assert back and x.VM.get_power_state(back[0]) == "Halted"
    disks = [x.VBD.get_VDI(b) for b in x.VM.get_VBDs(back[0])]
    assert disks and all(x.VDI.get_name_label(d) == "legacy-erp disk 0" for d in disks)
    again = bk.RestoreMetadata(system, sr, vdi, dates[0], "sr", dry_run=True)
    again.execute(RunContext(conn))
    assert not again.would_import  # everything is there now


def test_schedule_is_the_cron_link(dom0):
    _running, system, conn = dom0
    assert bk.schedule(system) == "never"
    bk.SetSchedule(system, "weekly").execute(RunContext(conn))
    link = system.path("etc/cron.weekly/backup-metadata")
    assert link.is_symlink() and str(link.readlink()).endswith("backup-metadata-cron")
    assert bk.schedule(system) == "weekly"
    bk.SetSchedule(system, "daily").execute(RunContext(conn))
    assert not link.is_symlink() and bk.schedule(system) == "daily"
    bk.SetSchedule(system, "never").execute(RunContext(conn))
    assert bk.schedule(system) == "never"
    with pytest.raises(InvalidInput):
        bk.SetSchedule(system, "hourly")
