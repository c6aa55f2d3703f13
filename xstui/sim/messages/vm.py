"""VM.*: power operations with XAPI's state checks (VM_BAD_POWER_STATE
etc.), placement, memory, HA protection; snapshots (snapshot, checkpoint,
revert, linked into XAPI's tree of parents), clones, copies, provisioning."""

import re
import xml.etree.ElementTree as ET

from .. import consoles, guest, rrd
from ..api import Ctx, message
from ..errors import XapiError
from ..operations import Mark, first_running
from ..schema import NULL_REF
from ..store import now_xdate
from . import _ha
from . import _placement as place
from . import vbd as vbds
from . import vdi as vdis
from . import vif as vifs

BOOT_SECONDS = 0.5  # scaled by Simulator.time_scale

CLASS = "VM"


def _vm(ctx: Ctx, vm: str, *expected: str) -> dict:
    rec = ctx.store.get("VM", vm)
    if rec["is_a_template"]:
        raise XapiError("VM_IS_TEMPLATE", vm)
    if rec["is_control_domain"]:
        raise XapiError(
            "OPERATION_NOT_ALLOWED", "This operation is not allowed on a control domain."
        )
    if expected and rec["power_state"] not in expected:
        raise XapiError("VM_BAD_POWER_STATE", vm, expected[0].lower(), rec["power_state"].lower())
    return rec


def set_power(ctx: Ctx, vm: str, state: str, host: str = NULL_REF) -> None:
    st = ctx.store
    rec = st.get("VM", vm)
    before = rec["power_state"]  # rec is the stored record: it changes below
    live = state in ("Running", "Paused")
    st.set(
        "VM",
        vm,
        power_state=state,
        resident_on=host if live else NULL_REF,
        domid=rec["domid"]
        if live and rec["domid"] > 0
        else (len(st.table("VM")) + 10 if live else -1),
    )
    if st.exists("VM_metrics", rec["metrics"]):
        metrics = {
            "memory_actual": rec["memory_dynamic_max"] if live else 0,
            "VCPUs_number": rec["VCPUs_at_startup"] if live else 0,
        }
        if state == "Running" and before == "Halted":
            metrics["start_time"] = now_xdate()
        st.set("VM_metrics", rec["metrics"], **metrics)
    if state == "Running" and not st.exists("VM_guest_metrics", rec["guest_metrics"]):
        st.set("VM", vm, guest_metrics=guest.report(st))  # its tools report in once it boots
    _devices(ctx, vm, before, state)
    consoles.sync(st, vm)


def _devices(ctx: Ctx, vm: str, before: str, state: str) -> None:
    """A domain's coming and going for its VBDs and VIFs: attached as it
    starts or resumes (``Xapi_xenops.start``; a PV guest's empty drives are
    not), detached once halted (``force_state_reset``); a suspended VM's
    stay as they were."""
    st = ctx.store
    rec = st.get("VM", vm)
    vbd_recs = {ref: st.get("VBD", ref) for ref in rec["VBDs"] if st.exists("VBD", ref)}
    vif_recs = {ref: st.get("VIF", ref) for ref in rec["VIFs"] if st.exists("VIF", ref)}
    if state == "Halted":
        for cls, recs in (("VBD", vbd_recs), ("VIF", vif_recs)):
            for ref, r in recs.items():
                if r["currently_attached"]:
                    st.set(cls, ref, currently_attached=False)
    elif state in ("Running", "Paused") and before in ("Halted", "Suspended"):
        for ref, r in vbd_recs.items():
            if vbds.hvm(rec) or not r["empty"]:
                vbds.attach(st, ref, rec)
        for ref in vif_recs:
            vifs.attach(st, ref)


def _pick_host(ctx: Ctx, vm: str) -> str:
    """Where XAPI starts a VM: its affinity host if it can, else the first that can."""
    st = ctx.store
    rec = st.get("VM", vm)
    candidates = [rec["affinity"]] if st.exists("host", rec["affinity"]) else []
    candidates += [h for h in st.table("host") if h not in candidates]
    first_error = None
    for host in candidates:
        try:
            place.boot_check(ctx, vm, host)
            return host
        except XapiError as err:
            first_error = first_error or err
    raise first_error or XapiError("NO_HOSTS_AVAILABLE")


def _boot(ctx: Ctx, vm: str, rec: dict, host: str, start_paused, host_op: str) -> str:
    """The VM comes up on ``host``, which runs ``host_op`` (vm_start or
    vm_resume) meanwhile (message_forwarding.ml allocate_vm_to_host)."""
    with ctx.running(Mark("host", host, host_op)):
        ctx.work(BOOT_SECONDS, progress=0.5)
        place.claim(ctx, host, rec["memory_static_max"])
        set_power(ctx, vm, "Paused" if start_paused else "Running", host)
    return ""


