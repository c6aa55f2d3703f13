"""A VM's operations, as ocaml/xapi/xapi_vm_lifecycle.ml decides them
(check_operation_error, allowed_power_states, is_allowed_concurrently,
allowable_ops) and ocaml/xapi/message_forwarding.ml marks them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import XapiError
from ..schema import NULL_REF, enum_values
from . import Check, Mark, Rules, in_progress, live_refs, on_upgrade, rolling_upgrade, truthy

if TYPE_CHECKING:
    from ..store import Store

ALL_STATES = ("Halted", "Paused", "Suspended", "Running")
_BY_STATES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("Halted",): (
        "changing_shadow_memory changing_NVRAM make_into_template provision start start_on"
        " create_vtpm"
    ).split(),
    ("Paused",): ("unpause",),
    ("Suspended",): ("csvm", "resume", "resume_on"),
    ("Running",): (
        "awaiting_memory_live call_plugin clean_reboot clean_shutdown changing_memory_live"
        " changing_shadow_memory_live changing_VCPUs_live data_source_op pause pool_migrate"
        " send_sysrq send_trigger snapshot_with_quiesce sysprep suspend"
    ).split(),
    ("Halted", "Running"): ("changing_dynamic_range",),
    ("Halted", "Suspended"): ("create_template", "destroy", "export"),
    ("Paused", "Running"): ("hard_reboot",),
    ("Paused", "Suspended", "Running"): (
        "checkpoint",
        "get_boot_record",
        "shutdown",
        "hard_shutdown",
    ),
    ("Halted", "Suspended", "Running"): ("migrate_send",),
    ALL_STATES: (
        "assert_operation_valid metadata_export power_state_reset revert reverting snapshot"
        " update_allowed_operations query_services"
    ).split(),
}
_STATES_OF = {op: states for states, ops in _BY_STATES.items() for op in ops}


def power_states(vm: dict, op: str) -> tuple[str, ...]:
    """allowed_power_states: where ``op`` can be done."""
    if op in ("changing_VCPUs", "changing_static_range", "changing_memory_limits"):
        return ("Halted", "Running") if vm["is_control_domain"] else ("Halted",)
    if op in ("clone", "copy"):
        # clone_suspended_vm_enabled is off unless the pool says so
        return ("Halted", "Suspended") if vm["is_a_snapshot"] else ("Halted",)
    return _STATES_OF.get(op, ())


_TOGETHER = (("clone", "copy", "export"), ("snapshot", "checkpoint"), ("get_boot_record",))
_AFTER = {  # what may start while exactly these run
    ("snapshot_with_quiesce",): ("snapshot",),
    ("migrate_send",): ("metadata_export", "clean_shutdown", "clean_reboot"),
}


def concurrently(op: str, current: list[str]) -> bool:
    """is_allowed_concurrently (the power state is not looked at)."""
    if any(op in group and all(c in group for c in current) for group in _TOGETHER):
        return True
    if op == "hard_shutdown":
        return op not in current
    if op == "hard_reboot":
        return not any(c in ("hard_shutdown", "hard_reboot") for c in current)
    return op in _AFTER.get(tuple(current), ())


_TEMPLATE_OPS = (
    "changing_dynamic_range changing_static_range changing_memory_limits changing_shadow_memory"
    " changing_VCPUs changing_NVRAM clone copy export metadata_export provision"
).split()
_SNAPSHOT_OPS = ("revert", "clone", "copy", "export", "destroy", "hard_shutdown", "metadata_export")
_CONTROL_DOMAIN_OPS = (
    "data_source_op changing_memory_live awaiting_memory_live metadata_export"
    " changing_dynamic_range changing_memory_limits changing_static_range start start_on"
    " changing_VCPUs destroy"
).split()
_MOVING = ("suspend", "checkpoint", "pool_migrate", "migrate_send")
# Xapi_globs.rpu_allowed_vm_operations: what a rolling pool upgrade leaves
_RPU_OPS = (
    "assert_operation_valid changing_memory_live changing_shadow_memory_live changing_VCPUs_live"
    " clean_reboot clean_shutdown clone copy csvm destroy export get_boot_record hard_reboot"
    " hard_shutdown import make_into_template migrate_send pause pool_migrate power_state_reset"
    " provision resume resume_on send_sysrq send_trigger start start_on suspend unpause"
    " update_allowed_operations"
).split()
# allowable_ops: all but these, which XAPI never lists
_IGNORED = (
    "create_template power_state_reset csvm get_boot_record send_sysrq send_trigger"
    " query_services shutdown call_plugin changing_memory_live awaiting_memory_live"
    " changing_memory_limits changing_shadow_memory_live changing_VCPUs assert_operation_valid"
    " data_source_op update_allowed_operations import reverting"
).split()


def _platform(store: Store, vm: dict, key: str) -> bool:
    """nomigrate / nested-virt: from VM_metrics while it runs, else the platform."""
    metrics = store.tables["VM_metrics"].get(vm["metrics"])
    if metrics is not None and key.replace("-", "_") in metrics:
        return bool(metrics[key.replace("-", "_")])
    return truthy(vm["platform"].get(key))


def _valid(store: Store, cls: str, ref: str) -> bool:
    return ref != NULL_REF and ref in store.tables[cls]


def prepare(store: Store, ref: str) -> Check:
    """check_operation_error ~strict:true: what it reads once per VM, then
    per operation the first error, in XAPI's order."""
    vm = store.get("VM", ref)
    state = vm["power_state"]
    blocked, current = vm["blocked_operations"], list(vm["current_operations"].values())
    template, snapshot = vm["is_a_template"], vm["is_a_snapshot"]
    default = vm["is_default_template"] or truthy(vm["other_config"].get("default_template"))
    immobile = _platform(store, vm, "nomigrate") or _platform(store, vm, "nested-virt")
    nested = _platform(store, vm, "nested-virt")
    # check_op_for_feature: what the guest's drivers and agent say
    live = state in ("Running", "Paused")
    metrics = store.tables["VM_metrics"].get(vm["metrics"], {})
    guest = store.tables["VM_guest_metrics"].get(vm["guest_metrics"])
    other = guest["other"] if guest else {}
    drivers = bool(guest) and bool(guest["PV_drivers_detected"] or guest["PV_drivers_version"])
    implicit = (
        not live or metrics.get("current_domain_type") in ("pv", "pv_in_pvh", "pvh") or drivers
    )
    vbds = [store.tables["VBD"][v] for v in live_refs(store, "VBD", vm["VBDs"])]
    vdis = [store.tables["VDI"][b["VDI"]] for b in vbds if b["VDI"] in store.tables["VDI"]]
    reset = any(v["sm_config"].get("on_boot") == "reset" for v in vdis)
    reset_cached = any(
        v["sm_config"].get("on_boot") == "reset" and truthy(v["sm_config"].get("caching"))
        for v in vdis
    )
    rolling = rolling_upgrade(store)

    def lacks(feature: str) -> bool:
        return other.get(feature) != "1"

    def feature(op: str) -> XapiError | None:
        if op in _MOVING and live:
            if "data-cant-suspend-reason" in other:
                return XapiError("VM_NON_SUSPENDABLE", ref, other["data-cant-suspend-reason"])
            if not implicit and lacks("feature-suspend"):
                return XapiError("VM_LACKS_FEATURE", ref)
            return None
        if implicit:
            return None
        if op == "clean_shutdown" and lacks("feature-shutdown") and lacks("feature-poweroff"):
            return XapiError("VM_LACKS_FEATURE", ref)
        if op == "clean_reboot" and lacks("feature-shutdown") and lacks("feature-reboot"):
            return XapiError("VM_LACKS_FEATURE", ref)
        if op == "changing_VCPUs_live" and lacks("feature-vcpu-hotplug"):
            return XapiError("VM_LACKS_FEATURE", ref)
        return None

    def check(op: str) -> XapiError | None:
        if op in blocked:
            return XapiError("OPERATION_BLOCKED", ref, blocked[op])
        allowed_states = power_states(vm, op)
        if state not in allowed_states:
            expected = ", ".join(s.lower() for s in allowed_states)
            return XapiError("VM_BAD_POWER_STATE", ref, expected, state.lower())
        if current and not concurrently(op, current):
            return in_progress("VM", ref, vm)
        if template and not snapshot:
            if not (op in _TEMPLATE_OPS or (op in ("destroy", "migrate_send") and not default)):
                return XapiError("VM_IS_TEMPLATE", ref, op)
        if snapshot and op not in _SNAPSHOT_OPS:
            return XapiError("VM_IS_SNAPSHOT", ref, op)
        if op == "provision" and not template:
            return XapiError("PROVISION_ONLY_ALLOWED_ON_TEMPLATE")
        if op == "revert" and not snapshot:
            return XapiError("REVERT_ONLY_ALLOWED_ON_SNAPSHOT")
        if op in _MOVING and immobile:
            return XapiError("VM_IS_IMMOBILE", ref)
        if op == "changing_dynamic_range" and nested:
            return XapiError("VM_IS_USING_NESTED_VIRT", ref)
        if vm["is_control_domain"]:
            if op in ("changing_VCPUs", "destroy"):  # every control domain here is a dom0
                return XapiError("OPERATION_NOT_ALLOWED", "This operation is not allowed on dom0")
            if op not in _CONTROL_DOMAIN_OPS:
                return XapiError(
                    "OPERATION_NOT_ALLOWED", "This operation is not allowed on a control domain"
                )
        problem = feature(op)
        if problem is not None:
            return problem
        if op == "snapshot_with_quiesce":
            return XapiError("VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED", ref)
        if (op in ("checkpoint", "snapshot", "suspend") and reset) or (
            op == "pool_migrate" and reset_cached
        ):
            return XapiError("VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION")
        if op in _MOVING and vm["attached_PCIs"]:
            return XapiError("VM_HAS_PCI_ATTACHED", ref)
        if vm["VGPUs"] and op in _MOVING and not (op == "migrate_send" and state == "Halted"):
            if not (op == "checkpoint" and state == "Suspended"):
                return XapiError("VM_HAS_VGPU", ref)
        if vm["VUSBs"] and op in (*_MOVING, "snapshot"):
            return XapiError("VM_HAS_VUSBS", ref)
        if op == "make_into_template":
            for field, code in (
                ("appliance", "VM_IS_PART_OF_AN_APPLIANCE"),
                ("protection_policy", "VM_ASSIGNED_TO_PROTECTION_POLICY"),
                ("snapshot_schedule", "VM_ASSIGNED_TO_SNAPSHOT_SCHEDULE"),
            ):
                if _valid(store, _FIELD_CLASS[field], vm[field]):
                    return XapiError(code, ref, vm[field])
        if op == "query_services" and not truthy(vm["other_config"].get("is_system_domain")):
            return XapiError("NOT_SYSTEM_DOMAIN", ref)
        if rolling and op not in _RPU_OPS:
            return XapiError("NOT_SUPPORTED_DURING_UPGRADE")
        if op == "create_vtpm" and vm["VTPMs"]:
            return XapiError("VTPM_MAX_AMOUNT_REACHED", str(len(vm["VTPMs"])))
        return None

    return check


