"""A VM's disks and the SRs disks can go to: shared by the actions that
make disks (a snapshot made a template, a VM imported) and those that
weigh them (a backup, a snapshot's size)."""

from __future__ import annotations

import re

from ..datamodel import NULL_REF
from ..xapi.cache import Cache
from .values import size


def vm_disks(cache: Cache, vm: str) -> list:
    """The VDIs of the VM's disk drives (not its CDs); hold the cache's lock."""
    out = []
    rec = cache.get("vm", vm)
    for vbd in cache.table("vbd").values():
        if vbd.VM == vm and vbd.type == "Disk" and vbd.VDI != NULL_REF:
            vdi = cache.get("vdi", vbd.VDI)
            if vdi is not None:
                out.append(vdi)
    image = cache.get("vdi", getattr(rec, "suspend_VDI", NULL_REF)) if rec is not None else None
    return out + ([image] if image is not None else [])


def used(cache: Cache, vm: str) -> int:
    """What the VM's disks (and memory image) hold on their SRs, in bytes."""
    return sum(d.physical_utilisation for d in vm_disks(cache, vm))


def sr_label(cache: Cache, sr) -> str:
    """An SR as a pick list shows it: its name, its free space, and the host
    of a local SR."""
    free = max(0, sr.physical_size - sr.physical_utilisation)
    hosts = {
        cache.label("host", p.host)
        for p in cache.table("pbd").values()
        if p.SR == sr.ref and p.currently_attached
    }
    where = f" on {next(iter(hosts))}" if not sr.shared and len(hosts) == 1 else ""
    return f"{sr.name_label}{where} ({size(free)} free)"


def disk_srs(cache: Cache) -> dict[str, str]:
    """label -> ref of the SRs a new disk can go to: not ISO libraries nor
    removable media, plugged on a host; shared ones first, then by name."""
    with cache.lock:
        plugged = {p.SR for p in cache.table("pbd").values() if p.currently_attached}
        srs = [
            sr
            for sr in cache.table("sr").values()
            if sr.ref in plugged and sr.content_type != "iso" and sr.type not in ("iso", "udev")
        ]
        srs.sort(key=lambda sr: (not sr.shared, sr.name_label.lower()))
        out: dict[str, str] = {}
        for sr in srs:
            label = sr_label(cache, sr)
            out[label if label not in out else f"{label} {sr.uuid[:8]}"] = sr.ref
        return out


_FREE = re.compile(r" \([^()]* free\)")


def disk_sr(cache: Cache, label: str) -> str | None:
    """The SR a label of ``disk_srs`` names, though its free space changed
    since the list was made (None: no such SR now)."""
    srs = disk_srs(cache)
    if label in srs:
        return srs[label]
    stable = {_FREE.sub("", name): ref for name, ref in srs.items()}
    return stable.get(_FREE.sub("", label))


def srs_named(cache: Cache, text: str) -> list[str]:
    """The labels of ``disk_srs`` that ``text`` names: an SR's UUID, its
    name, or its label without the free space ("Local storage on xcp-b")."""
    srs = disk_srs(cache)
    with cache.lock:
        out = []
        for label, ref in srs.items():
            rec = cache.get("sr", ref)
            if text in (rec.uuid, rec.name_label, _FREE.sub("", label)):
                out.append(label)
        return out


def sr_host(cache: Cache, sr: str) -> str:
    """The host that sees a local SR ('' for a shared one, or when unknown):
    where its disks are streamed to."""
    with cache.lock:
        rec = cache.get("sr", sr)
        if rec is None or rec.shared:
            return ""
        hosts = [p.host for p in cache.table("pbd").values() if p.SR == sr and p.currently_attached]
    return hosts[0] if len(hosts) == 1 else ""
