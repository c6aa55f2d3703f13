"""Backup and restore end to end over real HTTP: the pool database dumped,
the pool changed, the dry run showing the difference, the restore bringing
the pool back; a running VM exported to a checked XVA with no snapshot left;
a broken transfer leaving no file behind; host backups from a member."""

import os
import stat
import tarfile
from pathlib import Path

import pytest
import XenAPI

from tests.waiting import wait_for
from xstui.services import backup as bk
from xstui.services.actions import ActionFailed, InvalidInput, RunContext
from xstui.xapi.transfer import TransferFailed, download


@pytest.fixture
def live(connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("vdi"))
    return connection


def vm_names(conn) -> set[str]:
    with conn.cache.lock:  # the event thread changes the table meanwhile
        return {v.name_label for v in conn.cache.table("vm").values()}


def vm_named(cache, name):
    return next(v.ref for v in cache.table("vm").values() if v.name_label == name)


def test_dump_change_dry_run_restore(live, running_sim, xapi, tmp_path):
    conn = live
    path = tmp_path / "pool.db"
    outcome = bk.DumpDatabase(conn.cache, str(path)).execute(RunContext(conn))
    assert path.exists() and str(path) in outcome
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # the database holds secrets
    assert not list(tmp_path.glob(".*"))  # no temporary file left
    with pytest.raises(InvalidInput):
        bk.DumpDatabase(conn.cache, str(path))  # never overwritten
    # the pool changes after the dump: a halted VM is deleted, another renamed
    x = xapi.xenapi
    erp = x.VM.get_by_name_label("legacy-erp")[0]
    x.VM.destroy(erp)
    x.VM.set_name_label(x.VM.get_by_name_label("sandbox")[0], "sandbox-2")
    wait_for(lambda: "sandbox-2" in vm_names(conn), what="the rename seen")
    summary = bk.summarize(path)
    now = bk.pooldb.current(conn.cache)
    changes = bk.compare(summary, now)
    assert ("VM", "legacy-erp", "comes back") in changes
    assert ("VM", "sandbox", "comes back") in changes
    assert ("VM", "sandbox-2", "goes away") in changes
    assert summary.names["SR"]["Local storage"] == 3  # one per host, counted
    bk.dry_run(RunContext(conn), path)  # accepted, and nothing changed
    assert "sandbox-2" in {v.name_label for v in conn.cache.table("vm").values()}
    action = bk.RestoreDatabase(conn.cache, path, changes)
    plan = action.plan()
    assert plan.risk == "high" and plan.confirm_word == "Demo Pool"
    assert "dry-run=false" in plan.xe[0]
    loads = conn.cache.loads
    action.execute(RunContext(conn))
    # the toolstack restarts; the console reconnects and loads the dumped pool
    wait_for(
        lambda: conn.cache.loads > loads and conn.state == "connected",
        what="the pool loaded again after the restart",
    )
    wait_for(lambda: "legacy-erp" in vm_names(conn), what="the dumped pool seen")
    assert bk.compare(summary, bk.pooldb.current(conn.cache)) == []


def test_a_file_that_is_not_a_database_is_refused(live, tmp_path):
    conn = live
    path = tmp_path / "pool.db"
    bk.DumpDatabase(conn.cache, str(path)).execute(RunContext(conn))
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(InvalidInput):
        bk.summarize(truncated)
    with pytest.raises(Exception) as refused:
        bk.dry_run(RunContext(conn), truncated)
    assert "not a pool database" in str(refused.value)
    other = tmp_path / "other.db"
    other.write_text(path.read_text().replace('device="eth0"', 'device="eth9"'))
    with pytest.raises(Exception) as missing:
        bk.dry_run(RunContext(conn), other)
    assert "RESTORE_TARGET" in str(missing.value) or "eth" in str(missing.value)


