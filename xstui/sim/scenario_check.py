"""Checking a scenario file before it is built: every key known, every value
of the right type, every name it refers to defined. Problems name the file,
the line and the key."""

from __future__ import annotations

from ..datamodel import releases
from ..yamlspec import NUM, load, where
from .profiles import PROFILES, unknown

# key -> type, tuple of types, nested dict spec, or [item spec] for lists
SPEC: dict = {
    "name": str,
    "seed": int,
    "pool": {
        "name": str,
        "default_sr": str,
        "ha": {
            "enabled": bool,
            "failures_to_tolerate": int,
            "plan_exists_for": int,
            "heartbeat_sr": str,  # the SR holding the statefile (HA on)
            "timeout": int,
        },
        "trusted_cas": [{"name": str, "days": NUM}],  # CA certificates the pool trusts
        "crls": [str],  # revocation lists installed pool-wide (file names)
    },
    "product": {
        "brand": str,
        "version": str,
        "build": str,
        "xapi": str,
        "api_version": [int],
        "platform_version": str,
        "xen": str,
        "linux": str,
        "network_backend": str,
    },
    # a product release by name (xstui.sim.profiles: xcp-ng-8.2, xenserver-6.5,
    # latest...): its API release and what its hosts report; instead of api
    "release": str,
    "dns": [str],
    "gateway": str,
    "netmask": str,
    "hosts": [
        {
            "name": str,
            "address": str,
            "master": bool,
            "memory_gb": NUM,
            "free_gb": NUM,
            "cpus": int,
            "cpu_model": str,
            "nics": int,
            "cert_days": int,
            "storage_ip": str,
            "mtu": dict,
            "uptime_days": NUM,
            "live": bool,
            "enabled": bool,
            "ntp": [str],  # custom NTP servers (mode Custom); absent: the factory pool
            "ssh": bool,
            "timezone": str,
            "bmc": str,  # the iLO/DRAC address (power-on mode and its address)
            "syslog": str,  # remote syslog destination
        }
    ],
    "networks": [
        {
            "name": str,
            "device": str,
            "management": bool,
            "mtu": int,
            "purpose": str,
            "bond": [str],
            "mode": str,
            "vlan": int,
            "over": str,
        }
    ],
    "srs": [
        {
            "name": str,
            "type": str,
            "shared": bool,
            "per_host": bool,
            "size_gb": NUM,
            "used_gb": (int, float, list),
            "server": str,
            "path": str,
        }
    ],
    # hosts beside the pool, each a pool of its own, that may join it
    "standalone": [dict],
    # the API release the pool runs (code name: creedence, ely, stockholm, 25.6.0);
    # the newest when absent. Older releases lack classes, fields and messages.
    "api": str,
    # hotfixes (6.x pool_patch, 7.x/8.2 pool_update), uploaded and applied
    # where listed; size in MiB; precheck_fails: host -> error code
    "updates": [
        {
            "name": str,
            "guidance": [str],
            "applied": [str],
            "size_mb": NUM,
            "uploaded": bool,
            "precheck_fails": dict,
        }
    ],
    # XenServer 8: the repository the pool syncs from and the updates it
    # offers (update_guidances values), applied where listed
    "repository": {"name": str, "url": str},
    # XCP-ng: the packages yum offers through the updater.py plugin (the
    # plugin exists when the key does), installed where listed
    "yum_updates": [
        {"name": str, "version": str, "release": str, "description": str, "applied": [str]}
    ],
    "repository_updates": [
        {"id": str, "summary": str, "guidance": [str], "applied": [str], "type": str}
    ],
    # the performance figures' load: VMs running flat out, a noisy neighbour
    # (saturating in bursts), hosts running close to their memory limit
    "load": {"busy": [str], "noisy": [str]},
    "messages": [{"name": str, "priority": int, "about": str, "body": str, "minutes_ago": NUM}],
    "vms": [list],
    # snapshot schedules (VMSS, from XenServer 7.2): frequency hourly, daily
    # or weekly at hour:min (UTC), days for weekly; the VMs in each by name
    "schedules": [
        {
            "name": str,
            "description": str,
            "type": str,
            "frequency": str,
            "hour": int,
            "min": int,
            "days": [str],
            "retained": int,
            "enabled": bool,
            "vms": [str],
        }
    ],
    # NFS servers the pool can reach: address -> exported paths (for SR.probe/create)
    "nfs_servers": dict,
    # iSCSI targets: address -> {iqn, chap: {user, password}, luns: [{id, size_gb, vendor}]}
    "iscsi_targets": dict,
    "hba_luns": [{"id": int, "size_gb": NUM, "vendor": str, "adapter": int}],
    "local_disks": [str],  # free disks on every host, for local LVM / ext SRs
    # vApps: their VMs (by name) start in their order, each after its start delay
    "appliances": [{"name": str, "vms": [str]}],
    # another pool's SR on this pool's storage (disaster recovery, sim/dr.py):
    # the SR ``sr`` of the scenario ``from``, on the iSCSI target ``target``'s
    # LUN ``lun``, with a metadata VDI holding that pool's database
    "portable_sr": {"from": str, "sr": str, "target": str, "lun": int},
    # an Active Directory domain beside the pool (a fake domain controller)
    "directory": {
        "domain": str,
        "dns": str,  # the domain controller's DNS server: hosts must use it to join
        "join": {"user": str, "password": str},  # the account allowed to join machines
        "ous": [str],
        "groups": [str],
        "users": [{"name": str, "password": str, "groups": [str]}],
        "enabled": bool,  # the pool has joined the domain already
        "subjects": [{"name": str, "role": str}],  # with enabled: who may log in
    },
}


