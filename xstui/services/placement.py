"""Why a VM cannot run on a host, in words: XAPI's placement errors with
the names of the objects they refer to. Maintenance mode and migration both
say it this way."""

from __future__ import annotations

from ..xapi.cache import Cache
from .values import size


def reason_in_words(cache: Cache, error: list[str], target: str = "the other hosts") -> str:
    """Why a VM cannot run where it was asked to (an entry of
    ``host.get_vms_which_prevent_evacuation``, or what ``VM.assert_can_boot_here``
    raised), as a sentence with names instead of references."""
    code, params = (error[0], error[1:]) if error else ("", [])
    several = target == "the other hosts"
    if code == "VM_REQUIRES_SR" and len(params) >= 2:
        return f"its disks are on {cache.label('sr', params[1])}, which {target} cannot reach"
    if code == "HOST_NOT_ENOUGH_FREE_MEMORY" and len(params) >= 2 and params[0].isdigit():
        return (
            f"needs {size(int(params[0]))} and {target} {'have' if several else 'has'} at most "
            f"{size(int(params[1]) if params[1].isdigit() else 0)} free"
        )
    if code == "VM_REQUIRES_NETWORK" and len(params) >= 2:
        return f"its network {cache.label('network', params[1])} is missing on {target}"
    if code == "HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN":
        return "moving it would break the HA failover plan"
    if code in ("NO_HOSTS_AVAILABLE", "HOST_OFFLINE", "HOST_DISABLED"):
        return (
            "no other host is up and enabled to take it"
            if several
            else f"{target} is not up and enabled"
        )
    if code == "VM_LACKS_FEATURE" or code.startswith("VM_MISSING_PV_DRIVERS"):
        return "it has no PV drivers, so it cannot be live-migrated"
    return " ".join(error) or "XAPI gave no reason"
