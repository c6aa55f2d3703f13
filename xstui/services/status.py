"""The Status model (RECIPES.md section 1): host, pool, capacity, storage and
health, computed from the event cache. No Textual, no XAPI calls."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from ..xapi.cache import Cache
from .consistency import check_pool
from .values import NULL, epoch, num, percent

CERT_WARN_DAYS = 30
SR_WARN_PERCENT = 90
ALERT_WINDOW = 7 * 86400


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
    state: str  # enabled, maintenance, offline
    address: str
    memory_total: int
    memory_free: int
    vms_running: int


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


@dataclass
class HealthFlag:
    severity: str  # critical, warning, info
    area: str
    text: str


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
    dom0: Dom0Status | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _user_vms(cache: Cache):
    for ref, vm in cache.table("vm").items():
        if (
            not vm.get("is_a_template")
            and not vm.get("is_control_domain")
            and not vm.get("is_a_snapshot")
        ):
            yield ref, vm


def _is_live(cache: Cache, host: dict) -> bool:
    metrics = cache.get("host_metrics", host.get("metrics", NULL))
    return bool(metrics.get("live", True)) if metrics else False


def _management(cache: Cache, host_ref: str) -> ManagementInterface | None:
    for pif in cache.table("pif").values():
        if pif.get("host") == host_ref and pif.get("management"):
            net = cache.get("network", pif.get("network", NULL)) or {}
            dns = [d for d in str(pif.get("DNS", "")).split(",") if d]
            return ManagementInterface(
                pif.get("device", ""),
                pif.get("ip_configuration_mode", ""),
                pif.get("IP", ""),
                pif.get("netmask", ""),
                pif.get("gateway", ""),
                dns,
                pif.get("MAC", ""),
                net.get("name_label", ""),
            )
    return None


def build_status(
    cache: Cache,
    this_host: str,
    *,
    fingerprint: str = "",
    fingerprint_source: str = "",
    dom0: Dom0Status | None = None,
    now: float | None = None,
) -> Status:
    now = time.time() if now is None else now
    with cache.lock:
        pool = next(iter(cache.table("pool").values()), {})
        hosts = cache.table("host")
        if this_host not in hosts and hosts:
            this_host = pool.get("master", next(iter(hosts)))
        master_ref = pool.get("master", this_host)
        running_per_host: Counter[str] = Counter()
        vms_total = 0
        for _, vm in _user_vms(cache):
            vms_total += 1
            if vm.get("power_state") == "Running":
                running_per_host[vm.get("resident_on", NULL)] += 1
        host = _host_status(cache, this_host, master_ref, len(hosts), running_per_host, now)
        pool_status = _pool_status(cache, pool, master_ref, running_per_host, vms_total)
        storage = _storage(cache)
        if not fingerprint:
            cert = next(
                (
                    c
                    for c in cache.table("certificate").values()
                    if c.get("host") == this_host and c.get("type", "host") == "host"
                ),
                None,
            )
            if cert:
                fingerprint = cert.get("fingerprint_sha256") or cert.get("fingerprint", "")
                fingerprint_source = "host certificate record"
        health = _health(cache, pool, storage, now)
    if dom0:
        health += _dom0_health(dom0)
    order = {"critical": 0, "warning": 1, "info": 2}
    health.sort(key=lambda f: order[f.severity])
    return Status(host, pool_status, storage, health, fingerprint, fingerprint_source, dom0)


def _host_status(cache, ref, master_ref, host_count, running, now) -> HostStatus:
    h = cache.get("host", ref) or {}
    master = cache.get("host", master_ref) or {}
    metrics = cache.get("host_metrics", h.get("metrics", NULL)) or {}
    sw = h.get("software_version", {}) or {}
    cpu = h.get("cpu_info", {}) or {}
    role = "standalone" if host_count <= 1 else ("master" if ref == master_ref else "member")
    boot = (h.get("other_config") or {}).get("boot_time")
    dom0 = cache.get("vm", h.get("control_domain", NULL)) or {}
    dom0_metrics = cache.get("vm_metrics", dom0.get("metrics", NULL)) or {}
    dom0_mem = num(dom0_metrics.get("memory_actual")) or num(dom0.get("memory_target"))
    cpu_count = num(cpu.get("cpu_count")) or sum(
        1 for c in cache.table("host_cpu").values() if c.get("host") == ref
    )
    return HostStatus(
        name=h.get("name_label", ""),
        hostname=h.get("hostname", ""),
        address=h.get("address", ""),
        role=role,
        master_name=master.get("name_label", ""),
        master_address=master.get("address", ""),
        enabled=bool(h.get("enabled", False)),
        live=_is_live(cache, h),
        product=" ".join(
            x for x in (sw.get("product_brand", ""), sw.get("product_version", "")) if x
        )
        or sw.get("platform_name", ""),
        build=sw.get("build_number", ""),
        xapi_version=sw.get("xapi", ""),
        api_version=f"{num(h.get('API_version_major'))}.{num(h.get('API_version_minor'))}",
        uptime_seconds=int(now - float(boot)) if boot else None,
        memory_total=num(metrics.get("memory_total")),
        memory_free=num(metrics.get("memory_free")),
        memory_overhead=num(h.get("memory_overhead")),
        dom0_memory=dom0_mem + num(dom0.get("memory_overhead")),
        cpu_count=cpu_count,
        cpu_model=cpu.get("modelname", ""),
        vms_running=running.get(ref, 0),
        network_backend=sw.get("network_backend", ""),
        management=_management(cache, ref),
    )


def _pool_status(cache, pool, master_ref, running, vms_total) -> PoolStatus:
    hosts = cache.table("host")
    rows = []
    for ref, h in sorted(
        hosts.items(), key=lambda kv: (kv[0] != master_ref, kv[1].get("name_label", ""))
    ):
        metrics = cache.get("host_metrics", h.get("metrics", NULL)) or {}
        live = _is_live(cache, h)
        state = "offline" if not live else ("enabled" if h.get("enabled") else "maintenance")
        role = "standalone" if len(hosts) <= 1 else ("master" if ref == master_ref else "member")
        rows.append(
            PoolHost(
                h.get("name_label", ""),
                role,
                state,
                h.get("address", ""),
                num(metrics.get("memory_total")),
                num(metrics.get("memory_free")),
                running.get(ref, 0),
            )
        )
    default_sr = cache.get("sr", pool.get("default_SR", NULL)) or {}
    return PoolStatus(
        name=pool.get("name_label", ""),
        master_name=(hosts.get(master_ref) or {}).get("name_label", ""),
        host_count=len(hosts),
        live_hosts=sum(1 for r in rows if r.state != "offline"),
        ha_enabled=bool(pool.get("ha_enabled")),
        ha_failures_to_tolerate=num(pool.get("ha_host_failures_to_tolerate")),
        ha_plan_exists_for=num(pool.get("ha_plan_exists_for")),
        ha_overcommitted=bool(pool.get("ha_overcommitted")),
        default_sr=default_sr.get("name_label", ""),
        vms_running=sum(running.values()),
        vms_total=vms_total,
        hosts=rows,
    )


THIN_TYPES = {
    "nfs",
    "ext",
    "file",
    "smb",
    "iso",
    "cifs",
    "zfs",
    "xfs",
    "btrfs",
    "glusterfs",
    "cephfs",
    "moosefs",
}


def _storage(cache) -> list[StorageRepo]:
    pbds_by_sr = defaultdict(list)
    for pbd in cache.table("pbd").values():
        pbds_by_sr[pbd.get("SR")].append(pbd)
    out = []
    for ref, sr in cache.table("sr").items():
        if sr.get("content_type") == "iso" and sr.get("type") in ("udev",):
            continue
        pbds = pbds_by_sr.get(ref, [])
        host = ""
        if not sr.get("shared") and pbds:
            host = (cache.get("host", pbds[0].get("host", NULL)) or {}).get("name_label", "")
        kind = sr.get("type", "")
        sm = sr.get("sm_config") or {}
        thin = sm.get("allocation") == "thin" or (
            sm.get("allocation") != "thick" and kind in THIN_TYPES
        )
        size, used = num(sr.get("physical_size")), num(sr.get("physical_utilisation"))
        out.append(
            StorageRepo(
                name=sr.get("name_label", ""),
                type=kind,
                shared=bool(sr.get("shared")),
                host=host,
                provisioning="thin" if thin else "thick",
                size=size,
                used=used,
                allocated=num(sr.get("virtual_allocation")),
                attached=bool(pbds) and all(p.get("currently_attached") for p in pbds),
                used_percent=round(percent(used, size), 1),
            )
        )
    out.sort(key=lambda s: (not s.shared, s.name, s.host))
    return out


def _health(cache, pool, storage, now) -> list[HealthFlag]:
    flags: list[HealthFlag] = []
    hosts = cache.table("host")

    def name(ref):
        return cache.label("host", ref)

    for h in hosts.values():
        if not _is_live(cache, h):
            flags.append(HealthFlag("critical", "pool", f"Host {h.get('name_label')} is offline"))
        elif not h.get("enabled"):
            flags.append(
                HealthFlag("warning", "pool", f"Host {h.get('name_label')} is in maintenance mode")
            )
    for cert in cache.table("certificate").values():
        if cert.get("type", "host") != "host":
            continue
        expiry = epoch(cert.get("not_after"))
        if expiry is None:
            continue
        days = round((expiry - now) / 86400)
        if expiry < now:
            flags.append(
                HealthFlag(
                    "critical",
                    "certificates",
                    f"Certificate of {name(cert.get('host'))} expired {int(-days)} days ago",
                )
            )
        elif days <= CERT_WARN_DAYS:
            flags.append(
                HealthFlag(
                    "warning",
                    "certificates",
                    f"Certificate of {name(cert.get('host'))} expires in {int(days)} days",
                )
            )
    for pbd in cache.table("pbd").values():
        if not pbd.get("currently_attached"):
            sr = cache.get("sr", pbd.get("SR", NULL)) or {}
            flags.append(
                HealthFlag(
                    "warning",
                    "storage",
                    f"SR {sr.get('name_label', '?')} is not attached on {name(pbd.get('host'))}",
                )
            )
    for sr in storage:
        if sr.size and sr.used_percent >= SR_WARN_PERCENT:
            where = f" on {sr.host}" if sr.host else ""
            sev = "critical" if sr.used_percent >= 97 else "warning"
            flags.append(
                HealthFlag(sev, "storage", f"SR {sr.name}{where} is {sr.used_percent:.0f}% full")
            )
    if pool.get("ha_enabled"):
        tolerate, plan = (
            num(pool.get("ha_host_failures_to_tolerate")),
            num(pool.get("ha_plan_exists_for")),
        )
        if plan < tolerate:
            flags.append(
                HealthFlag(
                    "critical", "ha", f"HA plan covers {plan} host failures, {tolerate} required"
                )
            )
        if pool.get("ha_overcommitted"):
            flags.append(
                HealthFlag("warning", "ha", "HA is overcommitted: protected VMs cannot all restart")
            )
    flags += [HealthFlag(f.severity, "network", f.text) for f in check_pool(cache)]
    all_hosts = set(hosts)
    for upd in cache.table("pool_update").values():
        applied = set(upd.get("hosts") or [])
        missing = sorted(name(h) for h in all_hosts - applied)
        if missing:
            where = ", ".join(missing) if applied else "any host"
            flags.append(
                HealthFlag(
                    "info", "updates", f"Update {upd.get('name_label')} not applied on {where}"
                )
            )
    for msg in sorted(
        cache.table("message").values(),
        key=lambda m: str(getattr(m.get("timestamp"), "value", m.get("timestamp"))),
        reverse=True,
    ):
        stamp = epoch(msg.get("timestamp"))
        prio = num(msg.get("priority"), 5)
        if stamp is not None and now - stamp <= ALERT_WINDOW and prio <= 3:
            sev = "warning" if prio <= 2 else "info"
            flags.append(
                HealthFlag(sev, "alerts", f"{msg.get('name')}: {msg.get('body', '')}".strip())
            )
    return flags


def _dom0_health(dom0: Dom0Status) -> list[HealthFlag]:
    flags = []
    if dom0.root_total and percent(dom0.root_used, dom0.root_total) >= 80:
        flags.append(
            HealthFlag(
                "warning",
                "dom0",
                f"dom0 root filesystem is {percent(dom0.root_used, dom0.root_total):.0f}% full "
                "(/var/log growth is the usual cause)",
            )
        )
    return flags