def check_scenario(text: str, source: str) -> list[str]:
    """Problems found in a scenario's YAML text (empty when it is sound)."""
    data, root, problems = load(
        text, source, SPEC, "a scenario is a mapping with at least a 'hosts' list"
    )
    if data is None:
        return problems
    if not problems:
        problems += _dangling(root, data, source)
    if not data.get("hosts"):
        problems.append(f"{source}: a scenario needs a 'hosts' list")
    return problems


def _dangling(root, data: dict, source: str) -> list[str]:
    """Names used but never defined: hosts, networks, SRs."""
    nodes = {k.value: v for k, v in root.value}
    hosts = {h["name"] for h in data.get("hosts", [])}
    networks = {n["name"] for n in data.get("networks", [])}
    srs = set()
    for s in data.get("srs", []):
        srs.add(s["name"])
        if s.get("per_host"):
            srs |= {f"{s['name']}@{h}" for h in hosts}
    problems = []

    def refuse(node, key, name, kind):
        problems.append(f"{where(node, source, key)}: no {kind} called {name!r}")

    pool = data.get("pool") or {}
    if pool.get("default_sr") and pool["default_sr"] not in srs:
        refuse(nodes["pool"], "pool.default_sr", pool["default_sr"], "SR")
    for i, (n, node) in enumerate(
        zip(data.get("networks", []), getattr(nodes.get("networks"), "value", []), strict=False)
    ):
        if n.get("over") and n["over"] not in networks:
            refuse(node, f"networks[{i}].over", n["over"], "network")
    for i, (u, node) in enumerate(
        zip(data.get("updates", []), getattr(nodes.get("updates"), "value", []), strict=False)
    ):
        for h in u.get("applied", []):
            if h not in hosts:
                refuse(node, f"updates[{i}].applied", h, "host")
    if data.get("release") and data["release"] not in PROFILES:
        problems.append(f"{where(nodes['release'], source, 'release')}: {unknown(data['release'])}")
    if data.get("release") and data.get("api"):
        problems.append(
            f"{where(nodes['api'], source, 'api')}: a scenario names its release or its API, not both"
        )
    if data.get("api") and data["api"] not in dict(releases()):
        problems.append(
            f"{where(nodes['api'], source, 'api')}: no XAPI release called {data['api']!r} "
            "(e.g. creedence, ely, stockholm, 25.6.0)"
        )
    for i, (u, node) in enumerate(
        zip(data.get("updates", []), getattr(nodes.get("updates"), "value", []), strict=False)
    ):
        for h in u.get("precheck_fails") or {}:
            if h not in hosts:
                refuse(node, f"updates[{i}].precheck_fails", h, "host")
    for key in ("repository_updates", "yum_updates"):
        for i, (u, node) in enumerate(
            zip(data.get(key) or [], getattr(nodes.get(key), "value", []), strict=False)
        ):
            for h in u.get("applied", []):
                if h not in hosts:
                    refuse(node, f"{key}[{i}].applied", h, "host")
    for i, (vm, node) in enumerate(
        zip(data.get("vms", []), getattr(nodes.get("vms"), "value", []), strict=False)
    ):
        if len(vm) < 7:
            problems.append(f"{where(node, source, f'vms[{i}]')}: a VM row has 7 to 9 values")
            continue
        if vm[1] and vm[1] not in hosts:
            refuse(node, f"vms[{i}] host", vm[1], "host")
        if vm[6] not in srs:
            refuse(node, f"vms[{i}] SR", vm[6], "SR")
    return problems
