"""VMSS.*: snapshot schedules, as ``Xapi_vmss`` checks them (retained
snapshots 1 to 10; per frequency the schedule's keys: ``min`` of 0, 15, 30,
45; ``hour`` 0 to 23; ``days`` a set of weekdays; keys missing are given
their defaults, keys of another frequency dropped; a bad one is
INVALID_VALUE ["schedule:hour", "25"]), and what the ``vmss`` plugin does
when one runs (``snapshot_now``, or the simulator's runner when one is
due: see :mod:`xstui.sim.schedules`): each VM of the schedule snapshotted
(or checkpointed), its schedule's snapshots beyond ``retained_snapshots``
deleted oldest first with their disks, ``last_run_time`` set, and a
VMSS_SNAPSHOT_SUCCEEDED or VMSS_SNAPSHOT_FAILED message about it.

No VM of the simulator has the VSS agent, so a schedule of type
``snapshot_with_quiesce`` takes no VM (VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED)."""

from __future__ import annotations

import time

from ... import clock
from ..api import Ctx, explicit, message, operation
from ..errors import XapiError
from ..store import now_xdate

CLASS = "VMSS"

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES = ("0", "15", "30", "45")
MAX_RETAINED = 10
# frequency -> the schedule's keys, each with its default
KEYS: dict[str, dict[str, str]] = {
    "hourly": {"min": "0"},
    "daily": {"hour": "0", "min": "0"},
    "weekly": {"hour": "0", "min": "0", "days": "Monday"},
}
FREQUENCIES = tuple(KEYS)
TYPES = ("snapshot", "checkpoint", "snapshot_with_quiesce")


def _check_value(key: str, value: str) -> str:
    """One schedule key's value (Map_check): its own, or INVALID_VALUE."""
    bad = XapiError("INVALID_VALUE", f"schedule:{key}", value)
    if key == "min":
        if value not in MINUTES:
            raise bad
    elif key == "hour":
        try:
            hour = int(value)
        except ValueError:
            raise bad from None
        if not 0 <= hour <= 23:
            raise bad
    elif key == "days":
        days = [d for d in value.split(",") if d]
        if not days or any(d not in DAYS for d in days):
            raise bad
    else:
        raise XapiError("INVALID_VALUE", "schedule", key)
    return value


def _for_frequency(frequency: str, schedule: dict, known: dict | None = None) -> dict:
    """The schedule's keys for ``frequency``: each checked, missing ones from
    ``known`` (the schedule so far) or their defaults (assert_set_frequency)."""
    if frequency not in KEYS:
        raise XapiError("INVALID_VALUE", "frequency", frequency)
    out = {}
    for key, default in KEYS[frequency].items():
        if key in schedule:
            out[key] = _check_value(key, str(schedule[key]))
        elif known and key in known:
            out[key] = known[key]
        else:
            out[key] = default
    return out


def _retained(value) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise XapiError("INVALID_VALUE", "retained_snapshots", str(value)) from None
    if not 1 <= n <= MAX_RETAINED:
        raise XapiError("INVALID_VALUE", "retained_snapshots", str(n))
    return n


def _no_quiesce(vms) -> None:
    """No VM here has the VSS agent: none can be in a quiesced schedule."""
    if vms:
        raise XapiError("VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED", vms[0], "")


@message()
def create(ctx: Ctx, args):
    rec = dict(args)
    kind = str(rec.get("type", ""))
    if kind not in TYPES:
        raise XapiError("INVALID_VALUE", "type", kind)
    frequency = str(rec.get("frequency", ""))
    if frequency not in KEYS:
        raise XapiError("INVALID_VALUE", "frequency", frequency)
    schedule = {str(k): str(v) for k, v in dict(rec.get("schedule") or {}).items()}
    for key, value in schedule.items():  # a key of another frequency, or of none
        if key not in KEYS[frequency]:
            raise XapiError("INVALID_VALUE", f"schedule:{key}", value)
    schedule = _for_frequency(frequency, schedule)
    retained = _retained(rec.get("retained_snapshots", 7))
    return ctx.store.create(
        "VMSS",
        {
            "name_label": str(rec.get("name_label", "")),
            "name_description": str(rec.get("name_description", "")),
            "enabled": rec.get("enabled", True),
            "type": kind,
            "retained_snapshots": retained,
            "frequency": frequency,
            "schedule": schedule,
            "last_run_time": now_xdate(0),
        },
    )


@message()
def destroy(ctx: Ctx, self):
    st = ctx.store
    rec = st.get("VMSS", self)
    if rec["VMs"]:
        raise XapiError("VMSS_HAS_VM")
    for ref, m in list(st.table("message").items()):  # destroy_all_messages
        if m["obj_uuid"] == rec["uuid"]:
            st.destroy("message", ref)
    st.destroy("VMSS", self)
    return ""


@message()
def set_frequency(ctx: Ctx, self, value):
    rec = ctx.store.get("VMSS", self)
    schedule = _for_frequency(str(value), {}, rec["schedule"])
    ctx.store.set("VMSS", self, frequency=str(value), schedule=schedule)
    return ""


