"""An SR's operations, as ocaml/xapi/xapi_sr_operations.ml decides them
(valid_operations: sm features, attached PBDs, disks, parallel operations,
the HA cluster stack) and ocaml/xapi/message_forwarding.ml marks them (SR.*,
PBD.* and the SR's share of VDI.*: with_sr_marked, with_sr_andor_vdi)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import XapiError
from . import (
    Mark,
    Marks,
    Rules,
    busy,
    live_refs,
    per_operation,
    pool_record,
    rolling_upgrade,
    sm_features,
)

if TYPE_CHECKING:
    from ..store import Store

# all_ops: the operations XAPI lists (not every storage_operations value)
ALL_OPS = (
    "scan destroy forget plug unplug vdi_create vdi_destroy vdi_resize vdi_clone vdi_snapshot"
    " vdi_mirror vdi_enable_cbt vdi_disable_cbt vdi_data_destroy vdi_list_changed_blocks"
    " vdi_set_on_boot vdi_introduce vdi_revert update pbd_create pbd_destroy"
).split()
_RPU_OPS = (
    "scan destroy forget plug unplug vdi_create vdi_destroy vdi_resize vdi_clone vdi_snapshot"
    " vdi_introduce update pbd_create pbd_destroy"
).split()
# sm_cap_table: the storage manager feature each operation needs
SM_CAP = {
    "vdi_create": "VDI_CREATE",
    "vdi_destroy": "VDI_DELETE",
    "vdi_resize": "VDI_RESIZE",
    "vdi_introduce": "VDI_INTRODUCE",
    "vdi_mirror": "VDI_MIRROR",
    "vdi_enable_cbt": "VDI_CONFIG_CBT",
    "vdi_disable_cbt": "VDI_CONFIG_CBT",
    "vdi_data_destroy": "VDI_CONFIG_CBT",
    "vdi_list_changed_blocks": "VDI_CONFIG_CBT",
    "vdi_set_on_boot": "VDI_RESET_ON_BOOT",
    "update": "SR_UPDATE",
    "vdi_revert": "VDI_REVERT",
    "vdi_snapshot": "VDI_SNAPSHOT",
}
_TOGETHER = {"plug": ("plug",)}  # safe_to_parallelise: plugs go together


def op_name(op: str) -> str:
    """Record_util.sr_operation_to_string: vdi_create is "VDI.create"."""
    for prefix, cls in (("vdi_", "VDI."), ("pbd_", "PBD.")):
        if op.startswith(prefix):
            return cls + op[len(prefix) :]
    return op


def _cluster_stack(store: Store, sr: dict) -> XapiError | None:
    """Cluster_stack_constraints.assert_cluster_stack_compatible: with HA on,
    the SR's storage manager must accept the pool's cluster stack."""
    p = pool_record(store)
    if not p.get("ha_enabled"):
        return None
    sm = next((m for m in store.tables["SM"].values() if m["type"] == sr["type"]), None)
    wanted = sm["required_cluster_stack"] if sm else []
    if wanted and p["ha_cluster_stack"] not in wanted:
        return XapiError("INCOMPATIBLE_CLUSTER_STACK_ACTIVE", ",".join(wanted))
    return None


def check(store: Store, ref: str, op: str) -> XapiError | None:
    """valid_operations ~op: the first error set for ``op``, in XAPI's order."""
    sr = store.get("SR", ref)
    if op not in ALL_OPS:  # XAPI's table has no entry: nothing refuses it
        return None
    if rolling_upgrade(store) and op not in _RPU_OPS:
        return XapiError("NOT_SUPPORTED_DURING_UPGRADE")
    features = sm_features(store, sr["type"])
    if sr["is_tools_sr"]:
        features -= {"VDI_CREATE", "VDI_DELETE"}
    if op in SM_CAP and SM_CAP[op] not in features:
        return XapiError("SR_OPERATION_NOT_SUPPORTED", ref)
    pbds = [store.tables["PBD"][p] for p in live_refs(store, "PBD", sr["PBDs"])]
    if op in ("destroy", "forget") and any(p["currently_attached"] for p in pbds):
        return XapiError("SR_HAS_PBD", ref)
    if op == "destroy" and not sr["PBDs"]:
        return XapiError("SR_HAS_NO_PBDS", ref)
    if op == "destroy" and any(
        v["managed"] and v["type"] != "rrd"
        for v in (store.tables["VDI"][r] for r in live_refs(store, "VDI", sr["VDIs"]))
    ):
        return XapiError("SR_NOT_EMPTY")
    problem = busy("SR", ref, sr["current_operations"], op, _TOGETHER, op_name)
    if problem is None and op == "plug":
        return _cluster_stack(store, sr)
    return problem


