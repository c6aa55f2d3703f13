"""Snapshot schedules (XAPI's VMSS, from XenServer 7.2): each takes a
snapshot (or a checkpoint, with the memory) of its VMs hourly, daily or
weekly at a time of the pool master's clock, and keeps the newest few
(1 to 10), deleting older ones with their disks. Listed with their last
run and how it went (the pool's VMSS_SNAPSHOT_* messages); made, changed,
switched on and off, run now, and deleted.

Releases before 7.2 have no schedules: the action says so, and how to do
it there (a cron entry in dom0)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from ...areas import see
from ...datamodel import NULL_REF
from ...xapi import views
from ...xapi.cache import Cache
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext, no_xe
from ..fields import Field, problem_of
from ..values import moment
from .cli import MAX_KEPT

TYPES = {
    "snapshot": "snapshot",
    "checkpoint (with memory)": "checkpoint",
    "quiesced snapshot (VSS)": "snapshot_with_quiesce",
}
TYPE_WORDS = {value: label.split(" (")[0] for label, value in TYPES.items()}
FREQUENCIES = ("hourly", "daily", "weekly")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES = (0, 15, 30, 45)  # XAPI takes these only
OLDER = (
    "snapshot schedules (VMSS) came with XenServer 7.2: on this release they are cron "
    "entries in dom0, made with xstui local on the master"
)


# reading ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleRow:
    ref: str
    name: str
    kind: str  # snapshot, checkpoint, quiesced snapshot
    when: str  # "daily 02:30", "weekly Mon,Fri 02:00", "hourly at :15"
    kept: int
    vms: tuple[str, ...]  # their names
    last_run: str  # "never", or the date and time (UTC)
    status: str  # "ok", "failed", "" (not run yet, or its message is gone)
    enabled: bool


def when_words(frequency: str, schedule: dict) -> str:
    minute = int(schedule.get("min", "0") or 0)
    if frequency == "hourly":
        return f"hourly at :{minute:02d}"
    at = f"{int(schedule.get('hour', '0') or 0):02d}:{minute:02d}"
    if frequency == "weekly":
        days = ",".join(d[:3] for d in schedule.get("days", "").split(",") if d)
        return f"weekly {days} {at}"
    return f"daily {at}"


def _last_runs(cache: Cache) -> dict[str, tuple[str, str]]:
    """Per schedule uuid: (the time of its newest VMSS_SNAPSHOT_* message, "ok"/"failed")."""
    out: dict[str, tuple] = {}
    for m in cache.table("message").values():
        if not m.name.startswith("VMSS_SNAPSHOT_"):
            continue
        seen = out.get(m.obj_uuid)
        if seen is None or (m.timestamp and seen[0] and m.timestamp > seen[0]):
            out[m.obj_uuid] = (
                m.timestamp,
                "ok" if m.name == "VMSS_SNAPSHOT_SUCCEEDED" else "failed",
            )
    return out


def schedule_rows(cache: Cache) -> list[ScheduleRow]:
    with cache.lock:
        runs = _last_runs(cache)
        rows = []
        for s in cache.table("vmss").values():
            ran = s.last_run_time
            never = ran is None or ran.year <= 1970
            rows.append(
                ScheduleRow(
                    s.ref,
                    s.name_label,
                    TYPE_WORDS.get(s.type, s.type),
                    when_words(s.frequency, s.schedule),
                    s.retained_snapshots,
                    tuple(sorted(cache.label("vm", vm) for vm in s.VMs)),
                    "never" if never else moment(ran),
                    "" if never else runs.get(s.uuid, (None, ""))[1],
                    s.enabled,
                )
            )
        return sorted(rows, key=lambda r: r.name.lower())


# checking --------------------------------------------------------------------------
def at_time(text: str, frequency: str) -> tuple[int, int]:
    """HH:MM (hourly: :MM or MM) -> (hour, minute); minutes 00, 15, 30, 45."""
    value = (text or "").strip()
    m = re.fullmatch(r"(\d{1,2})?:?(\d{2})", value) if frequency == "hourly" else None
    m = m or re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if m is None:
        raise InvalidInput([f"time {value!r}: write it HH:MM, e.g. 02:30"])
    hour, minute = int(m.group(1) or 0), int(m.group(2))
    if not 0 <= hour <= 23:
        raise InvalidInput([f"hour {hour}: from 0 to 23"])
    if minute not in MINUTES:
        raise InvalidInput([f"minute {minute:02d}: XAPI takes 00, 15, 30 or 45 only"])
    return hour, minute


def week_days(text: str) -> list[str]:
    """Day names or their first three letters, by commas or spaces."""
    days = []
    for word in re.split(r"[,\s]+", (text or "").strip()):
        if not word:
            continue
        day = next((d for d in DAYS if d.lower().startswith(word.lower()) and len(word) >= 2), None)
        if day is None:
            raise InvalidInput([f"{word!r} is not a day of the week (Mon, Tue, ... Sun)"])
        if day not in days:
            days.append(day)
    if not days:
        raise InvalidInput(["a weekly schedule needs at least one day (e.g. Sun, or Mon,Thu)"])
    return sorted(days, key=DAYS.index)


@dataclass(frozen=True)
class Settings:
    """What a schedule is made of, checked (in words) before any call."""

    name: str
    kind: str  # XAPI's vmss_type
    frequency: str
    schedule: dict
    kept: int
    vms: tuple[str, ...]  # refs

    @classmethod
    def checked(cls, cache: Cache, values: dict) -> Settings:
        problems: list[str] = []

        def take(fn, *args):
            try:
                return fn(*args)
            except InvalidInput as exc:
                problems.extend(exc.problems)
                return None

        name = take(v.object_name, values.get("name", ""), "schedule name")
        kind = TYPES.get(values.get("type", ""))
        if kind is None:
            problems.append(f"type: choose one of {', '.join(TYPES)}")
        frequency = values.get("frequency", "")
        if frequency not in FREQUENCIES:
            problems.append(f"how often: choose one of {', '.join(FREQUENCIES)}")
        at = take(at_time, values.get("time", ""), frequency)
        kept = take(
            v.int_in_range,
            values.get("kept", ""),
            "snapshots kept",
            1,
            MAX_KEPT,
            " (XAPI keeps at most 10 per VM)",
        )
        schedule: dict = {}
        if at is not None:
            schedule["min"] = str(at[1])
            if frequency != "hourly":
                schedule["hour"] = str(at[0])
        if frequency == "weekly":
            days = take(week_days, values.get("days", ""))
            if days:
                schedule["days"] = ",".join(days)
        elif (values.get("days") or "").strip():
            problems.append(f"days are for a weekly schedule only, not {frequency}")
        vms = take(_vms, cache, values.get("vms") or ())
        if problems:
            raise InvalidInput(problems)
        return cls(name, kind, frequency, schedule, kept, vms)


def _vms(cache: Cache, labels) -> tuple[str, ...]:
    """The VMs chosen by their labels in the form (vm_choices)."""
    choices = vm_choices(cache)
    unknown = [label for label in labels if label not in choices]
    if unknown:
        raise InvalidInput([f"no VM {unknown[0]!r} in the pool (it may have gone)"])
    return tuple(choices[label] for label in labels)


def vm_choices(cache: Cache) -> dict[str, str]:
    """label -> VM ref: the pool's VMs by name (a name two VMs share gets
    the start of each one's uuid)."""
    with cache.lock:
        vms = sorted(views.user_vms(cache), key=lambda r: r.name_label.lower())
        names = [vm.name_label for vm in vms]
        return {
            (
                vm.name_label
                if names.count(vm.name_label) == 1
                else f"{vm.name_label} ({vm.uuid[:8]})"
            ): vm.ref
            for vm in vms
        }


