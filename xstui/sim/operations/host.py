"""A host's operations, as ocaml/xapi/xapi_host_helpers.ml decides them
(valid_operations, update_allowed_operations) and ocaml/xapi/message_forwarding.ml
marks them (with_host_operation, allocate_vm_to_host)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import XapiError
from ..schema import enum_values
from . import Rules, first_running, on_upgrade, other_in_progress, per_operation, rolling_upgrade

if TYPE_CHECKING:
    from ..store import Store

ALL = tuple(enum_values("host_allowed_operations"))
MIAMI = ("evacuate", "provision")  # Xapi_globs.host_operations_miami
_CREATING = ("provision", "vm_resume", "vm_migrate")  # operations that bring VMs
_REMOVING = ("evacuate", "reboot", "shutdown")  # operations that take them away
# an operation running -> the operations it refuses, in valid_operations' order
_EXCLUDES = {
    "reboot": ("shutdown", "apply_updates"),
    "shutdown": ("reboot", "apply_updates"),
    "apply_updates": ("reboot", "shutdown", "enable"),
    "provision": ("provision",),  # one at a time, to spare dom0
}
_DOWN = ("shutdown", "reboot", "apply_updates")  # what needs the host disabled
RECOVERING = "SR Recovering"  # Xapi_globs.sr_health_check_task_label


def _recovering(store: Store) -> str | None:
    """The SR a health-check task says is recovering, of the plugged clustered
    SRs (Helpers.find_health_check_task: the task's name_description)."""
    plugged = {p["SR"] for p in store.tables["PBD"].values() if p["currently_attached"]}
    clustered = [r for r, sr in store.tables["SR"].items() if r in plugged and sr["clustered"]]
    for sr in clustered:
        for task in store.tables["task"].values():
            if task["name_label"] == RECOVERING and task["name_description"] == sr:
                return task["name_description"]
    return None


def check(store: Store, ref: str, op: str) -> XapiError | None:
    """valid_operations for one operation: the first error XAPI records for it."""
    host = store.get("host", ref)
    # what brings VMs and what takes them away exclude each other
    opposite = _REMOVING if op in _CREATING else _CREATING if op in _REMOVING else ()
    found = first_running(host, opposite)
    if found is not None:
        return other_in_progress("host", ref, found[1], found[0])
    for running, refused in _EXCLUDES.items():
        found = first_running(host, (running,))
        if found is not None and op in refused:
            return other_in_progress("host", ref, running, found[0])
    if op in _DOWN and host["enabled"]:
        return XapiError("HOST_NOT_DISABLED")
    if op == "power_on":
        metrics = store.tables["host_metrics"].get(host["metrics"])
        if metrics is not None and metrics["live"]:
            return XapiError("HOST_IS_LIVE", ref)
        if host["power_on_mode"] == "":
            return XapiError("HOST_POWER_ON_MODE_DISABLED")
        # the power-on-host plugin is installed, as on every host: no XENAPI_MISSING_PLUGIN
    # Clustered SRs: XAPI's "one enabled host down at most" rule never fires (it
    # passes host_metrics refs where it looks up hosts' Cluster_hosts), so only
    # an SR recovering refuses what takes the host down.
    if op in _DOWN:
        sr = _recovering(store)
        if sr is not None:
            return XapiError("CLUSTERED_SR_DEGRADED", sr)
    return None


def allowed(store: Store, ref: str) -> list[str]:
    """update_allowed_operations: what check lets through, Miami's operations
    only during a rolling pool upgrade (CA-18377)."""
    ops = [op for op in ALL if op in MIAMI] if rolling_upgrade(store) else ALL
    return [op for op in ops if check(store, ref, op) is None]


def _every_host(when):
    return lambda store, ref, record: list(store.tables["host"]) if when(store, record) else []


RULES = Rules(
    cls="host",
    prepare=per_operation(check),
    listed=ALL,
    allowed=allowed,
    reached_by={
        "host_metrics": lambda store, ref, metrics: store.pointing("host", "metrics", ref),
        "pool": on_upgrade("host"),
        # a clustered SR plugged or recovering
        "SR": _every_host(lambda store, sr: sr["clustered"]),
        "PBD": _every_host(
            lambda store, pbd: store.tables["SR"].get(pbd["SR"], {}).get("clustered", False)
        ),
        "task": _every_host(lambda store, task: task["name_label"] == RECOVERING),
    },
    # apply_updates is marked by host.apply_updates itself, once it has disabled
    # the host (xapi_host.ml); vm_start, vm_resume and vm_migrate by the VM calls,
    # on the host they place the VM on (allocate_vm_to_host); provision by a
    # VM.provision (not simulated)
    messages={op: op for op in ("evacuate", "enable", "shutdown", "reboot", "power_on")},
)
