"""allowed_operations and current_operations of SRs, VDIs, VBDs and VIFs in
the simulator, rule by rule as XAPI has them (each test names the xen-api
file its rules come from; the cases of XAPI's own unit tests are ported where
they fit: ocaml/tests/test_xapi_sr_operations.ml, test_vdi_allowed_operations.ml,
test_xapi_vbd_helpers.ml), refusals over real HTTP with the stock XenAPI
client, operations listed while they run, and lists kept current in events."""

from __future__ import annotations

import pytest
import XenAPI

from tests.waiting import wait_for
from xstui.sim import operations
from xstui.sim.operations import sr as sr_ops
from xstui.sim.operations import variant_hash
from xstui.sim.runner import make_store
from xstui.sim.schema import NULL_REF, enum_values


@pytest.fixture(scope="module")
def demo():
    """The demo pool, read only (tests that change things build their own)."""
    return make_store("demo")


@pytest.fixture
def st():
    return make_store("demo")


def ref(store, cls: str, name: str) -> str:
    return store.find(cls, name_label=name)[0]


def error(store, cls: str, obj: str, op: str) -> list[str] | None:
    problem = operations.error(store, cls, obj, op)
    return problem.description if problem else None


def code(store, cls: str, obj: str, op: str) -> str | None:
    problem = operations.error(store, cls, obj, op)
    return problem.code if problem else None


def allowed(store, cls: str, obj: str) -> set[str]:
    return set(store.get(cls, obj)["allowed_operations"])


def disk_of(store, vm_name: str) -> tuple[str, str, str]:
    """(VM, VBD, VDI) of the VM's first disk."""
    vm = ref(store, "VM", vm_name)
    vbd = store.get("VM", vm)["VBDs"][0]
    return vm, vbd, store.get("VBD", vbd)["VDI"]


def new_disk(store, sr: str = "NFS VM store", **fields) -> str:
    record = {"SR": ref(store, "SR", sr), "name_label": "scratch", "type": "user"}
    return store.create("VDI", {**record, "managed": True, "virtual_size": 1 << 30, **fields})


def new_drive(store, vdi: str, vm: str | None = None, **fields) -> str:
    vm = vm or store.create("VM", {"name_label": "scratch-vm", "power_state": "Halted"})
    record = {"VM": vm, "VDI": vdi, "mode": "RW", "type": "Disk", "empty": False}
    return store.create("VBD", {**record, "currently_attached": False, **fields})


def dom0(store, host: str = "xcp-a") -> str:
    return store.get("host", ref(store, "host", host))["control_domain"]


# SR: ocaml/xapi/xapi_sr_operations.ml ------------------------------------------
NFS_LISTED = {
    "scan",
    "plug",
    "unplug",
    "vdi_create",
    "vdi_destroy",
    "vdi_resize",
    "vdi_clone",
    "vdi_snapshot",
    "vdi_mirror",
    "vdi_enable_cbt",
    "vdi_disable_cbt",
    "vdi_data_destroy",
    "vdi_list_changed_blocks",
    "vdi_set_on_boot",
    "update",
    "pbd_create",
    "pbd_destroy",
}


def test_sr_tables_are_within_all_ops():
    """test_xapi_sr_operations.ml: all_rpu_ops, disallowed_during_rpu and
    sm_cap_table are subsets of all_ops, itself within storage_operations."""
    assert set(sr_ops._RPU_OPS) <= set(sr_ops.ALL_OPS)
    assert set(sr_ops.SM_CAP) <= set(sr_ops.ALL_OPS)
    assert set(sr_ops.ALL_OPS) <= set(enum_values("storage_operations"))


def test_sr_lists_what_its_storage_manager_can_do(demo):
    """xapi_sr_operations.ml check_sm_features, check_any_attached_pbds: an
    attached NFS SR (VDI_CONFIG_CBT, no VDI_INTRODUCE, no VDI_REVERT) and the
    ISO library (only VDI_CREATE and VDI_DELETE); attached, neither may be
    destroyed or forgotten."""
    assert allowed(demo, "SR", ref(demo, "SR", "NFS VM store")) == NFS_LISTED
    iso = ref(demo, "SR", "ISO library")
    assert allowed(demo, "SR", iso) == {
        "scan",
        "plug",
        "unplug",
        "vdi_create",
        "vdi_destroy",
        "vdi_clone",  # XAPI fakes clone itself: no feature needed
        "pbd_create",
        "pbd_destroy",
    }
    assert error(demo, "SR", iso, "vdi_resize") == ["SR_OPERATION_NOT_SUPPORTED", iso]
    assert error(demo, "SR", iso, "destroy") == ["SR_HAS_PBD", iso]
    assert error(demo, "SR", iso, "vdi_copy") is None  # not in all_ops: nothing refuses it


