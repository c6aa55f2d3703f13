"""The management interface, DNS servers and hostname of a host."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import ConnectionLost, XapiFailure
from ...xapi.records import NULL_REF
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, optional, problem_of
from ..guards import refuse_while_ha

IP_MODES = ("Static", "DHCP")
DHCP_LEASE_WAIT = 30


@dataclass(frozen=True)
class IpConfig:
    mode: str  # DHCP, Static, None
    ip: str = ""
    netmask: str = ""
    gateway: str = ""
    dns: tuple[str, ...] = ()

    @classmethod
    def of(cls, pif) -> IpConfig:
        return cls(
            pif.ip_configuration_mode,
            pif.IP,
            pif.netmask,
            pif.gateway,
            tuple(views.dns_servers(pif)),
        )

    @classmethod
    def checked(
        cls, mode: str, ip: str = "", mask: str = "", gw: str = "", dns: str = ""
    ) -> IpConfig:
        mode = {"dhcp": "DHCP", "static": "Static"}.get(mode.strip().lower(), "")
        if not mode:
            raise InvalidInput(["mode must be DHCP or static"])
        if mode == "DHCP":
            return cls("DHCP")
        problems, checked = [], {}
        for key, check, arg in (
            ("ip", v.ipv4, ip),
            ("mask", v.netmask, mask),
            ("dns", v.dns_servers, dns),
        ):
            try:
                checked[key] = check(arg)
            except InvalidInput as exc:
                problems += exc.problems
        if not problems:
            try:
                checked["gw"] = v.gateway(gw, checked["ip"], checked["mask"])
            except InvalidInput as exc:
                problems += exc.problems
        if problems:
            raise InvalidInput(problems)
        return cls("Static", checked["ip"], checked["mask"], checked["gw"], tuple(checked["dns"]))

    def xe_args(self) -> str:
        if self.mode != "Static":
            return f"mode={self.mode.lower()}"
        args = f"mode=static IP={self.ip} netmask={self.netmask}"
        if self.gateway:
            args += f" gateway={self.gateway}"
        if self.dns:
            args += f" DNS={','.join(self.dns)}"
        return args

    def call_args(self) -> tuple[str, str, str, str, str]:
        return (self.mode, self.ip, self.netmask, self.gateway, ",".join(self.dns))


def interface_name(pif) -> str:
    """What the admin calls an interface: eth1, bond0, or bond0 VLAN 20."""
    return pif.device if pif.VLAN < 0 else f"{pif.device} VLAN {pif.VLAN}"


class ReconfigureManagement(Action):
    """Move or re-address a host's management interface:
    ``PIF.reconfigure_ip`` then ``host.management_reconfigure``."""

    calls = ("PIF.reconfigure_ip", "host.management_reconfigure", "pool.recover_slaves")

    assigned = ""  # the DHCP lease's address, once known

    @staticmethod
    def interfaces(cache: Cache, host: str) -> dict[str, str]:
        """What can carry the host's management, by the name the admin picks
        ("eth1", "bond0", "eth0 VLAN 20") -> PIF ref: not bond members."""
        with cache.lock:
            pifs = [
                p
                for p in cache.table("pif").values()
                if p.host == host and p.bond_slave_of == NULL_REF
            ]
        pifs.sort(key=lambda p: (p.device, p.VLAN))
        return {interface_name(p): p.ref for p in pifs}

    @classmethod
    def fields(cls, cache: Cache, host: str) -> list[Field]:
        """A pick of the interface (the current one first chosen) and its
        addressing, from the current management interface's."""
        nics = cls.interfaces(cache, host)
        current = views.management_pif(cache, host) or cache.get("pif", next(iter(nics.values())))
        chosen = next((name for name, ref in nics.items() if ref == current.ref), "")
        return [
            Field("device", "Interface", chosen, choices=tuple(nics)),
            Field(
                "mode",
                "Mode",
                "dhcp" if current.ip_configuration_mode == "DHCP" else "static",
                choices=("static", "dhcp"),
            ),
            Field("ip", "IP address", current.IP, optional(problem_of(v.ipv4))),
            Field("netmask", "Netmask", current.netmask, optional(problem_of(v.netmask))),
            Field(
                "gateway",
                "Gateway (optional)",
                current.gateway,
                optional(problem_of(v.ipv4, "gateway")),
            ),
            Field(
                "dns",
                "DNS servers",
                ",".join(views.dns_servers(current)),
                problem_of(v.dns_servers),
                placeholder="comma separated",
            ),
        ]

    @classmethod
    def of_form(cls, cache: Cache, host: str, values: dict, *, session) -> ReconfigureManagement:
        """From the form's values; ``session``: the console's Target."""
        pif = cls.interfaces(cache, host).get(values["device"])
        if pif is None:
            raise InvalidInput(["pick the interface that is to carry management"])
        config = IpConfig.checked(
            values["mode"], values["ip"], values["netmask"], values["gateway"], values["dns"]
        )
        return cls(
            cache, host, pif, config, session_host=session.host, local=session.kind == "local"
        )

    def __init__(
        self, cache: Cache, host: str, pif: str, config: IpConfig, *, session_host: str, local: bool
    ):
        refuse_while_ha(cache, "changing the management interface")
        with cache.lock:
            self.host_rec = cache.get("host", host)
            self.pif_rec = cache.get("pif", pif)
            self.old_pif = views.management_pif(cache, host)
        if self.host_rec is None or self.pif_rec is None:
            raise InvalidInput(["the host or interface no longer exists"])
        if self.pif_rec.host != host:
            raise InvalidInput(["the interface belongs to another host"])
        if self.pif_rec.bond_slave_of != NULL_REF:
            raise InvalidInput(
                [f"{self.pif_rec.device} is a bond member: use the bond's interface"]
            )
        self.host, self.pif, self.config, self.local = host, pif, config, local
        self.old_ref = self.old_pif.ref if self.old_pif else ""
        self.previous = IpConfig.of(self.pif_rec)
        self.old_config = IpConfig.of(self.old_pif) if self.old_pif else None
        if self.old_ref == pif and self.previous == config:
            raise InvalidInput(["nothing to change: this is already the management configuration"])
        self.cuts_session = (
            not local
            and self.host_rec.address == session_host
            and (config.mode != "Static" or config.ip != session_host)
        )
        # the members know the master by its address: a new one leaves them
        # without a master until told (pool.recover_slaves on the master)
        moves = config.mode != "Static" or config.ip != self.host_rec.address
        with cache.lock:
            self.members = (
                sorted(cache.label("host", h) for h in cache.table("host") if h != host)
                if moves and views.master_ref(cache) == host
                else []
            )

    @property
    def new_address(self) -> str:
        return self.config.ip if self.config.mode == "Static" else self.assigned or self.pif_rec.IP

    def plan(self) -> Plan:
        name, dev = self.host_rec.name_label, interface_name(self.pif_rec)
        old_dev = interface_name(self.old_pif) if self.old_pif else "none"
        impact = [
            f"Management traffic of {name} moves from {old_dev} ({self.host_rec.address}) to {dev} "
            f"({self.new_address or 'DHCP'}); XenCenter and other clients must reconnect."
        ]
        if self.cuts_session:
            impact.append(
                f"This session's connection to {self.host_rec.address} will drop; xstui then "
                f"reconnects to {self.new_address or 'the new address'} by itself."
            )
        if self.local:
            impact.append(
                "You will have 60 s to confirm the new configuration; without confirmation it is reverted."
            )
        if self.config.mode == "DHCP":
            impact.append(
                "With DHCP the address may change at the next lease: reserve it on the DHCP server."
            )
        if self.members:
            impact.append(
                f"{name} is the pool master: its {len(self.members)} member(s) "
                f"({', '.join(self.members)}) know it as {self.host_rec.address} and lose their "
                "master (emergency mode: VMs keep running, nothing can be managed) until they "
                "follow. xstui then tells them the new address (pool.recover_slaves)."
            )
        recover = ["xe pool-recover-slaves"] if self.members else []
        return Plan(
            title="Change management interface",
            summary=f"Set {dev} on {name} to {self.config.xe_args()} and make it the management interface.",
            xe=[
                f"xe pif-reconfigure-ip uuid={self.pif_rec.uuid} {self.config.xe_args()}",
                f"xe host-management-reconfigure pif-uuid={self.pif_rec.uuid}",
                *recover,
            ],
            steps=[
                f"PIF.reconfigure_ip on {dev}",
                "host.management_reconfigure",
                *(["pool.recover_slaves: the members follow the new address"] if recover else []),
            ],
            impact=impact,
            risk="high" if self.cuts_session or self.local else "medium",
            confirm_word=self.pif_rec.device or "yes",
        )

    def run(self, ctx: RunContext) -> str:
        conn = ctx.conn
        ctx.task("PIF.reconfigure_ip", self.pif, *self.config.call_args(), span=(0, 0.5))
        if not self.cuts_session:  # once the session is cut, the old address is gone
            ctx.undo_task(
                f"restore the addressing of {self.pif_rec.device}",
                "PIF.reconfigure_ip",
                self.pif,
                *self.previous.call_args(),
            )
        if self.config.mode == "DHCP":
            # the lease decides the address: XAPI records it on the PIF
            conn.cache.wait_for(
                lambda: getattr(conn.cache.get("pif", self.pif), "IP", ""), DHCP_LEASE_WAIT
            )
            self.assigned = getattr(conn.cache.get("pif", self.pif), "IP", "")
        if self.cuts_session:
            conn.retarget(self.new_address)
        ctx.task("host.management_reconfigure", self.pif, span=(0.5, 0.9))
        done = (
            f"Management interface of {self.host_rec.name_label} is now {self.pif_rec.device} "
            f"({self.new_address or 'DHCP'})."
        )
        if not self.members:
            return done
        try:
            ctx.call("pool.recover_slaves")
        except (XapiFailure, ConnectionLost) as exc:
            return (
                f"{done} The members were not told ({exc}): run xe pool-recover-slaves "
                "on the master, or the Pool recovery screen (Ctrl+R)."
            )
        return f"{done} The members follow it there."

    def revert(self) -> Action:
        """The action that puts the previous management configuration back."""
        return RevertManagement(self)


