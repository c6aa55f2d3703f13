"""VBD.*: a VM's disk and CD drives, with the checks XAPI makes inside each
message (xapi_vbd.ml, xapi_vbd_helpers.ml, message_forwarding.ml; device
names as xapi-idl's device_number.ml reads them). The checks of the VBD's
allowed operations (plug on a halted VM, eject of a disk...) are the
dispatcher's, not repeated here."""

from __future__ import annotations

import re

from ..api import Ctx, message
from ..errors import XapiError
from ..schema import NULL_REF, class_spec, coerce
from ..store import Store
from ._device import resident_vm, unplug_device

CLASS = "VBD"

# VDI types a VBD may point at (Xapi_vbd.create)
ATTACHABLE = (
    "system",
    "user",
    "ephemeral",
    "suspend",
    "crashdump",
    "metadata",
    "rrd",
    "pvs_cache",
)

# a device number: (bus, disk, partition); the largest disk and partition per bus
_MAX = {"xen": ((1 << 20) - 1, 15), "scsi": (15, 15), "floppy": (2, 0), "ide": (19, 63)}
_PREFIX = {"xvd": "xen", "sd": "scsi", "fd": "floppy", "hd": "ide"}
_LINUX = {"xen": "xvd", "scsi": "sd", "floppy": "fd", "ide": "xvd"}


def _make(bus: str, disk: int, part: int = 0) -> tuple[str, int, int] | None:
    top_disk, top_part = _MAX[bus]
    return (bus, disk, part) if 0 <= disk <= top_disk and 0 <= part <= top_part else None


def _b26(letters: str) -> int:
    n = 0
    for c in letters:
        n = n * 26 + ord(c) - ord("a") + 1
    return n - 1


def device_number(name: str, *, hvm: bool) -> tuple[str, int, int] | None:
    """``Device_number.of_string``: "1" (IDE below 4 for HVM), "xvdb", "hdb", "d1p2"."""
    if re.fullmatch(r"-?\d+", name):
        n = int(name)
        found = _make("ide" if hvm and n < 4 else "xen", n)
        if found:
            return found
    if m := re.fullmatch(r"(xvd|sd|fd|hd)([a-z]+)(\d*)", name):
        return _make(_PREFIX[m[1]], _b26(m[2]), int(m[3] or 0))
    if m := re.fullmatch(r"d(\d+)(?:p(\d+))?", name):
        return _make("xen", int(m[1]), int(m[2] or 0))
    return None


def linux_device(number: tuple[str, int, int]) -> str:
    """``Device_number.to_linux_device``: xvda, xvdb, ..., xvdaa; fda."""
    bus, disk, part = number
    letters = ""
    disk += 1
    while disk:
        disk, r = divmod(disk - 1, 26)
        letters = chr(ord("a") + r) + letters
    return f"{_LINUX[bus]}{letters}{part or ''}"


def valid_device(name: str, kind: str) -> bool:
    """``Xapi_vbd_helpers.valid_device``; its integer test holds for any integer."""
    if name == "autodetect" or device_number(name, hvm=False):
        return True
    return kind != "Floppy" and re.fullmatch(r"-?\d+", name) is not None


def hvm(vm: dict) -> bool:
    """``Helpers.will_have_qemu``: an HVM guest (its devices are emulated too)."""
    return vm["domain_type"] == "hvm"


def _used(st: Store, vm: dict) -> set:
    """``all_used_VBD_devices``: every reading of each VBD's device and userdevice."""
    out = set()
    for ref in vm["VBDs"]:
        if st.exists("VBD", ref):
            for name in (st.get("VBD", ref)["device"], st.get("VBD", ref)["userdevice"]):
                out |= {d for d in (device_number(name, hvm=h) for h in (True, False)) if d}
    return out


def _free(st: Store, vm: dict, kind: str) -> list[tuple[str, int, int]]:
    """``allowed_VBD_devices``: device numbers the VM has no VBD at yet."""
    if kind == "Floppy":
        if not hvm(vm):
            raise XapiError("NOT_IMPLEMENTED", "VBD of type 'floppy' is not supported on PV domain")
        every = [("floppy", 0, 0), ("floppy", 1, 0)]
    elif vm["is_control_domain"]:
        every = [("xen", n, 0) for n in range(256)]
    else:
        every = [("ide" if hvm(vm) and n < 4 else "xen", n, 0) for n in range(255)]
    used = _used(st, vm)
    return [d for d in every if d not in used]