def schedule_fields(cache: Cache, ref: str = "", *, quiesce: bool = True) -> list[Field]:
    """The form of a new schedule (daily at 02:00, 7 kept), or of ``ref`` as
    it is; ``quiesce``: offer quiesced snapshots (XAPI's schedules only)."""
    s = cache.get("vmss", ref) if ref else None
    choices = vm_choices(cache)
    if s is None:
        name, kind, frequency, at, days, kept, chosen = "", "snapshot", "daily", "02:00", "", 7, []
    else:
        name, kind, frequency, kept = s.name_label, s.type, s.frequency, s.retained_snapshots
        minute = int(s.schedule.get("min", "0") or 0)
        at = f"{int(s.schedule.get('hour', '0') or 0):02d}:{minute:02d}"
        days = ",".join(d[:3] for d in s.schedule.get("days", "").split(",") if d)
        chosen = [label for label, vm in choices.items() if vm in s.VMs]
    type_label = next((label for label, value in TYPES.items() if value == kind), "snapshot")
    return [
        Field("name", "Name", name, problem_of(v.object_name, "schedule name")),
        Field(
            "type",
            "Type",
            type_label,
            choices=[t for t, kind in TYPES.items() if quiesce or kind != "snapshot_with_quiesce"],
        ),
        Field("frequency", "How often", frequency, choices=list(FREQUENCIES)),
        Field(
            "time", "At (UTC)", at, lambda t: _problem(at_time, t, "hourly"), placeholder="HH:MM"
        ),
        Field("days", "Days (weekly)", days, placeholder="e.g. Sun or Mon,Thu"),
        Field("kept", "Keep (1-10)", str(kept), lambda t: _problem(_kept, t)),
        Field("vms", "VMs", chosen, choices=list(choices), several=True),
    ]