@message()
def set_schedule(ctx: Ctx, self, value):
    rec = ctx.store.get("VMSS", self)
    schedule = {str(k): _check_value(str(k), str(v)) for k, v in dict(value).items()}
    ctx.store.set("VMSS", self, schedule=_for_frequency(rec["frequency"], schedule))
    return ""


@message()
def add_to_schedule(ctx: Ctx, self, key, value):
    rec = ctx.store.get("VMSS", self)
    key, value = str(key), _check_value(str(key), str(value))
    if key in rec["schedule"]:
        raise XapiError("MAP_DUPLICATE_KEY", "VMSS", "schedule", self, key)
    ctx.store.set("VMSS", self, schedule={**rec["schedule"], key: value})
    return ""


@message()
def remove_from_schedule(ctx: Ctx, self, key):
    rec = ctx.store.get("VMSS", self)
    ctx.store.set("VMSS", self, schedule={k: v for k, v in rec["schedule"].items() if k != key})
    return ""


@message()
def set_retained_snapshots(ctx: Ctx, self, value):
    ctx.store.get("VMSS", self)
    ctx.store.set("VMSS", self, retained_snapshots=_retained(value))
    return ""


@message()
def set_type(ctx: Ctx, self, value):
    rec = ctx.store.get("VMSS", self)
    if str(value) not in TYPES:
        raise XapiError("INVALID_VALUE", "type", str(value))
    if value == "snapshot_with_quiesce":
        _no_quiesce(rec["VMs"])
    ctx.store.set("VMSS", self, type=str(value))
    return ""


@message()
def set_last_run_time(ctx: Ctx, self, value):
    ctx.store.get("VMSS", self)
    ctx.store.set("VMSS", self, last_run_time=value)
    return ""


@message()
def snapshot_now(ctx: Ctx, vmss):
    return run(ctx, vmss)


# the plugin's run ------------------------------------------------------------------
def run(ctx: Ctx, vmss: str) -> str:
    """One run of the schedule, now (the pool's clock, whatever clock found
    it due: its stamps are never ahead of the hosts'): each VM snapshotted,
    the oldest beyond retention deleted, the outcome said in a message;
    returns what the plugin returns (the outcome in words)."""
    st = ctx.store
    rec = st.get("VMSS", vmss)
    at = clock.now()
    stamp = now_xdate(at)
    op = "checkpoint" if rec["type"] == "checkpoint" else "snapshot"
    failed: list[str] = []
    done = 0
    for vm in list(rec["VMs"]):
        name = st.get("VM", vm)["name_label"]
        try:
            if rec["type"] == "snapshot_with_quiesce":
                _no_quiesce([vm])
            msg = explicit()[("VM", op)]
            snap_name = (
                f"{name}-{rec['name_label']}-{time.strftime('%Y%m%d-%H%M', time.gmtime(at))}"
            )
            with operation(ctx, msg, [vm, snap_name]):
                snap = msg.fn(ctx, vm, snap_name)
            st.set("VM", snap, is_vmss_snapshot=True, snapshot_time=stamp)
            prune(ctx, vm, rec["retained_snapshots"])
            done += 1
        except XapiError as err:
            failed.append(f"{name}: {' '.join(err.description)}")
    st.set("VMSS", vmss, last_run_time=stamp)
    if failed:
        body = f"{len(failed)} of {len(rec['VMs'])} VMs failed: " + "; ".join(failed)
        name, priority = "VMSS_SNAPSHOT_FAILED", 3
    else:
        body = f"{done} VM(s) snapshotted"
        name, priority = "VMSS_SNAPSHOT_SUCCEEDED", 5
    st.create(
        "message",
        {
            "name": name,
            "priority": priority,
            "cls": "VMSS",
            "obj_uuid": rec["uuid"],
            "timestamp": stamp,
            "body": body,
        },
    )
    return body


def prune(ctx: Ctx, vm: str, keep: int) -> None:
    """The VM's schedule snapshots beyond ``keep`` go, oldest first, with the
    disks (and memory image) they own."""
    from . import vdi as vdis
    from .vm import destroy as destroy_vm
    from .vm import hard_shutdown

    st = ctx.store
    mine = [
        s
        for s in st.get("VM", vm)["snapshots"]
        if st.exists("VM", s) and st.get("VM", s)["is_vmss_snapshot"]
    ]
    mine.sort(key=lambda s: str(st.get("VM", s)["snapshot_time"]))
    for old in mine[: max(0, len(mine) - keep)]:
        snap = st.get("VM", old)
        disks = [
            st.get("VBD", b)["VDI"]
            for b in snap["VBDs"]
            if st.exists("VBD", b) and st.get("VBD", b)["type"] == "Disk"
        ]
        if snap["power_state"] == "Suspended":  # a checkpoint's memory image goes first
            hard_shutdown(ctx, old)
        destroy_vm(ctx, old)
        for disk in disks:
            if st.exists("VDI", disk):
                vdis.forget(ctx, disk)
