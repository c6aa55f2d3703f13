"""What the pool says an object can do now: XAPI lists it in the object's
``allowed_operations`` (computed from its state, its storage's abilities and
what is running on it), and the console offers an action only when the list
has it. When it does not, the reason is said in words, read from the same
record (as XenCenter does): what is running on it, its power state, that it
is a template, a snapshot or the control domain, an operation blocked by
policy, a host not live or in maintenance, a detached SR."""

from __future__ import annotations

from collections.abc import Iterable

from .cache import Cache

# how each class's state reads in a sentence, for the reasons below
_WHAT = {"vm": "the VM", "host": "the host", "sr": "the SR", "vdi": "the disk", "pool": "the pool"}


def refusal(cache: Cache, cls: str, ref: str, op: str) -> str:
    """Why ``op`` is not possible on the object now, in words ('' when it is)."""
    rec = cache.get(cls, ref)
    if rec is None:
        return "it no longer exists"
    allowed = getattr(rec, "allowed_operations", None)
    if allowed is None or op in allowed:
        return ""
    what = _WHAT.get(cls.lower(), "it")
    running = tuple(getattr(rec, "current_operations", {}).values())
    if running:
        return f"{what} is busy: {', '.join(sorted(set(running))).replace('_', ' ')} in progress"
    reason = _state(cache, cls.lower(), rec, op)
    return reason or f"the pool does not allow {op.replace('_', ' ')} on {what} now"


def refusals(cache: Cache, cls: str, refs: Iterable[str], op: str) -> list[str]:
    """ "<name>: <why>" for each object that cannot do ``op`` now."""
    out = []
    for ref in refs:
        why = refusal(cache, cls, ref, op)
        if why:
            out.append(f"{cache.label(cls, ref)}: {why}")
    return out


# what needs the guest's help (xapi_vm_lifecycle.ml, check_op_for_feature)
_GUEST_HELPS = ("clean_shutdown", "clean_reboot", "suspend", "pool_migrate", "checkpoint")


def _has_tools(cache: Cache, vm) -> bool:
    guest = cache.get("vm_guest_metrics", getattr(vm, "guest_metrics", ""))
    return guest is not None and bool(getattr(guest, "PV_drivers_detected", True))


def _state(cache: Cache, cls: str, rec, op: str) -> str:
    if cls == "vm":
        blocked = getattr(rec, "blocked_operations", {})
        if op in blocked:
            return f"{op.replace('_', ' ')} is blocked on this VM ({blocked[op]})"
        if getattr(rec, "is_control_domain", False):
            return "it is a host's control domain"
        if getattr(rec, "is_a_snapshot", False):
            return "it is a snapshot"
        if getattr(rec, "is_a_template", False):
            return "it is a template"
        state = getattr(rec, "power_state", "")
        if state in ("Running", "Paused") and op in _GUEST_HELPS and not _has_tools(cache, rec):
            return "its guest has no tools to do it (the forced variant works without)"
        return f"the VM is {state.lower()}" if state else ""
    if cls == "host":
        metrics = cache.get("host_metrics", getattr(rec, "metrics", ""))
        if metrics is not None and not metrics.live:
            return "the host is not live (not reachable)"
        if not getattr(rec, "enabled", True):
            return "the host is disabled (in maintenance)"
    if cls == "pool" and op in ("ha_enable", "ha_disable"):
        enabled = getattr(rec, "ha_enabled", False)
        if op == "ha_enable" and enabled:
            return "HA is already enabled"
        if op == "ha_disable" and not enabled:
            return "HA is not enabled"
    if cls == "sr":
        pbds = [cache.get("pbd", p) for p in getattr(rec, "PBDs", ())]
        if pbds and not any(p is not None and p.currently_attached for p in pbds):
            return "the SR is detached"
    return ""
