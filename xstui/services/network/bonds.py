"""Bonds and VLANs, made the same on every host of the pool (one network,
one bond or VLAN per host) and destroyed the same way. A step that fails, or
a cancel, takes back the steps already done."""

from __future__ import annotations

import shlex

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.records import NULL_REF
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext, run_task
from ..fields import Field, problem_of
from ..guards import refuse_while_ha
from ..values import listing

BOND_MODES = ("active-backup", "balance-slb", "lacp")
BOND_MIN_MEMBERS = 2
LACP_MAX_MEMBERS = 4


def check_bond_devices(devices: list[str], mode: str) -> list[str]:
    """The rules on a bond's NICs that need no pool: count and mode."""
    problems = []
    if mode not in BOND_MODES:
        problems.append(f"bond mode must be one of {', '.join(BOND_MODES)}")
    if len(devices) < BOND_MIN_MEMBERS:
        problems.append(f"a bond needs at least {BOND_MIN_MEMBERS} NICs")
    if mode == "lacp" and len(devices) > LACP_MAX_MEMBERS:
        problems.append(f"LACP bonds take at most {LACP_MAX_MEMBERS} NICs")
    return problems


def bond_name(devices: list[str]) -> str:
    """A bond network's name when the admin gives none: its NICs."""
    return f"Bond {'+'.join(sorted(devices)) or 'NIC+NIC'}"


def _physical_pifs(cache: Cache) -> dict[tuple[str, str], object]:
    return {(p.host, p.device): p for p in cache.table("pif").values() if p.physical}


def _unused_name(cache: Cache, name: str) -> list[str]:
    if any(n.name_label == name for n in cache.table("network").values()):
        return [f"a network called {name!r} already exists"]
    return []


def vms_using(cache: Cache, network: str) -> list[str]:
    """Names of the VMs with a virtual NIC on a network."""
    net = cache.get("network", network)
    vifs = set(net.VIFs) if net is not None else set()
    if not vifs:
        return []
    return sorted(vm.name_label for vm in cache.table("vm").values() if vifs.intersection(vm.VIFs))


def _refuse_if_in_use(cache: Cache, network: str, what: str) -> None:
    users = vms_using(cache, network)
    if users:
        shown = listing(users, 5)
        raise InvalidInput(
            [
                f"VMs still use {what}: {shown}. Move their network interfaces to another network first"
            ]
        )


def _new_network(ctx: RunContext, name: str, description: str, mtu: int, hosts: int) -> str:
    """A new pool-wide network, the first of ``hosts + 1`` steps (its share of
    the progress bar). Its undo is registered first and works from what the
    pool has when it runs (the name was checked to be unused), not from what
    was recorded: a step whose reply was lost is undone too."""
    conn = ctx.conn

    def undo():
        for network in conn.call("network.get_by_name_label", name):
            _remove_network(conn, network)

    ctx.on_undo(f"remove network {name!r} and what was made on it", undo)
    record = {
        "name_label": name,
        "name_description": description,
        "MTU": str(mtu),
        "other_config": {},
        "tags": [],
    }
    return ctx.task("network.create", record, span=(0.0, 1 / (hosts + 1)))


def _remove_network(conn, network: str) -> None:
    """Destroy every VLAN and bond on a network, as the pool has them now, then the network."""
    records = conn.call("PIF.get_all_records_where", f'field "network" = "{network}"').values()
    for rec in records:
        if rec.get("VLAN_master_of") not in (None, "", NULL_REF):
            run_task(conn, "VLAN.destroy", rec["VLAN_master_of"])
        for bond in rec.get("bond_master_of") or []:
            run_task(conn, "Bond.destroy", bond)
    run_task(conn, "network.destroy", network)


def _destroy_then_network(ctx: RunContext, network: str, steps: list) -> None:
    """Each step is (destroy call, what its undo does, undo call): destroy the
    bond or VLAN of every host, each with its undo registered, then the network."""
    for i, (destroy, description, recreate) in enumerate(steps, 1):
        ctx.task(*destroy)
        ctx.undo_task(description, *recreate)
        ctx.progress(i / (len(steps) + 1))
    ctx.task("network.destroy", network)