def _kept(text: str) -> int:
    return v.int_in_range(text, "snapshots kept", 1, MAX_KEPT)


def _problem(check, *args) -> str | None:
    try:
        check(*args)
    except InvalidInput as exc:
        return "; ".join(exc.problems)
    return None


def _xe_settings(s: Settings) -> str:
    keys = " ".join(f"schedule:{k}={val}" for k, val in sorted(s.schedule.items()))
    return (f"type={s.kind} frequency={s.frequency} retained-snapshots={s.kept} {keys}").strip()


def _schedule(cache: Cache, ref: str):
    s = cache.get("vmss", ref)
    if s is None:
        raise InvalidInput(["choose a schedule (the row under the cursor is not one)"])
    return s


class _ScheduleAction(Action):
    older = OLDER

    def _schedule(self, cache: Cache, ref: str):
        """The schedule acted on (hold the cache's lock): its ref, UUID and name kept."""
        s = _schedule(cache, ref)
        self.ref, self.uuid, self.name = ref, s.uuid, s.name_label
        return s


# create ----------------------------------------------------------------------------
class CreateSchedule(_ScheduleAction):
    calls = ("VMSS.create", "VMSS.destroy", "VM.set_snapshot_schedule")

    def __init__(self, cache: Cache, values: dict):
        self.s = Settings.checked(cache, values)
        with cache.lock:
            taken = [s.name_label for s in cache.table("vmss").values()]
            self.vm_rows = [(vm, cache.get("vm", vm)) for vm in self.s.vms]
            self.elsewhere = [
                (rec.name_label, cache.label("vmss", rec.snapshot_schedule))
                for _, rec in self.vm_rows
                if rec is not None
                and rec.snapshot_schedule not in (NULL_REF, "")
                and cache.get("vmss", rec.snapshot_schedule) is not None
            ]
        if self.s.name in taken:
            raise InvalidInput([f"a schedule named {self.s.name!r} exists already"])

    def plan(self) -> Plan:
        s = self.s
        xe = [f"SCHEDULE=$(xe vmss-create name-label={shlex.quote(s.name)} {_xe_settings(s)})"]
        xe += [
            f"xe vm-param-set uuid={rec.uuid} snapshot-schedule=$SCHEDULE"
            for _, rec in self.vm_rows
        ]
        impact = [
            f"{len(s.vms)} VM(s) get a {TYPE_WORDS[s.kind]} {when_words(s.frequency, s.schedule)} "
            f"(UTC, the master's clock); the newest {s.kept} of each are kept, older ones "
            "deleted with their disks"
            if s.vms
            else "no VM is in it yet: it runs once VMs are added (e to edit)"
        ]
        impact += [f"{vm} leaves the schedule {old}" for vm, old in self.elsewhere]
        if s.kind == "checkpoint":
            impact.append("a checkpoint pauses each running VM while its memory is saved")
        return Plan(
            title=f"New snapshot schedule {s.name}",
            summary=f"A snapshot schedule {s.name!r}: {when_words(s.frequency, s.schedule)}, "
            f"{s.kept} kept.",
            xe=xe,
            impact=impact,
        )

    def run(self, ctx: RunContext) -> str:
        s = self.s
        ctx.note("making the schedule")
        ref = ctx.call(
            "VMSS.create",
            {
                "name_label": s.name,
                "name_description": "",
                "enabled": True,
                "type": s.kind,
                "retained_snapshots": str(s.kept),
                "frequency": s.frequency,
                "schedule": s.schedule,
            },
        )
        ctx.on_undo(f"delete the schedule {s.name!r}", lambda: ctx.conn.call("VMSS.destroy", ref))
        _attach(
            ctx, ref, [(vm, rec.snapshot_schedule if rec else NULL_REF) for vm, rec in self.vm_rows]
        )
        return f"Snapshot schedule {s.name!r} made, with {len(s.vms)} VM(s)."