def assert_agile(ctx: Ctx, vm: str, vdi: str) -> None:
    """A disk of an HA-protected VM must be on an SR every enabled host has
    plugged (``assert_doesnt_make_vm_non_agile``, agility.ml)."""
    st = ctx.store
    pool = st.get("pool", ctx.sim.pool)
    rec = st.get("VM", vm)
    if not pool["ha_enabled"] or pool["ha_allow_overcommit"]:
        return
    if not (rec["ha_always_run"] and rec["ha_restart_priority"] == "restart"):
        return
    sr = st.get("VDI", vdi)["SR"]
    plugged = {
        st.get("PBD", p)["host"]
        for p in st.get("SR", sr)["PBDs"]
        if st.exists("PBD", p) and st.get("PBD", p)["currently_attached"]
    }
    enabled = {h for h, r in st.table("host").items() if r["enabled"]}
    if not st.get("SR", sr)["shared"] or not enabled <= plugged:
        raise XapiError("HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED", sr)


def _field(name: str, record: dict, default):
    return coerce(class_spec("VBD").fields[name], record.get(name, default))


@message()
def create(ctx: Ctx, args):
    """A new VBD; ``userdevice`` "autodetect" takes the first free position."""
    st = ctx.store
    record = dict(args or {})
    vm, vdi = str(record.get("VM", NULL_REF)), str(record.get("VDI", NULL_REF))
    vm_rec = st.get("VM", vm)
    kind = _field("type", record, "Disk")
    mode = _field("mode", record, "RW")
    empty = _field("empty", record, False)
    if not empty and st.get("VDI", vdi)["type"] not in ATTACHABLE:
        raise XapiError("VDI_INCOMPATIBLE_TYPE", vdi, st.get("VDI", vdi)["type"])
    if empty and vdi != NULL_REF:
        st.get("VDI", vdi)
    if kind == "CD" and mode != "RO":
        raise XapiError("VBD_CDS_MUST_BE_READONLY")
    if kind != "CD" and empty:
        raise XapiError("VBD_NOT_REMOVABLE_MEDIA", "in constructor")
    if mode == "RW" and st.get("VDI", vdi)["read_only"]:
        raise XapiError("VDI_READONLY", vdi)
    for task, op in vm_rec["current_operations"].items():  # CA-75697
        if op in ("migrate_send", "pool_migrate"):
            raise XapiError("OTHER_OPERATION_IN_PROGRESS", "VM", vm, op, task)
    free = _free(st, vm_rec, kind)
    userdevice = str(record.get("userdevice", ""))
    if not valid_device(userdevice, kind) or (userdevice == "autodetect" and not free):
        raise XapiError("INVALID_DEVICE", userdevice)
    if userdevice == "autodetect":
        userdevice = linux_device(free[0]) if kind == "Floppy" else str(free[0][1])
    readings = {device_number(userdevice, hvm=h) for h in (True, False)} - {None}
    if readings & _used(st, vm_rec):
        raise XapiError("DEVICE_ALREADY_EXISTS", userdevice)
    if not empty:
        assert_agile(ctx, vm, vdi)
    other_config = _field("other_config", record, {})
    if not empty and "backend-kind" in st.get("VDI", vdi)["sm_config"]:
        other_config["backend-kind"] = st.get("VDI", vdi)["sm_config"]["backend-kind"]
    suspended = vm_rec["power_state"] == "Suspended"  # only then are these taken
    return st.create(
        "VBD",
        {
            "VM": vm,
            "VDI": vdi,
            "userdevice": userdevice,
            "device": _field("device", record, "") if suspended else "",
            "currently_attached": _field("currently_attached", record, False) and suspended,
            "bootable": _field("bootable", record, False),
            "mode": mode,
            "type": kind,
            "unpluggable": _field("unpluggable", record, True),
            "empty": empty,
            "other_config": other_config,
            "qos_algorithm_type": _field("qos_algorithm_type", record, ""),
            "qos_algorithm_params": _field("qos_algorithm_params", record, {}),
        },
    )