def test_sr_destroy_needs_pbds_detached_and_no_managed_disks(st):
    """xapi_sr_operations.ml check_any_attached_pbds, check_no_pbds,
    check_any_managed_vdis (RRD stores and unmanaged disks do not count)."""
    local = ref(st, "SR", "Local storage")
    (pbd,) = st.get("SR", local)["PBDs"]
    st.set("PBD", pbd, currently_attached=False)
    assert "forget" in allowed(st, "SR", local) and "destroy" not in allowed(st, "SR", local)
    assert error(st, "SR", local, "destroy") == ["SR_NOT_EMPTY"]
    for vdi in st.get("SR", local)["VDIs"]:
        st.set("VDI", vdi, managed=False)
    new_disk(st, "Local storage", type="rrd")
    assert {"destroy", "forget"} <= allowed(st, "SR", local)
    st.destroy("PBD", pbd)
    assert error(st, "SR", local, "destroy") == ["SR_HAS_NO_PBDS", local]


def test_sr_operations_in_progress(st):
    """xapi_sr_operations.ml check_parallel_ops: only plugs go together; the
    operation named is the first of List.sort_uniq (OCaml compares variants
    by their hash), in Record_util's words ("VDI.resize")."""
    nfs = ref(st, "SR", "NFS VM store")
    st.set("SR", nfs, current_operations={"OpaqueRef:t1": "plug"})
    assert allowed(st, "SR", nfs) == {"plug"}
    assert error(st, "SR", nfs, "scan") == [
        "OTHER_OPERATION_IN_PROGRESS",
        "SR",
        nfs,
        "plug",
        "OpaqueRef:t1",
    ]
    st.set("SR", nfs, current_operations={"OpaqueRef:t2": "vdi_resize", "OpaqueRef:t1": "plug"})
    assert allowed(st, "SR", nfs) == set()
    first = min(("plug", "vdi_resize"), key=variant_hash)
    task = {"plug": "OpaqueRef:t1", "vdi_resize": "OpaqueRef:t2"}[first]
    assert error(st, "SR", nfs, "scan")[3:] == [sr_ops.op_name(first), task]
    assert error(st, "SR", nfs, "plug")[3:] == ["VDI.resize", "OpaqueRef:t2"]


def test_ocaml_variant_order():
    """Btype.hash_variant: a one-letter tag is its code; 31 bits, signed."""
    assert variant_hash("A") == 65
    assert all(-(1 << 30) <= variant_hash(op) < (1 << 30) for op in sr_ops.ALL_OPS)
    assert operations.by_op({"a": "scan", "b": "plug", "c": "scan"}) == sorted(
        [("a", "scan"), ("b", "plug")], key=lambda x: variant_hash(x[1])
    )


def test_sr_tools_rolling_upgrade_and_cluster_stack(st):
    """xapi_sr_operations.ml: the tools SR has no VDI create or delete; a
    rolling upgrade leaves only all_rpu_ops; with HA on, a plug needs an SM
    that accepts the pool's cluster stack (Cluster_stack_constraints)."""
    nfs = ref(st, "SR", "NFS VM store")
    st.set("SR", nfs, is_tools_sr=True)
    assert error(st, "SR", nfs, "vdi_create") == ["SR_OPERATION_NOT_SUPPORTED", nfs]
    assert not {"vdi_create", "vdi_destroy"} & allowed(st, "SR", nfs)
    st.set("SR", nfs, is_tools_sr=False)
    pool = st.find("pool")[0]
    st.set("pool", pool, other_config={"rolling_upgrade_in_progress": "x"})
    assert error(st, "SR", nfs, "vdi_mirror") == ["NOT_SUPPORTED_DURING_UPGRADE"]
    assert allowed(st, "SR", nfs) == NFS_LISTED & set(sr_ops._RPU_OPS)
    st.set("pool", pool, other_config={})
    assert allowed(st, "SR", nfs) == NFS_LISTED
    sm = st.find("SM", type="nfs")[0]
    st.set("SM", sm, required_cluster_stack=["corosync"])
    st.set("pool", pool, ha_enabled=True, ha_cluster_stack="xhad")
    assert error(st, "SR", nfs, "plug") == ["INCOMPATIBLE_CLUSTER_STACK_ACTIVE", "corosync"]
    assert "plug" not in allowed(st, "SR", nfs)