def _attach(ctx: RunContext, ref: str, vms: list[tuple[str, str]]) -> None:
    """Each VM into the schedule ``ref`` (NULL: out of its own), its undo back to ``before``."""
    for vm, before in vms:
        ctx.call("VM.set_snapshot_schedule", vm, ref)
        ctx.on_undo(
            "put the VM back in its schedule",
            lambda vm=vm, before=before: ctx.conn.call(
                "VM.set_snapshot_schedule", vm, before or NULL_REF
            ),
        )


# edit ------------------------------------------------------------------------------
class EditSchedule(_ScheduleAction):
    calls = (
        "VMSS.set_name_label",
        "VMSS.set_type",
        "VMSS.set_frequency",
        "VMSS.set_schedule",
        "VMSS.set_retained_snapshots",
        "VM.set_snapshot_schedule",
    )

    def __init__(self, cache: Cache, ref: str, values: dict):
        self.s = Settings.checked(cache, values)
        with cache.lock:
            old = _schedule(cache, ref)
            self.ref, self.uuid, self.old = ref, old.uuid, old
            if self.s.name != old.name_label and any(
                o.name_label == self.s.name for o in cache.table("vmss").values()
            ):
                raise InvalidInput([f"a schedule named {self.s.name!r} exists already"])
            self.added = [(vm, cache.get("vm", vm)) for vm in self.s.vms if vm not in old.VMs]
            self.removed = [(vm, cache.get("vm", vm)) for vm in old.VMs if vm not in self.s.vms]
        self.changes: list[tuple[str, str, object, object]] = []  # (call, xe, new, old)
        for call, xe, new, before in (
            (
                "VMSS.set_name_label",
                f"name-label={shlex.quote(self.s.name)}",
                self.s.name,
                old.name_label,
            ),
            ("VMSS.set_type", f"type={self.s.kind}", self.s.kind, old.type),
            (
                "VMSS.set_frequency",
                f"frequency={self.s.frequency}",
                self.s.frequency,
                old.frequency,
            ),
            (
                "VMSS.set_schedule",
                " ".join(f"schedule:{k}={val}" for k, val in sorted(self.s.schedule.items())),
                self.s.schedule,
                dict(old.schedule),
            ),
            (
                "VMSS.set_retained_snapshots",
                f"retained-snapshots={self.s.kept}",
                str(self.s.kept),
                str(old.retained_snapshots),
            ),
        ):
            if new != before:
                self.changes.append((call, xe, new, before))
        if not self.changes and not self.added and not self.removed:
            raise InvalidInput(["nothing was changed"])
        self.calls = (
            *(c[0] for c in self.changes),
            *(("VM.set_snapshot_schedule",) if self.added or self.removed else ()),
        )

    def plan(self) -> Plan:
        xe = []
        if self.changes:
            xe.append(f"xe vmss-param-set uuid={self.uuid} " + " ".join(c[1] for c in self.changes))
        xe += [
            f"xe vm-param-set uuid={rec.uuid} snapshot-schedule={self.uuid}"
            for _, rec in self.added
            if rec
        ]
        xe += [
            f"xe vm-param-set uuid={rec.uuid} snapshot-schedule=" for _, rec in self.removed if rec
        ]
        impact = [f"{rec.name_label} joins the schedule" for _, rec in self.added if rec]
        impact += [
            f"{rec.name_label} leaves it (its snapshots so far stay)"
            for _, rec in self.removed
            if rec
        ]
        if (
            any(c[0] == "VMSS.set_retained_snapshots" for c in self.changes)
            and self.s.kept < self.old.retained_snapshots
        ):
            impact.append(
                f"at the next run each VM keeps {self.s.kept} snapshots of the schedule: older ones "
                "are deleted with their disks"
            )
        return Plan(
            title=f"Change the snapshot schedule {self.old.name_label}",
            summary=f"{self.s.name}: {when_words(self.s.frequency, self.s.schedule)}, {self.s.kept} kept, "
            f"{len(self.s.vms)} VM(s).",
            xe=xe,
            impact=impact,
        )

    def run(self, ctx: RunContext) -> str:
        for call, _xe, new, before in self.changes:
            if call == "VMSS.set_frequency":  # its keys follow; set_schedule next sets them
                ctx.call("VMSS.set_frequency", self.ref, new)
                ctx.on_undo(
                    "put the frequency back",
                    lambda before=before, sched=dict(self.old.schedule): (
                        ctx.conn.call("VMSS.set_frequency", self.ref, before),
                        ctx.conn.call("VMSS.set_schedule", self.ref, sched),
                    ),
                )
            else:
                ctx.call(call, self.ref, new)
                ctx.on_undo(
                    f"undo {call}",
                    lambda call=call, before=before: ctx.conn.call(call, self.ref, before),
                )
        _attach(ctx, self.ref, [(vm, self.ref) for vm, _ in self.added if vm])
        _attach(ctx, NULL_REF, [(vm, self.ref) for vm, _ in self.removed])
        return f"Snapshot schedule {self.s.name!r} changed."