@message()
def destroy(ctx: Ctx, self):
    """Refused while attached: unplug first (``Xapi_vbd_helpers.destroy``)."""
    st = ctx.store
    rec = st.get("VBD", self)
    if rec["currently_attached"]:
        vm_uuid = st.get("VM", rec["VM"])["uuid"] if st.exists("VM", rec["VM"]) else ""
        raise XapiError(
            "OPERATION_NOT_ALLOWED", f"VBD '{rec['uuid']}' still attached to '{vm_uuid}'"
        )
    st.destroy("VBD", self)
    return ""


@message()
def set_mode(ctx: Ctx, self, value):
    """Read-only or read/write, while the VM is halted (``Xapi_vbd.set_mode``)."""
    st = ctx.store
    vm = st.get("VBD", self)["VM"]
    state = st.get("VM", vm)["power_state"]
    if state != "Halted":
        raise XapiError("VM_BAD_POWER_STATE", vm, "halted", state.lower())
    st.set("VBD", self, mode=coerce(class_spec("VBD").fields["mode"], value))
    return ""


def attach(st: Store, vbd: str, vm: dict) -> None:
    """The effect of a plug: attached, at the device name the guest sees."""
    number = device_number(st.get("VBD", vbd)["userdevice"], hvm=hvm(vm))
    device = linux_device(number) if number else st.get("VBD", vbd)["device"]
    st.set("VBD", vbd, currently_attached=True, device=device)


@message()
def plug(ctx: Ctx, self):
    """Hot-plug into the running VM; an HVM guest's disks must be read/write."""
    rec = ctx.store.get("VBD", self)
    vm = ctx.store.get("VM", rec["VM"])
    if hvm(vm) and rec["type"] != "CD" and rec["mode"] == "RO":  # CA-83260
        raise XapiError("DISK_VBD_MUST_BE_READWRITE_FOR_HVM", self)
    vm = resident_vm(ctx, "VBD", self)
    ctx.work(0.2, progress=0.5)
    attach(ctx.store, self, vm)
    return ""


@message()
def unplug(ctx: Ctx, self):
    return unplug_device(ctx, "VBD", self)


@message()
def unplug_force(ctx: Ctx, self):
    return unplug_device(ctx, "VBD", self)


def _not_suspended(ctx: Ctx, vm: str) -> None:
    if ctx.store.get("VM", vm)["power_state"] == "Suspended":
        raise XapiError("VM_BAD_POWER_STATE", vm, "halted, running", "suspended")


def _removable(rec: dict, vbd: str) -> None:
    if rec["type"] != "CD":  # Helpers.is_removable
        raise XapiError("VBD_NOT_REMOVABLE_MEDIA", vbd)


def _swap(ctx: Ctx, vbd: str, vdi: str) -> None:
    """The drive's new content. A live HVM guest's emulated drive changes
    its medium; a PV guest's drive is plugged with it, or unplugged without
    (``Xapi_xenops.vbd_insert``, ``vbd_eject``)."""
    st = ctx.store
    vm = st.get("VM", st.get("VBD", vbd)["VM"])
    live = vm["power_state"] != "Halted"
    if live:
        resident_vm(ctx, "VBD", vbd)
        ctx.work(0.2, progress=0.5)
    st.set("VBD", vbd, VDI=vdi, empty=vdi == NULL_REF)
    if live and not hvm(vm):
        if vdi == NULL_REF:
            st.set("VBD", vbd, currently_attached=False)
        else:
            attach(st, vbd, vm)


@message()
def insert(ctx: Ctx, vbd, vdi):
    """A disc into an empty drive (``Xapi_vbd.assert_ok_to_insert``)."""
    st = ctx.store
    rec = st.get("VBD", vbd)
    _not_suspended(ctx, rec["VM"])
    _removable(rec, vbd)
    if not rec["empty"]:
        raise XapiError("VBD_NOT_EMPTY", vbd)
    if not st.get("VDI", vdi)["managed"]:
        raise XapiError("VDI_NOT_MANAGED", vdi)
    assert_agile(ctx, rec["VM"], vdi)
    _swap(ctx, vbd, vdi)
    return ""


@message()
def eject(ctx: Ctx, vbd):
    """The disc out of the drive (``Xapi_vbd.assert_ok_to_eject``)."""
    rec = ctx.store.get("VBD", vbd)
    _removable(rec, vbd)
    if rec["empty"]:
        raise XapiError("VBD_IS_EMPTY", vbd)
    _not_suspended(ctx, rec["VM"])
    _swap(ctx, vbd, NULL_REF)
    return ""
