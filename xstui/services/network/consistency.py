"""The pool consistency check (RECIPES.md section 2, the Administration
Handbook's rules): every host alike where the pool needs it."""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass

from ...xapi.cache import Cache
from ..health import HealthFlag

JUMBO = 9000


@dataclass
class Finding:
    severity: str  # warning or info
    rule: str
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


def _is_storage(pif) -> bool:
    purpose = pif.other_config.get("management_purpose", "").lower()
    return purpose == "storage" or (pif.disallow_unplug and not pif.management)


def check_pool(cache: Cache) -> list[Finding]:
    with cache.lock:
        hosts = cache.table("host")
        pifs = cache.table("pif")

        def name(ref):
            return cache.label("host", ref)

        def net_name(ref):
            return cache.label("network", ref)

        out: list[Finding] = []
        by_network = defaultdict(list)
        for p in pifs.values():
            by_network[p.network].append(p)
        for net, members in sorted(by_network.items(), key=lambda kv: net_name(kv[0])):
            mtus = Counter(p.MTU for p in members)
            if len(mtus) > 1:
                common = mtus.most_common(1)[0][0]
                odd = sorted(
                    f"{name(p.host)} {p.device}={p.MTU}" for p in members if p.MTU != common
                )
                out.append(
                    Finding(
                        "warning",
                        "mtu",
                        f"MTU mismatch on network {net_name(net)}: {', '.join(odd)} (others {common})",
                    )
                )
            if any(p.MTU >= JUMBO for p in members) and not any(_is_storage(p) for p in members):
                out.append(
                    Finding(
                        "warning",
                        "jumbo",
                        f"Network {net_name(net)} uses jumbo frames but is not a storage network",
                    )
                )
            speeds = Counter(
                getattr(cache.get("pif_metrics", p.metrics), "speed", 0)
                for p in members
                if p.physical
            )
            speeds.pop(0, None)
            if len(speeds) > 1:
                out.append(
                    Finding(
                        "warning",
                        "speed",
                        f"NIC speeds differ on network {net_name(net)}: "
                        + ", ".join(f"{s} Mbit/s x{n}" for s, n in sorted(speeds.items())),
                    )
                )
        # same NICs on the same networks on every host
        layout = defaultdict(dict)  # device -> host -> network
        for p in pifs.values():
            if p.physical:
                layout[p.device][p.host] = p.network
        for device, per_host in sorted(layout.items()):
            missing = sorted(name(h) for h in hosts if h not in per_host)
            if missing:
                out.append(
                    Finding("warning", "layout", f"{device} is missing on {', '.join(missing)}")
                )
            networks = set(per_host.values())
            if len(networks) > 1:
                out.append(
                    Finding(
                        "warning",
                        "layout",
                        f"{device} is on different networks: "
                        + ", ".join(
                            sorted(f"{name(h)}: {net_name(n)}" for h, n in per_host.items())
                        ),
                    )
                )
        subnets = defaultdict(list)
        for p in pifs.values():
            if p.management and p.IP and p.netmask:
                try:
                    subnets[ipaddress.ip_interface(f"{p.IP}/{p.netmask}").network].append(
                        name(p.host)
                    )
                except ValueError:
                    continue
        if len(subnets) > 1:
            out.append(
                Finding(
                    "warning",
                    "management",
                    "Management interfaces are not in one subnet: "
                    + "; ".join(
                        f"{net}: {', '.join(sorted(h))}"
                        for net, h in sorted(subnets.items(), key=lambda kv: str(kv[0]))
                    ),
                )
            )
    return out


def health(cache: Cache, now: float) -> list[HealthFlag]:
    """The Networking area's contribution to Status's Health tab, each
    finding under the name the pool check (F2) gives it ("mtu")."""
    return [HealthFlag(f.severity, f.rule, f.text) for f in check_pool(cache)]