# VDI: ocaml/xapi/xapi_vdi.ml ---------------------------------------------------
DETACHED = {"generate_config", "update", "forget", "destroy", "snapshot", "resize", "copy", "clone"}


def test_vdi_lists(demo):
    """xapi_vdi.ml update_allowed_operations (pre-Ely operations, blocked and
    force_unlock left out): a running VM's disk only clones and snapshots; a
    halted VM's does everything its SR can (no VDI_RESIZE_ONLINE on NFS)."""
    _vm, _vbd, running = disk_of(demo, "web-01")
    assert allowed(demo, "VDI", running) == {"clone", "snapshot"}
    assert error(demo, "VDI", running, "destroy") == ["VDI_IN_USE", running, "destroy"]
    _vm, _vbd, halted = disk_of(demo, "legacy-erp")
    assert allowed(demo, "VDI", halted) == DETACHED


def test_vdi_update_allowed_operations_ported(st):
    """test_vdi_allowed_operations.ml test_update_allowed_operations: a disk
    attached read-only to dom0, then detached."""
    vdi = new_disk(st)
    vbd = new_drive(st, vdi, dom0(st), mode="RO", currently_attached=True)
    assert allowed(st, "VDI", vdi) == {"snapshot", "clone", "copy"}
    st.set("VBD", vbd, currently_attached=False)
    assert allowed(st, "VDI", vdi) == DETACHED


def test_vdi_in_use_or_busy_vbds(st):
    """test_vdi_allowed_operations.ml test_ca98944 (VBDs attached or with an
    operation running; "reserved" is not in the datamodel) and
    test_ca253933's VDI side."""
    vdi = new_disk(st)
    vbd = new_drive(st, vdi, currently_attached=True, current_operations={"x": "attach"})
    assert code(st, "VDI", vdi, "update") == "VDI_IN_USE"
    st.set("VBD", vbd, currently_attached=False)
    assert error(st, "VDI", vdi, "update") == [
        "OTHER_OPERATION_IN_PROGRESS",
        "VDI",
        vdi,
        "attach",
        "x",
    ]
    st.set("VBD", vbd, current_operations={})
    assert error(st, "VDI", vdi, "forget") is None


def test_vdi_copy_and_snapshot_beside_attachments(st):
    """test_vdi_allowed_operations.ml test_ca101669, test_ca125187,
    test_ca126097: copy needs no RW attachment; copies go together; clone
    may run during a copy, snapshot may not."""
    vdi = new_disk(st)
    assert error(st, "VDI", vdi, "copy") is None
    rw = new_drive(st, vdi, currently_attached=True)
    assert code(st, "VDI", vdi, "copy") == "VDI_IN_USE"
    new_drive(st, vdi, mode="RO", currently_attached=True)
    assert code(st, "VDI", vdi, "copy") == "VDI_IN_USE"
    st.set("VBD", rw, currently_attached=False)
    assert error(st, "VDI", vdi, "copy") is None
    st.set("VDI", vdi, current_operations={"mytask": "copy"})
    assert error(st, "VDI", vdi, "copy") is None
    assert error(st, "VDI", vdi, "clone") is None
    assert error(st, "VDI", vdi, "snapshot") == [
        "OPERATION_NOT_ALLOWED",
        "Snapshot operation not allowed during copy.",
    ]


def test_vdi_changed_block_tracking_ported(st):
    """test_vdi_allowed_operations.ml test_cbt: the SM feature, snapshots,
    types (in Record_util's words), reset on boot, live, cbt_metadata disks,
    cbt-enabled disks."""
    vdi = new_disk(st)
    nfs_sm = st.find("SM", type="nfs")[0]
    features = st.get("SM", nfs_sm)["features"]
    st.set("SM", nfs_sm, features={k: v for k, v in features.items() if k != "VDI_CONFIG_CBT"})
    for op in ("enable_cbt", "disable_cbt", "data_destroy", "list_changed_blocks"):
        assert code(st, "VDI", vdi, op) == "SR_OPERATION_NOT_SUPPORTED"
    st.set("SM", nfs_sm, features=features)
    for op in ("enable_cbt", "disable_cbt"):
        st.set("VDI", vdi, is_a_snapshot=True)
        assert error(st, "VDI", vdi, op) == ["OPERATION_NOT_ALLOWED", f"VDI is a snapshot: {vdi}"]
        st.set("VDI", vdi, is_a_snapshot=False, type="metadata")
        assert error(st, "VDI", vdi, op) == ["VDI_INCOMPATIBLE_TYPE", vdi, "Metadata"]
        st.set("VDI", vdi, type="redo_log")
        assert code(st, "VDI", vdi, op) == "VDI_INCOMPATIBLE_TYPE"
        for kind in ("user", "system"):
            st.set("VDI", vdi, type=kind)
            assert error(st, "VDI", vdi, op) is None
        st.set("VDI", vdi, on_boot="reset")
        assert error(st, "VDI", vdi, op) == ["VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION"]
        st.set("VDI", vdi, on_boot="persist")
    live = new_drive(st, vdi, currently_attached=True)
    assert error(st, "VDI", vdi, "enable_cbt") is None  # can be done live
    st.destroy("VBD", live)
    st.set("VDI", vdi, type="cbt_metadata")
    for op in ("snapshot", "clone", "resize", "copy", "set_on_boot"):
        assert error(st, "VDI", vdi, op) == ["VDI_INCOMPATIBLE_TYPE", vdi, "CBT metadata"]
    st.set("VDI", vdi, type="user", cbt_enabled=True)
    for op in ("mirror", "set_on_boot"):
        assert error(st, "VDI", vdi, op) == ["VDI_CBT_ENABLED", vdi]


