"""A VDI's operations, as ocaml/xapi/xapi_vdi.ml decides them
(check_operation_error, update_allowed_operations) and
ocaml/xapi/message_forwarding.ml marks them (with_sr_andor_vdi)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import XapiError
from ..schema import enum_values
from . import Mark, Rules, live_refs, per_operation, pool_record, rolling_upgrade, sm_features

if TYPE_CHECKING:
    from ..store import Store

# Xapi_globs.pre_ely_vdi_operations (all a rolling upgrade allows); XAPI lists
# them but blocked (CA-260245) and force_unlock (CA-281176)
_PRE_ELY = (
    "clone copy resize resize_online snapshot destroy forget update force_unlock"
    " generate_config blocked"
).split()
LISTED = tuple(
    op
    for op in enum_values("vdi_operations")
    if op in _PRE_ELY and op not in ("blocked", "force_unlock")
)
# feature_of_op: the storage manager feature an operation needs
_FEATURE = {
    "snapshot": "VDI_SNAPSHOT",
    "destroy": "VDI_DELETE",
    "resize": "VDI_RESIZE",
    "update": "VDI_UPDATE",
    "resize_online": "VDI_RESIZE_ONLINE",
    "generate_config": "VDI_GENERATE_CONFIG",
    "clone": "VDI_CLONE",
    "revert_to": "VDI_CLONE",
    "revert_from": "VDI_CLONE",
    "mirror": "VDI_MIRROR",
    "enable_cbt": "VDI_CONFIG_CBT",
    "disable_cbt": "VDI_CONFIG_CBT",
    "data_destroy": "VDI_CONFIG_CBT",
    "list_changed_blocks": "VDI_CONFIG_CBT",
    "set_on_boot": "VDI_RESET_ON_BOOT",
}
# operation_can_be_performed_live: despite attached VBDs
_LIVE = (
    "snapshot resize_online blocked clone revert_to mirror enable_cbt disable_cbt data_destroy"
).split()
_NOT_ON_CBT_METADATA = (
    "clone copy disable_cbt enable_cbt mirror resize resize_online snapshot revert_to"
    " revert_from set_on_boot"
).split()
_NOT_WITH_CBT = ("mirror", "set_on_boot")
_HA_TYPES = ("ha_statefile", "redo_log")
# Record_util.vdi_type_to_string
TYPE_NAMES = {
    "system": "System",
    "user": "User",
    "ephemeral": "Ephemeral",
    "suspend": "Suspend",
    "crashdump": "Crashdump",
    "ha_statefile": "HA statefile",
    "metadata": "Metadata",
    "redo_log": "Redo log",
    "rrd": "rrd",
    "pvs_cache": "PVS cache",
    "cbt_metadata": "CBT metadata",
}


def _in_use(store: Store, ref: str, op: str, attached: list[dict]) -> bool:
    """blocked_by_attach: attached VBDs rule the operation out (read-only
    ones do not for a copy; a VM snapshot's do not for list_changed_blocks)."""
    if op in _LIVE:
        return False
    if op == "copy":
        return any(b["mode"] == "RW" for b in attached)
    if op == "list_changed_blocks":
        vms = store.tables["VM"]
        return not all(b["VM"] in vms and vms[b["VM"]]["is_a_snapshot"] for b in attached)
    return bool(attached)


def _destroy(ref: str, vdi: dict, sr_ref: str, sr: dict, p: dict) -> XapiError | None:
    """check_destroy: physical devices, the tools SR, RRDs and HA's disks."""
    ha_disk = vdi["type"] in _HA_TYPES
    pool_ops = p.get("current_operations", {}).values()
    if sr["type"] == "udev":
        return XapiError("VDI_IS_A_PHYSICAL_DEVICE", ref)
    if sr["is_tools_sr"]:
        return XapiError("SR_OPERATION_NOT_SUPPORTED", sr_ref)
    if vdi["type"] == "rrd":
        return XapiError("VDI_HAS_RRDS", ref)
    if ha_disk and p.get("ha_enabled"):
        return XapiError("HA_IS_ENABLED")
    if ha_disk and "ha_enable" in pool_ops:
        return XapiError("HA_ENABLE_IN_PROGRESS")
    if ha_disk and "ha_disable" in pool_ops:
        return XapiError("HA_DISABLE_IN_PROGRESS")
    return None


def _by_op(ref: str, vdi: dict, op: str, sr_ref: str, sr: dict, p: dict) -> XapiError | None:
    """The operation's own rules (the final match of check_operation_error)."""
    ha_disk = vdi["type"] in _HA_TYPES
    reset = vdi["on_boot"] == "reset"
    if op == "forget":
        if p.get("ha_enabled") and ha_disk:
            return XapiError("HA_IS_ENABLED")
        return XapiError("VDI_HAS_RRDS", ref) if vdi["type"] == "rrd" else None
    if op in ("destroy", "revert_from"):
        return _destroy(ref, vdi, sr_ref, sr, p)
    if op == "data_destroy":
        if not vdi["is_a_snapshot"]:
            return XapiError("OPERATION_NOT_ALLOWED", f"VDI is not a snapshot: {ref}")
        if not vdi["cbt_enabled"]:
            return XapiError("VDI_NO_CBT_METADATA", ref)
        return _destroy(ref, vdi, sr_ref, sr, p)
    if op in ("resize", "resize_online"):
        return XapiError("HA_IS_ENABLED") if p.get("ha_enabled") and ha_disk else None
    if op == "snapshot" and vdi["sharable"]:
        return XapiError("VDI_IS_SHARABLE", ref)
    if op in ("snapshot", "copy") and reset:
        return XapiError("VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION")
    if op == "snapshot" and "copy" in vdi["current_operations"].values():
        return XapiError("OPERATION_NOT_ALLOWED", "Snapshot operation not allowed during copy.")
    if op == "copy" and ha_disk:
        return XapiError(
            "OPERATION_NOT_ALLOWED",
            "VDI containing HA statefile or redo log cannot be copied"
            " (check the VDI's allowed operations).",
        )
    if op in ("enable_cbt", "disable_cbt"):
        if vdi["is_a_snapshot"]:
            return XapiError("OPERATION_NOT_ALLOWED", f"VDI is a snapshot: {ref}")
        if vdi["type"] not in ("user", "system"):
            return XapiError("VDI_INCOMPATIBLE_TYPE", ref, TYPE_NAMES[vdi["type"]])
        return XapiError("VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION") if reset else None
    if op == "revert_to" and not vdi["is_a_snapshot"]:
        return XapiError("REVERT_ONLY_ALLOWED_ON_SNAPSHOT")
    return None


def check(store: Store, ref: str, op: str) -> XapiError | None:
    """check_operation_error: the first error, in XAPI's order."""
    vdi = store.get("VDI", ref)
    sr_ref = vdi["SR"]
    sr = store.get("SR", sr_ref)
    p = pool_record(store)
    vbds = [store.tables["VBD"][b] for b in live_refs(store, "VBD", vdi["VBDs"])]
    if rolling_upgrade(store) and op not in _PRE_ELY:
        return XapiError("NOT_SUPPORTED_DURING_UPGRADE")
    current = vdi["current_operations"]
    mirroring = op == "destroy" and "mirror" in current.values()
    other = next(((t, o) for t, o in current.items() if o != "copy"), None)
    if other and not mirroring:
        return XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", ref, other[1], other[0])
    pbds = [store.tables["PBD"][b] for b in live_refs(store, "PBD", sr["PBDs"])]
    if op == "resize" and not any(b["currently_attached"] for b in pbds):
        return XapiError("SR_HAS_NO_PBDS", sr_ref)
    # "reserved" VBDs are XAPI's own bookkeeping, not in the datamodel: none here
    if _in_use(store, ref, op, [b for b in vbds if b["currently_attached"]]):
        return XapiError("VDI_IN_USE", ref, op)
    busy = next((b["current_operations"] for b in vbds if b["current_operations"]), None)
    if busy and op != "data_destroy":
        task, vbd_op = next(iter(busy.items()))
        return XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", ref, vbd_op, task)
    if op in _FEATURE and _FEATURE[op] not in sm_features(store, sr["type"]):
        return XapiError("SR_OPERATION_NOT_SUPPORTED", sr_ref)
    if op in _NOT_ON_CBT_METADATA and vdi["type"] == "cbt_metadata":
        return XapiError("VDI_INCOMPATIBLE_TYPE", ref, TYPE_NAMES["cbt_metadata"])
    if op in _NOT_WITH_CBT and vdi["cbt_enabled"]:
        return XapiError("VDI_CBT_ENABLED", ref)
    return _by_op(ref, vdi, op, sr_ref, sr, p)


def _on_sr(store: Store, ref: str, record: dict) -> list[str]:
    """The VDIs of the changed object's SR (a PBD's, or an SR's own)."""
    sr = store.tables["SR"].get(record.get("SR", ref))
    return list(sr["VDIs"]) if sr else []


def _of_type(store: Store, ref: str, sm: dict) -> list[str]:
    srs = [s for s in store.tables["SR"].values() if s["type"] == sm["type"]]
    return [v for s in srs for v in s["VDIs"]]


def _pool(store: Store, ref: str, p: dict) -> list[str]:
    """A rolling upgrade changes every VDI; HA its statefiles and redo logs."""
    if "rolling_upgrade_in_progress" in p["other_config"]:
        return list(store.tables["VDI"])
    return [r for r, v in store.tables["VDI"].items() if v["type"] in _HA_TYPES]


def _revert(store: Store, args: list) -> list[Mark]:
    """VDI.revert: revert_to on the snapshot, then revert_from on its VDI."""
    snapshot = str(args[0])
    return [
        Mark("VDI", snapshot, "revert_to"),
        Mark("VDI", store.get("VDI", snapshot)["snapshot_of"], "revert_from"),
    ]


RULES = Rules(
    cls="VDI",
    prepare=per_operation(check),
    listed=LISTED,
    reached_by={
        "SR": _on_sr,
        "PBD": _on_sr,
        "VBD": lambda store, ref, vbd: [vbd["VDI"]],
        "SM": _of_type,
        "pool": _pool,
    },
    messages={
        **{
            name: name
            for name in (
                "update forget destroy snapshot clone copy resize resize_online enable_cbt"
                " disable_cbt data_destroy set_on_boot"
            ).split()
        },
        "revert": _revert,
        "list_changed_blocks": lambda store, args: [
            Mark("VDI", str(args[1]), "list_changed_blocks")
        ],
        "pool_migrate": "mirror",
    },
)
