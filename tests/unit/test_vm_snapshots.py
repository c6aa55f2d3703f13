"""A VM's snapshots end to end over real HTTP against the simulator: the
tree as XAPI links it (parent, children, the VM's own parent: where it is
now), with dates, sizes and kinds; take (a checkpoint keeps the memory),
revert (the current state kept first, or lost: high risk), delete with the
disks it owns, a template made of one, an XVA exported of one; refusals in
words before any call."""

from __future__ import annotations

import pytest

from tests.unit.test_vm_import import ref_of
from tests.waiting import wait_for
from xstui.services import backup as bk
from xstui.services import vms
from xstui.services.actions import ActionFailed, InvalidInput, RunContext
from xstui.services.disks import disk_srs
from xstui.services.vms.snapshots import FAST, FIRST, KEEP


def tree(conn, vm: str) -> list[tuple[str, str]]:
    """(name with its tree lines, kind) of each row."""
    return [(r.name, r.kind) for r in vms.snapshot_rows(conn.cache, vm)]


def take(conn, vm: str, name: str, keep: str = "") -> str:
    vms.TakeSnapshot(conn.cache, vm, name, keep).execute(RunContext(conn))
    return wait_for(lambda: _named(conn, name), what=f"the snapshot {name} seen")


def _named(conn, name: str) -> str | None:
    with conn.cache.lock:
        return next((v.ref for v in conn.cache.table("vm").values() if v.name_label == name), None)


def seen(conn, vm: str, rows: list[tuple[str, str]]) -> None:
    wait_for(lambda: tree(conn, vm) == rows, what=f"the tree {rows}")


def test_take_revert_and_delete_make_the_tree_xapi_keeps(live, running_sim):
    conn, st = live, running_sim.sim.store
    vm = ref_of(conn.cache, "web-01")
    assert tree(conn, vm) == [("> now", "running")]
    a = take(conn, vm, "before upgrade")
    b = take(conn, vm, "with memory", "disks and memory (checkpoint)")
    seen(
        conn,
        vm,
        [
            ("before upgrade", "snapshot"),
            ("`- with memory", "checkpoint"),
            ("   `- > now", "running"),
        ],
    )
    rows = vms.snapshot_rows(conn.cache, vm)
    assert rows[0].taken and rows[0].size == "20 GiB"  # its disk: 40 GiB, half used
    assert rows[1].size == "24 GiB"  # and the 4 GiB memory image of the checkpoint
    assert st.get("VM", b)["power_state"] == "Suspended" and st.get("VM", vm)["parent"] == b
    # back to a, the current state kept first: the VM is forced off, comes back halted
    # its memory is lost (trial s12 item 22: this was medium, Enter only): typed
    action = vms.RevertToSnapshot(conn.cache, a, "take a snapshot first")
    plan = action.plan()
    assert plan.risk == "high" and plan.confirm_word == "web-01"
    assert "xe snapshot-revert" in plan.xe[-1]
    # a checkpoint first keeps the memory too: nothing is lost, Enter on Apply
    kept = vms.RevertToSnapshot(conn.cache, a, "take a checkpoint first (memory too)").plan()
    assert kept.risk == "medium" and not kept.confirm_word
    assert "xe vm-snapshot" in plan.xe[0] and any("forced off" in i for i in plan.impact)
    outcome = action.execute(RunContext(conn))
    assert "reverted to 'before upgrade' (halted)" in outcome
    safety = action.safety_name
    assert safety in outcome
    seen(
        conn,
        vm,
        [
            ("before upgrade", "snapshot"),
            ("|- with memory", "checkpoint"),
            (f"|  `- {safety}", "snapshot"),
            ("`- > now", "halted"),
        ],
    )
    assert st.get("VM", vm)["power_state"] == "Halted"
    # deleting the checkpoint takes its disks (and memory image); what followed it moves up
    vdis_before = set(st.table("VDI"))
    owned = {st.get("VBD", x)["VDI"] for x in st.get("VM", b)["VBDs"]} | {
        st.get("VM", b)["suspend_VDI"]
    }
    delete = vms.DeleteSnapshot(conn.cache, b)
    assert "xe snapshot-uninstall" in delete.plan().xe[0]
    assert any(safety in i for i in delete.plan().impact)  # its child stays
    delete.execute(RunContext(conn))
    seen(
        conn,
        vm,
        [("before upgrade", "snapshot"), (f"|- {safety}", "snapshot"), ("`- > now", "halted")],
    )
    assert set(st.table("VDI")) == vdis_before - owned


def test_a_revert_to_a_checkpoint_brings_the_memory_back(live, running_sim):
    conn, st = live, running_sim.sim.store
    vm = ref_of(conn.cache, "proxy-01")
    cp = take(conn, vm, "cp", "disks and memory (checkpoint)")
    disk = st.get("VBD", st.get("VM", vm)["VBDs"][0])["VDI"]
    action = vms.RevertToSnapshot(conn.cache, cp, "no: lose the current state")
    plan = action.plan()
    # nothing kept first: the admin types the VM's name to confirm
    assert plan.risk == "high" and plan.confirm_word == "proxy-01"
    assert any("is lost" in i for i in plan.impact)
    action.execute(RunContext(conn))
    rec = st.get("VM", vm)
    assert rec["power_state"] == "Suspended" and st.exists("VDI", rec["suspend_VDI"])
    assert not st.exists("VDI", disk)  # its disk as it was is destroyed, a clone in its place
    assert len(rec["VBDs"]) == 1 and len(rec["VIFs"]) == 1