def test_vm_backup_without_downtime(live, running_sim, tmp_path):
    conn = live
    vm = vm_named(conn.cache, "dc-01")
    vms_before = len(running_sim.sim.store.table("VM"))
    vdis_before = len(running_sim.sim.store.table("VDI"))
    path = tmp_path / "dc-01.xva"
    action = bk.BackupVm(conn.cache, vm, str(path))
    assert "xe vm-export" in " ".join(action.plan().xe)
    outcome = action.execute(RunContext(conn))
    assert "checked" in outcome
    report = bk.check_xva(path)
    assert report.disks == 1 and report.vm_name.startswith("dc-01")
    vdi = next(
        running_sim.sim.store.get("VDI", v)
        for v in running_sim.sim.store.table("VDI")
        if running_sim.sim.store.get("VDI", v)["name_label"] == "dc-01 disk 0"
    )
    expected = int(vdi["physical_utilisation"] * running_sim.sim.data_scale) // (1 << 20)
    assert report.blocks == expected
    with tarfile.open(path) as tar:
        assert tar.getnames()[0] == "ova.xml"
    st = running_sim.sim.store
    assert st.get("VM", vm)["power_state"] == "Running"  # no downtime
    assert len(st.table("VM")) == vms_before and len(st.table("VDI")) == vdis_before
    assert st.get("VM", vm)["snapshots"] == []


