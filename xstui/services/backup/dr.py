"""Disaster recovery from a portable SR, the way XenCenter's Disaster
Recovery wizard does it, over the API: on the recovery pool, the SR another
pool left on shared storage is found (the storage managers' probe of an
iSCSI target's LUNs, an NFS server's exports, or the FC LUNs), introduced
and attached on every host (``AttachExistingSr``: SR.introduce, a PBD per
host, plug, scan), the database on its metadata VDI opened
(``VDI.open_database``), and the VMs and vApps chosen recovered from it
(``VM.recover``, ``VM_appliance.recover``), then started in their order.

Each write is a task: a dropped connection is looked up on the host, not
resent blindly; a failure before the last VM is recovered takes back what
was recovered (the pool is as it was), and starting them comes after (the
outcome names what did not start). Fail back is the same procedure the
other way (README, Backup)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import Connection, ConnectionLost, XapiFailure
from .. import validate as v
from ..actions import (
    Action,
    Cancelled,
    InvalidInput,
    OutcomeUnknown,
    Plan,
    RunContext,
    TaskFailed,
    in_words,
    run_task,
)
from ..fields import Field
from ..storage.block import hba_luns, iscsi_config, iscsi_iqns, iscsi_luns
from ..storage.nfs import AttachExistingSr, probe_exports
from ..values import size, vms_named

STORAGE = {"iSCSI": "lvmoiscsi", "NFS": "nfs", "HBA / Fibre Channel": "lvmohba"}
VAPP, VM = "vApp ", "VM "  # how the choices of what to recover begin
BLOCKED = " (an SR not here)"  # the end of a choice that cannot be recovered


@dataclass(frozen=True)
class Search:
    """Where to look, checked: the storage kind and its address."""

    kind: str
    target: str = ""
    chap_user: str = ""
    chap_password: str = field(default="", repr=False)


def search_fields() -> list[Field]:
    return [
        Field("storage", "Storage", "iSCSI", choices=list(STORAGE)),
        Field(
            "target",
            "Target/server",
            "",
            placeholder="iSCSI target or NFS server",
            shown_if=lambda values: values.get("storage") != "HBA / Fibre Channel",
        ),
        Field("chapuser", "CHAP user", "", placeholder="empty: no CHAP", shown_if=_iscsi),
        Field("chappassword", "CHAP password", "", password=True, shown_if=_iscsi),
    ]


def _iscsi(values: dict) -> bool:
    return values.get("storage") == "iSCSI"


def search(values: dict) -> Search:
    """The first form's values, checked before any call."""
    kind = STORAGE.get(values.get("storage", ""))
    if kind is None:
        raise InvalidInput([f"storage: one of {', '.join(STORAGE)}"])
    target = values.get("target", "").strip()
    if kind == "lvmohba":
        return Search(kind)
    what = "iSCSI target" if kind == "lvmoiscsi" else "NFS server"
    if not target:
        raise InvalidInput([f"give the {what}'s address"])
    target = v.host_or_ip(target, what)
    user, password = values.get("chapuser", "").strip(), values.get("chappassword", "")
    if kind == "lvmoiscsi":
        iscsi_config(target, user, password)  # CHAP: both or neither
    elif user or password:
        raise InvalidInput(["CHAP is for iSCSI: leave it empty for NFS"])
    return Search(kind, target, user, password)


@dataclass(frozen=True)
class FoundSr:
    """An SR the storage managers found, with the device-config that reaches it."""

    uuid: str
    kind: str
    config: tuple[tuple[str, str], ...]
    where: str
    name: str = ""  # what the SR's own metadata calls it ("" when it says nothing)
    known: bool = False  # one of this pool's SRs already

    @property
    def device_config(self) -> dict[str, str]:
        return dict(self.config)

    @property
    def label(self) -> str:
        text = f"{self.name or 'SR ' + self.uuid[:8]} on {self.where}"
        return text + (" (attached here)" if self.known else "")

    def __repr__(self) -> str:
        return f"FoundSr({self.uuid!r}, {self.kind!r}, {self.where!r})"  # never the CHAP secret


