"""Disaster recovery from a portable SR (issue 29): on the recovery pool of
the dr scenario, the production pool's iSCSI SR is found on a replicated
LUN, attached, its metadata VDI's database read, and the VMs and vApps
chosen recovered and started in order; the simulator answers the DR calls
with the datamodel's errors."""

from __future__ import annotations

import pytest
import XenAPI

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.services import backup as bk
from xstui.services.actions import ActionFailed, InvalidInput, RunContext
from xstui.xapi import views
from xstui.xapi.connection import Connection, XapiFailure
from xstui.xapi.targets import parse_target

WHERE = {"storage": "iSCSI", "target": "127.31.2.6", "chapuser": "dr", "chappassword": "Chap-Dr-1"}


@pytest.fixture
def dr_sim():
    from xstui.sim.runner import start_simulator

    running = start_simulator("dr", task_delay=0.01)
    running.sim.time_scale = 0.05
    yield running
    running.close()


@pytest.fixture
def dr_conn(dr_sim):
    conn = Connection(parse_target(dr_sim.url), "root", dr_sim.password, watch=watched_types())
    conn.login()
    conn.start_events()
    wait_for(lambda: conn.cache.table("host"))
    yield conn
    conn.close()


def attached(conn: Connection) -> bk.FoundSr:
    wait_for(lambda: conn.cache.table("host"), what="the pool's hosts in the cache")
    found = bk.find_srs(conn, bk.search(WHERE))
    bk.attach_found(conn.cache, found[0], found[0].name).execute(RunContext(conn))
    wait_for(lambda: any(sr.uuid == found[0].uuid for sr in conn.cache.table("sr").values()))
    return found[0]


def user_vms(sim) -> dict[str, str]:
    return {
        v["name_label"]: v["power_state"]
        for v in sim.store.table("VM").values()
        if not (v["is_a_template"] or v["is_control_domain"])
    }


def test_the_search_is_checked_before_any_call():
    with pytest.raises(InvalidInput, match="give the iSCSI target"):
        bk.search({**WHERE, "target": ""})
    with pytest.raises(InvalidInput, match="CHAP needs both"):
        bk.search({**WHERE, "chappassword": ""})
    with pytest.raises(InvalidInput, match="CHAP is for iSCSI"):
        bk.search({**WHERE, "storage": "NFS"})
    assert bk.search({"storage": "HBA / Fibre Channel"}).kind == "lvmohba"
    assert "Chap-Dr-1" not in repr(bk.search(WHERE))


def test_the_portable_sr_is_found_attached_and_its_vms_recovered_in_order(dr_sim, dr_conn):
    conn = dr_conn
    found = bk.find_srs(conn, bk.search(WHERE))
    assert [f.label for f in found] == ["Production iSCSI on 127.31.2.6 LUN 0 (2.0 TiB)"]
    assert not found[0].known
    action = bk.attach_found(conn.cache, found[0], found[0].name)
    xe = "\n".join(action.plan().xe)
    assert "xe sr-introduce" in xe and "type=lvmoiscsi" in xe and "xe sr-scan" in xe
    assert "Chap-Dr-1" not in xe and "chappassword=******" in xe
    action.execute(RunContext(conn))
    sr = dr_sim.sim.store.ref_by_uuid("SR", found[0].uuid)
    pbds = [dr_sim.sim.store.get("PBD", p) for p in dr_sim.sim.store.get("SR", sr)["PBDs"]]
    assert len(pbds) == 2 and all(p["currently_attached"] for p in pbds)

    db = bk.open_metadata(conn, found[0].uuid)
    assert db.pool_name == "Production"
    assert db.choices() == [
        "vApp Web shop: shop-db, shop-web",
        "VM build-box (an SR not here)",  # on the lost pool's local storage
        "VM dns-01",
        "VM intranet",
    ]
    assert dr_sim.sim.foreign_sessions == {}  # the database's session was logged out
    with pytest.raises(InvalidInput, match="build-box: its disks are on an SR not attached"):
        bk.RecoverVms(conn.cache, db, ["VM build-box (an SR not here)"])
    recover = bk.RecoverVms(conn.cache, db, db.recoverable(), start=True)
    xe = recover.plan().xe
    assert xe[0].startswith("xe appliance-recover uuid=")
    assert all(f"database:vdi-uuid={db.vdi_uuid}" in line for line in xe[:3])
    outcome = recover.execute(RunContext(conn))
    assert outcome.endswith("started in order: dns-01, shop-db, shop-web, intranet.")
    assert user_vms(dr_sim.sim) == dict.fromkeys(
        ["dns-01", "shop-db", "shop-web", "intranet"], "Running"
    )
    st = dr_sim.sim.store
    assert dr_sim.sim.calls["Async.VM.start"] == 4
    shop = st.get("VM_appliance", st.find_one("VM_appliance", name_label="Web shop"))
    assert sorted(st.get("VM", v)["name_label"] for v in shop["VMs"]) == ["shop-db", "shop-web"]
    wait_for(lambda: len(list(views.user_vms(conn.cache))) == 4)
    # a second recovery of the same VMs is refused before any call, in words
    with pytest.raises(InvalidInput, match="already in this pool: dns-01"):
        bk.RecoverVms(conn.cache, db, ["VM dns-01"])


def test_the_recovered_vms_left_halted_when_asked(dr_sim, dr_conn):
    found = attached(dr_conn)
    db = bk.open_metadata(dr_conn, found.uuid)
    outcome = bk.RecoverVms(dr_conn.cache, db, ["VM intranet"], start=False).execute(
        RunContext(dr_conn)
    )
    assert outcome == "intranet recovered from Production, halted."
    assert user_vms(dr_sim.sim) == {"intranet": "Halted"}


