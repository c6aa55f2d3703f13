"""Facts several areas read from the cache, worked out in one place: the pool
singleton, a host's role and liveness, its management interface, a PIF's DNS
servers, user VMs, an SR's provisioning."""

from __future__ import annotations

from collections.abc import Iterator

from .cache import Cache
from .records import NULL_REF

# SR types that allocate on write (file based); others are thick unless the SR
# says otherwise in sm_config:allocation.
THIN_SR_TYPES = frozenset(
    "nfs ext file smb iso cifs zfs xfs btrfs glusterfs cephfs moosefs".split()
)


def pool(cache: Cache):
    """The pool record (every XAPI database has exactly one), or None before the load."""
    return next(iter(cache.table("pool").values()), None)


def master_ref(cache: Cache) -> str:
    p = pool(cache)
    return p.master if p is not None else NULL_REF


def ha_enabled(cache: Cache) -> bool:
    p = pool(cache)
    return bool(p and p.ha_enabled)


def ha_word(enabled: bool) -> str:
    """HA's state in the one word every area says it in: "on" or "off"."""
    return "on" if enabled else "off"


def ha_overcommitted(pool) -> bool:
    """XAPI's definition (xapi_ha_vm_failover.ml): overcommitted when the plan
    covers fewer host failures than the pool must tolerate. Computed from the
    two figures the HA area shows, so no area can say otherwise."""
    return bool(
        pool is not None
        and pool.ha_enabled
        and pool.ha_plan_exists_for < pool.ha_host_failures_to_tolerate
    )


def host_role(cache: Cache, host: str) -> str:
    """standalone, master or member."""
    if len(cache.table("host")) <= 1:
        return "standalone"
    return "master" if host == master_ref(cache) else "member"


def is_live(cache: Cache, host) -> bool:
    """Whether a host record's metrics say it is alive (unknown metrics: not live)."""
    metrics = cache.get("host_metrics", host.metrics)
    return bool(metrics.live) if metrics is not None else False


# where maintenance mode is kept (the key XenCenter sets too, in host.other_config)
MAINTENANCE_MODE = "MAINTENANCE_MODE"


def host_state(cache: Cache, host) -> str:
    """A host's state in the words every area says it with: offline (not
    live), maintenance (disabled for maintenance mode), back (VMs away) (out
    of maintenance mode, its VMs not brought back yet), disabled (by other
    means: an evacuation, an upgrade), enabled."""
    if not is_live(cache, host):
        return "offline"
    if host.other_config.get(MAINTENANCE_MODE) == "true":
        return "back (VMs away)" if host.enabled else "maintenance"
    return "enabled" if host.enabled else "disabled"


def running_vms(cache: Cache) -> dict[str, int]:
    """How many VMs run on each host (by ref), the figure every area shows as
    "running": power state Running only (paused and suspended ones are not
    counted), control domains excepted."""
    out: dict[str, int] = {}
    for vm in user_vms(cache):
        if vm.power_state == "Running":
            out[vm.resident_on] = out.get(vm.resident_on, 0) + 1
    return out


def control_domain(cache: Cache, host):
    """A host record's dom0 (a VM record), or None: ``host.control_domain``
    where the release sends it (XenServer 7.1 and later), else the control
    domain resident on the host (6.5)."""
    if cache.reports("host", "control_domain"):
        return cache.get("vm", host.control_domain)
    return next(
        (
            vm
            for vm in cache.table("vm").values()
            if vm.is_control_domain and vm.resident_on == host.ref
        ),
        None,
    )


def host_certificate_records(cache: Cache) -> dict:
    """Each host's own certificate record, by host ref: those of type host;
    a release before XAPI 1.294 (XCP-ng 8.2) sends no type and keeps host
    certificates only. A host missing here has no record (a release before
    8.2 keeps none): ask the host (security.certificates.read_served)."""
    typed = cache.reports("certificate", "type")
    return {
        c.host: c
        for c in cache.table("certificate").values()
        if (c.type == "host" if typed else c.host in cache.table("host"))
    }


def certificate_fingerprint(cert) -> str:
    """A Certificate record's SHA-256 fingerprint (``fingerprint`` before
    XAPI 24.20, which added ``fingerprint_sha256``)."""
    return cert.fingerprint_sha256 or cert.fingerprint


def management_pif(cache: Cache, host: str):
    return next((p for p in cache.table("pif").values() if p.host == host and p.management), None)


def dns_servers(pif) -> list[str]:
    """A PIF's DNS field ("a,b") as a list."""
    return [d.strip() for d in pif.DNS.split(",") if d.strip()]


def user_vms(cache: Cache) -> Iterator:
    """VMs that are neither templates, snapshots nor control domains."""
    for vm in cache.table("vm").values():
        if not (vm.is_a_template or vm.is_control_domain or vm.is_a_snapshot):
            yield vm


def sr_is_thin(sr) -> bool:
    allocation = sr.sm_config.get("allocation")
    return allocation == "thin" or (allocation != "thick" and sr.type in THIN_SR_TYPES)


def bond_of(cache: Cache, pif) -> str:
    """ "master", "in bond0" (a member) or ""."""
    if pif.bond_master_of:
        return "master"
    if pif.bond_slave_of != NULL_REF:
        bond = cache.get("bond", pif.bond_slave_of)
        master = cache.get("pif", bond.master) if bond is not None else None
        return f"in {master.device if master is not None else 'bond'}"
    return ""
