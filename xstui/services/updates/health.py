"""The Patching area's health rule (Status, Health tab; ``xstui check``):
updates the pool knows but some hosts lack, and hosts waiting for the reboot
an applied update asked for. From the cache alone (a rule makes no calls):
6.x patches and 7.x/8.2 updates; XenServer 8 and XCP-ng list what a host
lacks only on request, so the Patching screen shows those."""

from __future__ import annotations

from ...xapi.cache import Cache
from ..health import HealthFlag
from .generation import PATCHES, UPDATES
from .guidance import needs_reboot
from .model import build


def health(cache: Cache, now: float) -> list[HealthFlag]:
    with cache.lock:
        if cache.table("pool_update"):
            generation = UPDATES
        elif cache.table("pool_patch"):
            generation = PATCHES
        else:
            return []
        view = build(cache, generation)
    flags = []
    for h in view.hosts:
        if needs_reboot(h.pending):
            flags.append(
                HealthFlag(
                    "warning", "updates", f"{h.name} waits for the reboot an update asked for"
                )
            )
    for u in view.updates:
        lacking = sorted(h.name for h in view.hosts if h.ref not in u.applied_on)
        if lacking:
            where = ", ".join(lacking) if u.applied_on else "any host"
            flags.append(HealthFlag("info", "updates", f"Update {u.name} not applied on {where}"))
    return flags