SR_BLOCK = re.compile(r"<SR>(.*?)</SR>", re.S)


def _probed(conn: Connection, kind: str, config: dict[str, str]) -> list[tuple[str, str]]:
    """(uuid, name) of each SR the probe finds with everything given."""
    xml = conn.call("SR.probe", conn.this_host, config, kind, {"metadata": "true"})
    out = []
    for block in SR_BLOCK.findall(xml):
        uuid = re.findall(r"<UUID>\s*([^<]+?)\s*</UUID>", block)
        name = re.findall(r"<name_label>([^<]*)</name_label>", block)
        if uuid:
            out.append((uuid[0], html.unescape(name[0]).strip() if name else ""))
    return out


def find_srs(conn: Connection, where: Search) -> list[FoundSr]:
    """The SRs on that storage, those this pool does not know first (another
    pool's, or forgotten): what a recovery attaches. XapiFailure in words
    when the storage cannot be reached."""
    found: list[tuple[str, dict[str, str], str, str]] = []  # uuid, config, where, name
    if where.kind == "lvmoiscsi":
        base = iscsi_config(where.target, where.chap_user, where.chap_password)
        for iqn in iscsi_iqns(conn, base):
            for lun in iscsi_luns(conn, base, iqn):
                config = {**base, "targetIQN": iqn, "SCSIid": lun.scsi_id}
                at = f"{where.target} LUN {lun.lun} ({size(lun.size)})"
                found += [(u, config, at, n) for u, n in _probed(conn, where.kind, config)]
    elif where.kind == "lvmohba":
        for lun in hba_luns(conn):
            config = {"SCSIid": lun.scsi_id}
            at = f"FC LUN {lun.lun} ({size(lun.size)})"
            found += [(u, config, at, n) for u, n in _probed(conn, where.kind, config)]
    else:
        for path in probe_exports(conn, where.target):
            config = {"server": where.target, "serverpath": path}
            at = f"{where.target}:{path}"
            found += [(u, config, at, n) for u, n in _probed(conn, where.kind, config)]
    cache = conn.cache
    with cache.lock:
        known = {sr.uuid: sr.name_label for sr in cache.table("sr").values()}
    out = [
        FoundSr(u, where.kind, tuple(config.items()), at, known.get(u, name), u in known)
        for u, config, at, name in found
    ]
    return sorted(out, key=lambda f: (f.known, f.label))


def attach_found(cache: Cache, found: FoundSr, name: str) -> AttachExistingSr:
    return AttachExistingSr(cache, found.kind, found.device_config, found.uuid, name, found.where)


@dataclass(frozen=True)
class DrVm:
    """A VM the database holds."""

    ref: str  # in that database
    uuid: str
    name: str
    order: int
    start_delay: int
    memory: int
    appliance: str = ""  # its vApp's name ("" outside one)


@dataclass
class DrDatabase:
    """What a metadata VDI holds: the pool it is of, its VMs and vApps."""

    vdi_uuid: str
    vdi: str  # its ref in this pool
    pool_uuid: str
    pool_name: str
    sr_name: str
    vms: list[DrVm]
    appliances: dict[str, tuple[str, str, list[DrVm]]]  # ref -> (uuid, name, its VMs)
    # the refs of the VMs and vApps this pool cannot recover yet -> why
    # (VM.assert_can_be_recovered: an SR of theirs is not attached here)
    blocked: dict[str, str] = field(default_factory=dict)

    def choices(self) -> list[str]:
        """What may be recovered: each vApp (with its VMs), each VM outside one."""
        return [label for label, _ref in self.labelled()]

    def labelled(self) -> list[tuple[str, str]]:
        """(choice, ref): each vApp with its VMs, then each VM outside one;
        one that cannot be recovered says so."""
        apps = sorted(self.appliances.items(), key=lambda a: a[1][1].lower())
        out = [
            (f"{VAPP}{name}: {', '.join(vm.name for vm in vms)}", ref)
            for ref, (_uuid, name, vms) in apps
        ]
        alone = sorted((vm for vm in self.vms if not vm.appliance), key=lambda v: v.name.lower())
        out += [(f"{VM}{vm.name}", vm.ref) for vm in alone]
        return [(label + (BLOCKED if ref in self.blocked else ""), ref) for label, ref in out]

    def recoverable(self) -> list[str]:
        return [label for label, ref in self.labelled() if ref not in self.blocked]


