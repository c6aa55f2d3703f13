"""Reliability: the disaster recovery with the connection dropped at each of
its writes (before the host acts, and after it acted but before the reply).
The recovery pool ends whole (the SR attached on every host, the VMs
recovered, each started or named as not started) or as it was (no SR, no
VM), and what the console says tells which: never half a recovery unsaid."""

from __future__ import annotations

import pytest

from tests.unit.test_dr import WHERE, dr_conn, dr_sim, user_vms  # noqa: F401 (fixtures)
from xstui.services import backup as bk
from xstui.services.actions import ActionFailed, RunContext

ATTACH = ["Async.SR.introduce", "Async.PBD.create", "Async.PBD.plug", "Async.SR.scan"]
RECOVER = ["Async.VDI.open_database", "Async.VM_appliance.recover", "Async.VM.recover"]
START = ["Async.VM.start"]
DROPS = [(m, when) for m in ATTACH + RECOVER + START for when in ("before", "after")]
VMS = {"dns-01", "shop-db", "shop-web", "intranet"}


def sr_state(sim, uuid: str) -> str:
    """ "whole": attached on every host; "as it was": unknown to the pool."""
    st = sim.store
    ref = st.by_uuid["SR"].get(uuid)
    if ref is None:
        return "as it was"
    pbds = [st.get("PBD", p) for p in st.get("SR", ref)["PBDs"]]
    whole = len(pbds) == len(st.table("host")) and all(p["currently_attached"] for p in pbds)
    return "whole" if whole and st.get("SR", ref)["VDIs"] else "half"


@pytest.mark.parametrize("method,when", DROPS, ids=[f"{m}-{w}" for m, w in DROPS])
def test_the_recovery_survives_a_drop(dr_sim, dr_conn, method, when):  # noqa: F811
    sim, conn = dr_sim.sim, dr_conn
    found = bk.find_srs(conn, bk.search(WHERE))[0]
    sim.inject_drop(method, when)
    try:
        said = bk.attach_found(conn.cache, found, found.name).execute(RunContext(conn))
    except ActionFailed as failed:
        report = failed.undo_report()
        assert method not in sim.drops  # the connection did drop there
        assert sr_state(sim, found.uuid) == "as it was", report
        assert "as it was" in report or "Nothing had been changed" in report, report
        return
    assert sr_state(sim, found.uuid) == "whole" and "attached again" in said
    db = bk.open_metadata(conn, found.uuid)
    try:
        said = bk.RecoverVms(conn.cache, db, db.recoverable()).execute(RunContext(conn))
    except ActionFailed as failed:
        report = failed.undo_report()
        assert method not in sim.drops
        assert user_vms(sim) == {}, report
        assert not sim.store.table("VM_appliance")
        assert "as it was" in report or "Nothing had been changed" in report, report
        return
    assert method not in sim.drops  # the connection did drop there
    vms = user_vms(sim)
    assert set(vms) == VMS, said  # whole: every VM chosen is here
    for name, power in vms.items():  # each started, or said not to be
        assert power == "Running" or f"{name} (" in said.split("did not start:")[-1], said
    assert sim.foreign_sessions == {}  # the database's session was logged out