def test_a_failed_revert_goes_back_to_the_state_kept_first(live, running_sim):
    conn, st = live, running_sim.sim.store
    vm = ref_of(conn.cache, "sandbox")
    snap = take(conn, vm, "old")
    # the snapshot's disk cannot be cloned: XAPI's revert fails half way (VM_REVERT_FAILED)
    disk = st.get("VBD", st.get("VM", snap)["VBDs"][0])["VDI"]
    st.set("VDI", disk, managed=False)
    macs = sorted(st.get("VIF", v)["MAC"] for v in st.get("VM", vm)["VIFs"])
    action = vms.RevertToSnapshot(conn.cache, snap, "take a snapshot first")
    with pytest.raises(ActionFailed) as failed:
        action.execute(RunContext(conn))
    assert failed.value.cause.failure.code == "VM_REVERT_FAILED"
    assert failed.value.undone == 1 and not failed.value.undo_problems
    assert "the pool is as it was" in failed.value.undo_report()
    rec = st.get("VM", vm)  # back to the state kept first: a disk again, the same MACs
    assert len(rec["VBDs"]) == 1 and st.get("VDI", st.get("VBD", rec["VBDs"][0])["VDI"])
    assert sorted(st.get("VIF", v)["MAC"] for v in rec["VIFs"]) == macs
    assert _named(conn, action.safety_name)  # and the state kept first stays


def test_a_template_from_a_snapshot_fast_or_copied(live, running_sim):
    conn, st = live, running_sim.sim.store
    vm = ref_of(conn.cache, "web-02")
    snap = take(conn, vm, "golden")
    fields = vms.SnapshotToTemplate.fields(conn.cache, snap)
    disks = next(f for f in fields if f.name == "disks")
    local = next(c for c in disks.choices if "Local storage on xcp-c" in c)
    # the SR's free space changes after the form was made: the choice still holds
    sr = st.find_one("SR", name_label="Local storage", physical_utilisation=301 * 1024**3)
    st.set("SR", sr, physical_utilisation=302 * 1024**3)
    wait_for(
        lambda: local.removeprefix("full copy to ") not in disk_srs(conn.cache),
        what="the new free space seen",
    )
    for name, choice in (("fast", FAST), ("copied", local)):
        action = vms.SnapshotToTemplate(conn.cache, snap, name, choice)
        assert f"xe snapshot-{'clone' if choice == FAST else 'copy'}" in action.plan().xe[0]
        assert f"Template '{name}'" in action.execute(RunContext(conn))
        t = st.find_one("VM", name_label=name)
        rec = st.get("VM", t)
        assert rec["is_a_template"] and not rec["is_a_snapshot"]
        assert rec["snapshot_of"] == "OpaqueRef:NULL" and t not in st.get("VM", vm)["snapshots"]
        sr = st.get("VDI", st.get("VBD", rec["VBDs"][0])["VDI"])["SR"]
        assert (st.get("SR", sr)["name_label"] == "Local storage") == (choice != FAST)
    with pytest.raises(InvalidInput, match="choose where the disks go"):
        vms.SnapshotToTemplate(conn.cache, snap, "x", "full copy to nowhere")


def test_a_snapshot_exported_is_an_xva_that_imports_as_a_template(live, running_sim, tmp_path):
    conn, st = live, running_sim.sim.store
    vm = ref_of(conn.cache, "dc-02")
    snap = take(conn, vm, "for export")
    path = tmp_path / "snap.xva"
    action = vms.ExportSnapshot(conn.cache, snap, str(path))
    assert "xe snapshot-export-to-template" in action.plan().xe[0]
    assert f"saved to {path}" in action.execute(RunContext(conn))
    assert bk.check_xva(path).disks == 1
    source = bk.import_source(conn.cache, str(path))
    assert source.header.template and not source.header.vm_uuid == st.get("VM", vm)["uuid"]
    srs = [f for f in bk.ImportVm.fields(conn.cache, source.header) if f.name == "sr"][0]
    imported = bk.ImportVm(conn.cache, source, srs.value, "new ones (a copy)", "no")
    imported.execute(RunContext(conn))
    (made,) = imported.made
    rec = st.get("VM", made)
    assert rec["is_a_template"] and not rec["is_a_snapshot"] and rec["name_label"] == "for export"


def test_refusals_are_words_before_any_call(live, running_sim):
    conn = live
    cache = conn.cache
    web, halted = ref_of(cache, "web-03"), ref_of(cache, "legacy-erp")
    for name, words in (("   ", "give a snapshot name"), ("a\x1b[2Jb", "control character")):
        with pytest.raises(InvalidInput, match=words):
            vms.TakeSnapshot(cache, web, name)
    # a halted VM offers no checkpoint, and one asked for is refused
    assert [f.name for f in vms.TakeSnapshot.fields(cache, halted)] == ["name"]
    assert "keep" in [f.name for f in vms.TakeSnapshot.fields(cache, web)]
    with pytest.raises(InvalidInput, match="cannot take a checkpoint of legacy-erp"):
        vms.TakeSnapshot(cache, halted, "x", "disks and memory (checkpoint)")
    # only a snapshot is reverted to, deleted, exported
    for make in (
        lambda: vms.RevertToSnapshot(cache, web, next(iter(FIRST))),
        lambda: vms.DeleteSnapshot(cache, web),
        lambda: vms.ExportSnapshot(cache, web, "/tmp/x.xva"),
    ):
        with pytest.raises(InvalidInput, match="choose a snapshot"):
            make()
    snap = take(conn, web, "s1")
    # the safety snapshot the VM cannot have: a checkpoint of a halted VM
    assert "take a checkpoint first (memory too)" in [
        *vms.RevertToSnapshot.fields(cache, snap)[0].choices
    ]
    with pytest.raises(InvalidInput, match="choose one of"):
        vms.TakeSnapshot(cache, web, "x", "everything")
    assert set(KEEP) == {"disks (snapshot)", "disks and memory (checkpoint)"}