def test_a_corrupt_or_cut_xva_is_detected(live, tmp_path):
    conn = live
    path = tmp_path / "web.xva"
    bk.BackupVm(conn.cache, vm_named(conn.cache, "web-01"), str(path)).execute(RunContext(conn))
    data = bytearray(path.read_bytes())
    corrupt = tmp_path / "corrupt.xva"
    with tarfile.open(path) as tar:
        first = tar.getmember("Ref:1/00000000").offset_data
    data[first + 100] ^= 0xFF  # inside the first block's data
    corrupt.write_bytes(bytes(data))
    with pytest.raises(bk.xva.BadXva, match="checksum"):
        bk.check_xva(corrupt)
    cut = tmp_path / "cut.xva"
    cut.write_bytes(path.read_bytes()[: len(data) // 2])
    with pytest.raises(bk.xva.BadXva):
        bk.check_xva(cut)


def test_a_garbled_export_stops_at_the_bad_block_and_keeps_nothing(live, running_sim, tmp_path):
    """The checksums are checked as the export streams: a garbled block stops
    it there (not after the whole file), no file and no snapshot are left."""
    conn = live
    st = running_sim.sim.store
    running_sim.sim.garbled_block = 2
    try:
        path = tmp_path / "web.xva"
        action = bk.BackupVm(conn.cache, vm_named(conn.cache, "web-01"), str(path))
        notes: list[str] = []
        with pytest.raises(ActionFailed, match="not usable: .*checksum.*the file was removed"):
            action.execute(RunContext(conn, note=notes.append))
    finally:
        running_sim.sim.garbled_block = None
    received = [float(n.split()[0]) for n in notes if n.endswith("MiB received")]
    vdi = next(
        st.get("VDI", v)
        for v in st.table("VDI")
        if st.get("VDI", v)["name_label"] == "web-01 disk 0"
    )
    blocks = int(vdi["physical_utilisation"] * running_sim.sim.data_scale) // (1 << 20)
    # stopped at block 2 (1 MiB each), not at the disk's end
    assert received and received[-1] <= 4 < blocks
    assert not list(tmp_path.glob("*.xva")) and not list(tmp_path.glob(".*"))
    assert st.get("VM", vm_named(conn.cache, "web-01"))["snapshots"] == []


def test_a_broken_export_leaves_no_file_and_no_snapshot(live, running_sim, tmp_path):
    conn = live
    sim = running_sim.sim
    sim.data_scale = 1 / 8  # big enough to be cut in the middle
    vm = vm_named(conn.cache, "proxy-01")
    path = tmp_path / "proxy.xva"
    action = bk.BackupVm(conn.cache, vm, str(path))
    real_download = bk.transfers.download
    cut = []

    def cutting(*args, **kwargs):
        progress = kwargs.pop("progress")

        def and_cut(done):
            progress(done)
            if done > (4 << 20) and not cut:  # the connections drop mid-way
                cut.append(done)
                for listener in running_sim.server.listeners:
                    listener.server.drop_connections()

        return real_download(*args, progress=and_cut, **kwargs)

    bk.transfers.download = cutting
    try:
        with pytest.raises(ActionFailed) as failed:
            action.execute(RunContext(conn))
    finally:
        bk.transfers.download = real_download
    assert cut and "partial file was removed" in str(failed.value)
    assert not path.exists() and not list(tmp_path.glob(".*"))  # no temporary file left
    wait_for(lambda: conn.state == "connected", what="connected again")
    st = sim.store
    wait_for(lambda: st.get("VM", vm)["snapshots"] == [], what="the snapshot undone")


def test_host_backup_from_a_member(live, running_sim, tmp_path):
    conn = live
    member = next(h.ref for h in conn.cache.table("host").values() if h.name_label == "xcp-b")
    path = tmp_path / "xcp-b.xbk"
    action = bk.HostBackup(conn.cache, member, str(path))
    assert action.plan().xe[0].startswith("xe host-backup host=")
    action.execute(RunContext(conn))
    with tarfile.open(path) as tar:
        assert "var/lib/xcp/state.db" in tar.getnames()


def test_metadata_export(live, tmp_path):
    conn = live
    vms = [vm_named(conn.cache, "web-01"), vm_named(conn.cache, "web-02")]
    paths = bk.export_metadata(conn, vms, tmp_path)
    assert len(paths) == 2
    with tarfile.open(paths[0]) as tar:
        assert tar.getnames() == ["ova.xml"]


def test_a_refused_download_says_why(live, tmp_path):
    with pytest.raises(TransferFailed, match="UUID_INVALID"):
        download(live, "/export", {"uuid": "no-such-vm"}, tmp_path / "x.xva")
    assert not list(tmp_path.iterdir())


def test_the_xapi_client_sees_the_same_export(running_sim, xapi):
    """The simulator's /export refuses a running VM, as XAPI does."""
    import urllib.error
    import urllib.request

    x = xapi.xenapi
    vm = x.VM.get_by_name_label("dc-01")[0]
    url = f"{running_sim.url}/export?session_id={xapi._session}&uuid={x.VM.get_uuid(vm)}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)
    assert b"VM_BAD_POWER_STATE" in refused.value.read()
    assert isinstance(xapi, XenAPI.Session)


def test_metadata_export_then_import_with_preview(live, xapi, tmp_path):
    conn = live
    x = xapi.xenapi
    vms = [vm_named(conn.cache, "legacy-erp"), vm_named(conn.cache, "web-01")]
    paths = bk.export_metadata(conn, vms, tmp_path)
    files = [bk.read_metadata(conn.cache, p) for p in paths]
    assert all(f.exists for f in files)
    with pytest.raises(InvalidInput):
        bk.ImportMetadata(files)  # nothing to bring back
    x.VM.destroy(x.VM.get_by_name_label("legacy-erp")[0])
    wait_for(lambda: "legacy-erp" not in vm_names(conn), what="the VM gone")
    files = [bk.read_metadata(conn.cache, p) for p in paths]
    action = bk.ImportMetadata(files)
    assert [f.vm_name for f in action.files] == ["legacy-erp"]
    assert "already in the pool: web-01" in " ".join(action.plan().impact)
    action.execute(RunContext(conn))
    back = x.VM.get_by_name_label("legacy-erp")
    assert back and x.VM.get_uuid(back[0]) == files[0].vm_uuid
    broken = tmp_path / "broken.meta.xva"
    broken.write_bytes(b"not a tar")
    with pytest.raises(InvalidInput):
        bk.read_metadata(conn.cache, broken)


def test_a_file_that_cannot_be_made_is_said_before_anything_is_asked(live, monkeypatch):
    """Permissions can say yes where the file system says no (/sys, even for
    root): the file is tried for real before the host is asked for anything."""
    conn, calls = live, []
    real_call = conn.call
    monkeypatch.setattr(
        conn, "call", lambda method, *args: calls.append(method) or real_call(method, *args)
    )
    action = bk.DumpDatabase.__new__(bk.DumpDatabase)  # past the form's check
    action.path, action.pool = Path("/sys/pool.db"), "Demo Pool"
    with pytest.raises(
        ActionFailed, match="/sys/pool.db cannot be written .*nothing was transferred"
    ):
        action.execute(RunContext(conn))
    assert "task.create" not in calls  # no task, no request