class CreateBond(Action):
    """A bond of the same NICs on every host of the pool, on one new network."""

    calls = ("Bond.create", "Bond.destroy", "VLAN.destroy", "network.create", "network.destroy")

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        """NICs offered: this host's physical ones not in a bond and not carrying VLANs."""
        free = sorted(
            p.device
            for p in cache.table("pif").values()
            if p.host == host and p.physical and p.bond_slave_of == NULL_REF and not p.VLAN_slave_of
        )
        return [
            Field("devices", "NICs", (), choices=free, several=True),
            Field("mode", "Mode", "active-backup", choices=BOND_MODES),
            Field(
                "name",
                "Network name",
                "",
                placeholder=bond_name([]),
                placeholder_of=lambda values: bond_name(values.get("devices") or []),
            ),
            Field("mtu", "MTU", "1500", problem_of(v.mtu)),
        ]

    def __init__(
        self, cache: Cache, name: str, devices: list[str], mode: str, mtu: str | int = 1500
    ):
        self.devices = sorted(dict.fromkeys(d.strip() for d in devices if d.strip()))
        self.name = (name or "").strip() or bond_name(self.devices)
        self.mode = mode
        problems = check_bond_devices(self.devices, mode)
        try:
            self.mtu = v.mtu(mtu)
        except InvalidInput as exc:
            problems += exc.problems
        found: dict[str, list[str]] = {}  # a problem (hosts left out) -> the hosts it is on
        self.members: dict[str, list] = {}  # host ref -> member PIF records
        self.management_hosts: list[str] = []
        self.addressed: dict[tuple[str, int], list[str]] = {}  # (NIC, its MTU) -> hosts
        with cache.lock:
            pifs = _physical_pifs(cache)
            for host in sorted(cache.table("host").values(), key=lambda h: h.name_label):
                members = []
                for dev in self.devices:
                    p = pifs.get((host.ref, dev))
                    if p is None:
                        found.setdefault(f"no {dev} on {{hosts}}", []).append(host.name_label)
                        continue
                    if p.bond_slave_of != NULL_REF:
                        found.setdefault(f"{dev} is already in a bond on {{hosts}}", []).append(
                            host.name_label
                        )
                    if p.VLAN_slave_of:
                        found.setdefault(
                            f"{dev} carries VLANs on {{hosts}}: remove them first", []
                        ).append(host.name_label)
                    if p.management:
                        self.management_hosts.append(host.name_label)
                    if p.ip_configuration_mode != "None":
                        self.addressed.setdefault((dev, p.MTU), []).append(host.name_label)
                    members.append(p)
                addressed = [p.device for p in members if p.ip_configuration_mode != "None"]
                if len(addressed) > 1:
                    found.setdefault(
                        f"{' and '.join(addressed)} both have an IP address on {{hosts}}; a bond "
                        "keeps at most one (PIF_BOND_MORE_THAN_ONE_IP): remove the others' "
                        "addresses first",
                        [],
                    ).append(host.name_label)
                self.members[host.ref] = members
            if self.management_hosts and views.ha_enabled(cache):
                problems.append(
                    "HA is enabled: a bond involving the management interface cannot be created "
                    "(HA_CANNOT_CHANGE_BOND_STATUS_OF_MGMT_IFACE)"
                )
            problems += _unused_name(cache, self.name)
        problems += [text.format(hosts=listing(hosts, 5)) for text, hosts in found.items()]
        if problems:
            raise InvalidInput(list(dict.fromkeys(problems)))

    def plan(self) -> Plan:
        impact = [
            f"Each NIC of {', '.join(self.devices)} briefly loses link while it joins the bond."
        ]
        if self.management_hosts:
            impact.append(
                f"The management interface of {', '.join(self.management_hosts)} moves onto the bond: "
                "connections may drop for a few seconds."
            )
        for (dev, mtu), hosts in self.addressed.items():
            if mtu > self.mtu:
                impact.append(
                    f"{dev} carries an IP at MTU {mtu} on {listing(hosts, 5)}: the address moves "
                    f"to the bond, at the bond's MTU {self.mtu}, so what uses it (storage) loses "
                    f"its jumbo frames. Give the bond MTU {mtu} to keep them."
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
                f"xe bond-create network-uuid=<new> pif-uuids={','.join(p.uuid for p in members)} mode={self.mode}"
                for members in self.members.values()
            ],
            steps=["network.create"]
            + [f"Bond.create on host {i + 1}" for i in range(len(self.members))],
            impact=impact,
            risk="high" if self.management_hosts else "medium",
            confirm_word="bond",
        )

    def run(self, ctx: RunContext) -> str:
        n = len(self.members)
        network = _new_network(ctx, self.name, f"Bond of {', '.join(self.devices)}", self.mtu, n)
        for i, members in enumerate(self.members.values(), 1):
            ctx.task("Bond.create", network, [p.ref for p in members], "", self.mode, {})
            ctx.progress((i + 1) / (n + 1))
        return f"Bond {self.name!r} created on {len(self.members)} hosts."