@message()
def start(ctx: Ctx, vm, start_paused, force):
    rec = _vm(ctx, vm, "Halted")
    return _boot(ctx, vm, rec, _pick_host(ctx, vm), start_paused, "vm_start")


@message()
def start_on(ctx: Ctx, vm, host, start_paused, force):
    # XAPI refuses a host being evacuated before it looks at the VM
    evacuating = first_running(ctx.store.get("host", host), ("evacuate",))
    if evacuating is not None:
        raise XapiError("HOST_EVACUATE_IN_PROGRESS", host)
    rec = _vm(ctx, vm, "Halted")
    place.boot_check(ctx, vm, host)
    return _boot(ctx, vm, rec, host, start_paused, "vm_start")


def _stop(ctx: Ctx, vm: str, states: tuple[str, ...], to: str = "Halted") -> None:
    """Shut down or suspend: the host gets the VM's memory back."""
    rec = _vm(ctx, vm, *states)
    host = rec["resident_on"]
    ctx.work(BOOT_SECONDS, progress=0.5)
    if ctx.store.exists("host", host):
        place.claim(ctx, host, -rec["memory_static_max"])
    set_power(ctx, vm, to)


@message()
def clean_shutdown(ctx: Ctx, vm):
    _stop(ctx, vm, ("Running",))
    return ""


@message()
def hard_shutdown(ctx: Ctx, vm):
    """Off at once; a suspended VM (or checkpoint) loses its memory image
    (``Xapi_vm.hard_shutdown``: the suspend VDI destroyed, then forgotten)."""
    rec = ctx.store.get("VM", vm)
    if rec["power_state"] == "Suspended":
        if not rec["is_a_snapshot"]:
            _vm(ctx, vm, "Suspended")
        image = rec["suspend_VDI"]
        if ctx.store.exists("VDI", image):
            vdis.forget(ctx, image)
        ctx.store.set("VM", vm, suspend_VDI=NULL_REF)
        set_power(ctx, vm, "Halted")
        return ""
    _stop(ctx, vm, ("Running", "Paused", "Suspended"))
    return ""


@message()
def clean_reboot(ctx: Ctx, vm):
    _vm(ctx, vm, "Running")
    ctx.work(BOOT_SECONDS, progress=0.5)
    ctx.store.touch("VM", vm)
    return ""


@message()
def hard_reboot(ctx: Ctx, vm):
    _vm(ctx, vm, "Running", "Paused")
    ctx.work(BOOT_SECONDS, progress=0.5)
    ctx.store.touch("VM", vm)
    return ""


@message()
def suspend(ctx: Ctx, vm):
    _stop(ctx, vm, ("Running",), to="Suspended")
    return ""


@message()
def resume(ctx: Ctx, vm, start_paused, force):
    rec = _vm(ctx, vm, "Suspended")
    return _boot(ctx, vm, rec, _pick_host(ctx, vm), start_paused, "vm_resume")


@message()
def resume_on(ctx: Ctx, vm, host, start_paused, force):
    rec = _vm(ctx, vm, "Suspended")
    place.boot_check(ctx, vm, host)
    return _boot(ctx, vm, rec, host, start_paused, "vm_resume")


@message(asyncable=False)
def assert_can_boot_here(ctx: Ctx, self, host):
    _vm(ctx, self)
    place.boot_check(ctx, self, host)
    return ""


@message()
def pool_migrate(ctx: Ctx, vm, host, options):
    """Live migration within the pool: the VM's disks stay where they are,
    so the target must see its SRs and have the memory."""
    rec = _vm(ctx, vm, "Running", "Paused")
    place.boot_check(ctx, vm, host)
    source = rec["resident_on"]
    if source != host and not place.live(ctx, source):
        raise XapiError("HOST_OFFLINE", source)
    with ctx.running(Mark("host", host, "vm_migrate")):
        ctx.work(BOOT_SECONDS, progress=0.5)
        place.move(ctx, vm, host)
    return ""


def _memory_order(smin: int, dmin: int, dmax: int, smax: int) -> None:
    if not 0 < smin <= dmin <= dmax <= smax:
        raise XapiError("MEMORY_CONSTRAINT_VIOLATION_ORDER")


