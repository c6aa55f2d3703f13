"""The interface table: every PIF of a host with its link, addressing, bond and
VLAN role, read from the cache."""

from __future__ import annotations

from dataclasses import dataclass

from ...xapi import views
from ...xapi.cache import Cache


@dataclass(frozen=True)
class PifRow:
    ref: str
    host: str
    host_name: str
    device: str
    mac: str
    carrier: bool | None
    speed: int  # Mbit/s, 0 when unknown
    duplex: bool | None
    mtu: int
    vlan: int  # -1 when untagged
    bond: str  # "master" / "in bond0" / ""
    mode: str
    ip: str
    netmask: str
    gateway: str
    dns: tuple[str, ...]
    management: bool
    network: str
    network_ref: str
    physical: bool
    attached: bool

    @property
    def link(self) -> str:
        """1G, 100M, "no link", "up", "-" (and " half" for half duplex)."""
        if self.carrier is False:
            return "no link"
        if not self.speed:
            return "up" if self.carrier else "-"
        text = f"{self.speed // 1000}G" if self.speed >= 1000 else f"{self.speed}M"
        return text + (" half" if self.duplex is False else "")

    @property
    def address(self) -> str:
        if self.mode == "Static":
            return self.ip
        if self.mode == "DHCP":
            return f"DHCP {self.ip}".strip()
        return "-"


def pif_row(cache: Cache, p) -> PifRow:
    metrics = cache.get("pif_metrics", p.metrics)
    network = cache.get("network", p.network)
    return PifRow(
        ref=p.ref,
        host=p.host,
        host_name=cache.label("host", p.host, ""),
        device=p.device,
        mac=p.MAC,
        carrier=metrics.carrier if metrics else None,
        speed=metrics.speed if metrics else 0,
        duplex=metrics.duplex if metrics else None,
        mtu=p.MTU,
        vlan=p.VLAN,
        bond=views.bond_of(cache, p),
        mode=p.ip_configuration_mode,
        ip=p.IP,
        netmask=p.netmask,
        gateway=p.gateway,
        dns=tuple(views.dns_servers(p)),
        management=p.management,
        network=network.name_label if network else "",
        network_ref=p.network,
        physical=p.physical,
        attached=p.currently_attached,
    )


def pif_rows(cache: Cache, host: str | None = None) -> list[PifRow]:
    with cache.lock:
        rows = [
            pif_row(cache, p) for p in cache.table("pif").values() if not host or p.host == host
        ]
    rows.sort(key=lambda r: (r.host_name, r.device, r.vlan))
    return rows
