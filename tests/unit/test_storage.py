"""Storage end to end over real HTTP: the NFS server's exports probed, an
NFS SR created on one and attached on every host, detached, forgotten,
destroyed; refusals before any call; storage failures in words."""

import time

import pytest

from tests.waiting import wait_for
from xstui.services import storage as sto
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.host.hosts import guests_on
from xstui.xapi.connection import XapiFailure


@pytest.fixture
def live(connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("pbd"))
    return connection


def row(conn, name):
    return next(r for r in sto.sr_rows(conn.cache) if r.name == name)


def test_rows_say_where_and_how_full(live):
    rows = sto.sr_rows(live.cache)
    assert rows[0].shared and not rows[-1].shared  # shared first
    nfs = row(live, "NFS VM store")
    assert nfs.default and nfs.where == "all hosts" and nfs.thin
    local = [r for r in rows if r.name == "Local storage"]
    assert sorted(r.where for r in local) == ["xcp-a", "xcp-b", "xcp-c"]
    detail = sto.sr_detail(live.cache, nfs.ref)
    assert len(detail.pbds) == 3 and detail.vms and detail.disks


def test_probe_lists_the_exports_and_refuses_in_words(live):
    exports = sto.probe_exports(live, "127.10.2.5")
    assert exports == ["/export/vmstore", "/export/iso", "/export/backups", "/export/vmstore2"]
    assert len(sto.srs_at(live, "127.10.2.5", "/export/vmstore")) == 1
    assert sto.srs_at(live, "127.10.2.5", "/export/backups") == []
    with pytest.raises(XapiFailure) as no_nfs:
        sto.probe_exports(live, "127.10.2.99")
    assert no_nfs.value.code == "SR_BACKEND_FAILURE_108"
    assert "Unable to detect an NFS service" in str(no_nfs.value)
    with pytest.raises(InvalidInput):
        sto.probe_exports(live, "not a host!")


def test_nfs_sr_created_attached_detached_forgotten(live, running_sim):
    conn = live
    calls = conn.calls
    with pytest.raises(InvalidInput):
        sto.CreateNfsSr(conn.cache, "127.10.2.5", "export/backups", "", "5")
    assert conn.calls == calls  # refused before any call
    action = sto.CreateNfsSr(conn.cache, "127.10.2.5", "/export/backups", "Backups", "4")
    assert "device-config:nfsversion=4" in action.plan().xe[0]
    action.execute(RunContext(conn))
    wait_for(lambda: any(r.name == "Backups" for r in sto.sr_rows(conn.cache)))
    backups = row(conn, "Backups")
    assert backups.shared and backups.attached == backups.hosts == 3
    assert sto.srs_at(conn, "127.10.2.5", "/export/backups")
    # forget and destroy want it detached first
    with pytest.raises(InvalidInput, match="detach it first"):
        sto.ForgetSr(conn.cache, backups.ref)
    sto.DetachSr(conn.cache, backups.ref).execute(RunContext(conn))
    wait_for(lambda: row(conn, "Backups").attached == 0)
    assert row(conn, "Backups").where == "detached"
    sto.AttachSr(conn.cache, backups.ref).execute(RunContext(conn))
    wait_for(lambda: row(conn, "Backups").attached == 3)
    sto.DetachSr(conn.cache, backups.ref).execute(RunContext(conn))
    wait_for(lambda: row(conn, "Backups").attached == 0)
    sto.ForgetSr(conn.cache, backups.ref).execute(RunContext(conn))
    wait_for(lambda: all(r.name != "Backups" for r in sto.sr_rows(conn.cache)))
    assert not [p for p in running_sim.sim.store.table("PBD").values() if p["SR"] == backups.ref]


def test_detach_refused_while_running_vms_use_it(live):
    nfs = row(live, "NFS VM store")
    with pytest.raises(InvalidInput, match="running VMs have disks"):
        sto.DetachSr(live.cache, nfs.ref)