def test_vdi_data_destroy_and_list_changed_blocks_ported(st):
    """test_vdi_allowed_operations.ml test_vdi_data_destroy and
    test_vdi_list_changed_blocks: a cbt-enabled snapshot, one condition
    broken at a time; a VM snapshot's attached VBD does not block."""
    vdi = new_disk(st, is_a_snapshot=True, cbt_enabled=True)
    assert error(st, "VDI", vdi, "data_destroy") is None
    st.set("VDI", vdi, is_a_snapshot=False)
    assert error(st, "VDI", vdi, "data_destroy") == [
        "OPERATION_NOT_ALLOWED",
        f"VDI is not a snapshot: {vdi}",
    ]
    st.set("VDI", vdi, is_a_snapshot=True)
    sr = st.get("VDI", vdi)["SR"]
    st.set("SR", sr, is_tools_sr=True)
    assert error(st, "VDI", vdi, "data_destroy") == ["SR_OPERATION_NOT_SUPPORTED", sr]
    st.set("SR", sr, is_tools_sr=False)
    st.set("VDI", vdi, cbt_enabled=False)
    assert error(st, "VDI", vdi, "data_destroy") == ["VDI_NO_CBT_METADATA", vdi]
    st.set("VDI", vdi, cbt_enabled=True, type="cbt_metadata")
    assert error(st, "VDI", vdi, "data_destroy") is None
    new_drive(st, vdi, currently_attached=True)  # waited for in the implementation
    assert error(st, "VDI", vdi, "data_destroy") is None
    assert code(st, "VDI", vdi, "list_changed_blocks") == "VDI_IN_USE"
    other = new_disk(st, is_a_snapshot=True, cbt_enabled=True)
    snap = st.create("VM", {"name_label": "snap", "is_a_snapshot": True, "is_a_template": True})
    st.set("VM", snap, power_state="Suspended")
    new_drive(st, other, snap, currently_attached=True)
    assert error(st, "VDI", other, "list_changed_blocks") is None


def test_vdi_rolling_upgrade_revert_and_online_resize(st):
    """test_vdi_allowed_operations.ml test_operations_restricted_during_rpu,
    test_revert, test_online_resize."""
    vdi = new_disk(st)
    pool = st.find("pool")[0]
    st.set("pool", pool, other_config={"rolling_upgrade_in_progress": "x"})
    assert error(st, "VDI", vdi, "mirror") == ["NOT_SUPPORTED_DURING_UPGRADE"]
    assert "enable_cbt" not in allowed(st, "VDI", vdi)
    st.set("pool", pool, other_config={})
    assert error(st, "VDI", vdi, "mirror") is None
    assert error(st, "VDI", vdi, "revert_to") == ["REVERT_ONLY_ALLOWED_ON_SNAPSHOT"]
    st.set("VDI", vdi, is_a_snapshot=True)
    assert error(st, "VDI", vdi, "revert_to") is None
    new_drive(st, vdi, currently_attached=True)  # a checkpoint's
    assert error(st, "VDI", vdi, "revert_to") is None
    assert code(st, "VDI", vdi, "revert_from") == "VDI_IN_USE"
    assert code(st, "VDI", vdi, "resize") == "VDI_IN_USE"
    sr = st.get("VDI", vdi)["SR"]
    assert error(st, "VDI", vdi, "resize_online") == ["SR_OPERATION_NOT_SUPPORTED", sr]
    sm = st.find("SM", type="nfs")[0]
    st.set("SM", sm, features={**st.get("SM", sm)["features"], "VDI_RESIZE_ONLINE": 1})
    assert error(st, "VDI", vdi, "resize_online") is None


