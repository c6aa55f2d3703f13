"""A VBD's operations, as ocaml/xapi/xapi_vbd_helpers.ml decides them
(valid_operations: concurrency, unpluggable and removable drives, the VM's
power state and drivers, the disk's state and sharing) and
ocaml/xapi/message_forwarding.ml marks them (with_vbd_marked, and VM.start
and friends attaching every VBD: with_vbds_marked)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import XapiError
from . import Mark, Rules, busy, per_operation
from .devices import domain_type, hotplug, vm_stopping

if TYPE_CHECKING:
    from ..store import Store

ALL_OPS = ("attach", "eject", "unplug", "unplug_force", "insert", "plug", "pause", "unpause")
_PARALLEL = ("pause", "unpause")  # safe_to_parallelise
# what each may start beside: pauses together, an unpause beside an attach
# too (a reboot's: CA-24282); anything else beside nothing
_TOGETHER = {"pause": _PARALLEL, "unpause": ("attach", *_PARALLEL)}
_PLUG_OPS = ("plug", "unplug", "unplug_force")


def _power(ref: str, vbd: dict, op: str, vm_ref: str, vm: dict) -> XapiError | None:
    """The VM must run for a plug or unplug (pause and unpause: run or be paused)."""
    state, plugged = vm["power_state"], vbd["currently_attached"]
    if state == "Running":
        if plugged and op == "plug":
            return XapiError("DEVICE_ALREADY_ATTACHED", ref)
        if not plugged and op in ("unplug", "unplug_force"):
            return XapiError("DEVICE_ALREADY_DETACHED", ref)
        return None
    if op in _PLUG_OPS or (op in _PARALLEL and state != "Paused"):
        return XapiError("VM_BAD_POWER_STATE", vm_ref, "running", state.lower())
    return None


def _sharing(
    store: Store, ref: str, vbd: dict, vdi_ref: str, vdi: dict, vm: dict
) -> XapiError | None:
    """The expensive sharing checks: another VBD of the disk in use (not a
    suspended VM's, not a control domain's) that writes, or any when this
    one would write, unless the disk is sharable; no writing a read-only disk."""
    others = []
    for b in vdi["VBDs"]:
        other = store.tables["VBD"].get(b)
        owner = store.tables["VM"].get(other["VM"], {}) if other else {}
        if other is None or b == ref or owner.get("power_state") == "Suspended":
            continue
        if not owner.get("is_control_domain") and (
            other["currently_attached"] or other["current_operations"]
        ):
            others.append(other)
    write = vbd["mode"] == "RW"
    if (
        not vdi["sharable"]
        and not vm["is_control_domain"]
        and (any(o["mode"] == "RW" for o in others) or (write and others))
    ):
        return XapiError("VDI_IN_USE", vdi_ref)
    if write and vdi["read_only"]:
        return XapiError("VDI_READONLY", vdi_ref)
    return None


def _disk(store: Store, ref: str, vbd: dict, op: str, vm: dict, sharing: bool) -> XapiError | None:
    """The disk in the drive: managed, not busy, free to share."""
    vdi_ref = vbd["VDI"]
    vdi = store.tables["VDI"].get(vdi_ref)
    if vbd["empty"] or vdi is None:
        return None
    if not vdi["managed"]:
        return XapiError("VDI_NOT_MANAGED", ref)
    if op not in ("attach", "plug", "insert"):
        return None
    busy = next(
        ((t, o) for t, o in vdi["current_operations"].items() if o not in ("mirror", "copy")), None
    )
    if busy:
        return XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", vdi_ref, busy[1], busy[0])
    if sharing and not vbd["currently_attached"]:
        return _sharing(store, ref, vbd, vdi_ref, vdi, vm)
    return None


def _drive(ref: str, vbd: dict, op: str) -> XapiError | None:
    """What the drive is: unpluggable or not, a CD drive with a disc or not."""
    if not vbd["unpluggable"] and op in ("unplug", "unplug_force"):
        return XapiError("VBD_NOT_UNPLUGGABLE", ref)
    if vbd["type"] != "CD" and op in ("insert", "eject"):
        return XapiError("VBD_NOT_REMOVABLE_MEDIA", ref)
    if vbd["empty"] and op == "eject":
        return XapiError("VBD_IS_EMPTY", ref)
    if not vbd["empty"] and op == "insert":
        return XapiError("VBD_NOT_EMPTY", ref)
    return None


def _guest(store: Store, vbd: dict, op: str, vm_ref: str, vm: dict) -> XapiError | None:
    """A running HVM guest hot-plugs with drivers only, and never a CD drive;
    a suspended VM's CD drive takes no disc in or out."""
    state = vm["power_state"]
    if op in _PLUG_OPS and state == "Running" and domain_type(store, vm) == "hvm":
        problem = hotplug(store, vm_ref, vm, "VBD")
        if problem is None and vbd["type"] == "CD":
            return XapiError(
                "OPERATION_NOT_ALLOWED",
                "HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected",
            )
        return problem
    if vbd["type"] == "CD" and state == "Suspended" and op in ("insert", "eject"):
        return XapiError("VM_BAD_POWER_STATE", vm_ref, "halted, running", "suspended")
    return None


def _check(store: Store, ref: str, op: str, sharing: bool) -> XapiError | None:
    """valid_operations: the first error set for ``op``, in XAPI's order."""
    vbd = store.get("VBD", ref)
    if op not in ALL_OPS:
        return None
    vm_ref = vbd["VM"]
    vm = store.get("VM", vm_ref)
    return (
        busy("VBD", ref, vbd["current_operations"], op, _TOGETHER)
        or _drive(ref, vbd, op)
        or _power(ref, vbd, op, vm_ref, vm)
        or (vm_stopping(vm_ref, vm) if op in ("plug", "unplug") else None)
        or _guest(store, vbd, op, vm_ref, vm)
        or _disk(store, ref, vbd, op, vm, sharing)
    )


def check(store: Store, ref: str, op: str) -> XapiError | None:
    """assert_operation_valid: with the sharing checks."""
    return _check(store, ref, op, sharing=True)


def listing(store: Store, ref: str, op: str) -> XapiError | None:
    """update_allowed_operations: without them (CA-20808)."""
    return _check(store, ref, op, sharing=False)


def _attach_all(store: Store, args: list) -> list[Mark]:
    """with_vbds_marked: every VBD of the VM, attach."""
    return [Mark("VBD", b, "attach") for b in store.get("VM", str(args[0]))["VBDs"]]


def _of_vms(field: str):
    """The VBDs of the VMs whose ``field`` is the changed object."""
    return lambda store, ref, record: [
        b for vm in store.pointing("VM", field, ref) for b in store.tables["VM"][vm]["VBDs"]
    ]


RULES = Rules(
    cls="VBD",
    prepare=per_operation(check),
    allowed=lambda store, ref: [op for op in ALL_OPS if listing(store, ref, op) is None],
    listed=ALL_OPS,
    reached_by={
        "VM": lambda store, ref, vm: list(vm["VBDs"]),
        "VDI": lambda store, ref, vdi: list(vdi["VBDs"]),
        "VM_metrics": _of_vms("metrics"),
        "VM_guest_metrics": _of_vms("guest_metrics"),
    },
    messages={
        **{name: name for name in ("insert", "eject", "plug", "unplug", "unplug_force")},
        **{
            f"VM.{name}": _attach_all
            for name in ("start", "start_on", "clean_reboot", "hard_reboot", "resume", "resume_on")
        },
    },
)