def _on(op: str, sr_of: Callable[[Store, list], str]) -> Marks:
    """A message marking the SR ``sr_of`` finds in its arguments with ``op``."""
    return lambda store, args: [Mark("SR", sr_of(store, args), op)]


def _record_sr(store: Store, args: list) -> str:
    """The SR a create message's record names."""
    return str(args[0].get("SR", "")) if isinstance(args[0], dict) else ""


def _pbd_sr(store: Store, args: list) -> str:
    return store.get("PBD", str(args[0]))["SR"]


def _vdi_sr(arg: int = 0) -> Callable[[Store, list], str]:
    return lambda store, args: store.get("VDI", str(args[arg]))["SR"]


def _unplug(store: Store, args: list) -> list[Mark]:
    """PBD.unplug (with_unplug_locks): where the master is the SR master, no
    disk of the SR may have an operation running; then the SR's unplug."""
    pbd = store.get("PBD", str(args[0]))
    sr = store.get("SR", pbd["SR"])
    if sr["shared"]:
        master = True
    elif len(sr["PBDs"]) > 1:  # Helpers.get_srmaster
        uuids = [store.get("PBD", p)["uuid"] for p in live_refs(store, "PBD", sr["PBDs"])]
        raise XapiError("SR_HAS_MULTIPLE_PBDS", *uuids)
    else:
        master = pbd["host"] == pool_record(store).get("master")
    for vdi in live_refs(store, "VDI", sr["VDIs"]) if master else ():
        current = store.tables["VDI"][vdi]["current_operations"]
        if current:
            task, op = next(iter(current.items()))
            raise XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", vdi, op, task)
    return [Mark("SR", pbd["SR"], "unplug")]


def _sm_types(store: Store, ref: str, sm: dict) -> list[str]:
    return [r for r, sr in store.tables["SR"].items() if sr["type"] == sm["type"]]


RULES = Rules(
    cls="SR",
    prepare=per_operation(check),
    listed=tuple(ALL_OPS),
    reached_by={
        "PBD": lambda store, ref, pbd: [pbd["SR"]],
        "VDI": lambda store, ref, vdi: [vdi["SR"]],
        "SM": _sm_types,
        # a rolling pool upgrade, or HA (the cluster stack a plug needs)
        "pool": lambda store, ref, p: (
            list(store.tables["SR"])
            if "rolling_upgrade_in_progress" in p["other_config"] or p["ha_enabled"]
            else []
        ),
    },
    messages={
        "destroy": "destroy",
        "forget": "forget",
        "scan": "scan",
        "PBD.create": _on("pbd_create", _record_sr),
        "PBD.destroy": _on("pbd_destroy", _pbd_sr),
        "PBD.plug": _on("plug", _pbd_sr),
        "PBD.unplug": _unplug,
        "VDI.create": _on("vdi_create", _record_sr),
        "VDI.introduce": _on("vdi_introduce", lambda store, args: str(args[3])),
        "VDI.destroy": _on("vdi_destroy", _vdi_sr()),
        "VDI.snapshot": _on("vdi_snapshot", _vdi_sr()),
        "VDI.clone": _on("vdi_clone", _vdi_sr()),
        "VDI.revert": _on("vdi_revert", _vdi_sr()),
        "VDI.resize": _on("vdi_resize", _vdi_sr()),
        "VDI.resize_online": _on("vdi_resize", _vdi_sr()),
        "VDI.enable_cbt": _on("vdi_enable_cbt", _vdi_sr()),
        "VDI.disable_cbt": _on("vdi_disable_cbt", _vdi_sr()),
        "VDI.data_destroy": _on("vdi_data_destroy", _vdi_sr()),
        "VDI.list_changed_blocks": _on("vdi_list_changed_blocks", _vdi_sr(1)),
        "VDI.set_on_boot": _on("vdi_set_on_boot", _vdi_sr()),
    },
)