def test_vdi_destroy_rules_and_a_vbd_without_vm(st):
    """xapi_vdi.ml check_destroy (RRDs, HA's statefile while HA is on), an SR
    without attached PBDs refusing resize; test_null_vm: a VBD whose VM is
    gone makes no check fail."""
    vdi = new_disk(st, type="rrd")
    assert error(st, "VDI", vdi, "destroy") == ["VDI_HAS_RRDS", vdi]
    assert error(st, "VDI", vdi, "forget") == ["VDI_HAS_RRDS", vdi]
    statefile = new_disk(st, type="ha_statefile")
    st.set("pool", st.find("pool")[0], ha_enabled=True)
    assert error(st, "VDI", statefile, "destroy") == ["HA_IS_ENABLED"]
    assert "resize" not in allowed(st, "VDI", statefile)
    assert code(st, "VDI", statefile, "copy") == "OPERATION_NOT_ALLOWED"
    local = new_disk(st, "Local storage")
    sr = st.get("VDI", local)["SR"]
    st.set("PBD", st.get("SR", sr)["PBDs"][0], currently_attached=False)
    assert error(st, "VDI", local, "resize") == ["SR_HAS_NO_PBDS", sr]
    orphan = new_disk(st)
    new_drive(st, orphan, NULL_REF)
    for op in enum_values("vdi_operations"):
        operations.error(st, "VDI", orphan, op)


# VBD: ocaml/xapi/xapi_vbd_helpers.ml -------------------------------------------
def test_vbd_lists(demo):
    """xapi_vbd_helpers.ml valid_operations without the sharing checks (as
    update_allowed_operations asks): a running VM's disk, a halted VM's, a
    paused VM's (pause and unpause allowed)."""
    assert allowed(demo, "VBD", disk_of(demo, "web-01")[1]) == {
        "attach",
        "unplug",
        "unplug_force",
        "pause",
        "unpause",
    }
    assert allowed(demo, "VBD", disk_of(demo, "legacy-erp")[1]) == {"attach"}
    assert allowed(demo, "VBD", disk_of(demo, "test-debian-12")[1]) == {
        "attach",
        "pause",
        "unpause",
    }
    vm, vbd, _ = disk_of(demo, "legacy-erp")
    assert error(demo, "VBD", vbd, "plug") == ["VM_BAD_POWER_STATE", vm, "running", "halted"]
    assert error(demo, "VBD", vbd, "insert") == ["VBD_NOT_REMOVABLE_MEDIA", vbd]
    _vm, running, _ = disk_of(demo, "web-01")
    assert error(demo, "VBD", running, "plug") == ["DEVICE_ALREADY_ATTACHED", running]


def test_vbd_attach_while_its_disk_is_busy_ported(st):
    """test_xapi_vbd_helpers.ml test_ca253933: the disk's operations block
    attach, except a mirror or a copy."""
    for op in (
        "resize destroy forget update force_unlock generate_config snapshot"
        " resize_online blocked clone mirror copy"
    ).split():
        vdi = new_disk(st, current_operations={"x": op})
        vbd = new_drive(st, vdi)
        expected = None if op in ("mirror", "copy") else "OTHER_OPERATION_IN_PROGRESS"
        assert code(st, "VBD", vbd, "attach") == expected, op


def test_vbd_drive_kinds_and_concurrency(st):
    """xapi_vbd_helpers.ml: unpluggable, CD media, a suspended VM's CD, a
    disk not managed; pause and unpause go together, unpause with attach
    (CA-24282)."""
    vm, vbd, vdi = disk_of(st, "web-01")
    st.set("VBD", vbd, unpluggable=False)
    assert error(st, "VBD", vbd, "unplug") == ["VBD_NOT_UNPLUGGABLE", vbd]
    st.set("VBD", vbd, unpluggable=True, current_operations={"t": "pause"})
    assert allowed(st, "VBD", vbd) == {"pause", "unpause"}
    st.set("VBD", vbd, current_operations={"t": "attach"})
    assert allowed(st, "VBD", vbd) == {"unpause"}
    assert error(st, "VBD", vbd, "pause") == [
        "OTHER_OPERATION_IN_PROGRESS",
        "VBD",
        vbd,
        "attach",
        "t",
    ]
    st.set("VBD", vbd, current_operations={})
    st.set("VDI", vdi, managed=False)
    assert error(st, "VBD", vbd, "unplug") == ["VDI_NOT_MANAGED", vbd]
    halted = ref(st, "VM", "legacy-erp")
    cd = new_drive(st, NULL_REF, halted, type="CD", empty=True, mode="RO")
    assert error(st, "VBD", cd, "eject") == ["VBD_IS_EMPTY", cd]
    assert error(st, "VBD", cd, "insert") is None
    full = new_drive(st, new_disk(st, "ISO library"), halted, type="CD", mode="RO")
    assert error(st, "VBD", full, "insert") == ["VBD_NOT_EMPTY", full]
    suspended = ref(st, "VM", "build-agent-3")
    cd = new_drive(st, NULL_REF, suspended, type="CD", empty=True, mode="RO")
    assert error(st, "VBD", cd, "insert") == [
        "VM_BAD_POWER_STATE",
        suspended,
        "halted, running",
        "suspended",
    ]


