"""VM power operations with XAPI's state checks (VM_BAD_POWER_STATE etc.)."""

from ..api import Ctx, message
from ..errors import XapiError
from ..schema import NULL_REF
from ..store import now_xdate
from . import _ha
from . import _placement as place

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
    was = rec["power_state"]
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
        if state == "Running" and rec["power_state"] == "Halted":
            metrics["start_time"] = now_xdate()
        st.set("VM_metrics", rec["metrics"], **metrics)
    if state == "Halted" or (was in ("Halted", "Suspended") and live):
        _devices(ctx, rec, attached=state != "Halted")


def _devices(ctx: Ctx, rec: dict, attached: bool) -> None:
    """A VM's drives and interfaces follow its domain: all detached when it
    halts (Xapi_vm_lifecycle.force_state_reset), attached when it starts
    (Xapi_xenops.start: an empty drive only where qemu serves it, HVM) or
    resumes (xenopsd's device events)."""
    st = ctx.store
    qemu = rec["domain_type"] == "hvm"
    for cls, refs in (("VBD", rec["VBDs"]), ("VIF", rec["VIFs"])):
        for ref in refs:
            dev = st.tables[cls].get(ref)
            if dev is None or dev["currently_attached"] == attached:
                continue
            if attached and cls == "VBD" and dev["empty"] and not qemu:
                continue
            st.set(cls, ref, currently_attached=attached)


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


def _boot(ctx: Ctx, vm: str, rec: dict, host: str, start_paused) -> str:
    ctx.work(BOOT_SECONDS, progress=0.5)
    place.claim(ctx, host, rec["memory_static_max"])
    set_power(ctx, vm, "Paused" if start_paused else "Running", host)
    return ""


@message()
def start(ctx: Ctx, vm, start_paused, force):
    rec = _vm(ctx, vm, "Halted")
    return _boot(ctx, vm, rec, _pick_host(ctx, vm), start_paused)


@message()
def start_on(ctx: Ctx, vm, host, start_paused, force):
    rec = _vm(ctx, vm, "Halted")
    place.boot_check(ctx, vm, host)
    return _boot(ctx, vm, rec, host, start_paused)


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
    return _boot(ctx, vm, rec, _pick_host(ctx, vm), start_paused)


@message()
def resume_on(ctx: Ctx, vm, host, start_paused, force):
    rec = _vm(ctx, vm, "Suspended")
    place.boot_check(ctx, vm, host)
    return _boot(ctx, vm, rec, host, start_paused)


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


# snapshots -----------------------------------------------------------------------
@message()
def snapshot(ctx: Ctx, vm, new_name, ignore_vdis=()):
    """A snapshot of a VM, running or not: a VM record (is_a_snapshot) with
    a snapshot VDI of each disk (but ``ignore_vdis``) on the same SR; the VM
    keeps running."""
    rec = ctx.store.get("VM", vm)
    if rec["is_a_template"] or rec["is_a_snapshot"] or rec["is_control_domain"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "only a VM can be snapshotted")
    return _copy(ctx, vm, new_name, ignore_vdis, snapshot=True)


@message()
def clone(ctx: Ctx, vm, new_name):
    """A halted VM, template or snapshot copied, its disks cloned on their SRs."""
    rec = ctx.store.get("VM", vm)
    if rec["is_control_domain"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "the control domain cannot be cloned")
    if rec["power_state"] != "Halted":
        raise XapiError("VM_BAD_POWER_STATE", vm, "halted", rec["power_state"].lower())
    return _copy(ctx, vm, new_name, (), snapshot=False)


def _copy(ctx: Ctx, vm: str, new_name, ignore_vdis, *, snapshot: bool) -> str:
    st = ctx.store
    rec = st.get("VM", vm)
    if not str(new_name).strip():
        raise XapiError("INVALID_VALUE", "new_name", str(new_name))
    ctx.work(0.5, progress=0.3)
    stamp = now_xdate()
    links = {"snapshot_of": vm, "snapshot_time": stamp} if snapshot else {}
    copy = st.create(
        "VM",
        {
            **{k: v for k, v in rec.items() if k not in _PER_INSTANCE},
            "name_label": str(new_name),
            # as XAPI: a snapshot is a template until told otherwise
            "is_a_template": True if snapshot else rec["is_a_template"],
            "is_a_snapshot": snapshot,
            **links,
            "power_state": "Halted",
            "resident_on": NULL_REF,
            "domid": -1,
            "ha_always_run": False,
            "ha_restart_priority": "",
        },
    )
    for vbd in list(rec["VBDs"]):
        b = st.get("VBD", vbd)
        disk = b["VDI"]
        if disk in ignore_vdis:
            continue
        if b["type"] == "Disk" and disk != NULL_REF:
            d = st.get("VDI", disk)
            disk = st.create(
                "VDI",
                {
                    **{k: v for k, v in d.items() if k not in _PER_INSTANCE},
                    "is_a_snapshot": snapshot,
                    **({"snapshot_of": b["VDI"], "snapshot_time": stamp} if snapshot else {}),
                },
            )
        st.create(
            "VBD",
            {
                **{k: v for k, v in b.items() if k not in _PER_INSTANCE},
                "VM": copy,
                "VDI": disk,
                "currently_attached": False,
            },
        )
    return copy


# fields a copy does not take over: identity, back-references, runtime links
_PER_INSTANCE = {
    "uuid",
    "VBDs",
    "VIFs",
    "snapshots",
    "metrics",
    "guest_metrics",
    "current_operations",
    "allowed_operations",
    "children",
    "parent",
}


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
    for vbd in list(rec["VBDs"]):
        st.destroy("VBD", vbd)
    for vif in list(rec["VIFs"]):
        st.destroy("VIF", vif)
    st.destroy("VM", self)
    return ""
