"""What the Host screen shows: each host's state (role, enabled, live,
maintenance, VMs) and its hardware and software, from the event cache."""

from __future__ import annotations

from dataclasses import dataclass

from ...xapi import views
from ...xapi.cache import Cache
from ..values import size
from .maintenance import evacuated


@dataclass(frozen=True)
class HostRow:
    ref: str
    name: str
    role: str
    state: str  # in words (views.host_state): enabled, disabled, maintenance, offline...
    address: str
    vms: int  # running (views.running_vms)
    memory: str  # free (the total is in the host's facts)


def host_rows(cache: Cache) -> list[HostRow]:
    with cache.lock:
        running = views.running_vms(cache)
        rows = []
        for rec in sorted(cache.table("host").values(), key=lambda h: h.name_label):
            metrics = cache.get("host_metrics", rec.metrics)
            memory = size(metrics.memory_free) if metrics is not None else "-"
            rows.append(
                HostRow(
                    rec.ref,
                    rec.name_label,
                    views.host_role(cache, rec.ref),
                    views.host_state(cache, rec),
                    rec.address,
                    running.get(rec.ref, 0),
                    memory,
                )
            )
        return rows


def host_facts(cache: Cache, host: str) -> list[tuple[str, str]]:
    """(label, value) lines: name, state, hardware, software, access."""
    with cache.lock:
        rec = cache.get("host", host)
        if rec is None:
            return []
        cpu, sw, bios = rec.cpu_info, rec.software_version, rec.bios_strings
        metrics = cache.get("host_metrics", rec.metrics)
        nics = sorted(
            (p for p in cache.table("pif").values() if p.host == host and p.physical),
            key=lambda p: p.device,
        )
        away = sum(len(v) for v in evacuated(cache, host).values())
        lines = [
            ("Name", rec.name_label),  # in full (the list of hosts cuts it at 80 columns)
            (
                "State",
                views.host_state(cache, rec) + (f", {away} VM(s) to bring back" if away else ""),
            ),
            ("Role", views.host_role(cache, host)),
            ("Address", rec.address),
            (
                "CPU",
                f"{cpu.get('modelname', '?')}, {cpu.get('cpu_count', '?')} threads"
                f" on {cpu.get('socket_count', '?')} socket(s)",
            ),
            (
                "Memory",
                f"{size(metrics.memory_total)} total, {size(metrics.memory_free)} free"
                if metrics is not None
                else "-",
            ),
            (
                "System",
                " ".join(
                    x
                    for x in (bios.get("system-manufacturer"), bios.get("system-product-name"))
                    if x
                )
                or "-",
            ),
            (
                "BIOS",
                " ".join(x for x in (bios.get("bios-vendor"), bios.get("bios-version")) if x)
                or "-",
            ),
            ("BMC", rec.power_on_config.get("power_on_ip", "") or "not known to the pool"),
            ("NICs", ", ".join(f"{p.device} {p.MAC}" for p in nics) or "-"),
            (
                "Software",
                f"{sw.get('product_brand', '')} {sw.get('product_version', '')}"
                f" (build {sw.get('build_number', '?')})",
            ),
            (
                "Xen / dom0",
                f"Xen {sw.get('xen', '?')}, Linux {sw.get('linux', '?')}, XAPI {sw.get('xapi', '?')}",
            ),
            ("SSH", _ssh(cache, rec)),
            (
                "Remote syslog",
                rec.logging.get("syslog_destination", "") or "none (local logs only)",
            ),
            # long: last, so that the rest stays on an 80x24 screen
            ("CPU features", cpu.get("features", "") or "-"),
            ("CPU flags", cpu.get("flags", "") or "-"),
        ]
        return lines


def _ssh(cache: Cache, rec) -> str:
    """On or off, and when it turns itself off (where the release says)."""
    if not cache.reports("host", "ssh_enabled"):
        return "not reported by this release"
    if not rec.ssh_enabled:
        return "off"
    minutes = rec.ssh_enabled_timeout // 60 if cache.reports("host", "ssh_enabled_timeout") else 0
    return f"on, off again {minutes} min after it was turned on" if minutes else "on"