def test_vbd_hotplug_needs_a_willing_guest(st):
    """xapi_vbd_helpers.ml: no plug while the VM shuts down; a running HVM
    guest without drivers cannot hot-plug, nor one that says it cannot; an
    HVM CD drive is never hot-plugged."""
    vm, vbd, _ = disk_of(st, "web-01")
    st.set("VM", vm, current_operations={"t": "clean_shutdown"})
    assert error(st, "VBD", vbd, "unplug") == [
        "OPERATION_NOT_ALLOWED",
        f"Current operation on VM:{vm} is clean_shutdown",
    ]
    assert error(st, "VBD", vbd, "unplug_force") is None
    st.set("VM", vm, current_operations={})
    guest = st.get("VM", vm)["guest_metrics"]
    st.set("VM_guest_metrics", guest, can_use_hotplug_vbd="no")
    assert error(st, "VBD", vbd, "unplug") == [
        "OPERATION_NOT_ALLOWED",
        "VM states it does not support VBD hotplug.",
    ]
    st.set("VM_guest_metrics", guest, can_use_hotplug_vbd="unspecified", PV_drivers_detected=False)
    assert error(st, "VBD", vbd, "unplug") is None  # a driver version is known
    st.set("VM_guest_metrics", guest, PV_drivers_version={})
    assert error(st, "VBD", vbd, "unplug") == ["VM_MISSING_PV_DRIVERS", vm]
    assert allowed(st, "VBD", vbd) == {"attach", "pause", "unpause"}
    st.set("VM_guest_metrics", guest, can_use_hotplug_vbd="yes")
    cd = new_drive(st, NULL_REF, vm, type="CD", empty=True, mode="RO")
    assert error(st, "VBD", cd, "plug") == [
        "OPERATION_NOT_ALLOWED",
        "HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected",
    ]


def test_vbd_sharing_checked_on_attach_not_listed(st):
    """xapi_vbd_helpers.ml: the expensive sharing checks refuse attaching a
    disk another running VM writes to (and writing a read-only disk), but
    update_allowed_operations leaves them out (CA-20808)."""
    _vm, _vbd, vdi = disk_of(st, "web-01")
    second = new_drive(st, vdi, ref(st, "VM", "legacy-erp"))
    assert error(st, "VBD", second, "attach") == ["VDI_IN_USE", vdi]
    assert "attach" in allowed(st, "VBD", second)
    lone = new_disk(st, read_only=True)
    writer = new_drive(st, lone)
    assert error(st, "VBD", writer, "attach") == ["VDI_READONLY", lone]
    reader = new_drive(st, lone, mode="RO")
    assert error(st, "VBD", reader, "attach") is None


# VIF: ocaml/xapi/xapi_vif_helpers.ml -------------------------------------------
def test_vif_lists_and_rules(st):
    """xapi_vif_helpers.ml valid_operations: running and attached, halted;
    every operation running named in braces; no plug on dom0; none with a
    VM shutting down; an HVM guest's drivers."""
    vm = ref(st, "VM", "web-01")
    (vif,) = st.get("VM", vm)["VIFs"]
    assert allowed(st, "VIF", vif) == {"attach", "unplug"}
    assert error(st, "VIF", vif, "plug") == ["DEVICE_ALREADY_ATTACHED", vif]
    halted = ref(st, "VM", "legacy-erp")
    (off,) = st.get("VM", halted)["VIFs"]
    assert allowed(st, "VIF", off) == {"attach"}
    assert error(st, "VIF", off, "plug") == ["VM_BAD_POWER_STATE", halted, "running", "halted"]
    st.set("VIF", off, current_operations={"t2": "plug", "t1": "attach"})  # newest first
    assert error(st, "VIF", off, "attach") == [
        "OTHER_OPERATION_IN_PROGRESS",
        "VIF",
        off,
        "{attach; plug}",
        "{t1; t2}",
    ]
    network = st.get("VIF", vif)["network"]
    on_dom0 = st.create("VIF", {"VM": dom0(st), "network": network, "device": "0"})
    assert error(st, "VIF", on_dom0, "plug") == [
        "OPERATION_NOT_ALLOWED",
        "Control domain does not support hotplug",
    ]
    st.set("VM", vm, current_operations={"t": "suspend"})
    assert error(st, "VIF", vif, "unplug") == [
        "OPERATION_NOT_ALLOWED",
        f"Current operation on VM:{vm} is suspend",
    ]
    st.set("VM", vm, current_operations={})
    guest = st.get("VM", vm)["guest_metrics"]
    st.set("VM_guest_metrics", guest, can_use_hotplug_vif="no")
    assert allowed(st, "VIF", vif) == {"attach"}
    st.set("VM", vm, guest_metrics=NULL_REF)
    assert error(st, "VIF", vif, "unplug") == ["VM_MISSING_PV_DRIVERS", vm]