def test_destroy_lists_the_vms_and_wants_the_name(live, xapi):
    conn = live
    local_c = next(r for r in sto.sr_rows(conn.cache) if r.where == "xcp-c")
    # halt what runs on xcp-c's local SR, then detach it
    for name, power in sto.sr_detail(conn.cache, local_c.ref).vms:
        if power == "Running":
            xapi.xenapi.VM.hard_shutdown(xapi.xenapi.VM.get_by_name_label(name)[0])
    wait_for(lambda: all(p != "Running" for _, p in sto.sr_detail(conn.cache, local_c.ref).vms))
    sto.DetachSr(conn.cache, local_c.ref).execute(RunContext(conn))
    wait_for(lambda: next(r for r in sto.sr_rows(conn.cache) if r.ref == local_c.ref).attached == 0)
    action = sto.DestroySr(conn.cache, local_c.ref)
    plan = action.plan()
    assert plan.risk == "high" and plan.confirm_word == "Local storage"
    assert "lose their disks" in plan.impact[0]
    action.execute(RunContext(conn))
    wait_for(lambda: all(r.ref != local_c.ref for r in sto.sr_rows(conn.cache)))


def test_default_sr_set_and_refused_for_a_local_one_or_an_iso_library(live, running_sim):
    conn = live
    local = next(r for r in sto.sr_rows(conn.cache) if not r.shared)
    with pytest.raises(InvalidInput, match="local"):
        sto.SetDefaultSr(conn.cache, local.ref)
    nfs = row(conn, "NFS VM store")
    with pytest.raises(InvalidInput, match="already"):
        sto.SetDefaultSr(conn.cache, nfs.ref)
    # issue 27: an ISO library holds no VM disks; the key is dimmed with the same words
    iso = row(conn, "ISO library")
    with pytest.raises(InvalidInput, match="ISO library is an ISO library: the default SR holds"):
        sto.SetDefaultSr(conn.cache, iso.ref)
    assert sto.SetDefaultSr.refusal_on(conn.cache, iso.ref).startswith("ISO library is an ISO")
    # trial s12 item 20: the default SR already: dimmed with the words building says
    assert (
        sto.SetDefaultSr.refusal_on(conn.cache, nfs.ref) == "NFS VM store is the default SR already"
    )
    st, ref = running_sim.sim.store, running_sim.sim.pool
    st.set("pool", ref, default_SR="OpaqueRef:NULL", crash_dump_SR="OpaqueRef:NULL")
    wait_for(lambda: not row(conn, "NFS VM store").default, what="no default SR in the cache")
    sto.SetDefaultSr(conn.cache, nfs.ref).execute(RunContext(conn))
    pool = st.get("pool", ref)
    assert pool["default_SR"] == pool["crash_dump_SR"] == nfs.ref


def test_an_iso_library_is_forgotten_never_destroyed(live, running_sim):
    """Issue 27: SR.destroy of an ISO SR deletes nothing on the share (the
    ISO storage manager's delete does nothing): Destroy refuses and points to
    Forget, whose plan says the files stay."""
    conn = live
    iso = row(conn, "ISO library")
    with pytest.raises(InvalidInput, match="delete nothing on the share; forget it instead"):
        sto.DestroySr(conn.cache, iso.ref)
    assert "forget it instead (f)" in sto.DestroySr.refusal_on(conn.cache, iso.ref)
    assert not sto.DestroySr.refusal_on(conn.cache, row(conn, "NFS VM store").ref)
    detach = sto.DetachSr(conn.cache, iso.ref)
    assert detach.why_not(conn) == ""  # the session's own check (RBAC), as the console asks it
    assert "(its ISO files stay)" in detach.execute(RunContext(conn))
    wait_for(lambda: not row(conn, "ISO library").attached, what="the ISO library detached")
    forget = sto.ForgetSr(conn.cache, iso.ref)
    plan = forget.plan()
    assert "the ISO files stay on the share 127.10.2.5:/export/iso, untouched" in plan.summary
    assert plan.xe == [f"xe sr-forget uuid={forget.uuid}"] and plan.risk == "low"
    forget.execute(RunContext(conn))
    st = running_sim.sim.store
    wait_for(lambda: all(r.name != "ISO library" for r in sto.sr_rows(conn.cache)))
    assert st.on_storage[forget.uuid][1] == {"location": "127.10.2.5:/export/iso"}