class RevertManagement(Action):
    calls = ("PIF.reconfigure_ip", "host.management_reconfigure")

    def __init__(self, change: ReconfigureManagement):
        self.change = change

    def plan(self) -> Plan:
        c = self.change
        old_dev = c.old_pif.device if c.old_pif else c.pif_rec.device
        old_uuid = c.old_pif.uuid if c.old_pif else c.pif_rec.uuid
        return Plan(
            "Revert management interface",
            f"Restore {old_dev} as the management interface of {c.host_rec.name_label}.",
            [
                f"xe pif-reconfigure-ip uuid={c.pif_rec.uuid} {c.previous.xe_args()}",
                f"xe host-management-reconfigure pif-uuid={old_uuid}",
            ],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        c = self.change
        if c.old_ref and c.old_ref != c.pif:
            ctx.task("PIF.reconfigure_ip", c.old_ref, *c.old_config.call_args())
            ctx.task("host.management_reconfigure", c.old_ref)
            ctx.task("PIF.reconfigure_ip", c.pif, *c.previous.call_args())
        else:
            ctx.task("PIF.reconfigure_ip", c.pif, *c.previous.call_args())
            ctx.task("host.management_reconfigure", c.pif)
        return "The previous management configuration is back."


class SetDns(Action):
    calls = ("PIF.reconfigure_ip",)

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        mgmt = views.management_pif(cache, host)
        servers = ",".join(views.dns_servers(mgmt)) if mgmt else ""
        return [
            Field(
                "dns",
                "DNS servers",
                servers,
                problem_of(v.dns_servers),
                placeholder="comma separated",
            )
        ]

    def __init__(self, cache: Cache, host: str, servers_text: str):
        servers = v.dns_servers(servers_text)
        with cache.lock:
            pif = views.management_pif(cache, host)
            self.host_name = cache.label("host", host, "")
        if pif is None:
            raise InvalidInput(["the host has no management interface"])
        self.pif, self.uuid = pif.ref, pif.uuid
        self.current = IpConfig.of(pif)
        if self.current.mode != "Static":
            raise InvalidInput(
                [
                    "the management interface uses DHCP, which supplies the DNS servers; "
                    "switch it to static to set them"
                ]
            )
        if not servers:
            raise InvalidInput(["give at least one DNS server"])
        refuse_while_ha(cache, "changing the management interface's DNS")
        c = self.current
        self.config = IpConfig("Static", c.ip, c.netmask, c.gateway, tuple(servers))

    def plan(self) -> Plan:
        return Plan(
            "Set DNS servers",
            f"Set the DNS servers of {self.host_name} to {', '.join(self.config.dns)}.",
            [f"xe pif-reconfigure-ip uuid={self.uuid} {self.config.xe_args()}"],
            impact=[
                "The management interface is reconfigured with the same address: a brief blip."
            ],
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("PIF.reconfigure_ip", self.pif, *self.config.call_args())
        return f"DNS servers of {self.host_name}: {', '.join(self.config.dns)}."


class SetHostname(Action):
    calls = ("host.set_hostname_live",)

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        rec = cache.get("host", host)
        return [Field("hostname", "Hostname", rec.hostname if rec else "", problem_of(v.hostname))]

    def __init__(self, cache: Cache, host: str, new: str):
        self.new = v.hostname(new)
        rec = cache.get("host", host)
        if rec is None:
            raise InvalidInput(["the host no longer exists"])
        self.host, self.uuid, self.old = host, rec.uuid, rec.hostname
        if self.new == self.old:
            raise InvalidInput([f"the hostname is already {self.old}"])

    def plan(self) -> Plan:
        return Plan(
            "Set hostname",
            f"Change the hostname from {self.old!r} to {self.new!r}.",
            [f"xe host-set-hostname-live host-uuid={self.uuid} host-name={shlex.quote(self.new)}"],
            impact=["Active Directory and DNS records that use the old name must be updated."],
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("host.set_hostname_live", self.host, self.new)
        return f"Hostname is now {self.new}."