def test_a_failed_recovery_takes_back_what_was_recovered(dr_sim, dr_conn):
    found = attached(dr_conn)
    db = bk.open_metadata(dr_conn, found.uuid)
    dr_sim.sim.inject_failure("Async.VM.recover", ["INTERNAL_ERROR", "injected"], after=1)
    with pytest.raises(ActionFailed) as failed:
        bk.RecoverVms(dr_conn.cache, db, db.recoverable()).execute(RunContext(dr_conn))
    assert "the pool is as it was" in failed.value.undo_report()
    assert user_vms(dr_sim.sim) == {}
    assert not dr_sim.sim.store.table("VM_appliance")


def test_the_simulator_answers_the_dr_calls_as_the_datamodel_says(dr_sim, dr_conn):
    found = bk.find_srs(dr_conn, bk.search(WHERE))[0]
    x = XenAPI.Session(dr_sim.url)
    x.xenapi.login_with_password("root", dr_sim.password, "1.0", "tests")
    try:
        attached(dr_conn)
        sr = x.xenapi.SR.get_by_uuid(found.uuid)
        vdis = {x.xenapi.VDI.get_type(v): v for v in x.xenapi.SR.get_VDIs(sr)}
        with pytest.raises(XenAPI.Failure) as refused:
            x.xenapi.VDI.open_database(vdis["user"])
        assert refused.value.details[0] == "VDI_INCOMPATIBLE_TYPE"
        assert refused.value.details[2] == "metadata"
        meta = vdis["metadata"]
        ours = x.xenapi.pool.get_uuid(x.xenapi.pool.get_all()[0])
        theirs = x.xenapi.VDI.read_database_pool_uuid(meta)
        assert theirs and theirs != ours
        session = x.xenapi.VDI.open_database(meta)
        db = dr_conn.call_as
        pools = db(session, "pool.get_all_records")
        assert [p["name_label"] for p in pools.values()] == ["Production"]
        vms = db(session, "VM.get_all_records")
        local = next(r for r, v in vms.items() if v["name_label"] == "build-box")
        with pytest.raises(XapiFailure) as needs:
            db(session, "VM.assert_can_be_recovered", local, x._session)
        assert needs.value.code == "VM_REQUIRES_SR"
        in_app = next(r for r, v in vms.items() if v["name_label"] == "shop-db")
        with pytest.raises(XapiFailure) as part:
            db(session, "VM.assert_can_be_recovered", in_app, x._session)
        assert part.value.code == "VM_IS_PART_OF_AN_APPLIANCE"
        with pytest.raises(XapiFailure) as read_only:  # the database is read, not written
            db(session, "VM.set_name_label", in_app, "renamed")
        assert read_only.value.code == "OPERATION_NOT_ALLOWED"
        with pytest.raises(XapiFailure) as stale:
            db(session, "VM.recover", in_app, "OpaqueRef:no-such-session", False)
        assert stale.value.code == "SESSION_INVALID"
        with pytest.raises(XapiFailure) as arity:
            db(session, "VM.recover", in_app, x._session)
        assert arity.value.code == "MESSAGE_PARAMETER_COUNT_MISMATCH"
        dns = next(r for r, v in vms.items() if v["name_label"] == "dns-01")
        db(session, "VM.recover", dns, x._session, False)
        with pytest.raises(XapiFailure) as twice:  # a restore of a VM that is there
            db(session, "VM.recover", dns, x._session, False)
        assert twice.value.code == "VM_TO_IMPORT_IS_NOT_NEWER_VERSION"
        db(session, "session.logout")
        assert dr_sim.sim.foreign_sessions == {}
    finally:
        x.xenapi.session.logout()


def test_recovery_needs_a_session_allowed_to_open_the_database(dr_sim, dr_conn):
    """session_to must hold VDI.open_database (pool-operator): a read-only
    user's session is refused, naming the action (Xapi_dr)."""
    found = attached(dr_conn)
    sim = dr_sim.sim
    x = XenAPI.Session(dr_sim.url)
    x.xenapi.login_with_password("root", dr_sim.password, "1.0", "tests")
    try:
        meta = next(
            v
            for v in x.xenapi.SR.get_VDIs(x.xenapi.SR.get_by_uuid(found.uuid))
            if x.xenapi.VDI.get_type(v) == "metadata"
        )
        session = x.xenapi.VDI.open_database(meta)
        reader = sim.store.create(
            "session",
            {"is_local_superuser": False, "rbac_permissions": ["vm.get_all_records"]},
            ref="OpaqueRef:reader",
        )
        vms = dr_conn.call_as(session, "VM.get_all_records")
        dns = next(r for r, v in vms.items() if v["name_label"] == "dns-01")
        with pytest.raises(XapiFailure) as denied:
            dr_conn.call_as(session, "VM.recover", dns, reader, False)
        assert denied.value.details[:2] == ["RBAC_PERMISSION_DENIED", "VM.recover"]
    finally:
        x.xenapi.session.logout()


def test_demo_dr_serves_the_recovery_pool():
    """xstui demo --dr: the console opens on the recovery pool (scenario dr)."""
    from xstui.cli import build_parser
    from xstui.demo import start_demo

    assert build_parser().parse_args(["demo", "--dr"]).dr
    assert not build_parser().parse_args(["demo"]).dr
    demo = start_demo("dr")
    try:
        st = demo.running.sim.store
        assert [p["name_label"] for p in st.table("pool").values()] == ["Recovery Pool"]
        assert len(st.on_storage) == 1 and len(st.databases) == 1
    finally:
        demo.close()