def test_multipath_the_books_way(live, running_sim, xapi):
    conn = live
    with pytest.raises(InvalidInput, match="maintenance"):
        sto.EnableMultipath(conn.cache, "xcp-a")  # VMs run there
    xcp_c = next(h.ref for h in conn.cache.table("host").values() if h.name_label == "xcp-c")
    x = xapi.xenapi
    for vm in x.host.get_resident_VMs(xcp_c):
        if not x.VM.get_is_control_domain(vm):
            x.VM.hard_shutdown(vm)
    wait_for(lambda: not guests_on(conn.cache, xcp_c))
    assert not sto.multipath_state(conn.cache)["xcp-c"]
    action = sto.EnableMultipath(conn.cache, "xcp-c")
    assert [x.split()[1] for x in action.plan().xe] == [
        "host-disable",
        "host-param-set",
        "host-enable",
    ]
    action.execute(RunContext(conn))
    rec = running_sim.sim.store.get("host", xcp_c)
    assert rec["enabled"] and rec["other_config"]["multipathhandle"] == "dmp"
    wait_for(lambda: sto.multipath_state(conn.cache)["xcp-c"])


def test_iscsi_discovery_then_sr(live, running_sim):
    conn = live
    with pytest.raises(XapiFailure) as no_chap:
        sto.iscsi_iqns(conn, sto.iscsi_config("127.10.2.6"))
    assert no_chap.value.code == "SR_BACKEND_FAILURE_68" and "CHAP" in str(no_chap.value)
    with pytest.raises(InvalidInput, match="CHAP needs both"):
        sto.iscsi_config("127.10.2.6", "xen", "")
    config = sto.iscsi_config("127.10.2.6", "xen", "Chap-Demo-1")
    iqns = sto.iscsi_iqns(conn, config)
    assert iqns == ["iqn.2026-11.example.lab:storage.target0"]
    luns = sto.iscsi_luns(conn, config, iqns[0])
    assert [lun.lun for lun in luns] == ["0", "1"] and luns[0].size == 2048 << 30
    with pytest.raises(InvalidInput, match="choose a LUN"):
        sto.CreateBlockSr(conn.cache, "lvmoiscsi", {**config, "targetIQN": iqns[0]}, "SAN")
    action = sto.CreateBlockSr(
        conn.cache, "lvmoiscsi", {**config, "targetIQN": iqns[0], "SCSIid": luns[1].scsi_id}, "SAN"
    )
    plan = action.plan()
    assert plan.risk == "high" and "chappassword=******" in plan.xe[0]
    assert "Chap-Demo-1" not in " ".join(plan.xe) + repr(action)
    action.execute(RunContext(conn))
    wait_for(lambda: any(r.name == "SAN" for r in sto.sr_rows(conn.cache)))
    san = row(conn, "SAN")
    assert san.shared and san.attached == 3 and san.size == 1024 << 30
    again = sto.CreateBlockSr(
        conn.cache, "lvmoiscsi", {**config, "targetIQN": iqns[0], "SCSIid": luns[1].scsi_id}, "B"
    )
    with pytest.raises(Exception, match="in use"):
        again.execute(RunContext(conn))


def test_hba_and_local_disks(live):
    conn = live
    luns = sto.hba_luns(conn)
    assert len(luns) == 2 and luns[0].path.startswith("/dev/")
    sto.CreateBlockSr(conn.cache, "lvmohba", {"SCSIid": luns[0].scsi_id}, "FC").execute(
        RunContext(conn)
    )
    xcp_b = next(h.ref for h in conn.cache.table("host").values() if h.name_label == "xcp-b")
    with pytest.raises(InvalidInput, match="software RAID"):
        sto.CreateBlockSr(conn.cache, "lvm", {"device": "/dev/md0"}, "R", xcp_b)
    with pytest.raises(Exception, match="Root system device"):
        sto.CreateBlockSr(conn.cache, "lvm", {"device": "/dev/sda"}, "R", xcp_b).execute(
            RunContext(conn)
        )
    sto.CreateBlockSr(conn.cache, "ext", {"device": "/dev/sdb"}, "Backups", xcp_b).execute(
        RunContext(conn)
    )
    wait_for(lambda: any(r.name == "Backups" for r in sto.sr_rows(conn.cache)))
    backups = row(conn, "Backups")
    assert not backups.shared and backups.where == "xcp-b" and backups.thin
    wait_for(lambda: any(r.name == "FC" for r in sto.sr_rows(conn.cache)))
    assert row(conn, "FC").shared


