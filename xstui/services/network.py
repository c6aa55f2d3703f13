"""Networking (RECIPES.md section 2): the interface table and the actions that
change it. Every action validates first, then plans, then runs as Async tasks;
a failure part-way undoes what was done."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..xapi.cache import Cache
from ..xapi.connection import Connection
from . import validate as v
from .actions import Action, InvalidInput, Plan, run_task
from .values import NULL, num

BOND_MODES = ("active-backup", "balance-slb", "lacp")
LACP_MAX_MEMBERS = 4


@dataclass
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
    bond: str  # "master" / "member of bond0" / ""
    mode: str
    ip: str
    netmask: str
    gateway: str
    dns: list[str]
    management: bool
    network: str
    network_ref: str
    physical: bool
    attached: bool


def pif_rows(cache: Cache, host: str | None = None) -> list[PifRow]:
    rows = []
    with cache.lock:
        hosts = cache.table("host")
        for ref, p in cache.table("pif").items():
            if host and p.get("host") != host:
                continue
            metrics = cache.get("pif_metrics", p.get("metrics", NULL)) or {}
            bond = ""
            if p.get("bond_master_of"):
                bond = "master"
            elif p.get("bond_slave_of", NULL) != NULL:
                master = (
                    cache.get(
                        "pif", (cache.get("bond", p["bond_slave_of"]) or {}).get("master", NULL)
                    )
                    or {}
                )
                bond = f"in {master.get('device', 'bond')}"
            net = cache.get("network", p.get("network", NULL)) or {}
            rows.append(
                PifRow(
                    ref=ref,
                    host=p.get("host", ""),
                    host_name=(hosts.get(p.get("host")) or {}).get("name_label", ""),
                    device=p.get("device", ""),
                    mac=p.get("MAC", ""),
                    carrier=metrics.get("carrier") if metrics else None,
                    speed=num(metrics.get("speed")),
                    duplex=metrics.get("duplex") if metrics else None,
                    mtu=num(p.get("MTU")),
                    vlan=num(p.get("VLAN"), -1),
                    bond=bond,
                    mode=p.get("ip_configuration_mode", ""),
                    ip=p.get("IP", ""),
                    netmask=p.get("netmask", ""),
                    gateway=p.get("gateway", ""),
                    dns=[d for d in str(p.get("DNS", "")).split(",") if d],
                    management=bool(p.get("management")),
                    network=net.get("name_label", ""),
                    network_ref=p.get("network", ""),
                    physical=bool(p.get("physical")),
                    attached=bool(p.get("currently_attached")),
                )
            )
    rows.sort(key=lambda r: (r.host_name, r.device, r.vlan))
    return rows


def _uuid(cache: Cache, cls: str, ref: str) -> str:
    return (cache.get(cls, ref) or {}).get("uuid", ref)


def _ha_check(cache: Cache, what: str) -> None:
    with cache.lock:
        pool = next(iter(cache.table("pool").values()), {})
    if pool.get("ha_enabled"):
        raise InvalidInput(
            [
                f"HA is enabled on the pool: {what} is refused while it is on (HA_IS_ENABLED). "
                "Disable HA first, then re-enable it afterwards"
            ]
        )


# management interface ------------------------------------------------------------
@dataclass(frozen=True)
class IpConfig:
    mode: str  # DHCP, Static, None
    ip: str = ""
    netmask: str = ""
    gateway: str = ""
    dns: tuple[str, ...] = ()

    @classmethod
    def of(cls, pif: dict) -> IpConfig:
        return cls(
            pif.get("ip_configuration_mode", "None"),
            pif.get("IP", ""),
            pif.get("netmask", ""),
            pif.get("gateway", ""),
            tuple(d for d in str(pif.get("DNS", "")).split(",") if d),
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
        problems = []
        checked = {}
        for key, check, args in (
            ("ip", v.ipv4, (ip,)),
            ("mask", v.netmask, (mask,)),
            ("dns", v.dns_servers, (dns,)),
        ):
            try:
                checked[key] = check(*args)
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


class ReconfigureManagement(Action):
    """Move or re-address a host's management interface:
    ``PIF.reconfigure_ip`` then ``host.management_reconfigure``."""

    def __init__(
        self, cache: Cache, host: str, pif: str, config: IpConfig, *, session_host: str, local: bool
    ):
        _ha_check(cache, "changing the management interface")
        with cache.lock:
            self.host_rec = dict(cache.get("host", host) or {})
            self.pif_rec = dict(cache.get("pif", pif) or {})
            old_ref = next(
                (
                    r
                    for r, p in cache.table("pif").items()
                    if p.get("host") == host and p.get("management")
                ),
                "",
            )
            self.old_pif = dict(cache.get("pif", old_ref) or {})
        if not self.host_rec or not self.pif_rec:
            raise InvalidInput(["the host or interface no longer exists"])
        if self.pif_rec.get("host") != host:
            raise InvalidInput(["the interface belongs to another host"])
        if self.pif_rec.get("bond_slave_of", NULL) != NULL:
            raise InvalidInput(
                [f"{self.pif_rec.get('device')} is a bond member: use the bond's interface"]
            )
        self.host, self.pif, self.old_ref, self.config = host, pif, old_ref, config
        self.previous = IpConfig.of(self.pif_rec)
        self.old_config = IpConfig.of(self.old_pif) if self.old_pif else None
        if self.old_ref == pif and self.previous == config:
            raise InvalidInput(["nothing to change: this is already the management configuration"])
        self.cuts_session = (
            not local
            and self.host_rec.get("address") == session_host
            and (config.mode != "Static" or config.ip != session_host)
        )
        self.local = local
        self.cache = cache

    assigned = ""  # the DHCP lease's address, once known

    @property
    def new_address(self) -> str:
        return (
            self.config.ip
            if self.config.mode == "Static"
            else self.assigned or self.pif_rec.get("IP", "")
        )

    def plan(self) -> Plan:
        name, dev = self.host_rec.get("name_label"), self.pif_rec.get("device")
        old_dev = self.old_pif.get("device", "none")
        impact = [
            f"Management traffic of {name} moves from {old_dev} ({self.host_rec.get('address')}) to {dev} "
            f"({self.new_address or 'DHCP'}); XenCenter and other clients must reconnect."
        ]
        if self.cuts_session:
            impact.append(
                f"This session's connection to {self.host_rec.get('address')} will drop; xstui then "
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
        return Plan(
            title="Change management interface",
            summary=f"Set {dev} on {name} to {self.config.xe_args()} and make it the management interface.",
            xe=[
                f"xe pif-reconfigure-ip uuid={self.pif_rec.get('uuid')} {self.config.xe_args()}",
                f"xe host-management-reconfigure pif-uuid={self.pif_rec.get('uuid')}",
            ],
            steps=[f"PIF.reconfigure_ip on {dev}", "host.management_reconfigure"],
            impact=impact,
            risk="high" if self.cuts_session or self.local else "medium",
            confirm_word=dev or "yes",
        )

    def run(self, conn: Connection, progress) -> str:
        run_task(
            conn,
            "PIF.reconfigure_ip",
            self.pif,
            *self.config.call_args(),
            progress=lambda p: progress(p / 2),
        )
        if self.config.mode == "DHCP":
            # the lease decides the address: XAPI records it on the PIF
            conn.cache.wait_for(lambda: (conn.cache.get("pif", self.pif) or {}).get("IP"), 30)
            self.assigned = (conn.cache.get("pif", self.pif) or {}).get("IP", "")
        if self.cuts_session:
            conn.retarget(self.new_address)
        try:
            run_task(
                conn,
                "host.management_reconfigure",
                self.pif,
                progress=lambda p: progress(0.5 + p / 2),
            )
        except Exception:
            # leave the pool as it was: restore the interface's previous addressing
            if not self.cuts_session:
                run_task(conn, "PIF.reconfigure_ip", self.pif, *self.previous.call_args())
            raise
        return (
            f"Management interface of {self.host_rec.get('name_label')} is now {self.pif_rec.get('device')} "
            f"({self.new_address or 'DHCP'})."
        )

    def revert(self) -> Action:
        """The action that puts the previous management configuration back."""
        return RevertManagement(self)


class RevertManagement(Action):
    def __init__(self, change: ReconfigureManagement):
        self.change = change

    def plan(self) -> Plan:
        c = self.change
        return Plan(
            "Revert management interface",
            f"Restore {c.old_pif.get('device')} as the management interface of {c.host_rec.get('name_label')}.",
            [
                f"xe pif-reconfigure-ip uuid={c.pif_rec.get('uuid')} {c.previous.xe_args()}",
                f"xe host-management-reconfigure pif-uuid={c.old_pif.get('uuid')}",
            ],
            risk="low",
        )

    def run(self, conn: Connection, progress) -> str:
        c = self.change
        if c.old_ref and c.old_ref != c.pif:
            run_task(conn, "PIF.reconfigure_ip", c.old_ref, *c.old_config.call_args())
            run_task(conn, "host.management_reconfigure", c.old_ref)
            run_task(conn, "PIF.reconfigure_ip", c.pif, *c.previous.call_args())
        else:
            run_task(conn, "PIF.reconfigure_ip", c.pif, *c.previous.call_args())
            run_task(conn, "host.management_reconfigure", c.pif)
        return "The previous management configuration is back."


class SetDns(Action):
    def __init__(self, cache: Cache, host: str, servers_text: str):
        servers = v.dns_servers(servers_text)
        with cache.lock:
            found = [
                (r, dict(p))
                for r, p in cache.table("pif").items()
                if p.get("host") == host and p.get("management")
            ]
            self.host_name = (cache.get("host", host) or {}).get("name_label", "")
        if not found:
            raise InvalidInput(["the host has no management interface"])
        self.pif, rec = found[0]
        self.uuid = rec.get("uuid")
        self.current = IpConfig.of(rec)
        if self.current.mode != "Static":
            raise InvalidInput(
                [
                    "the management interface uses DHCP, which supplies the DNS servers; "
                    "switch it to static to set them"
                ]
            )
        if not servers:
            raise InvalidInput(["give at least one DNS server"])
        _ha_check(cache, "changing the management interface's DNS")
        self.config = IpConfig(
            "Static", self.current.ip, self.current.netmask, self.current.gateway, tuple(servers)
        )

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

    def run(self, conn: Connection, progress) -> str:
        run_task(conn, "PIF.reconfigure_ip", self.pif, *self.config.call_args(), progress=progress)
        return f"DNS servers of {self.host_name}: {', '.join(self.config.dns)}."


class SetHostname(Action):
    def __init__(self, cache: Cache, host: str, new: str):
        self.new = v.hostname(new)
        rec = cache.get("host", host) or {}
        self.host, self.uuid, self.old = host, rec.get("uuid", ""), rec.get("hostname", "")
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

    def run(self, conn: Connection, progress) -> str:
        run_task(conn, "host.set_hostname_live", self.host, self.new, progress=progress)
        return f"Hostname is now {self.new}."


# bonds and VLANs -------------------------------------------------------------------
def _pifs_by_host_device(cache: Cache) -> dict[tuple[str, str], tuple[str, dict]]:
    out = {}
    for ref, p in cache.table("pif").items():
        if p.get("physical"):
            out[(p.get("host"), p.get("device"))] = (ref, p)
    return out


def _network_on_every_host(
    conn: Connection,
    name: str,
    description: str,
    mtu: int,
    create: str,
    items: list,
    args,
    progress,
) -> int:
    """A new network, then ``create`` (Bond.create / VLAN.create) once per host
    item with ``args(network, item)``; if any host fails, what was made is
    destroyed again so that the pool is left as it was. Returns the count."""
    network = conn.call(
        "network.create",
        {
            "name_label": name,
            "MTU": str(mtu),
            "other_config": {},
            "name_description": description,
            "tags": [],
        },
    )
    destroy = create.replace(".create", ".destroy")
    created = []
    try:
        for i, item in enumerate(items):
            created.append(run_task(conn, create, *args(network, item)))
            progress((i + 1) / len(items))
    except Exception:
        for ref in created:
            run_task(conn, destroy, ref)
        conn.call("network.destroy", network)
        raise
    return len(created)


def _destroy_with_network(
    conn: Connection, destroy: str, refs: list[str], network: str, progress
) -> None:
    """``destroy`` (Bond.destroy / VLAN.destroy) each object, then their network."""
    for i, ref in enumerate(refs):
        run_task(conn, destroy, ref)
        progress((i + 1) / (len(refs) + 1))
    conn.call("network.destroy", network)


class CreateBond(Action):
    """A bond of the same NICs on every host of the pool, on one new network."""

    def __init__(
        self, cache: Cache, name: str, devices: list[str], mode: str, mtu: str | int = 1500
    ):
        problems = []
        self.name = (name or "").strip() or f"Bond {'+'.join(devices)}"
        self.devices = sorted(dict.fromkeys(d.strip() for d in devices if d.strip()))
        self.mode = mode
        try:
            self.mtu = v.mtu(mtu)
        except InvalidInput as exc:
            problems += exc.problems
        if mode not in BOND_MODES:
            problems.append(f"bond mode must be one of {', '.join(BOND_MODES)}")
        if len(self.devices) < 2:
            problems.append("a bond needs at least two NICs")
        if mode == "lacp" and len(self.devices) > LACP_MAX_MEMBERS:
            problems.append(f"LACP bonds take at most {LACP_MAX_MEMBERS} NICs")
        self.members: dict[str, list[str]] = {}
        self.management_hosts: list[str] = []
        with cache.lock:
            pifs = _pifs_by_host_device(cache)
            pool = next(iter(cache.table("pool").values()), {})
            for host_ref, host in sorted(
                cache.table("host").items(), key=lambda kv: kv[1].get("name_label", "")
            ):
                hname = host.get("name_label", host_ref)
                refs = []
                for dev in self.devices:
                    found = pifs.get((host_ref, dev))
                    if not found:
                        problems.append(f"{hname} has no {dev}")
                        continue
                    ref, p = found
                    if p.get("bond_slave_of", NULL) != NULL:
                        problems.append(f"{dev} on {hname} is already in a bond")
                    if p.get("VLAN_slave_of"):
                        problems.append(f"{dev} on {hname} carries VLANs: remove them first")
                    if p.get("management"):
                        self.management_hosts.append(hname)
                    refs.append(ref)
                self.members[host_ref] = refs
            if self.management_hosts and pool.get("ha_enabled"):
                problems.append(
                    "HA is enabled: a bond involving the management interface cannot be created "
                    "(HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE)"
                )
            if any(n.get("name_label") == self.name for n in cache.table("network").values()):
                problems.append(f"a network called {self.name!r} already exists")
        if problems:
            raise InvalidInput(problems)
        self.cache = cache

    def plan(self) -> Plan:
        impact = [
            f"Each NIC of {', '.join(self.devices)} briefly loses link while it joins the bond."
        ]
        if self.management_hosts:
            impact.append(
                f"The management interface of {', '.join(self.management_hosts)} moves onto the bond: "
                "connections may drop for a few seconds."
            )
        if self.mode == "lacp":
            impact.append(
                "LACP needs the switch ports configured as one LACP group, or traffic stops."
            )
        return Plan(
            "Create bond",
            f"Bond {' + '.join(self.devices)} ({self.mode}) on all {len(self.members)} hosts, network {self.name!r}.",
            [f"xe network-create name-label={shlex.quote(self.name)} MTU={self.mtu}"]
            + [
                f"xe bond-create network-uuid=<new> pif-uuids={','.join(_uuid(self.cache, 'pif', r) for r in refs)} "
                f"mode={self.mode}"
                for refs in self.members.values()
            ],
            steps=["network.create"]
            + [f"Bond.create on host {i + 1}" for i in range(len(self.members))],
            impact=impact,
            risk="high" if self.management_hosts else "medium",
            confirm_word="bond",
        )

    def run(self, conn: Connection, progress) -> str:
        count = _network_on_every_host(
            conn,
            self.name,
            f"Bond of {', '.join(self.devices)}",
            self.mtu,
            "Bond.create",
            list(self.members.values()),
            lambda net, refs: (net, refs, "", self.mode, {}),
            progress,
        )
        return f"Bond {self.name!r} created on {count} hosts."


class DestroyBond(Action):
    def __init__(self, cache: Cache, network: str):
        with cache.lock:
            net = dict(cache.get("network", network) or {})
            self.bonds = []
            for bref, bond in cache.table("bond").items():
                master = cache.get("pif", bond.get("master", NULL)) or {}
                if master.get("network") == network:
                    if master.get("VLAN_slave_of"):
                        raise InvalidInput(
                            [
                                f"the bond on {cache.label('host', master.get('host', NULL))} carries VLANs: destroy them first"
                            ]
                        )
                    self.bonds.append((bref, bond.get("uuid", ""), master.get("management", False)))
        if not self.bonds:
            raise InvalidInput(["this network is not a bond"])
        if any(m for _, _, m in self.bonds):
            _ha_check(cache, "destroying a bond that carries the management interface")
        self.network, self.name = network, net.get("name_label", "")
        self.management = any(m for _, _, m in self.bonds)

    def plan(self) -> Plan:
        impact = ["VMs on this network lose connectivity until moved to another network."]
        if self.management:
            impact.append(
                "The management address returns to the bond's primary NIC: connections may drop briefly."
            )
        return Plan(
            "Destroy bond",
            f"Destroy bond {self.name!r} on {len(self.bonds)} hosts and remove its network.",
            [f"xe bond-destroy uuid={u}" for _, u, _ in self.bonds]
            + ["xe network-destroy uuid=<bond network>"],
            impact=impact,
            risk="high",
            confirm_word="destroy",
        )

    def run(self, conn: Connection, progress) -> str:
        _destroy_with_network(
            conn, "Bond.destroy", [b for b, _, _ in self.bonds], self.network, progress
        )
        return f"Bond {self.name!r} destroyed."


class CreateVlan(Action):
    """A VLAN network on the same NIC or bond of every host."""

    def __init__(self, cache: Cache, name: str, tag: str | int, over_network: str):
        problems = []
        try:
            self.tag = v.vlan_tag(tag)
        except InvalidInput as exc:
            problems += exc.problems
            self.tag = -1
        self.name = (name or "").strip() or f"VLAN {self.tag}"
        self.tagged: dict[str, str] = {}  # host -> the PIF that carries the VLAN
        self.uuids: dict[str, str] = {}
        with cache.lock:
            base = cache.get("network", over_network) or {}
            self.over = base.get("name_label", "")
            if not base:
                problems.append("choose the network (NIC or bond) to carry the VLAN")
            for ref, p in cache.table("pif").items():
                if p.get("network") != over_network:
                    continue
                if num(p.get("VLAN"), -1) >= 0:
                    problems.append("a VLAN cannot be created on another VLAN (PIF_IS_VLAN)")
                    break
                if p.get("bond_slave_of", NULL) != NULL:
                    problems.append("that NIC is a bond member: use the bond's network")
                    break
                for vref in p.get("VLAN_slave_of") or []:
                    if num((cache.get("vlan", vref) or {}).get("tag"), -2) == self.tag:
                        problems.append(f"VLAN {self.tag} already exists on {self.over}")
                        break
                self.tagged[p.get("host")] = ref
                self.uuids[ref] = p.get("uuid", ref)
            if any(n.get("name_label") == self.name for n in cache.table("network").values()):
                problems.append(f"a network called {self.name!r} already exists")
        if problems:
            raise InvalidInput(list(dict.fromkeys(problems)))

    def plan(self) -> Plan:
        return Plan(
            "Create VLAN",
            f"Create VLAN {self.tag} on {self.over!r} on {len(self.tagged)} hosts as network {self.name!r}.",
            [f"xe network-create name-label={shlex.quote(self.name)}"]
            + [
                f"xe vlan-create network-uuid=<new> pif-uuid={self.uuids[pif]} vlan={self.tag}"
                for pif in self.tagged.values()
            ],
            impact=["The switch ports must carry this VLAN tagged, or the network stays dark."],
            risk="low",
        )

    def run(self, conn: Connection, progress) -> str:
        count = _network_on_every_host(
            conn,
            self.name,
            f"VLAN {self.tag}",
            1500,
            "VLAN.create",
            list(self.tagged.values()),
            lambda net, pif: (pif, str(self.tag), net),
            progress,
        )
        return f"VLAN {self.tag} ({self.name!r}) created on {count} hosts."


class DestroyVlan(Action):
    def __init__(self, cache: Cache, network: str):
        with cache.lock:
            net = dict(cache.get("network", network) or {})
            self.vlans = []
            for vref, vlan in cache.table("vlan").items():
                untagged = cache.get("pif", vlan.get("untagged_PIF", NULL)) or {}
                if untagged.get("network") == network:
                    if untagged.get("management"):
                        raise InvalidInput(
                            ["this VLAN carries a management interface: move management first"]
                        )
                    self.vlans.append((vref, vlan.get("uuid", ""), num(vlan.get("tag"))))
        if not self.vlans:
            raise InvalidInput(["this network is not a VLAN"])
        self.network, self.name = network, net.get("name_label", "")

    def plan(self) -> Plan:
        return Plan(
            "Destroy VLAN",
            f"Destroy VLAN network {self.name!r} on {len(self.vlans)} hosts.",
            [f"xe vlan-destroy uuid={u}" for _, u, _ in self.vlans]
            + ["xe network-destroy uuid=<network>"],
            impact=["VMs on this network lose connectivity."],
            risk="high",
            confirm_word="destroy",
        )

    def run(self, conn: Connection, progress) -> str:
        _destroy_with_network(
            conn, "VLAN.destroy", [v for v, _, _ in self.vlans], self.network, progress
        )
        return f"VLAN network {self.name!r} destroyed."


# replacing a NIC ---------------------------------------------------------------------
class ForgetNic(Action):
    """Wizard step 1: maintenance mode, management off if needed, forget the PIF."""

    def __init__(self, cache: Cache, pif: str, session_host: str):
        with cache.lock:
            self.rec = dict(cache.get("pif", pif) or {})
            host = dict(cache.get("host", self.rec.get("host", NULL)) or {})
            self.running = sum(
                1
                for vm in cache.table("vm").values()
                if vm.get("resident_on") == self.rec.get("host")
                and vm.get("power_state") == "Running"
                and not vm.get("is_control_domain")
            )
        if not self.rec.get("physical"):
            raise InvalidInput(["only a physical NIC can be replaced"])
        if self.rec.get("bond_slave_of", NULL) != NULL:
            raise InvalidInput(["the NIC is in a bond: destroy the bond first"])
        if self.rec.get("VLAN_slave_of"):
            raise InvalidInput(["the NIC carries VLANs: destroy them first"])
        if self.rec.get("management"):
            _ha_check(cache, "disabling the management interface")
            if self.rec.get("host") != session_host:
                raise InvalidInput(
                    [
                        f"{self.rec.get('device')} is the management interface of {host.get('name_label')}: "
                        "host.management_disable acts on the host it is called on, so run this step "
                        "on that host's console (xstui local)"
                    ]
                )
        self.pif, self.host, self.host_name = pif, self.rec.get("host"), host.get("name_label", "")
        self.config = IpConfig.of(self.rec)

    def plan(self) -> Plan:
        xe = [f"xe host-disable uuid=<{self.host_name}>"]
        if self.rec.get("management"):
            xe.append("xe host-management-disable")
        xe.append(f"xe pif-forget uuid={self.rec.get('uuid')}")
        impact = [f"{self.host_name} enters maintenance mode (no new VMs start there)."]
        if self.running:
            impact.append(
                f"{self.running} VMs still run on {self.host_name}: migrate them or shut them down "
                "before powering the host off for the swap."
            )
        if self.rec.get("management"):
            impact.append(
                "The host's management interface is disabled until the new NIC is configured: "
                "continue from the host's console if you lose this session."
            )
        return Plan(
            "Replace NIC: forget the old one",
            f"Forget {self.rec.get('device')} ({self.rec.get('MAC')}) on {self.host_name}; its "
            f"settings ({self.config.xe_args()}) are kept for the new NIC.",
            xe,
            impact=impact,
            risk="high",
            confirm_word=self.rec.get("device", "yes"),
        )

    def run(self, conn: Connection, progress) -> str:
        run_task(conn, "host.disable", self.host)
        if self.rec.get("management"):
            conn.call("host.management_disable")
        try:
            run_task(conn, "PIF.forget", self.pif)
        except Exception:
            run_task(conn, "host.enable", self.host)
            raise
        return f"{self.rec.get('device')} forgotten on {self.host_name}. Power off, swap the NIC, power on, then introduce it."


class IntroduceNic(Action):
    """Wizard step 2: introduce the new NIC at the same device position with its
    MAC, give it the old addressing, restore management, leave maintenance."""

    def __init__(self, forgotten: ForgetNic, new_mac: str):
        self.old = forgotten
        self.mac = v.mac(new_mac)
        if self.mac == forgotten.rec.get("MAC", "").lower():
            raise InvalidInput(["that is the old NIC's MAC address: enter the new NIC's"])

    def plan(self) -> Plan:
        o = self.old
        xe = [
            f"xe pif-introduce host-uuid=<{o.host_name}> device={o.rec.get('device')} mac={self.mac}"
        ]
        if o.config.mode != "None":
            xe.append(f"xe pif-reconfigure-ip uuid=<new> {o.config.xe_args()}")
        if o.rec.get("management"):
            xe.append("xe host-management-reconfigure pif-uuid=<new>")
        xe.append(f"xe host-enable uuid=<{o.host_name}>")
        return Plan(
            "Replace NIC: introduce the new one",
            f"Introduce {self.mac} as {o.rec.get('device')} on {o.host_name} with the old settings.",
            xe,
            risk="medium",
        )

    def run(self, conn: Connection, progress) -> str:
        o = self.old
        pif = conn.call("PIF.introduce", o.host, self.mac, o.rec.get("device"), True)
        if o.config.mode != "None":
            run_task(conn, "PIF.reconfigure_ip", pif, *o.config.call_args())
        if o.rec.get("management"):
            run_task(conn, "host.management_reconfigure", pif)
        run_task(conn, "host.enable", o.host)
        return f"{o.rec.get('device')} on {o.host_name} is now {self.mac} and the host is out of maintenance mode."
