"""A VIF's operations, as ocaml/xapi/xapi_vif_helpers.ml decides them
(valid_operations: one at a time, dom0, SR-IOV, the VM's power state and
drivers) and ocaml/xapi/message_forwarding.ml marks them (with_vif_marked,
and VM.start and friends attaching every VIF: with_vifs_marked)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import XapiError
from ..schema import NULL_REF
from . import Mark, Rules, per_operation
from .devices import hotplug, vm_stopping

if TYPE_CHECKING:
    from ..store import Store

ALL_OPS = ("attach", "plug", "unplug")


def _in_progress(ref: str, current: dict) -> XapiError:
    """Every operation running, oldest first, in braces (XAPI folds its
    newest-first list onto a stack)."""
    ops = list(current.items())[::-1]
    return XapiError(
        "OTHER_OPERATION_IN_PROGRESS",
        "VIF",
        ref,
        "{" + "; ".join(op for _, op in ops) + "}",
        "{" + "; ".join(task for task, _ in ops) + "}",
    )


def _dom0(store: Store, vm_ref: str, vm: dict) -> bool:
    """Helpers.is_domain_zero: the control domain of the host it runs on."""
    host = store.tables["host"].get(vm["resident_on"])
    return vm["is_control_domain"] and host is not None and host["control_domain"] == vm_ref


def _sriov(store: Store, network: str) -> bool:
    """Xapi_network_sriov_helpers.is_sriov_network: the network's first PIF
    is an SR-IOV logical PIF, or a VLAN on one (Xapi_pif_helpers.get_pif_topo)."""
    pifs = store.tables["PIF"]
    net = store.tables["network"].get(network)
    pif = pifs.get(net["PIFs"][0]) if net and net["PIFs"] else None
    if pif is None or pif["tunnel_access_PIF_of"]:
        return False
    if pif["VLAN_master_of"] != NULL_REF:
        vlan = store.tables["VLAN"].get(pif["VLAN_master_of"])
        tagged = pifs.get(vlan["tagged_PIF"]) if vlan else None
        return bool(
            tagged
            and not tagged["tunnel_access_PIF_of"]
            and tagged["VLAN_master_of"] == NULL_REF
            and tagged["sriov_logical_PIF_of"]
        )
    return bool(pif["sriov_logical_PIF_of"])


def check(store: Store, ref: str, op: str) -> XapiError | None:
    """valid_operations: the first error set for ``op``, in XAPI's order."""
    vif = store.get("VIF", ref)
    if op not in ALL_OPS:
        return None
    if vif["current_operations"]:
        return _in_progress(ref, vif["current_operations"])
    vm_ref = vif["VM"]
    vm = store.get("VM", vm_ref)
    if op == "plug" and _dom0(store, vm_ref, vm):
        return XapiError("OPERATION_NOT_ALLOWED", "Control domain does not support hotplug")
    if op == "attach":
        return None
    if _sriov(store, vif["network"]):
        return XapiError("OPERATION_NOT_ALLOWED", "Network SR-IOV VIF plug/unplug not allowed")
    state, plugged = vm["power_state"], vif["currently_attached"]
    if state != "Running":
        return XapiError("VM_BAD_POWER_STATE", vm_ref, "running", state.lower())
    if plugged and op == "plug":
        return XapiError("DEVICE_ALREADY_ATTACHED", ref)
    if not plugged and op == "unplug":
        return XapiError("DEVICE_ALREADY_DETACHED", ref)
    return vm_stopping(vm_ref, vm) or hotplug(store, vm_ref, vm, "VIF")


def _attach_all(store: Store, args: list) -> list[Mark]:
    """with_vifs_marked: every VIF of the VM, attach; one refusing is
    XAPI's "Failed to lock all VIFs" (mark_vifs)."""
    refusal = XapiError("OPERATION_NOT_ALLOWED", "Failed to lock all VIFs")
    return [Mark("VIF", v, "attach", refusal) for v in store.get("VM", str(args[0]))["VIFs"]]


def _of_vms(field: str):
    """The VIFs of the VMs whose ``field`` is the changed object."""
    return lambda store, ref, record: [
        v for vm in store.pointing("VM", field, ref) for v in store.tables["VM"][vm]["VIFs"]
    ]


def _on_network(store: Store, network: str) -> list[str]:
    net = store.tables["network"].get(network)
    return list(net["VIFs"]) if net else []


def _of_pif(store: Store, ref: str, pif: dict) -> list[str]:
    """The VIFs on the PIF's network, and on its VLANs' networks."""
    out = _on_network(store, pif["network"])
    for vlan in pif["VLAN_slave_of"]:
        untagged = store.tables["PIF"].get(store.tables["VLAN"].get(vlan, {}).get("untagged_PIF"))
        out += _on_network(store, untagged["network"]) if untagged else []
    return out


RULES = Rules(
    cls="VIF",
    prepare=per_operation(check),
    listed=ALL_OPS,
    reached_by={
        "VM": lambda store, ref, vm: list(vm["VIFs"]),
        "VM_metrics": _of_vms("metrics"),
        "VM_guest_metrics": _of_vms("guest_metrics"),
        "host": lambda store, ref, host: (
            store.tables["VM"][host["control_domain"]]["VIFs"]
            if host["control_domain"] in store.tables["VM"]
            else []
        ),
        "network": lambda store, ref, net: list(net["VIFs"]),
        "PIF": _of_pif,
    },
    messages={
        "plug": "plug",
        "unplug": "unplug",
        "unplug_force": "unplug",
        **{
            f"VM.{name}": _attach_all
            for name in ("start", "start_on", "clean_reboot", "hard_reboot")
        },
    },
)
