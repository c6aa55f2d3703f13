"""SRs on block devices: an iSCSI LUN (the target's IQNs, then its LUNs,
discovered by the storage manager's probe, CHAP when the target wants it),
an FC/HBA LUN (the LUNs every host sees), both LVM and shared; a local LVM
SR on a free disk of one host, or an ext one (files, thin: for backups).
Every device-config is checked before any call. A host's disks come with the
SRs each holds (the storage managers' probe), so that a disk holding one is
never offered as if it were free."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
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


@dataclass(frozen=True)
class HeldSr:
    """An SR found on a disk: one of the pool's, or one it does not know
    (forgotten, or another pool's), whose data a new SR there would erase."""

    uuid: str
    type: str
    name: str = ""  # the pool's name for it, or the one its metadata keeps ("" for ext)
    size: int = 0
    known: bool = False  # the pool has an SR record of that uuid
    attached: bool = False  # plugged on the disk's host

    def said(self) -> str:
        """In words: which SR, its type and size, and what the pool makes of it."""
        what = f"{self.type}, {size(self.size)}" if self.size else self.type
        who = f"the SR {self.name} ({what})" if self.name else f"an SR ({what}, uuid {self.uuid})"
        if not self.known:
            return f"{who}, unknown to this pool (forgotten, or another pool's)"
        return f"{who} of this pool, {'attached' if self.attached else 'detached'}"


@dataclass(frozen=True)
class LocalDisk:
    path: str
    size: int
    holds: tuple[HeldSr, ...] = ()

    @property
    def label(self) -> str:
        """The disk list's line: a disk that holds an SR is marked with it."""
        text = f"{self.path}  {size(self.size)}"
        if self.holds:
            first = self.holds[0]
            text += f"  ! holds {first.name or 'an ' + first.type + ' SR'}"
        return text


def disk_holds(conn: Connection, host: str, device: str) -> tuple[HeldSr, ...]:
    """The SRs on ``device`` of ``host``: what the LVM and ext storage
    managers' probes find there (the LVM one with the name its metadata
    keeps), and the pool's SRs whose PBD on that host names the disk."""
    found: dict[str, tuple[str, str, int]] = {}  # uuid -> (type, name, size)
    for kind in ("lvm", "ext"):
        xml = conn.call(
            "SR.probe",
            host,
            {"device": device},
            kind,
            {"metadata": "true"} if kind == "lvm" else {},
        )
        for block in re.findall(r"<SR>(.*?)</SR>", xml, re.S):
            uuid, name, sz = (_tag(block, t) for t in ("UUID", "name_label", "size"))
            if uuid:
                found[uuid[0]] = (
                    kind,
                    html.unescape(name[0]) if name else "",
                    int(sz[0] or 0) if sz else 0,
                )
    cache = conn.cache
    with cache.lock:
        pbds = [p for p in cache.table("pbd").values() if p.host == host]
        for pbd in pbds:
            sr = cache.get("sr", pbd.SR)
            if sr is not None and pbd.device_config.get("device") == device:
                found.setdefault(sr.uuid, (sr.type, sr.name_label, sr.physical_size))
        by_uuid = {sr.uuid: sr for sr in cache.table("sr").values()}
        held = []
        for uuid, (kind, name, sz) in found.items():
            sr = by_uuid.get(uuid)
            if sr is None:
                held.append(HeldSr(uuid, kind, name, sz))
            else:
                attached = any(p.SR == sr.ref and p.currently_attached for p in pbds)
                held.append(HeldSr(uuid, sr.type, sr.name_label, sr.physical_size, True, attached))
    return tuple(held)


def _in_use(device: dict) -> bool:
    """The system disk: it, or something on it, is mounted (/, /var/log, swap)."""
    return bool(device.get("mountpoint")) or any(_in_use(c) for c in device.get("children", []))


def local_disks(conn: Connection, host: str) -> list[LocalDisk]:
    """The whole disks of ``host`` a local SR may take, as XCP-ng's lsblk.py
    plugin lists them (the system disk and read-only ones left out), each
    with the SRs it holds. Empty where the host has no such plugin
    (XenServer) or the role may not call it: the admin types the path."""
    try:
        answer = conn.call("host.call_plugin", host, "lsblk.py", "list_block_devices", {})
    except XapiFailure as exc:
        if exc.code in ("XENAPI_MISSING_PLUGIN", "RBAC_PERMISSION_DENIED"):
            return []
        raise
    disks = []
    for device in json.loads(answer).get("blockdevices", []):
        if device.get("type") != "disk" or device.get("ro") == "1" or _in_use(device):
            continue
        path = f"/dev/{device['name']}"
        disks.append(LocalDisk(path, int(device.get("size") or 0), disk_holds(conn, host, path)))
    return disks


class CreateBlockSr(Action):
    """``SR.create`` of an iSCSI, HBA, local LVM or ext SR."""

    calls = ("SR.create", "PBD.unplug", "SR.forget")

    def __init__(
        self,
        cache: Cache,
        kind: str,
        config: dict[str, str],
        name: str,
        host: str = "",
        holds: Sequence[HeldSr] = (),
    ):
        """``holds``: the SRs found on a local disk (disk_holds): one of the
        pool's is refused (the storage manager would: the disk is in use),
        another is named in the plan, which it erases."""
        if kind not in KINDS:
            raise InvalidInput([f"unknown SR type {kind!r}"])
        name = name.strip()
        problems = [] if name else ["give the SR a name"]
        self.device, self.holds = "", tuple(h for h in holds if not h.known)
        if kind in ("lvm", "ext"):
            device = self.device = config.get("device", "").strip()
            if not device.startswith("/dev/"):
                problems.append("the disk is a device path, e.g. /dev/sdb")
            if re.fullmatch(r"/dev/md\d+", device):
                problems.append("not a software RAID device: XenServer does not support them")
            if not host or cache.get("host", host) is None:
                problems.append("choose the host whose disk it is")
            problems += [
                f"{device} holds {h.said()}: destroy that SR first (X in Storage), "
                "or choose another disk"
                for h in holds
                if h.known
            ]
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
        if self.holds:  # named, not the generic warning
            impact[:0] = [
                f"{self.device} holds {h.said()}: it is erased with every disk on it"
                for h in self.holds
            ]
        else:  # every kind makes a new volume group (ext puts its file system in one)
            impact.insert(0, "whatever the device holds is erased (a new volume group is made)")
        if not self.shared:
            impact.append("local: VMs on it cannot move, and HA cannot restart them elsewhere")
        on = f", on {self.device}" if self.device else ""
        erases = f", erasing {len(self.holds)} SR(s) found there" if self.holds else ""
        confirm = self.device if self.holds else self.name if self.kind != "ext" else ""
        return Plan(
            title=f"New {KINDS[self.kind]} SR {self.name}",
            summary=f"An SR of type {self.kind} on {where}{on}{erases}.",
            xe=[
                f"xe sr-create type={self.kind} shared={str(self.shared).lower()} "
                f'content-type=user name-label="{self.name}" {dconf}'
                + ("" if self.shared else f" host-uuid=<{self.host_name}>")
            ],
            steps=["SR.create (its PBDs plugged)"],
            impact=impact,
            risk="high" if self.kind != "ext" or self.holds else "medium",
            confirm_word=confirm,
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