@message()
def set_memory_limits(ctx: Ctx, self, static_min, static_max, dynamic_min, dynamic_max):
    """All four limits; the static ones only while the VM is halted."""
    _vm(ctx, self, "Halted")
    values = [int(v) for v in (static_min, dynamic_min, dynamic_max, static_max)]
    _memory_order(*values)
    ctx.store.set(
        "VM",
        self,
        memory_static_min=values[0],
        memory_dynamic_min=values[1],
        memory_dynamic_max=values[2],
        memory_static_max=values[3],
    )
    return ""


@message()
def set_memory_dynamic_range(ctx: Ctx, self, min, max):  # noqa: A002 (the API's names)
    """The balloon range, live: within the static range."""
    rec = _vm(ctx, self)
    low, high = int(min), int(max)
    _memory_order(rec["memory_static_min"], low, high, rec["memory_static_max"])
    target = {"memory_target": high} if rec["power_state"] == "Running" else {}
    ctx.store.set("VM", self, memory_dynamic_min=low, memory_dynamic_max=high, **target)
    return ""


@message()
def pause(ctx: Ctx, vm):
    rec = _vm(ctx, vm, "Running")
    set_power(ctx, vm, "Paused", rec["resident_on"])
    return ""


@message()
def unpause(ctx: Ctx, vm):
    rec = _vm(ctx, vm, "Paused")
    set_power(ctx, vm, "Running", rec["resident_on"])
    return ""


def _allowed_devices(ctx: Ctx, vm, cls: str, field: str, limit: int) -> list[str]:
    position = "userdevice" if cls == "VBD" else "device"  # VIF's field is "device"
    used = {
        ctx.store.get(cls, ref)[position]
        for ref in ctx.store.get("VM", vm)[field]
        if ctx.store.exists(cls, ref)
    }
    return [str(n) for n in range(limit) if str(n) not in used]


@message(asyncable=False)
def get_allowed_VBD_devices(ctx: Ctx, vm):  # noqa: N802 (the API's name)
    """Device positions still free (XAPI offers 0-15 for HVM guests)."""
    return _allowed_devices(ctx, vm, "VBD", "VBDs", 16)


@message(asyncable=False)
def get_allowed_VIF_devices(ctx: Ctx, vm):  # noqa: N802
    return _allowed_devices(ctx, vm, "VIF", "VIFs", 7)


# HA protection --------------------------------------------------------------------
PRIORITIES = ("restart", "best-effort", "")


@message()
def set_ha_restart_priority(ctx: Ctx, self, value):
    """With HA on, a change that would leave the pool unable to restart its
    protected VMs after the failures it must tolerate is refused."""
    if value not in PRIORITIES:
        raise XapiError("INVALID_VALUE", "ha_restart_priority", value)
    st = ctx.store
    st.get("VM", self)
    pool = st.get("pool", ctx.sim.pool)
    if pool["ha_enabled"] and value == "restart":
        if _ha.max_failures(ctx, {self: value}) < pool["ha_host_failures_to_tolerate"]:
            raise XapiError("HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN")
    st.set("VM", self, ha_restart_priority=value, ha_always_run=value == "restart")
    _ha.refresh_plan(ctx)
    return ""


def _non_negative(ctx: Ctx, vm: str, field: str, value) -> None:
    n = int(value)
    if n < 0:
        raise XapiError("INVALID_VALUE", field, value)
    ctx.store.get("VM", vm)
    ctx.store.set("VM", vm, **{field: n})


@message()
def set_order(ctx: Ctx, self, value):
    _non_negative(ctx, self, "order", value)
    return ""


@message()
def set_start_delay(ctx: Ctx, self, value):
    _non_negative(ctx, self, "start_delay", value)
    return ""


@message()
def set_snapshot_schedule(ctx: Ctx, self, value):
    """Into a snapshot schedule, or out of it (NULL) (``Xapi_vm``): no VM
    here can be in a quiesced one (no VSS agent)."""
    st = ctx.store
    rec = st.get("VM", self)
    if value != NULL_REF:
        if rec["is_a_snapshot"] or rec["is_a_template"] or rec["is_control_domain"]:
            raise XapiError("OPERATION_NOT_ALLOWED", "only a VM can be in a snapshot schedule")
        if st.get("VMSS", value)["type"] == "snapshot_with_quiesce":
            raise XapiError("VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED", self, "")
    st.set("VM", self, snapshot_schedule=value)
    return ""


# snapshots -----------------------------------------------------------------------
@message()
def snapshot(ctx: Ctx, vm, new_name, ignore_vdis=()):
    """A snapshot of a VM, running or not: a VM record (is_a_snapshot) with
    a snapshot VDI of each disk (but ``ignore_vdis``) on the same SR; the VM
    keeps running."""
    rec = ctx.store.get("VM", vm)
    if rec["is_a_template"] or rec["is_a_snapshot"] or rec["is_control_domain"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "only a VM can be snapshotted")
    return _copy(ctx, vm, new_name, ignore_vdis, op="snapshot")