def test_health_says_where_an_sr_is_missing(live, running_sim):
    conn = live
    nfs = row(conn, "NFS VM store")
    pbd = next(
        p
        for p in running_sim.sim.store.table("PBD")
        if running_sim.sim.store.get("PBD", p)["SR"] == nfs.ref
    )
    running_sim.sim.store.set("PBD", pbd, currently_attached=False)
    wait_for(lambda: row(conn, "NFS VM store").attached == 2)
    texts = [f.text for f in sto.health(conn.cache, time.time())]
    assert any("NFS VM store is attached on 2 of 3 hosts" in t for t in texts)


def test_a_forgotten_sr_is_found_and_attached_again(live, running_sim):
    conn = live
    sto.CreateNfsSr(conn.cache, "127.10.2.5", "/export/vmstore2", "Second", "3").execute(
        RunContext(conn)
    )
    wait_for(lambda: any(r.name == "Second" for r in sto.sr_rows(conn.cache)))
    second = row(conn, "Second")
    uuid = conn.cache.get("sr", second.ref).uuid
    assert sto.unknown_srs_at(conn, "127.10.2.5", "/export/vmstore2") == []
    sto.DetachSr(conn.cache, second.ref).execute(RunContext(conn))
    wait_for(lambda: row(conn, "Second").attached == 0)
    sto.ForgetSr(conn.cache, second.ref).execute(RunContext(conn))
    wait_for(lambda: all(r.name != "Second" for r in sto.sr_rows(conn.cache)))
    assert sto.unknown_srs_at(conn, "127.10.2.5", "/export/vmstore2") == [uuid]
    target = sto.NfsTarget("127.10.2.5", "/export/vmstore2", "3")
    action = sto.AttachExistingNfsSr(conn.cache, target, uuid, "Second again")
    assert action.plan().xe[0].startswith(f"xe sr-introduce uuid={uuid}")
    action.execute(RunContext(conn))
    wait_for(lambda: any(r.name == "Second again" for r in sto.sr_rows(conn.cache)))
    back = row(conn, "Second again")
    assert back.attached == back.hosts == 3 and conn.cache.get("sr", back.ref).uuid == uuid
    with pytest.raises(InvalidInput, match="knows the SR"):
        sto.AttachExistingNfsSr(conn.cache, target, uuid, "Third")


def test_rescan_and_the_disks_of_an_sr(live):
    conn = live
    nfs = row(conn, "NFS VM store")
    detail = sto.sr_detail(conn.cache, nfs.ref)
    assert len(detail.vdis) == detail.disks and detail.vdis[0][1] >= detail.vdis[-1][1]
    assert sto.RescanSr(conn.cache, nfs.ref).execute(RunContext(conn)).endswith("rescanned.")
    sto.CreateNfsSr(conn.cache, "127.10.2.5", "/export/backups", "Spare", "3").execute(
        RunContext(conn)
    )
    wait_for(lambda: any(r.name == "Spare" for r in sto.sr_rows(conn.cache)))
    sto.DetachSr(conn.cache, row(conn, "Spare").ref).execute(RunContext(conn))
    wait_for(lambda: row(conn, "Spare").attached == 0)
    with pytest.raises(InvalidInput, match="attach it first"):
        sto.RescanSr(conn.cache, row(conn, "Spare").ref)