# on, off; run now; delete ----------------------------------------------------------
class ToggleSchedule(_ScheduleAction):
    calls = ("VMSS.set_enabled",)

    def __init__(self, cache: Cache, ref: str):
        with cache.lock:
            self.on = not self._schedule(cache, ref).enabled

    def plan(self) -> Plan:
        verb = "Switch on" if self.on else "Switch off"
        return Plan(
            title=f"{verb} the snapshot schedule {self.name}",
            summary=(
                f"{self.name} runs again at its times."
                if self.on
                else f"{self.name} stops running until switched on (its snapshots stay)."
            ),
            xe=[f"xe vmss-param-set uuid={self.uuid} enabled={str(self.on).lower()}"],
        )

    def run(self, ctx: RunContext) -> str:
        ctx.call("VMSS.set_enabled", self.ref, self.on)
        ctx.on_undo(
            "switch it back", lambda: ctx.conn.call("VMSS.set_enabled", self.ref, not self.on)
        )
        return f"Snapshot schedule {self.name!r} is {'on' if self.on else 'off'}."


class RunScheduleNow(_ScheduleAction):
    calls = ("VMSS.snapshot_now",)

    def __init__(self, cache: Cache, ref: str):
        with cache.lock:
            s = self._schedule(cache, ref)
            self.kept = s.retained_snapshots
            self.vms = sorted(cache.label("vm", vm) for vm in s.VMs)
            self.kind = TYPE_WORDS.get(s.type, s.type)
        if not self.vms:
            raise InvalidInput([f"{self.name} has no VM to snapshot: add some first (e to edit)"])

    def plan(self) -> Plan:
        return Plan(
            title=f"Run the snapshot schedule {self.name} now",
            summary=f"A {self.kind} of {len(self.vms)} VM(s) now, as at its times.",
            xe=[no_xe("VMSS.snapshot_now")],
            impact=[
                f"each VM keeps the newest {self.kept} of the schedule's snapshots: the oldest "
                "beyond that is deleted with its disks"
            ],
        )

    def run(self, ctx: RunContext) -> str:
        ctx.note(f"snapshotting {len(self.vms)} VM(s)")
        said = ctx.task("VMSS.snapshot_now", self.ref)
        return f"{self.name}: {said}." if said else f"{self.name} ran."


class DeleteSchedule(_ScheduleAction):
    calls = ("VMSS.destroy", "VM.set_snapshot_schedule")

    def __init__(self, cache: Cache, ref: str):
        with cache.lock:
            s = self._schedule(cache, ref)
            self.vms = [(vm, cache.get("vm", vm)) for vm in s.VMs]

    def plan(self) -> Plan:
        xe = [f"xe vm-param-set uuid={rec.uuid} snapshot-schedule=" for _, rec in self.vms if rec]
        xe.append(f"xe vmss-destroy uuid={self.uuid}")
        names = [rec.name_label for _, rec in self.vms if rec]
        leave = "leaves" if len(names) == 1 else "leave"
        impact = [f"{', '.join(names)} {leave} it first" if names else "no VM is in it"]
        impact.append(
            f"the snapshots it took stay: delete them from each VM's in {see('vms', 'n', tab='Snapshots')}"
        )
        return Plan(
            title=f"Delete the snapshot schedule {self.name}",
            summary=f"The schedule {self.name} goes; no more snapshots are taken by it.",
            xe=xe,
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        _attach(ctx, NULL_REF, [(vm, self.ref) for vm, _ in self.vms])
        ctx.call("VMSS.destroy", self.ref)
        return f"Snapshot schedule {self.name!r} deleted."