@message()
def checkpoint(ctx: Ctx, vm, new_name):
    """A snapshot with the memory (``Xapi_vm_snapshot.checkpoint``): a running
    VM is suspended for a moment, its disks and memory image snapshotted, and
    it runs on; the checkpoint is a suspended snapshot. (The state checks,
    running, paused or suspended, are the dispatcher's.)"""
    rec = _vm(ctx, vm)
    if rec["power_state"] == "Running":
        ctx.work(BOOT_SECONDS, progress=0.2)  # the live suspend, then the resume
    return _copy(ctx, vm, new_name, (), op="checkpoint")


@message()
def clone(ctx: Ctx, vm, new_name):
    """A halted VM, template or snapshot copied, its disks cloned on their
    SRs (a checkpoint, suspended, too: its clone is suspended)."""
    rec = ctx.store.get("VM", vm)
    if rec["is_control_domain"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "the control domain cannot be cloned")
    if rec["power_state"] not in (("Halted", "Suspended") if rec["is_a_snapshot"] else ("Halted",)):
        raise XapiError("VM_BAD_POWER_STATE", vm, "halted", rec["power_state"].lower())
    return _copy(ctx, vm, new_name, (), op="clone")


def _suspend_sr(ctx: Ctx, vm: str) -> str:
    """Where a memory image goes (``Xapi_xenops.suspend``): the VM's suspend
    SR, the pool's, the pool's default SR, else the SR of its first disk."""
    st = ctx.store
    rec = st.get("VM", vm)
    pool = st.get("pool", ctx.sim.pool)
    for sr in (rec["suspend_SR"], pool["suspend_image_SR"], pool["default_SR"]):
        if st.exists("SR", sr):
            return sr
    for vbd in rec["VBDs"]:
        if st.exists("VBD", vbd) and st.exists("VDI", st.get("VBD", vbd)["VDI"]):
            return st.get("VDI", st.get("VBD", vbd)["VDI"])["SR"]
    raise XapiError("VM_NO_SUSPEND_SR", vm)


def _memory_image(ctx: Ctx, vm: str, op: str) -> str:
    """The suspend VDI of a checkpoint, clone or copy (NULL for none): a
    running VM's memory written to a new image; a suspended VM's image
    snapshotted or cloned with it (``Xapi_vm_clone.clone``)."""
    st = ctx.store
    rec = st.get("VM", vm)
    if op == "checkpoint" and rec["power_state"] == "Running":
        size = rec["memory_static_max"]
        image = vdis.new_vdi(
            ctx,
            _suspend_sr(ctx, vm),
            {"name_label": "Suspend image", "type": "suspend", "virtual_size": size},
        )
        st.set("VDI", image, physical_utilisation=size)
        return image
    if op == "snapshot" or not st.exists("VDI", rec["suspend_VDI"]):
        return NULL_REF
    return vdis.snapshot_or_clone(ctx, rec["suspend_VDI"], snapshot=op == "checkpoint")