class DestroyBond(Action):
    calls = ("Bond.destroy", "network.destroy")

    def __init__(self, cache: Cache, network: str):
        self.bonds = []  # (bond record, master PIF record)
        with cache.lock:
            net = cache.get("network", network)
            for bond in cache.table("bond").values():
                master = cache.get("pif", bond.master)
                if master is None or master.network != network:
                    continue
                if master.VLAN_slave_of:
                    raise InvalidInput(
                        [
                            f"the bond on {cache.label('host', master.host)} carries VLANs: destroy them first"
                        ]
                    )
                self.bonds.append((bond, master))
            if not self.bonds:
                raise InvalidInput(["this network is not a bond"])
            self.management = any(m.management for _, m in self.bonds)
            if self.management:
                refuse_while_ha(cache, "destroying a bond that carries the management interface")
            _refuse_if_in_use(cache, network, "this bond's network")
            self.network, self.name = network, net.name_label if net else ""
            self.net_record = net

    def plan(self) -> Plan:
        impact = []
        if self.management:
            impact.append(
                "The management address returns to the bond's primary NIC: connections may drop briefly."
            )
        impact.append("The member NICs return to their own networks.")
        return Plan(
            "Destroy bond",
            f"Destroy bond {self.name!r} on {len(self.bonds)} hosts and remove its network.",
            [f"xe bond-destroy uuid={b.uuid}" for b, _ in self.bonds]
            + [f"xe network-destroy uuid={self.net_record.uuid}"],
            impact=impact,
            risk="high",
            confirm_word="destroy",
        )

    def run(self, ctx: RunContext) -> str:
        _destroy_then_network(
            ctx,
            self.network,
            [
                (
                    ("Bond.destroy", bond.ref),
                    "re-create a destroyed bond",
                    (
                        "Bond.create",
                        self.network,
                        list(bond.slaves),
                        master.MAC,
                        bond.mode,
                        dict(bond.properties),
                    ),
                )
                for bond, master in self.bonds
            ],
        )
        return f"Bond {self.name!r} destroyed."