def _metadata_vdis(conn: Connection, sr: str) -> list[tuple[str, dict]]:
    out = []
    for vdi in conn.call("SR.get_VDIs", sr):
        rec = conn.call("VDI.get_record", vdi)
        if rec.get("type") == "metadata":
            out.append((vdi, rec))
    return out


def open_metadata(conn: Connection, sr_uuid: str) -> DrDatabase:
    """The database on the SR's metadata VDI, read through a session
    VDI.open_database gives (logged out after). InvalidInput in words when
    the SR holds none, or only this pool's own."""
    sr = conn.call("SR.get_by_uuid", sr_uuid)
    sr_name = conn.call("SR.get_name_label", sr)
    cache = conn.cache
    with cache.lock:
        pool = views.pool(cache)
        ours = pool.uuid if pool else ""
    vdis = _metadata_vdis(conn, sr)
    if not vdis:
        raise InvalidInput(
            [
                f"{sr_name} holds no metadata VDI: the pool it came from did not replicate its "
                "database there (XenCenter: Disaster Recovery, Configure)"
            ]
        )
    theirs = [
        (ref, rec) for ref, rec in vdis if conn.call("VDI.read_database_pool_uuid", ref) != ours
    ]
    if not theirs:
        raise InvalidInput([f"the database on {sr_name} is this pool's own: nothing to recover"])
    vdi, rec = theirs[0]
    session = conn.call("VDI.open_database", vdi)
    blocked: dict[str, str] = {}
    try:
        pools = conn.call_as(session, "pool.get_all_records")
        records = conn.call_as(session, "VM.get_all_records")
        apps = conn.call_as(session, "VM_appliance.get_all_records")
        for ref, r in records.items():
            if _user_vm(r) and r.get("appliance", "") not in apps:
                _check(conn, session, "VM", ref, blocked)
        for ref in apps:
            _check(conn, session, "VM_appliance", ref, blocked)
    finally:
        try:
            conn.call_as(session, "session.logout")
        except (XapiFailure, ConnectionLost):
            pass  # the host ends it by itself
    pool_rec = next(iter(pools.values()), {})
    app_names = {ref: a["name_label"] for ref, a in apps.items()}
    vms = sorted(
        (
            DrVm(
                ref,
                r["uuid"],
                r["name_label"],
                int(r.get("order", 0) or 0),
                int(r.get("start_delay", 0) or 0),
                int(r.get("memory_static_max", 0) or 0),
                app_names.get(r.get("appliance", ""), ""),
            )
            for ref, r in records.items()
            if _user_vm(r)
        ),
        key=lambda vm: (vm.order, vm.name.lower()),
    )
    appliances = {
        ref: (a["uuid"], a["name_label"], [vm for vm in vms if vm.appliance == a["name_label"]])
        for ref, a in apps.items()
    }
    return DrDatabase(
        rec["uuid"],
        vdi,
        pool_rec.get("uuid", ""),
        pool_rec.get("name_label", "") or "the lost pool",
        sr_name,
        vms,
        appliances,
        blocked,
    )


def _user_vm(record: dict) -> bool:
    return not (record["is_a_template"] or record["is_control_domain"] or record["is_a_snapshot"])