def _copy(ctx: Ctx, vm: str, new_name, ignore_vdis, *, op: str, sr: str = NULL_REF) -> str:
    """``Xapi_vm_clone.clone``: the disks first (snapshot, clone, or copy to
    ``sr`` or, NULL, each to its own SR), every one made taken back if one
    fails; then the VM record, its VBDs on the new disks (CDs keep theirs)
    and its VIFs. A clone or copy of a suspended VM stays suspended."""
    st = ctx.store
    rec = st.get("VM", vm)
    if not str(new_name).strip():
        raise XapiError("INVALID_VALUE", "new_name", str(new_name))
    ctx.work(0.5, progress=0.3)
    snapshot = op in ("snapshot", "checkpoint")
    disks: list[tuple[str, str, bool]] = []  # (VBD, its new VDI, made here)
    try:
        for vbd in rec["VBDs"]:
            b = st.get("VBD", vbd)
            if snapshot and b["VDI"] in ignore_vdis:
                continue
            if b["empty"] or not st.exists("VDI", b["VDI"]):
                disks.append((vbd, NULL_REF, False))
            elif b["type"] == "CD":
                disks.append((vbd, b["VDI"], False))
            elif op == "copy":
                target = sr if sr != NULL_REF else st.get("VDI", b["VDI"])["SR"]
                disks.append((vbd, vdis.copy(ctx, b["VDI"], target), True))
            else:
                disks.append((vbd, vdis.snapshot_or_clone(ctx, b["VDI"], snapshot=snapshot), True))
        image = _memory_image(ctx, vm, op)
    except XapiError:
        for _vbd, disk, made in disks:
            if made and st.exists("VDI", disk):
                vdis.forget(ctx, disk)
        raise
    # XAPI: a checkpoint of a running or suspended VM, a clone or copy of a
    # suspended one, is suspended; anything else is halted
    suspended = rec["power_state"] == "Suspended" or (
        op == "checkpoint" and rec["power_state"] == "Running"
    )
    state = "Suspended" if suspended and op != "snapshot" else "Halted"
    other_config = {
        k: v
        for k, v in rec["other_config"].items()
        if k not in ("default_template", "xensource_internal")
    }
    if not snapshot:  # a new VM, new MACs
        other_config["mac_seed"] = st.new_uuid()
    if rec["is_a_template"]:
        other_config.setdefault("base_template_name", rec["name_label"])
    stamp = now_xdate()
    # a snapshot's parent is the VM's (the last snapshot it came from); the
    # VM's becomes the snapshot, so that the snapshots make a tree (XAPI's
    # children are the other end of parent). A clone or copy starts a tree.
    links = (
        {
            "snapshot_of": vm,
            "snapshot_time": stamp,
            "parent": rec["parent"] if st.exists("VM", rec["parent"]) else NULL_REF,
            "snapshot_metadata": snapshot_metadata(rec),
        }
        if snapshot
        else {}
    )
    new = st.create(
        "VM",
        {
            **{k: v for k, v in rec.items() if k not in _PER_INSTANCE},
            "name_label": str(new_name),
            "other_config": other_config,
            # as XAPI: a snapshot is a template until told otherwise
            "is_a_template": True if snapshot else rec["is_a_template"],
            "is_default_template": False,
            "is_a_snapshot": snapshot,
            # a snapshot is in no schedule (Xapi_vm_clone); the schedule's
            # runner marks its own (is_vmss_snapshot)
            "snapshot_schedule": NULL_REF if snapshot else rec["snapshot_schedule"],
            "is_vmss_snapshot": False,
            **links,
            "power_state": state,
            "suspend_VDI": image,
            "resident_on": NULL_REF,
            "domid": -1,
            "ha_always_run": False,
            "order": 0,
            "start_delay": 0,
        },
    )
    if snapshot:
        st.set("VM", vm, parent=new)
    for vbd, disk, made in disks:
        b = st.get("VBD", vbd)
        owner = {"owner": ""} if made and b["type"] == "Disk" else {}  # CA-58405
        st.create(
            "VBD",
            {
                **{k: v for k, v in b.items() if k not in _PER_INSTANCE},
                "VM": new,
                "VDI": disk,
                "empty": b["empty"] or disk == NULL_REF,
                "other_config": {**owner, **b["other_config"]},
                "currently_attached": b["currently_attached"] and state == "Suspended",
            },
        )
    for vif in rec["VIFs"]:
        v = st.get("VIF", vif)
        mac = v["MAC"]
        if not snapshot:
            mac = vifs.gen_mac(int(v["device"]), other_config["mac_seed"])
        st.create(
            "VIF",
            {
                **{k: val for k, val in v.items() if k not in _PER_INSTANCE},
                "VM": new,
                "MAC": mac,
                "MAC_autogenerated": v["MAC_autogenerated"] or not snapshot,
                "currently_attached": v["currently_attached"] and state == "Suspended",
            },
        )
    return new


def snapshot_metadata(rec: dict) -> str:
    """What XAPI keeps of the VM in its snapshot (``snapshot_metadata``): the
    VM's record as a list of (field, value) pairs, its scalar fields here;
    what a revert reads when the VM itself is gone."""
    pairs = [
        (k, str(v).lower() if isinstance(v, bool) else str(v))
        for k, v in rec.items()
        if isinstance(v, (str, int, float)) and k not in _PER_INSTANCE - {"uuid"}
    ]
    quoted = ((k, v.replace("\\", "\\\\").replace("'", "\\'")) for k, v in pairs)
    return "(" + "".join(f"('{k}' '{v}')" for k, v in quoted) + ")"


def metadata_value(text: str, key: str) -> str:
    """A field of a snapshot's ``snapshot_metadata`` ('' when absent)."""
    match = re.search(r"\('" + re.escape(key) + r"' '((?:[^'\\]|\\.)*)'\)", text)
    return re.sub(r"\\(.)", r"\1", match.group(1)) if match else ""


