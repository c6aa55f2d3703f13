"""The Status model (RECIPES.md section 1): host, pool, capacity, storage and
health, computed from the event cache. No Textual, no XAPI calls."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from ... import clock
from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.tls import spaced
from ..health import HealthFlag, HealthRule, by_severity, collect
from ..values import percent


@dataclass
class ManagementInterface:
    device: str
    mode: str
    ip: str
    netmask: str
    gateway: str
    dns: list[str]
    mac: str
    network: str


@dataclass
class HostStatus:
    name: str
    hostname: str
    address: str
    role: str  # master, member, standalone
    master_name: str
    master_address: str
    enabled: bool
    live: bool
    state: str  # views.host_state, the words every area uses
    product: str
    build: str
    xapi_version: str
    api_version: str
    uptime_seconds: int | None
    memory_total: int
    memory_free: int
    memory_overhead: int
    dom0_memory: int
    cpu_count: int
    cpu_model: str
    vms_running: int
    network_backend: str
    management: ManagementInterface | None


@dataclass
class PoolHost:
    name: str
    role: str
    state: str  # views.host_state: enabled, disabled, maintenance, back (VMs away), offline
    address: str
    memory_total: int
    memory_free: int
    vms_running: int
    ref: str = ""


@dataclass
class PoolStatus:
    name: str
    master_name: str
    host_count: int
    live_hosts: int
    ha_enabled: bool
    ha_failures_to_tolerate: int
    ha_plan_exists_for: int
    ha_overcommitted: bool
    default_sr: str
    vms_running: int
    vms_total: int
    hosts: list[PoolHost]


@dataclass
class StorageRepo:
    name: str
    type: str
    shared: bool
    host: str  # for local SRs: the host it lives on
    provisioning: str  # thin or thick
    size: int
    used: int
    allocated: int
    attached: bool
    used_percent: float
    ref: str = ""


@dataclass
class Dom0Status:
    root_used: int
    root_total: int
    var_log_bytes: int
    var_log_fs_used: int
    var_log_fs_total: int
    load: tuple[float, float, float]
    ssh_fingerprints: dict[str, str] = field(default_factory=dict)


@dataclass
class Status:
    host: HostStatus
    pool: PoolStatus
    storage: list[StorageRepo]
    health: list[HealthFlag]
    tls_fingerprint: str
    tls_fingerprint_source: str
    pinned_fingerprint: str = ""  # what this console trusts for the host (https only)
    dom0: Dom0Status | None = None
    # the VMs have arrived (a first load reads them after the rest): until
    # then the VM counts and dom0's memory are 0, not known
    vms_loaded: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def build_status(
    cache: Cache,
    this_host: str,
    *,
    rules: tuple[HealthRule, ...] = (),
    fingerprint: str = "",
    fingerprint_source: str = "",
    pinned: str = "",
    dom0: Dom0Status | None = None,
    probed: list[HealthFlag] | None = None,
    now: float | None = None,
) -> Status:
    """The Status model; ``rules`` are the health rules of every area,
    ``probed`` the flags their probes found last."""
    now = clock.now() if now is None else now
    with cache.lock:
        hosts = cache.table("host")
        if this_host not in hosts and hosts:
            this_host = views.master_ref(cache) if views.pool(cache) else next(iter(hosts))
        running = views.running_vms(cache)
        vms_total = sum(1 for _ in views.user_vms(cache))
        host = host_status(cache, this_host, running, now)
        pool_status = _pool_status(cache, running, vms_total)
        srs = storage(cache)
        if not fingerprint:
            cert = views.host_certificate_records(cache).get(this_host)
            if cert is not None:
                fingerprint = views.certificate_fingerprint(cert)
                fingerprint_source = "host certificate record"
        health = collect(cache, rules, now)
    extra = (dom0_health(dom0) if dom0 else []) + list(probed or [])
    if pinned and fingerprint and pinned.upper() != fingerprint.upper():
        extra.append(
            HealthFlag(
                "critical",
                "certificates",
                f"The host now presents certificate {spaced(fingerprint)}, not the pinned "
                f"{spaced(pinned)}: "
                "regenerated, or someone in between? Check on the host's console.",
            )
        )
    health = by_severity(health + extra)
    return Status(
        host,
        pool_status,
        srs,
        health,
        fingerprint,
        fingerprint_source,
        pinned,
        dom0,
        vms_loaded=cache.ready(("vm", "vm_metrics")),
    )


def _management(cache: Cache, host_ref: str) -> ManagementInterface | None:
    pif = views.management_pif(cache, host_ref)
    if pif is None:
        return None
    return ManagementInterface(
        pif.device,
        pif.ip_configuration_mode,
        pif.IP,
        pif.netmask,
        pif.gateway,
        views.dns_servers(pif),
        pif.MAC,
        cache.label("network", pif.network, ""),
    )


def host_status(cache: Cache, ref: str, running: dict[str, int], now: float) -> HostStatus:
    h = cache.get("host", ref)
    master = cache.get("host", views.master_ref(cache))
    metrics = cache.get("host_metrics", h.metrics)
    sw, cpu = h.software_version, h.cpu_info
    boot = h.other_config.get("boot_time")
    dom0 = views.control_domain(cache, h)
    dom0_metrics = cache.get("vm_metrics", dom0.metrics) if dom0 is not None else None
    dom0_mem = 0
    if dom0 is not None:
        dom0_mem = (dom0_metrics.memory_actual if dom0_metrics else 0) or dom0.memory_target
        dom0_mem += dom0.memory_overhead
    try:
        cpu_count = int(cpu.get("cpu_count", 0))
    except ValueError:
        cpu_count = 0
    try:
        # to the minute, the finest it is shown in: a Status built again
        # within the minute is the same, and draws nothing (screens.status)
        uptime = int(now - float(boot)) // 60 * 60 if boot else None
    except ValueError:
        uptime = None
    return HostStatus(
        name=h.name_label,
        hostname=h.hostname,
        address=h.address,
        role=views.host_role(cache, ref),
        master_name=master.name_label if master else "",
        master_address=master.address if master else "",
        enabled=h.enabled,
        live=views.is_live(cache, h),
        state=views.host_state(cache, h),
        product=" ".join(
            x for x in (sw.get("product_brand", ""), sw.get("product_version", "")) if x
        )
        or sw.get("platform_name", ""),
        build=sw.get("build_number", ""),
        xapi_version=sw.get("xapi", ""),
        api_version=f"{h.API_version_major}.{h.API_version_minor}",
        uptime_seconds=uptime,
        memory_total=metrics.memory_total if metrics else 0,
        memory_free=metrics.memory_free if metrics else 0,
        memory_overhead=h.memory_overhead,
        dom0_memory=dom0_mem,
        cpu_count=cpu_count,
        cpu_model=cpu.get("modelname", ""),
        vms_running=running.get(ref, 0),
        network_backend=sw.get("network_backend", ""),
        management=_management(cache, ref),
    )


def pool_host(cache: Cache, host, running: dict[str, int]) -> PoolHost:
    metrics = cache.get("host_metrics", host.metrics)
    return PoolHost(
        host.name_label,
        views.host_role(cache, host.ref),
        views.host_state(cache, host),
        host.address,
        metrics.memory_total if metrics else 0,
        metrics.memory_free if metrics else 0,
        running.get(host.ref, 0),
        host.ref,
    )


def _pool_status(cache: Cache, running: dict[str, int], vms_total: int) -> PoolStatus:
    pool = views.pool(cache)
    master = views.master_ref(cache)
    hosts = sorted(cache.table("host").values(), key=lambda h: (h.ref != master, h.name_label))
    rows = [pool_host(cache, h, running) for h in hosts]
    default_sr = cache.get("sr", pool.default_SR) if pool else None
    return PoolStatus(
        name=pool.name_label if pool else "",
        master_name=cache.label("host", master, ""),
        host_count=len(rows),
        live_hosts=sum(1 for r in rows if r.state != "offline"),
        ha_enabled=bool(pool and pool.ha_enabled),
        ha_failures_to_tolerate=pool.ha_host_failures_to_tolerate if pool else 0,
        ha_plan_exists_for=pool.ha_plan_exists_for if pool else 0,
        ha_overcommitted=views.ha_overcommitted(pool),
        default_sr=default_sr.name_label if default_sr else "",
        vms_running=sum(running.values()),
        vms_total=vms_total,
        hosts=rows,
    )


def storage_repo(cache: Cache, sr, pbds: list) -> StorageRepo:
    host = ""
    if not sr.shared and pbds:
        local = cache.get("host", pbds[0].host)
        host = local.name_label if local else ""
    size, used = sr.physical_size, sr.physical_utilisation
    return StorageRepo(
        name=sr.name_label,
        type=sr.type,
        shared=sr.shared,
        host=host,
        provisioning="thin" if views.sr_is_thin(sr) else "thick",
        size=size,
        used=used,
        allocated=sr.virtual_allocation,
        attached=bool(pbds) and all(p.currently_attached for p in pbds),
        used_percent=round(percent(used, size), 1),
        ref=sr.ref,
    )


def storage(cache: Cache) -> list[StorageRepo]:
    """Every SR but removable-media ones, shared first."""
    pbds_by_sr = defaultdict(list)
    for pbd in cache.table("pbd").values():
        pbds_by_sr[pbd.SR].append(pbd)
    out = [
        storage_repo(cache, sr, pbds_by_sr.get(sr.ref, []))
        for sr in cache.table("sr").values()
        if not (sr.content_type == "iso" and sr.type == "udev")
    ]
    out.sort(key=lambda s: (not s.shared, s.name, s.host))
    return out


def dom0_health(dom0: Dom0Status) -> list[HealthFlag]:
    if dom0.root_total and percent(dom0.root_used, dom0.root_total) >= 80:
        return [
            HealthFlag(
                "warning",
                "dom0",
                f"dom0 root filesystem is {percent(dom0.root_used, dom0.root_total):.0f}% full "
                "(/var/log growth is the usual cause)",
            )
        ]
    return []