def test_vif_on_an_sriov_network(st):
    """xapi_vif_helpers.ml with Xapi_network_sriov_helpers.is_sriov_network:
    the network's first PIF is an SR-IOV logical PIF, or a VLAN on one
    (web-01's network is VLAN 20, on a bond: made an SR-IOV PIF here)."""
    vif = st.get("VM", ref(st, "VM", "web-01"))["VIFs"][0]
    network = st.get("VIF", vif)["network"]
    untagged = st.get("network", network)["PIFs"][0]
    tagged = st.get("VLAN", st.get("PIF", untagged)["VLAN_master_of"])["tagged_PIF"]
    sriov = st.create("network_sriov", {"logical_PIF": tagged, "physical_PIF": tagged})
    st.set("PIF", tagged, sriov_logical_PIF_of=[sriov])
    assert error(st, "VIF", vif, "unplug") == [
        "OPERATION_NOT_ALLOWED",
        "Network SR-IOV VIF plug/unplug not allowed",
    ]
    assert allowed(st, "VIF", vif) == {"attach"}
    st.set("PIF", untagged, sriov_logical_PIF_of=[sriov])  # not looked at: a VLAN first
    st.set("PIF", tagged, sriov_logical_PIF_of=[])
    assert allowed(st, "VIF", vif) == {"attach", "unplug"}


# over HTTP: refusals, marks while running, events --------------------------------
def test_refused_with_xapis_error_and_nothing_changed(running_sim, xapi):
    """message_forwarding.ml with_sr_andor_vdi: VDI.destroy marks the SR
    (vdi_destroy) before the VDI (destroy); either refusing, nothing is
    marked and nothing deleted."""
    x, store = xapi.xenapi, running_sim.sim.store
    vdi = x.VM.get_record(x.VM.get_by_name_label("web-01")[0])["VBDs"][0]
    vdi = x.VBD.get_VDI(vdi)
    sr = x.VDI.get_SR(vdi)
    before = (x.SR.get_record(sr), x.VDI.get_record(vdi))
    with pytest.raises(XenAPI.Failure) as refused:
        x.VDI.destroy(vdi)
    assert refused.value.details == ["VDI_IN_USE", vdi, "destroy"]
    assert (x.SR.get_record(sr), x.VDI.get_record(vdi)) == before
    with store.lock:
        store.set("SR", sr, current_operations={"OpaqueRef:scan": "scan"})
    with pytest.raises(XenAPI.Failure) as refused:
        x.VDI.destroy(vdi)  # the SR's refusal comes first
    assert refused.value.details == [
        "OTHER_OPERATION_IN_PROGRESS",
        "SR",
        sr,
        "scan",
        "OpaqueRef:scan",
    ]
    assert x.VDI.get_current_operations(vdi) == {}
    with pytest.raises(XenAPI.Failure) as refused:
        x.SR.destroy(sr)  # attached PBDs are looked at before operations running
    assert refused.value.details == ["SR_HAS_PBD", sr]
    with store.lock:
        store.set("SR", sr, current_operations={}, is_tools_sr=True)
    with pytest.raises(XenAPI.Failure) as refused:
        x.VDI.create({"SR": sr, "name_label": "new", "virtual_size": "1024", "type": "user"})
    assert refused.value.details == ["SR_OPERATION_NOT_SUPPORTED", sr]
    assert len(x.SR.get_VDIs(sr)) == len(before[0]["VDIs"])


