"""The pool's SRs as an admin reads them: type, shared or local, size, what
is used against what is promised (thin provisioning), where each is attached,
and which VMs have disks on one."""

from __future__ import annotations

from dataclasses import dataclass

from ...xapi import views
from ...xapi.cache import Cache
from ..health import HealthFlag
from ..values import size

NULL_REF = "OpaqueRef:NULL"


@dataclass(frozen=True)
class SrRow:
    ref: str
    name: str
    type: str
    shared: bool
    size: int
    used: int  # physical utilisation
    allocated: int  # the disks' virtual sizes
    thin: bool
    attached: int  # hosts where its PBD is plugged
    hosts: int  # hosts it has a PBD on
    default: bool
    host_name: str = ""  # a local SR's host
    content: str = ""  # content_type: "iso" for an ISO library, "user" for VM disks

    @property
    def iso(self) -> bool:
        """An ISO library: it holds CD images, not VM disks."""
        return self.content == "iso"

    @property
    def where(self) -> str:
        if not self.shared and self.host_name:
            return self.host_name if self.attached else f"{self.host_name} (off)"
        if self.hosts == 0 or not self.attached:
            return "detached"
        if self.attached == self.hosts:
            return "all hosts"
        return f"{self.attached}/{self.hosts} hosts"

    @property
    def usage(self) -> str:
        text = f"{size(self.used)} of {size(self.size)}"
        if self.thin and self.allocated > self.size:
            text += f" ({size(self.allocated)} promised)"
        return text


def sr_rows(cache: Cache) -> list[SrRow]:
    with cache.lock:
        pool = views.pool(cache)
        default = pool.default_SR if pool else NULL_REF
        allocated: dict[str, int] = {}
        for vdi in cache.table("vdi").values():
            allocated[vdi.SR] = allocated.get(vdi.SR, 0) + vdi.virtual_size
        pbds: dict[str, list] = {}
        for pbd in cache.table("pbd").values():
            pbds.setdefault(pbd.SR, []).append(pbd)
        rows = [
            SrRow(
                ref,
                sr.name_label,
                sr.type,
                sr.shared,
                sr.physical_size,
                sr.physical_utilisation,
                allocated.get(ref, 0),
                sr.sm_config.get("allocation") == "thin",
                sum(1 for p in pbds.get(ref, []) if p.currently_attached),
                len(pbds.get(ref, [])),
                ref == default,
                cache.label("host", pbds[ref][0].host, "") if len(pbds.get(ref, [])) == 1 else "",
                sr.content_type,
            )
            for ref, sr in cache.table("sr").items()
        ]
    return sorted(rows, key=lambda r: (not r.shared, r.name.lower(), r.host_name, r.ref))


@dataclass(frozen=True)
class SrDetail:
    pbds: list[tuple[str, str, bool, dict]]  # (pbd ref, host name, plugged, device-config)
    vms: list[tuple[str, str]]  # (VM name, power state) with a disk on the SR
    disks: int
    vdis: list[tuple[str, int, int]] = ()  # (name, virtual size, physical use), biggest first


def sr_detail(cache: Cache, sr: str) -> SrDetail:
    with cache.lock:
        pbds = sorted(
            (
                (
                    p.ref,
                    cache.label("host", p.host, "?"),
                    p.currently_attached,
                    dict(p.device_config),
                )
                for p in cache.table("pbd").values()
                if p.SR == sr
            ),
            key=lambda row: row[1],
        )
        on_sr = [v for v in cache.table("vdi").values() if v.SR == sr]
        vdis = {v.ref for v in on_sr}
        vms, users = {}, {}
        for vbd in cache.table("vbd").values():
            if vbd.VDI in vdis:
                vm = cache.get("vm", vbd.VM)
                users.setdefault(vbd.VDI, []).append(vm)
                if vm is not None and not vm.is_a_snapshot and not vm.is_a_template:
                    vms[vm.ref] = (vm.name_label, vm.power_state)

        def named(v) -> str:  # a snapshot's disk bears its VM's disk's name: said so
            used_by = users.get(v.ref, [])
            only_snapshots = used_by and all(u is not None and u.is_a_snapshot for u in used_by)
            return f"{v.name_label} (snapshot)" if only_snapshots else v.name_label

        listing = sorted(
            ((named(v), v.virtual_size, v.physical_utilisation) for v in on_sr),
            key=lambda row: -row[1],
        )
    return SrDetail(pbds, sorted(vms.values()), len(vdis), listing)


def health(cache: Cache, now: float) -> list[HealthFlag]:
    """Shared SRs not attached everywhere (VMs with disks there cannot run on
    the other hosts), and SRs attached nowhere. Reads SRs and PBDs only: it
    runs on every redraw of the Health tab, disks are not its business."""
    plugged: dict[str, list[bool]] = {}
    for pbd in cache.table("pbd").values():
        plugged.setdefault(pbd.SR, []).append(pbd.currently_attached)
    flags = []
    for ref, sr in cache.table("sr").items():
        states = plugged.get(ref, [])
        if not states:
            continue
        attached = sum(states)
        if not attached:
            flags.append(HealthFlag("info", "storage", f"SR {sr.name_label} is detached"))
        elif sr.shared and attached < len(states):
            flags.append(
                HealthFlag(
                    "warning",
                    "storage",
                    f"SR {sr.name_label} is attached on {attached} of {len(states)} hosts: "
                    "VMs with disks there cannot start on the others",
                )
            )
    return flags