def test_a_snapshots_disk_is_said_to_be_one(live):
    """A trial: F9 listed "app-02 disk 0 80 GiB" three times (two were its
    snapshots' disks, named as XAPI names them, after the VM's)."""
    from xstui.services import vms

    conn = live
    app = next(v.ref for v in conn.cache.table("vm").values() if v.name_label == "app-02")
    vms.TakeSnapshot(conn.cache, app, "before the upgrade").execute(RunContext(conn))
    (disk,) = [
        d.name_label
        for d in conn.cache.table("vdi").values()
        if any(b.VDI == d.ref and b.VM == app for b in conn.cache.table("vbd").values())
    ]

    def listed() -> list[str]:
        sr = next(d.SR for d in conn.cache.table("vdi").values() if d.name_label == disk)
        return [name for name, _, _ in sto.sr_detail(conn.cache, sr).vdis if disk in name]

    wait_for(lambda: len(listed()) == 2, what="the snapshot's disk on the SR")
    assert sorted(listed()) == [disk, f"{disk} (snapshot)"]


def test_a_disk_that_holds_an_sr_says_which(live):
    """Issue 27, item 9: a local SR's disk list marks a disk that holds an SR
    and names it (name, type, known to the pool or not, attached); the pool's
    own is refused, another one makes the plan high-risk, confirmed by
    typing the disk's path."""
    conn = live
    xcp_b = next(h.ref for h in conn.cache.table("host").values() if h.name_label == "xcp-b")
    disks = sto.local_disks(conn, xcp_b)
    assert [(d.path, d.holds) for d in disks] == [("/dev/sdb", ())]  # not the system disk
    assert disks[0].label == "/dev/sdb  1.7 TiB"
    sto.CreateBlockSr(conn.cache, "lvm", {"device": "/dev/sdb"}, "Old local", xcp_b).execute(
        RunContext(conn)
    )
    wait_for(lambda: any(r.name == "Old local" for r in sto.sr_rows(conn.cache)))
    old = row(conn, "Old local")
    (held,) = sto.local_disks(conn, xcp_b)[0].holds
    assert (held.name, held.type, held.known, held.attached) == ("Old local", "lvm", True, True)
    with pytest.raises(InvalidInput) as in_use:
        sto.CreateBlockSr(conn.cache, "ext", {"device": "/dev/sdb"}, "B", xcp_b, (held,))
    assert "/dev/sdb holds the SR Old local (lvm, 1.7 TiB) of this pool, attached" in str(
        in_use.value
    )
    sto.DetachSr(conn.cache, old.ref).execute(RunContext(conn))
    wait_for(lambda: row(conn, "Old local").attached == 0)
    assert sto.disk_holds(conn, xcp_b, "/dev/sdb")[0].said().endswith("of this pool, detached")
    sto.ForgetSr(conn.cache, old.ref).execute(RunContext(conn))
    wait_for(lambda: all(r.name != "Old local" for r in sto.sr_rows(conn.cache)))
    (disk,) = sto.local_disks(conn, xcp_b)
    assert disk.label == "/dev/sdb  1.7 TiB  ! holds Old local"
    (held,) = disk.holds
    assert (held.name, held.known) == ("Old local", False)  # the name its metadata keeps
    plan = sto.CreateBlockSr(
        conn.cache, "ext", {"device": "/dev/sdb"}, "Backups", xcp_b, disk.holds
    ).plan()
    assert (plan.risk, plan.confirm_word) == ("high", "/dev/sdb")
    assert plan.impact[0] == (
        "/dev/sdb holds the SR Old local (lvm, 1.7 TiB), unknown to this pool "
        "(forgotten, or another pool's): it is erased with every disk on it"
    )
    assert "erasing 1 SR(s) found there" in plan.summary
    free = sto.CreateBlockSr(conn.cache, "ext", {"device": "/dev/sdc"}, "Spare", xcp_b).plan()
    assert free.risk == "medium" and "Old local" not in " ".join(free.impact)
    # made there, the new SR took the disk: the forgotten one is gone from it
    sto.CreateBlockSr(
        conn.cache, "ext", {"device": "/dev/sdb"}, "Backups", xcp_b, disk.holds
    ).execute(RunContext(conn))
    wait_for(lambda: any(r.name == "Backups" for r in sto.sr_rows(conn.cache)))
    (now,) = sto.disk_holds(conn, xcp_b, "/dev/sdb")
    assert (now.name, now.type, now.known) == ("Backups", "ext", True)