_FIELD_CLASS = {
    "appliance": "VM_appliance",
    "protection_policy": "VMPP",
    "snapshot_schedule": "VMSS",
}


def _with(field: str):
    """The VMs whose ``field`` is the changed object (their metrics)."""
    return lambda store, ref, record: store.pointing("VM", field, ref)


def _pool_migrate(store: Store, args: list) -> list[Mark]:
    """VDI.pool_migrate is migrate_send on the VM of the disk's first VBD,
    refused first when it has none (message_forwarding.ml)."""
    vdi = str(args[0])
    vbds = store.get("VDI", vdi)["VBDs"]
    if not vbds:
        raise XapiError("VDI_NEEDS_VM_FOR_MIGRATE", vdi)
    return [Mark("VM", store.get("VBD", vbds[0])["VM"], "migrate_send")]


RULES = Rules(
    cls="VM",
    prepare=prepare,
    listed=tuple(op for op in enum_values("vm_operations") if op not in _IGNORED),
    reached_by={
        "VBD": lambda store, ref, vbd: [vbd["VM"]],
        "VDI": lambda store, ref, vdi: [
            store.tables["VBD"][b]["VM"] for b in live_refs(store, "VBD", vdi["VBDs"])
        ],
        "VM_metrics": _with("metrics"),
        "VM_guest_metrics": _with("guest_metrics"),
        "pool": on_upgrade("VM"),
    },
    messages={
        name: name
        for name in (
            "destroy clone snapshot checkpoint copy provision query_services start start_on pause"
            " unpause call_plugin clean_shutdown shutdown clean_reboot hard_shutdown hard_reboot"
            " suspend revert csvm resume resume_on pool_migrate migrate_send send_trigger"
            " send_sysrq get_boot_record sysprep create_vtpm"
        ).split()
    }
    | {
        # only when it becomes one (message_forwarding.ml)
        "set_is_a_template": lambda store, args: (
            [Mark("VM", str(args[0]), "make_into_template")] if truthy(str(args[1])) else []
        ),
        "set_is_default_template": lambda store, args: (
            [Mark("VM", str(args[0]), "make_into_template")]
            if truthy(str(args[1])) and not store.get("VM", str(args[0]))["is_a_template"]
            else []
        ),
        "VDI.pool_migrate": _pool_migrate,
        "call_host_plugin": "call_plugin",
        "set_VCPUs_number_live": "changing_VCPUs_live",
        "add_to_VCPUs_params_live": "changing_VCPUs_live",
        "set_NVRAM": "changing_NVRAM",
        "add_to_NVRAM": "changing_NVRAM",
        "remove_from_NVRAM": "changing_NVRAM",
        "set_VCPUs_max": "changing_VCPUs",
        "set_memory_dynamic_range": "changing_dynamic_range",
        "set_memory_static_range": "changing_static_range",
        "set_memory_limits": "changing_memory_limits",
        "set_memory": "changing_memory_limits",
        "set_memory_target_live": "changing_memory_live",
        "wait_memory_target_live": "awaiting_memory_live",
        "set_HVM_shadow_multiplier": "changing_shadow_memory",
        "set_shadow_multiplier_live": "changing_shadow_memory_live",
        "get_data_source": "data_source_op",
        "record_data_source": "data_source_op",
        "forget_data_source_archives": "data_source_op",
    },
)
