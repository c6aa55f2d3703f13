"""SRs on block devices: an iSCSI LUN (the target's IQNs, then its LUNs,
discovered by the storage manager's probe, CHAP when the target wants it),
an FC/HBA LUN (the LUNs every host sees), both LVM and shared; a local LVM
SR on a free disk of one host, or an ext one (files, thin: for backups).
Every device-config is checked before any call."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import Connection, XapiFailure
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, problem_of
from ..values import size

KINDS = {
    "lvmoiscsi": "iSCSI",
    "lvmohba": "HBA / Fibre Channel",
    "lvm": "local LVM",
    "ext": "local ext (USB, backups)",
}


@dataclass(frozen=True)
class Lun:
    scsi_id: str
    lun: str
    size: int
    vendor: str
    path: str = ""  # an HBA device's path on the master

    @property
    def label(self) -> str:
        where = f"LUN {self.lun}" + (f" {self.path}" if self.path else "")
        return f"{where}: {size(self.size)} {self.vendor} ({self.scsi_id[:12]}...)"


def _tag(xml: str, name: str) -> list[str]:
    return re.findall(rf"<{name}>\s*([^<]*?)\s*</{name}>", xml)


def _answer(conn: Connection, kind: str, config: dict[str, str], code: str) -> str:
    """The storage manager's probe answer: the XML it sends back inside the
    failure that asks for the next parameter (``code``)."""
    try:
        conn.call("SR.probe", conn.this_host, config, kind, {})
    except XapiFailure as exc:
        if exc.code == code:
            return " ".join(exc.details)
        raise
    return ""


def iscsi_config(target: str, chap_user: str = "", chap_password: str = "") -> dict[str, str]:
    config = {"target": v.host_or_ip(target, "iSCSI target"), "port": "3260"}
    if chap_user or chap_password:
        if not (chap_user and chap_password):
            raise InvalidInput(["CHAP needs both a user and a password"])
        config |= {"chapuser": chap_user, "chappassword": chap_password}
    return config


def iscsi_iqns(conn: Connection, config: dict[str, str]) -> list[str]:
    """The target's IQNs (the probe's answer to a missing targetIQN)."""
    return _tag(_answer(conn, "lvmoiscsi", config, "SR_BACKEND_FAILURE_96"), "TargetIQN")


def _luns(xml: str, lun_tag: str) -> list[Lun]:
    blocks = re.findall(rf"<{lun_tag}>(.*?)</{lun_tag}>", xml, re.S)
    out = []
    for b in blocks:
        get = dict.fromkeys(("SCSIid", "LUNid", "lun", "size", "vendor", "path"), "")
        for key in get:
            found = _tag(b, key)
            get[key] = found[0] if found else ""
        out.append(
            Lun(
                get["SCSIid"],
                get["LUNid"] or get["lun"],
                int(get["size"] or 0),
                get["vendor"],
                get["path"],
            )
        )
    return out


def iscsi_luns(conn: Connection, config: dict[str, str], iqn: str) -> list[Lun]:
    xml = _answer(conn, "lvmoiscsi", {**config, "targetIQN": iqn}, "SR_BACKEND_FAILURE_107")
    return _luns(xml, "LUN")


def hba_luns(conn: Connection) -> list[Lun]:
    return _luns(_answer(conn, "lvmohba", {}, "SR_BACKEND_FAILURE_107"), "BlockDevice")


class CreateBlockSr(Action):
    """``SR.create`` of an iSCSI, HBA, local LVM or ext SR."""

    calls = ("SR.create", "PBD.unplug", "SR.forget")

    def __init__(self, cache: Cache, kind: str, config: dict[str, str], name: str, host: str = ""):
        if kind not in KINDS:
            raise InvalidInput([f"unknown SR type {kind!r}"])
        name = name.strip()
        problems = [] if name else ["give the SR a name"]
        if kind in ("lvm", "ext"):
            device = config.get("device", "").strip()
            if not device.startswith("/dev/"):
                problems.append("the disk is a device path, e.g. /dev/sdb")
            if re.fullmatch(r"/dev/md\d+", device):
                problems.append("not a software RAID device: XenServer does not support them")
            if not host or cache.get("host", host) is None:
                problems.append("choose the host whose disk it is")
        elif not config.get("SCSIid"):
            problems.append("choose a LUN")
        if problems:
            raise InvalidInput(problems)
        self.kind, self.config, self.name = kind, dict(config), name
        with cache.lock:
            pool = views.pool(cache)
            self.host = host or (pool.master if pool else "")
            self.host_name = cache.label("host", self.host, "?")
            self.hosts = len(cache.table("host"))
        self.shared = kind in ("lvmoiscsi", "lvmohba")

    def __repr__(self) -> str:
        return f"CreateBlockSr({self.kind!r}, {self.name!r})"  # never the CHAP secret

    def plan(self) -> Plan:
        shown = {k: ("******" if k == "chappassword" else val) for k, val in self.config.items()}
        dconf = " ".join(f"device-config:{k}={val}" for k, val in shown.items())
        where = f"all {self.hosts} hosts" if self.shared else self.host_name
        impact = [f"the SR is attached on {where}"]
        if self.kind in ("lvm", "lvmoiscsi", "lvmohba"):
            impact.insert(0, "whatever the device holds is erased (a new volume group is made)")
        if not self.shared:
            impact.append("local: VMs on it cannot move, and HA cannot restart them elsewhere")
        return Plan(
            title=f"New {KINDS[self.kind]} SR {self.name}",
            summary=f"An SR of type {self.kind} on {where}.",
            xe=[
                f"xe sr-create type={self.kind} shared={str(self.shared).lower()} "
                f'content-type=user name-label="{self.name}" {dconf}'
                + ("" if self.shared else f" host-uuid=<{self.host_name}>")
            ],
            steps=["SR.create (its PBDs plugged)"],
            impact=impact,
            risk="high" if self.kind != "ext" else "medium",
            confirm_word=self.name if self.kind != "ext" else "",
        )

    def run(self, ctx: RunContext) -> str:
        sr = ctx.task(
            "SR.create",
            self.host,
            self.config,
            "0",
            self.name,
            "",
            self.kind,
            "user",
            self.shared,
            {},
        )
        ctx.on_undo(f"forget the new SR {self.name}", lambda: forget_new_sr(ctx, sr))
        return f"{self.name} is attached."


def forget_new_sr(ctx: RunContext, sr: str) -> None:
    for pbd in ctx.conn.call("SR.get_PBDs", sr):
        ctx.conn.call("PBD.unplug", pbd)
    ctx.conn.call("SR.forget", sr)


def iscsi_fields() -> list[Field]:
    return [
        Field("target", "iSCSI target", "", problem_of(v.host_or_ip, "iSCSI target")),
        Field("chapuser", "CHAP user", "", placeholder="empty: no CHAP"),
        Field("chappassword", "CHAP password", "", password=True),
    ]