# fields a copy does not take over: identity, back-references, runtime links
_PER_INSTANCE = {
    "uuid",
    "VBDs",
    "VIFs",
    "consoles",
    "snapshots",
    "metrics",
    "guest_metrics",
    "current_operations",
    "allowed_operations",
    "children",
    "parent",
    "suspend_VDI",
    "snapshot_metadata",
    "snapshot_of",  # a snapshot's are its own (below); a clone of one is no snapshot
    "snapshot_time",
}


@message()
def copy(ctx: Ctx, vm, new_name, sr):
    """A full copy: its disks copied to ``sr``, or each to its own SR when
    ``sr`` is NULL or no SR (``Xapi_vm.copy``); never to an ISO library."""
    st = ctx.store
    st.get("VM", vm)
    target = sr if st.exists("SR", sr) else NULL_REF
    if target != NULL_REF and st.get("SR", target)["content_type"] == "iso":
        raise XapiError("OPERATION_NOT_ALLOWED", "Cannot copy a VM's disks to an ISO SR")
    return _copy(ctx, vm, new_name, (), op="copy", sr=target)


def _provision_spec(text: str) -> list[dict]:
    """``Xapi_templates.disks_of_xml``: ``<provision>`` of ``<disk device=
    size= sr= bootable= [type=]/>``; an unknown type is "system"."""
    try:
        root = ET.fromstring(text)
        if root.tag != "provision" or root.attrib:
            raise ValueError(root.tag)
        disks = []
        for d in root:
            if d.tag != "disk" or len(d):
                raise ValueError(d.tag)
            kind = d.get("type", "system")
            disks.append(
                {
                    "device": d.attrib["device"],
                    "size": int(d.attrib["size"]),
                    "sr": d.attrib["sr"],
                    "bootable": d.attrib["bootable"] == "true",
                    "type": kind if kind in _PROVISION_TYPES else "system",
                }
            )
        return disks
    except (ET.ParseError, KeyError, ValueError):
        raise XapiError("INTERNAL_ERROR", "Xapi_templates.Parse_failure") from None


_PROVISION_TYPES = ("system", "user", "ephemeral", "suspend", "crashdump")


@message()
def provision(ctx: Ctx, vm):
    """A VM cloned from a template becomes a VM with the disks its
    ``other_config:disks`` asks for (``Xapi_vm.provision``, xapi_templates.ml):
    a VDI on the SR named by uuid and a VBD at the device, for each. The spec
    and every SR are checked before anything is made, and what was made goes
    again if a disk fails (XAPI would leave it). The post-install script is
    not run; its key goes, as XAPI removes it."""
    st = ctx.store
    rec = st.get("VM", vm)
    spec = _provision_spec(rec["other_config"]["disks"]) if "disks" in rec["other_config"] else []
    for disk in spec:
        if disk["sr"] not in st.by_uuid["SR"]:
            raise XapiError("UUID_INVALID", "sr", disk["sr"])
    made: list[tuple[str, str]] = []
    try:
        for disk in spec:
            sr = st.ref_by_uuid("SR", disk["sr"])
            vdis.assert_sm_allows(ctx, sr, "VDI_CREATE")
            vdi = vdis.new_vdi(
                ctx,
                sr,
                {
                    "name_description": "Created by template provisioner",
                    "virtual_size": disk["size"],
                    "type": disk["type"],
                    "sm_config": {"vmhint": rec["uuid"]},
                },
            )
            made.append((vdi, NULL_REF))
            vbd = vbds.create(
                ctx,
                {
                    "VM": vm,
                    "VDI": vdi,
                    "userdevice": disk["device"],
                    "bootable": disk["bootable"],
                    "mode": "RW",
                    "type": "Disk",
                    "unpluggable": disk["type"] != "system",
                    "empty": False,
                    "other_config": {"owner": ""},
                },
            )
            made[-1] = (vdi, vbd)
            st.set("VDI", vdi, name_label=st.get("VBD", vbd)["userdevice"])
            ctx.work(0.2, progress=0.1 + 0.8 * len(made) / len(spec))
    except XapiError:
        for vdi, vbd in made:
            if st.exists("VBD", vbd):
                st.destroy("VBD", vbd)
            if st.exists("VDI", vdi):
                vdis.forget(ctx, vdi)
        raise
    left = {k: v for k, v in rec["other_config"].items() if k not in ("disks", "postinstall")}
    st.set("VM", vm, is_a_template=False, other_config=left)
    if st.exists("VM_metrics", rec["metrics"]):  # set_is_a_template false: install time
        st.set("VM_metrics", rec["metrics"], install_time=now_xdate())
    return ""