class CreateVlan(Action):
    """A VLAN network on the same NIC or bond of every host."""

    calls = ("VLAN.create", "VLAN.destroy", "Bond.destroy", "network.create", "network.destroy")

    @staticmethod
    def carriers(cache: Cache, host: str) -> dict[str, str]:
        """Networks that can carry a VLAN on this host (NICs and bonds, not VLANs
        or bond members), by name."""
        out = {}
        for p in cache.table("pif").values():
            if p.host == host and p.VLAN < 0 and p.bond_slave_of == NULL_REF:
                net = cache.get("network", p.network)
                if net is not None:
                    out[net.name_label] = net.ref
        return dict(sorted(out.items()))

    @classmethod
    def fields(cls, cache: Cache, host: str, network: str = "") -> list[Field]:
        carriers = cls.carriers(cache, host)
        chosen = next((name for name, ref in carriers.items() if ref == network), "")
        return [
            Field("tag", "VLAN tag (0-4094)", "", problem_of(v.vlan_tag)),
            Field("over", "On network", chosen, choices=tuple(carriers)),
            Field("name", "Network name", "", placeholder="VLAN <tag>"),
        ]

    def __init__(self, cache: Cache, name: str, tag: str | int, over_network: str):
        problems = []
        try:
            self.tag = v.vlan_tag(tag)
        except InvalidInput as exc:
            problems += exc.problems
            self.tag = -1
        self.name = (name or "").strip() or f"VLAN {self.tag}"
        self.tagged: list = []  # the PIF that carries the VLAN, one per host
        with cache.lock:
            base = cache.get("network", over_network)
            self.over = base.name_label if base else ""
            if base is None:
                problems.append("choose the network (NIC or bond) to carry the VLAN")
            for p in cache.table("pif").values():
                if p.network != over_network:
                    continue
                if p.VLAN >= 0:
                    problems.append("a VLAN cannot be created on another VLAN (PIF_IS_VLAN)")
                    break
                if p.bond_slave_of != NULL_REF:
                    problems.append("that NIC is a bond member: use the bond's network")
                    break
                for vref in p.VLAN_slave_of:
                    vlan = cache.get("vlan", vref)
                    if vlan is not None and vlan.tag == self.tag:
                        problems.append(f"VLAN {self.tag} already exists on {self.over}")
                self.tagged.append(p)
            problems += _unused_name(cache, self.name)
        if problems:
            raise InvalidInput(list(dict.fromkeys(problems)))

    def plan(self) -> Plan:
        return Plan(
            "Create VLAN",
            f"Create VLAN {self.tag} on {self.over!r} on {len(self.tagged)} hosts as network {self.name!r}.",
            [f"xe network-create name-label={shlex.quote(self.name)}"]
            + [
                f"xe vlan-create network-uuid=<new> pif-uuid={p.uuid} vlan={self.tag}"
                for p in self.tagged
            ],
            impact=["The switch ports must carry this VLAN tagged, or the network stays dark."],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        n = len(self.tagged)
        network = _new_network(ctx, self.name, f"VLAN {self.tag}", 1500, n)
        for i, pif in enumerate(self.tagged, 1):
            ctx.task("VLAN.create", pif.ref, str(self.tag), network)
            ctx.progress((i + 1) / (n + 1))
        return f"VLAN {self.tag} ({self.name!r}) created on {len(self.tagged)} hosts."


class DestroyVlan(Action):
    calls = ("VLAN.destroy", "network.destroy")

    def __init__(self, cache: Cache, network: str):
        self.vlans = []
        with cache.lock:
            net = cache.get("network", network)
            for vlan in cache.table("vlan").values():
                untagged = cache.get("pif", vlan.untagged_PIF)
                if untagged is None or untagged.network != network:
                    continue
                if untagged.management:
                    raise InvalidInput(
                        ["this VLAN carries a management interface: move management first"]
                    )
                self.vlans.append(vlan)
            if not self.vlans:
                raise InvalidInput(["this network is not a VLAN"])
            _refuse_if_in_use(cache, network, "this VLAN")
        self.network, self.name, self.net_record = network, net.name_label if net else "", net

    def plan(self) -> Plan:
        return Plan(
            "Destroy VLAN",
            f"Destroy VLAN network {self.name!r} on {len(self.vlans)} hosts.",
            [f"xe vlan-destroy uuid={vl.uuid}" for vl in self.vlans]
            + [f"xe network-destroy uuid={self.net_record.uuid}"],
            impact=["Hosts stop carrying this VLAN; its network is removed from the pool."],
            risk="high",
            confirm_word="destroy",
        )

    def run(self, ctx: RunContext) -> str:
        _destroy_then_network(
            ctx,
            self.network,
            [
                (
                    ("VLAN.destroy", vlan.ref),
                    f"re-create VLAN {vlan.tag}",
                    ("VLAN.create", vlan.tagged_PIF, str(vlan.tag), self.network),
                )
                for vlan in self.vlans
            ],
        )
        return f"VLAN network {self.name!r} destroyed."
