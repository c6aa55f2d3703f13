"""Reliability: a VM backup with the connection dropped at each of its
writes (before the host acts, and after it acted but before the reply). The
backup either completes (a checked XVA, no snapshot left) or fails in words
with no file and no snapshot left behind, or says which snapshot it could
not remove: never a silent leftover, never half a file."""

from __future__ import annotations

import pytest

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.services import backup as bk
from xstui.services.actions import ActionFailed, RunContext
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target

WRITES = ["Async.VM.snapshot", "VM.set_is_a_template", "VM.destroy", "VDI.destroy"]
DROPS = [(m, when) for m in WRITES for when in ("before", "after")]


@pytest.mark.parametrize("method,when", DROPS, ids=[f"{m}-{w}" for m, w in DROPS])
def test_backup_survives_a_drop(running_sim, tmp_path, method, when):
    sim = running_sim.sim
    conn = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    conn.login()
    conn.start_events()
    try:
        wait_for(lambda: conn.cache.table("vdi"))
        vm = next(v.ref for v in conn.cache.table("vm").values() if v.name_label == "web-01")
        vdis_before = set(sim.store.table("VDI"))
        path = tmp_path / "web-01.xva"
        sim.inject_drop(method, when)
        try:
            outcome = bk.BackupVm(conn.cache, vm, str(path)).execute(RunContext(conn))
        except ActionFailed as failed:
            report = failed.undo_report()
            assert not path.exists(), "a failed backup left its file"
            leftovers = sim.store.get("VM", vm)["snapshots"]
            assert not leftovers or "could not" in report, report
        else:
            assert bk.check_xva(path).disks == 1
            leftovers = sim.store.get("VM", vm)["snapshots"]
            assert not leftovers or "could not be removed" in outcome, outcome
        assert not list(tmp_path.glob(".*"))  # no temporary file left
        st = sim.store
        if not st.get("VM", vm)["snapshots"]:
            assert set(st.table("VDI")) == vdis_before  # no orphan disk either
    finally:
        conn.close()