def test_pbd_unplug_waits_for_the_disks(running_sim, xapi):
    """message_forwarding.ml PBD.unplug (with_unplug_locks): a disk of the SR
    busy refuses it before the SR is marked."""
    x, store = xapi.xenapi, running_sim.sim.store
    sr = x.SR.get_by_name_label("ISO library")[0]
    with store.lock:
        vdi = store.create("VDI", {"SR": sr, "name_label": "busy.iso", "managed": True})
        store.set("VDI", vdi, current_operations={"OpaqueRef:c": "copy"})
    with pytest.raises(XenAPI.Failure) as refused:
        x.PBD.unplug(x.SR.get_PBDs(sr)[0])
    assert refused.value.details == [
        "OTHER_OPERATION_IN_PROGRESS",
        "VDI",
        vdi,
        "copy",
        "OpaqueRef:c",
    ]
    assert x.SR.get_current_operations(sr) == {}


def test_current_operations_while_an_async_call_runs(running_sim, xapi):
    """message_forwarding.ml: while Async.VDI.destroy runs its task marks the
    SR (vdi_destroy) and the VDI (destroy), and nothing else may start on
    them; Async.VM.start marks the VM, then every VBD and VIF (attach)."""
    x = xapi.xenapi
    running_sim.sim.task_delay = 20  # x time_scale 0.05: each task takes a second
    vm = x.VM.get_by_name_label("legacy-erp")[0]
    vbd = x.VM.get_VBDs(vm)[0]
    vdi = x.VBD.get_VDI(vbd)
    sr = x.VDI.get_SR(vdi)
    task = x.Async.VDI.destroy(vdi)
    wait_for(lambda: x.VDI.get_current_operations(vdi) == {task: "destroy"}, what="VDI marked")
    assert x.SR.get_current_operations(sr) == {task: "vdi_destroy"}
    assert x.SR.get_allowed_operations(sr) == x.VDI.get_allowed_operations(vdi) == []
    with pytest.raises(XenAPI.Failure) as refused:
        x.SR.scan(sr)
    assert refused.value.details == [
        "OTHER_OPERATION_IN_PROGRESS",
        "SR",
        sr,
        "VDI.destroy",
        task,
    ]
    wait_for(lambda: x.task.get_status(task) == "success", what="the destroy")
    assert x.SR.get_current_operations(sr) == {}
    assert set(x.SR.get_allowed_operations(sr)) == NFS_LISTED
    other = x.VM.get_by_name_label("backup-proxy")[0]
    task = x.Async.VM.start(other, False, False)
    drive, nic = x.VM.get_VBDs(other)[0], x.VM.get_VIFs(other)[0]
    wait_for(lambda: x.VBD.get_current_operations(drive) == {task: "attach"}, what="VBD marked")
    assert x.VIF.get_current_operations(nic) == {task: "attach"}
    assert x.VM.get_current_operations(other) == {task: "start"}
    wait_for(lambda: x.task.get_status(task) == "success", what="the start")
    assert x.VBD.get_current_operations(drive) == {} and x.VBD.get_currently_attached(drive)
    # its guest's tools report in as it boots: its disks may be hot-unplugged
    assert set(x.VBD.get_allowed_operations(drive)) == {
        "attach",
        "pause",
        "unpause",
        "unplug",
        "unplug_force",
    }


def test_allowed_operations_follow_changes_in_events(running_sim, xapi):
    """xapi_sr_operations.ml update_allowed_operations after each PBD change:
    unplugging the ISO library everywhere, event.from brings the SR with
    destroy and forget allowed; a VM shutting down brings its VIF without
    unplug."""
    x = xapi.xenapi
    sr = x.SR.get_by_name_label("ISO library")[0]
    token = x.event_from(["sr", "vif"], "", 0.0)["token"]
    for pbd in x.SR.get_PBDs(sr):
        x.PBD.unplug(pbd)
    vm = x.VM.get_by_name_label("proxy-01")[0]
    vif = x.VM.get_VIFs(vm)[0]
    x.VM.hard_shutdown(vm)
    seen: dict[str, dict] = {}

    def caught_up() -> bool:
        nonlocal token
        batch = x.event_from(["sr", "vif"], token, 5.0)
        token = batch["token"]
        for event in batch["events"]:
            seen[event["ref"]] = event["snapshot"]
        return {"destroy", "forget"} <= set(seen.get(sr, {}).get("allowed_operations", [])) and (
            seen.get(vif, {}).get("allowed_operations") == ["attach"]
        )

    wait_for(caught_up, what="the SR's and the VIF's new lists in events")
    x.SR.destroy(sr)
    assert sr not in x.SR.get_all()