@message()
def destroy(ctx: Ctx, self):
    """A halted VM, snapshot or template goes, with its VBDs and VIFs (its
    VDIs stay: VDI.destroy removes those)."""
    st = ctx.store
    rec = st.get("VM", self)
    if rec["is_control_domain"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "the control domain cannot be destroyed")
    if rec["power_state"] != "Halted":
        raise XapiError("VM_BAD_POWER_STATE", self, "halted", rec["power_state"].lower())
    for child in list(rec["children"]):  # rebased onto its parent (Xapi_vm.destroy)
        if st.exists("VM", child):
            st.set("VM", child, parent=rec["parent"])
    for vbd in list(rec["VBDs"]):
        st.destroy("VBD", vbd)
    for vif in list(rec["VIFs"]):
        st.destroy("VIF", vif)
    st.destroy("VM", self)
    return ""


# revert ----------------------------------------------------------------------------
# what a revert does not take from the snapshot (Xapi_vm_snapshot's
# extended_do_not_copy: identity, links, devices, runtime state)
_NOT_REVERTED = _PER_INSTANCE | {
    "name_label",
    "is_a_snapshot",
    "is_a_template",
    "is_default_template",
    "snapshot_info",
    "transportable_snapshot_id",
    "power_state",
    "resident_on",
    "domid",
    "scheduled_to_be_resident_on",
    "protection_policy",
    "snapshot_schedule",
    "tags",
    "affinity",
    "groups",
    "attached_PCIs",
    "VGPUs",
    "VUSBs",
    "VTPMs",
    "blocked_operations",
    "ha_always_run",
}


@message()
def revert(ctx: Ctx, snapshot):
    """The VM back to its snapshot (``Xapi_vm_snapshot.revert``): a VM not
    halted is forced off; its fields become the snapshot's; its disks that
    the snapshot has are destroyed and the snapshot's cloned in their place
    (other disks are detached, kept); its VIFs become the snapshot's, MACs
    kept; it comes back halted, or suspended from a checkpoint; the snapshot
    becomes its parent. A VM that is gone is made again from the snapshot.
    Not cancellable; a failure leaves the VM halted (VM_REVERT_FAILED)."""
    st = ctx.store
    snap = st.get("VM", snapshot)
    vm = snap["snapshot_of"] if st.exists("VM", snap["snapshot_of"]) else None
    if vm is None:
        vm = _vm_from_snapshot(ctx, snapshot)
    ctx.work(BOOT_SECONDS, progress=0.1)
    with ctx.running(Mark("VM", vm, "reverting")):
        if st.get("VM", vm)["power_state"] != "Halted":
            hard_shutdown(ctx, vm)
        try:
            _revert(ctx, snapshot, vm)
        except XapiError as err:
            set_power(ctx, vm, "Halted")
            if err.code in ("SR_BACKEND_FAILURE_44", "SR_BACKEND_FAILURE_109"):
                raise  # no room for the new disks; the chain too long
            raise XapiError("VM_REVERT_FAILED", snapshot, vm) from None
    return ""


def _revert(ctx: Ctx, snapshot: str, vm: str) -> None:
    st = ctx.store
    snap, rec = st.get("VM", snapshot), st.get("VM", vm)
    fields = {k: v for k, v in snap.items() if k not in _NOT_REVERTED}
    st.set("VM", vm, **fields)
    snap_disks = {}  # the snapshot's VBD -> its VDI
    for vbd in snap["VBDs"]:
        b = st.get("VBD", vbd)
        if b["type"] == "Disk" and st.exists("VDI", b["VDI"]):
            snap_disks[vbd] = b["VDI"]
    covered = {st.get("VDI", d)["snapshot_of"] for d in snap_disks.values()}
    # the VM's disks the snapshot has copies of go (room for the clones); the
    # others are only detached; its CD drives and VIFs are the snapshot's again
    for vbd in list(rec["VBDs"]):
        b = st.get("VBD", vbd)
        st.destroy("VBD", vbd)
        if b["type"] == "Disk" and b["VDI"] in covered and st.exists("VDI", b["VDI"]):
            vdis.forget(ctx, b["VDI"])
    if st.exists("VDI", rec["suspend_VDI"]):
        vdis.forget(ctx, rec["suspend_VDI"])
    for vif in list(rec["VIFs"]):
        st.destroy("VIF", vif)
    made = []
    try:
        for vbd, disk in snap_disks.items():
            clone = vdis.snapshot_or_clone(ctx, disk, snapshot=False)
            made.append(clone)
            old = st.get("VDI", disk)["snapshot_of"]
            for other in list(st.table("VDI")):  # the disk's other snapshots follow it
                if st.get("VDI", other)["snapshot_of"] == old and old != NULL_REF:
                    st.set("VDI", other, snapshot_of=clone)
            _copy_vbd(st, vbd, vm, clone)
        image = NULL_REF
        if st.exists("VDI", snap["suspend_VDI"]):
            image = vdis.snapshot_or_clone(ctx, snap["suspend_VDI"], snapshot=False)
            made.append(image)
    except XapiError:
        for disk in made:
            if st.exists("VDI", disk):
                vdis.forget(ctx, disk)
        raise
    for vbd in snap["VBDs"]:
        if vbd not in snap_disks and st.exists("VBD", vbd):  # CD drives: their ISO again
            _copy_vbd(st, vbd, vm, st.get("VBD", vbd)["VDI"])
    for vif in snap["VIFs"]:
        v = st.get("VIF", vif)
        st.create(
            "VIF",
            {
                **{k: val for k, val in v.items() if k not in _PER_INSTANCE},
                "VM": vm,
                "currently_attached": False,
            },
        )
    st.set("VM", vm, suspend_VDI=image, parent=snapshot)
    set_power(ctx, vm, snap["power_state"])