def _check(conn: Connection, session: str, cls: str, ref: str, blocked: dict[str, str]) -> None:
    """``assert_can_be_recovered`` into this pool: a refusal is noted, in words."""
    try:
        conn.call_as(session, f"{cls}.assert_can_be_recovered", ref, conn.session_ref)
    except XapiFailure as exc:
        if exc.code != "VM_REQUIRES_SR":
            raise
        blocked[ref] = "an SR its disks are on is not attached here"


START_CHOICES = ("Start them in order", "Leave them halted")


def recover_fields(db: DrDatabase) -> list[Field]:
    choices = db.choices()
    return [
        Field("which", "Recover", db.recoverable(), choices=choices, several=True),
        Field("start", "Then", START_CHOICES[0], choices=START_CHOICES),
    ]


class _OnDatabase:
    """The connection, with the recovery calls made with the database's
    session (the task they start is the pool's, read as any other)."""

    def __init__(self, conn: Connection, session: str):
        self._conn, self._session = conn, session

    def __getattr__(self, name: str):
        return getattr(self._conn, name)

    def call(self, method: str, *args):
        if method.removeprefix("Async.") in ("VM.recover", "VM_appliance.recover"):
            return self._conn.call_as(self._session, method, *args)
        return self._conn.call(method, *args)


