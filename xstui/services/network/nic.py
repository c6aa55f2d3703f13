"""Replacing a physical NIC, in two steps around the power-off: forget the old
one (maintenance mode, management off if needed), then introduce the new one
with the old settings. What step 2 needs is written on the host record
(``other_config``), so the wizard survives a restart of the console."""

from __future__ import annotations

import json

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.records import NULL_REF
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, problem_of
from ..guards import refuse_while_ha
from .management import IpConfig

PENDING_KEY = "xstui_nic_replacement"


def pending_replacements(cache: Cache) -> list[tuple[str, dict]]:
    """Hosts waiting for a new NIC: (host ref, what was forgotten)."""
    out = []
    for host in cache.table("host").values():
        text = host.other_config.get(PENDING_KEY)
        if not text:
            continue
        try:
            saved = json.loads(text)
        except ValueError:
            continue
        if isinstance(saved, dict) and {"device", "mac", "config"} <= set(saved):
            out.append((host.ref, saved))
    return out


class ForgetNic(Action):
    """Step 1: maintenance mode, management off if needed, forget the PIF."""

    calls = (
        "PIF.forget",
        "host.add_to_other_config",
        "host.disable",
        "host.enable",
        "host.management_disable",
        "host.remove_from_other_config",
    )

    def __init__(self, cache: Cache, pif: str, session_host: str):
        with cache.lock:
            rec = cache.get("pif", pif)
            if rec is None:
                raise InvalidInput(["the interface no longer exists"])
            host = cache.get("host", rec.host)
            self.running = sum(
                1
                for vm in cache.table("vm").values()
                if vm.resident_on == rec.host
                and vm.power_state == "Running"
                and not vm.is_control_domain
            )
            is_master = views.host_role(cache, rec.host) == "master"
        if not rec.physical:
            raise InvalidInput(["only a physical NIC can be replaced"])
        if rec.bond_slave_of != NULL_REF:
            raise InvalidInput(["the NIC is in a bond: destroy the bond first"])
        if rec.VLAN_slave_of:
            raise InvalidInput(["the NIC carries VLANs: destroy them first"])
        if PENDING_KEY in host.other_config:
            raise InvalidInput(
                [
                    f"a NIC replacement is already waiting on {host.name_label}: press r to introduce the new NIC"
                ]
            )
        if is_master:
            raise InvalidInput(
                [
                    f"{host.name_label} is the pool master, which cannot enter maintenance mode for the swap: "
                    "designate a new master first (xe pool-designate-new-master), then replace the NIC"
                ]
            )
        if rec.management:
            refuse_while_ha(cache, "disabling the management interface")
            if rec.host != session_host:
                raise InvalidInput(
                    [
                        f"{rec.device} is the management interface of {host.name_label}: "
                        "host.management_disable acts on the host it is called on, so run this step "
                        "on that host's console (xstui local)"
                    ]
                )
        self.rec, self.host_rec = rec, host
        self.config = IpConfig.of(rec)

    def saved(self) -> str:
        r = self.rec
        return json.dumps(
            {
                "device": r.device,
                "mac": r.MAC,
                "management": r.management,
                "config": list(self.config.call_args()),
            }
        )

    def plan(self) -> Plan:
        name = self.host_rec.name_label
        xe = [f"xe host-disable uuid={self.host_rec.uuid}"]
        if self.rec.management:
            xe.append("xe host-management-disable")
        xe.append(f"xe pif-forget uuid={self.rec.uuid}")
        impact = [f"{name} is disabled (no new VMs start there; its VMs are not moved)."]
        if self.running:
            impact.append(
                f"{self.running} VMs still run on {name}: migrate them or shut them down "
                "before powering the host off for the swap."
            )
        if self.rec.management:
            impact.append(
                "The host's management interface is disabled until the new NIC is configured: "
                "continue from the host's console if you lose this session."
            )
        return Plan(
            "Replace NIC: forget the old one",
            f"Forget {self.rec.device} ({self.rec.MAC}) on {name}; its settings "
            f"({self.config.xe_args()}) are kept on the host record for the new NIC.",
            xe,
            impact=impact,
            risk="high",
            confirm_word=self.rec.device or "yes",
        )

    def run(self, ctx: RunContext) -> str:
        host = self.host_rec.ref
        ctx.task("host.disable", host)
        ctx.undo_task(f"enable {self.host_rec.name_label} again", "host.enable", host)
        ctx.call("host.add_to_other_config", host, PENDING_KEY, self.saved())
        ctx.on_undo(
            "forget the saved NIC settings",
            lambda: ctx.conn.call("host.remove_from_other_config", host, PENDING_KEY),
        )
        if self.rec.management:
            ctx.call("host.management_disable")
        ctx.task("PIF.forget", self.rec.ref)
        return (
            f"{self.rec.device} forgotten on {self.host_rec.name_label}. Power off, swap the NIC, "
            "power on, then press r to introduce the new one."
        )


class IntroduceNic(Action):
    """Step 2: introduce the new NIC at the same device position with its MAC,
    give it the old addressing, restore management, leave maintenance."""

    calls = (
        "PIF.introduce",
        "PIF.forget",
        "PIF.reconfigure_ip",
        "host.enable",
        "host.management_reconfigure",
        "host.remove_from_other_config",
    )

    FIELDS = (Field("mac", "New NIC's MAC address", "", problem_of(v.mac)),)

    def __init__(self, cache: Cache, host: str, new_mac: str):
        saved = dict(pending_replacements(cache)).get(host)
        rec = cache.get("host", host)
        if saved is None or rec is None:
            raise InvalidInput(["no NIC replacement is waiting on this host"])
        self.mac = v.mac(new_mac)
        if self.mac == saved["mac"].lower():
            raise InvalidInput(["that is the old NIC's MAC address: enter the new NIC's"])
        self.host_rec, self.device, self.management = (
            rec,
            saved["device"],
            bool(saved.get("management")),
        )
        self.config = IpConfig(
            *saved["config"][:4], tuple(d for d in saved["config"][4].split(",") if d)
        )

    def plan(self) -> Plan:
        name = self.host_rec.name_label
        xe = [
            f"xe pif-introduce host-uuid={self.host_rec.uuid} device={self.device} mac={self.mac}"
        ]
        if self.config.mode != "None":
            xe.append(f"xe pif-reconfigure-ip uuid=<new> {self.config.xe_args()}")
        if self.management:
            xe.append("xe host-management-reconfigure pif-uuid=<new>")
        xe.append(f"xe host-enable uuid={self.host_rec.uuid}")
        return Plan(
            "Replace NIC: introduce the new one",
            f"Introduce {self.mac} as {self.device} on {name} with the old settings ({self.config.xe_args()}).",
            xe,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        host = self.host_rec.ref
        pif = ctx.task("PIF.introduce", host, self.mac, self.device, True)
        ctx.undo_task(f"forget the new {self.device}", "PIF.forget", pif)
        if self.config.mode != "None":
            ctx.task("PIF.reconfigure_ip", pif, *self.config.call_args())
        if self.management:
            ctx.task("host.management_reconfigure", pif)
        ctx.task("host.enable", host)
        ctx.call("host.remove_from_other_config", host, PENDING_KEY)
        return f"{self.device} on {self.host_rec.name_label} is now {self.mac} and the host is out of maintenance mode."