def _copy_vbd(st, vbd: str, vm: str, vdi: str) -> str:
    b = st.get("VBD", vbd)
    return st.create(
        "VBD",
        {
            **{k: v for k, v in b.items() if k not in _PER_INSTANCE},
            "VM": vm,
            "VDI": vdi,
            "empty": b["empty"] or vdi == NULL_REF,
            "currently_attached": False,
        },
    )


def _vm_from_snapshot(ctx: Ctx, snapshot: str) -> str:
    """``create_vm_from_snapshot``: the VM a snapshot was taken of, gone,
    made again (halted, its uuid from the snapshot's metadata); the VM's
    other snapshots are its snapshots again."""
    st = ctx.store
    snap = st.get("VM", snapshot)
    old, uuid = snap["snapshot_of"], metadata_value(snap["snapshot_metadata"], "uuid")
    if not uuid or uuid in st.by_uuid["VM"]:
        raise XapiError("VM_REVERT_FAILED", snapshot, old)
    fields = {k: v for k, v in snap.items() if k not in _NOT_REVERTED}
    vm = st.create(
        "VM",
        {
            **fields,
            "uuid": uuid,
            "name_label": metadata_value(snap["snapshot_metadata"], "name_label")
            or snap["name_label"],
            "power_state": "Halted",
        },
    )
    for other in list(st.table("VM")):
        if st.get("VM", other)["snapshot_of"] == old and old != NULL_REF:
            st.set("VM", other, snapshot_of=vm)
    return vm


# performance data (the VM's RRD, on the host it runs on: xstui.sim.rrd) -----------
@message(asyncable=False)
def query_data_source(ctx: Ctx, self, data_source):
    state = ctx.store.get("VM", self)["power_state"]
    if state not in ("Running", "Paused"):  # assert_initial_power_state_in
        raise XapiError("VM_BAD_POWER_STATE", self, "running;paused", state.lower())
    return rrd.query(rrd.vm_rrd(ctx.sim, self), data_source)


@message(asyncable=False)
def get_data_sources(ctx: Ctx, self):
    ctx.store.get("VM", self)
    found = rrd.vm_rrd(ctx.sim, self)
    if found is None:  # rrdd holds no RRD for it: Hashtbl.find fails
        raise XapiError("INTERNAL_ERROR", "Not_found")
    return rrd.data_sources(found)


@message()
def recover(ctx: Ctx, self, session_to, force):
    """Called with a session on a metadata VDI's database (VDI.open_database):
    the VM comes into session_to's pool, halted, onto its disks (sim/dr.py)."""
    from .. import dr

    dr.assert_session_allows_dr(ctx.sim, session_to, "VM.recover")
    dr.recover_vms(ctx.sim, ctx.store, [self], bool(force))
    return ""


@message()
def assert_can_be_recovered(ctx: Ctx, self, session_to):
    from .. import dr

    dr.assert_session_allows_dr(ctx.sim, session_to, "VM.assert_can_be_recovered")
    appliance = ctx.store.get("VM", self)["appliance"]
    if ctx.store.exists("VM_appliance", appliance):
        raise XapiError("VM_IS_PART_OF_AN_APPLIANCE", self, appliance)
    dr.assert_can_be_recovered(ctx.sim, ctx.store, self)
    return ""