class RecoverVms(Action):
    """The VMs and vApps chosen, recovered from the database on the metadata
    VDI, then (if asked) started in their order, each after the one before's
    start delay."""

    calls = (
        "VDI.open_database",
        "VM.recover",
        "VM_appliance.recover",
        "VM.destroy",
        "VM_appliance.destroy",
        "VM.start",
    )

    def __init__(self, cache: Cache, db: DrDatabase, chosen: list[str], start: bool = True):
        chosen = [chosen] if isinstance(chosen, str) else list(chosen)
        offered = db.choices()
        problems = [f"{c!r} is not in the database" for c in chosen if c not in offered]
        problems += [
            f"{c.removesuffix(BLOCKED)}: its disks are on an SR not attached here (attach it, "
            "then recover it)"
            for c in chosen
            if c.endswith(BLOCKED)
        ]
        if not chosen:
            problems.append("choose at least one VM or vApp (space marks one)")
        if problems:
            raise InvalidInput(problems)
        self.db, self.start = db, bool(start)
        self.units: list[tuple[str, str, str, list[DrVm]]] = []  # (kind, ref, uuid, VMs)
        refs = {ref for label, ref in db.labelled() if label in chosen}
        for ref, (uuid, _name, vms) in db.appliances.items():
            if ref in refs:
                self.units.append(("vApp", ref, uuid, vms))
        for vm in db.vms:
            if vm.ref in refs:
                self.units.append(("VM", vm.ref, vm.uuid, [vm]))
        with cache.lock:
            here = {vm.uuid: vm.name_label for vm in cache.table("vm").values()}
        clashes = [vm.name for vm in self.vms if vm.uuid in here]
        if clashes:
            raise InvalidInput(
                [
                    f"already in this pool: {', '.join(clashes)} (recovered before?): leave "
                    f"{'it' if len(clashes) == 1 else 'them'} out"
                ]
            )
        self.started: list[str] = []

    @property
    def vms(self) -> list[DrVm]:
        return [vm for _kind, _ref, _uuid, vms in self.units for vm in vms]

    def in_order(self) -> list[DrVm]:
        return sorted(self.vms, key=lambda vm: (vm.order, vm.name.lower()))

    def plan(self) -> Plan:
        db, names = self.db, [vm.name for vm in self.vms]
        xe = []
        for kind, _ref, uuid, _vms in self.units:
            command = "appliance-recover" if kind == "vApp" else "vm-recover"
            xe.append(f"xe {command} uuid={uuid} database:vdi-uuid={db.vdi_uuid}")
        steps = [f"VDI.open_database (the metadata VDI on {db.sr_name})"]
        steps += [
            f"{'VM_appliance' if kind == 'vApp' else 'VM'}.recover {vms_named([v.name for v in vms])}"
            for kind, _ref, _uuid, vms in self.units
        ]
        impact = [
            "the VMs come in halted, on their disks on "
            f"{db.sr_name}, with their MAC addresses: {db.pool_name} must stay down",
        ]
        if self.start:
            order = self.in_order()
            xe += [f"xe vm-start uuid={vm.uuid}" for vm in order]
            steps.append("VM.start in order: " + ", ".join(vm.name for vm in order))
            need = sum(vm.memory for vm in order)
            impact.append(f"starting them takes {size(need)} of the hosts' memory")
        return Plan(
            title=f"Recover {len(names)} VM(s) from {db.pool_name}",
            summary=f"{vms_named(names)}, from the database of {db.pool_name} on {db.sr_name}"
            + (", then started in order." if self.start else ", left halted."),
            xe=xe,
            steps=steps,
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        conn = ctx.conn
        session = ctx.task("VDI.open_database", self.db.vdi, span=(0.0, 0.1))
        on_db, made = _OnDatabase(conn, session), []  # the recovered VMs, here
        try:
            for i, (kind, ref, uuid, vms) in enumerate(self.units):
                ctx.check_cancel()
                ctx.note(f"recovering {vms_named([vm.name for vm in vms])}")
                method = "VM_appliance.recover" if kind == "vApp" else "VM.recover"
                existed = kind == "vApp" and _by_uuid(conn, "VM_appliance", uuid)
                run_task(on_db, method, ref, conn.session_ref, False, cancel=ctx.cancel)
                if kind == "vApp" and not existed:
                    app = conn.call("VM_appliance.get_by_uuid", uuid)
                    ctx.undo_task(
                        f"remove the vApp {vms[0].appliance}", "VM_appliance.destroy", app
                    )
                for vm in vms:
                    made.append(conn.call("VM.get_by_uuid", vm.uuid))
                    ctx.undo_task(f"remove the recovered {vm.name}", "VM.destroy", made[-1])
                ctx.progress(0.1 + 0.5 * (i + 1) / len(self.units))
        finally:
            try:
                conn.call_as(session, "session.logout")
            except (XapiFailure, ConnectionLost):
                pass  # the host ends it by itself
        ctx.commit()  # recovered, whole: starting them cannot take that back
        said = f"{vms_named([vm.name for vm in self.vms])} recovered from {self.db.pool_name}"
        if not self.start:
            return said + ", halted."
        return said + self._start_in_order(ctx)

    def _start_in_order(self, ctx: RunContext) -> str:
        order, failed, left = self.in_order(), [], []
        for i, vm in enumerate(order):
            if ctx.cancel.is_set():
                left = order[i:]
                break
            if i and order[i - 1].start_delay:
                ctx.note(f"waiting {order[i - 1].start_delay} s after {order[i - 1].name}")
                if ctx.cancel.wait(order[i - 1].start_delay):
                    left = order[i:]
                    break
            ctx.note(f"starting {vm.name}")
            try:
                ref = ctx.conn.call("VM.get_by_uuid", vm.uuid)
                ctx.task(
                    "VM.start", ref, False, False, span=(0.6, 0.6 + 0.4 * (i + 1) / len(order))
                )
                self.started.append(vm.name)
            except (XapiFailure, TaskFailed, OutcomeUnknown, ConnectionLost, Cancelled) as exc:
                failed.append(f"{vm.name} ({in_words(exc)})")
        said = "; started in order: " + (", ".join(self.started) or "none")
        if failed:
            said += "; did not start: " + "; ".join(failed)
        if left:
            said += "; not started (stopped): " + ", ".join(vm.name for vm in left)
        return said + "."


def _by_uuid(conn: Connection, cls: str, uuid: str) -> bool:
    """Whether the pool has an object of that class and uuid."""
    try:
        conn.call(f"{cls}.get_by_uuid", uuid)
    except XapiFailure as exc:
        if exc.code in ("UUID_INVALID", "HANDLE_INVALID"):
            return False
        raise
    return True
