"""What a VBD's and a VIF's rules share: a VM stopping, its domain type,
hot-plug support (xapi_vbd_helpers.ml, xapi_vif_helpers.ml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import XapiError

if TYPE_CHECKING:
    from ..store import Store

_STOPPING = ("clean_shutdown", "hard_shutdown", "suspend", "pause")


def vm_stopping(vm_ref: str, vm: dict) -> XapiError | None:
    """No plug or unplug while the VM shuts down, suspends or pauses
    (xapi_vbd_helpers.ml, xapi_vif_helpers.ml: the first such operation)."""
    for op in vm["current_operations"].values():
        if op in _STOPPING:
            return XapiError("OPERATION_NOT_ALLOWED", f"Current operation on VM:{vm_ref} is {op}")
    return None


def domain_type(store: Store, vm: dict) -> str:
    """Helpers.domain_type: the running domain's, the configured one when
    halted (a simulated domain without one runs as configured)."""
    if vm["power_state"] != "Halted":
        metrics = store.tables["VM_metrics"].get(vm["metrics"])
        if metrics and metrics["current_domain_type"] != "unspecified":
            return metrics["current_domain_type"]
    return vm["domain_type"]


def _has_pv_drivers(guest: dict | None) -> bool:
    """Xapi_pv_driver_version.of_guest_metrics is not Unknown: a version
    with a major and a minor number (and numbers for micro, build if given)."""
    version = guest["PV_drivers_version"] if guest else {}
    given = [k for k in ("major", "minor", "micro", "build") if k in version]
    return given[:2] == ["major", "minor"] and all(version[k].lstrip("+-").isdigit() for k in given)


def hotplug(store: Store, vm_ref: str, vm: dict, device: str) -> XapiError | None:
    """Why a running HVM guest cannot hot-plug a ``device`` ("VBD" or "VIF"):
    its drivers say so, or it has none (xapi_vbd_helpers.ml, xapi_vif_helpers.ml)."""
    if vm["power_state"] != "Running" or domain_type(store, vm) != "hvm":
        return None
    guest = store.tables["VM_guest_metrics"].get(vm["guest_metrics"])
    says = guest[f"can_use_hotplug_{device.lower()}"] if guest else "unspecified"
    if says == "no":
        return XapiError(
            "OPERATION_NOT_ALLOWED", f"VM states it does not support {device} hotplug."
        )
    if says == "yes" or (guest and guest["PV_drivers_detected"]) or _has_pv_drivers(guest):
        return None
    return XapiError("VM_MISSING_PV_DRIVERS", vm_ref)
