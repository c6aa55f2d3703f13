"""The host an action is about, and the VMs running on it, read from the
cache the one way every host action reads them."""

from __future__ import annotations

from ...xapi import views
from ...xapi.cache import Cache
from ..actions import InvalidInput


def host_or_refuse(cache: Cache, host: str):
    """The host record an action is about; InvalidInput when it has gone."""
    rec = cache.get("host", host)
    if rec is None:
        raise InvalidInput(["the host is no longer in the pool"])
    return rec


def guests_on(cache: Cache, host: str) -> list:
    """Running or paused VMs resident on the host, dom0 excepted, by name."""
    return sorted(
        (
            vm
            for vm in views.user_vms(cache)
            if vm.resident_on == host and vm.power_state in ("Running", "Paused")
        ),
        key=lambda vm: vm.name_label.lower(),
    )


def guest_tuples(cache: Cache, host: str) -> list[tuple[str, str, str, str]]:
    """(ref, uuid, name, power state) of the VMs running on the host."""
    return [(vm.ref, vm.uuid, vm.name_label, vm.power_state) for vm in guests_on(cache, host)]


SCOPES = ("this host", "every host")


def scope_hosts(cache: Cache, host: str, scope: str) -> list:
    """The live hosts a setting goes to: this one, or every host of the pool
    (by name). Call with the cache lock held; InvalidInput for an unknown
    scope or a host that is down (it could not be configured now)."""
    if scope not in SCOPES:
        raise InvalidInput([f"apply to one of {', '.join(SCOPES)}"])
    if scope == "every host":
        hosts = sorted(cache.table("host").values(), key=lambda h: h.name_label)
    else:
        hosts = [host_or_refuse(cache, host)]
    down = [h.name_label for h in hosts if not views.is_live(cache, h)]
    if down:
        raise InvalidInput([f"not live, cannot be configured now: {', '.join(down)}"])
    return hosts


def default_scope(cache: Cache, setting) -> str:
    """ "every host" when the pool's hosts agree on ``setting(host record)``
    (keeping them alike is the point), else "this host": a form never offers
    to overwrite a host that was set differently."""
    values = {repr(setting(h)) for h in cache.table("host").values()}
    return "every host" if len(values) <= 1 else "this host"
