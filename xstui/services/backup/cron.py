"""Snapshot schedules where the release has none (XenServer before 7.2, no
VMSS): a cron entry in dom0, ``/etc/cron.d/xstui-snapshots-NAME``, runs
``xstui snapshot-rotate local`` at the schedule's times; it snapshots (or
checkpoints) each VM, marks the snapshot as the schedule's
(``other_config:xstui_schedule``) and deletes the schedule's oldest beyond
the number kept, with their disks, as XAPI's own schedules do. Times are
dom0's clock. Made and removed from the console in dom0 (``xstui local``)."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass

from ...areas import see
from ...files import write_atomic
from ...script import say
from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..host.local import LocalSystem
from ..leftovers import destroy_snapshot, snapshot_disks
from .cli import rotate_parser
from .schedules import DAYS, ScheduleRow, Settings, schedule_fields, when_words

CRON_DIR = "etc/cron.d"
PREFIX = "xstui-snapshots-"
TAG = "xstui_schedule"  # other_config key of the snapshots a cron schedule takes
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$")


# the cron entries --------------------------------------------------------------------
@dataclass(frozen=True)
class CronEntry:
    name: str
    when: str  # as schedule_rows says it ("daily 02:30")
    kept: int
    vms: tuple[str, ...]  # uuids
    checkpoint: bool


def _file(system: LocalSystem, name: str):
    return system.path(f"{CRON_DIR}/{PREFIX}{name}")


def cron_line(s: Settings, uuids: list[str], program: list[str]) -> str:
    minute = s.schedule.get("min", "0")
    hour = s.schedule.get("hour", "*") if s.frequency != "hourly" else "*"
    days = "*"
    if s.frequency == "weekly":
        days = ",".join(str((DAYS.index(d) + 1) % 7) for d in s.schedule["days"].split(","))
    args = [*program, "snapshot-rotate", "local", "--name", s.name, "--keep", str(s.kept)]
    args += ["--checkpoint"] if s.kind == "checkpoint" else []
    for uuid in uuids:
        args += ["--vm", uuid]
    return f"{minute} {hour} * * {days} root {shlex.join(args)}"


def _parse(name: str, text: str) -> CronEntry | None:
    for line in text.splitlines():
        fields = line.split(None, 6)
        if len(fields) < 7 or line.startswith("#"):
            continue
        minute, hour, _dom, _month, dow, _user, command = fields
        words = shlex.split(command)
        args, _ = rotate_parser().parse_known_args(words[words.index("snapshot-rotate") + 1 :])
        if dow != "*":
            days = ",".join(DAYS[(int(d) - 1) % 7] for d in dow.split(","))
            schedule, frequency = {"hour": hour, "min": minute, "days": days}, "weekly"
        elif hour == "*":
            schedule, frequency = {"min": minute}, "hourly"
        else:
            schedule, frequency = {"hour": hour, "min": minute}, "daily"
        return CronEntry(
            name, when_words(frequency, schedule), args.keep, tuple(args.vm), args.checkpoint
        )
    return None


def cron_entries(system: LocalSystem) -> list[CronEntry]:
    folder = system.path(CRON_DIR)
    out = []
    for path in sorted(folder.glob(PREFIX + "*")) if folder.is_dir() else []:
        try:
            entry = _parse(path.name[len(PREFIX) :], path.read_text())
        except (OSError, ValueError, IndexError, SystemExit):
            continue  # not one this console wrote
        if entry is not None:
            out.append(entry)
    return out


def cron_rows(cache: Cache, system: LocalSystem) -> list[ScheduleRow]:
    """The cron entries as the Schedules tab lists XAPI's (keyed ``cron:NAME``)."""
    with cache.lock:
        names = {vm.uuid: vm.name_label for vm in cache.table("vm").values()}
    return [
        ScheduleRow(
            f"cron:{e.name}",
            e.name,
            "checkpoint" if e.checkpoint else "snapshot",
            e.when,
            e.kept,
            tuple(sorted(names.get(uuid, uuid) for uuid in e.vms)),
            "by cron",
            "",
            True,
        )
        for e in cron_entries(system)
    ]


def _program() -> list[str]:
    """How cron starts this console."""
    found = shutil.which("xstui")
    return [found] if found else [sys.executable, "-m", "xstui"]


# made and removed in dom0 ------------------------------------------------------------
class _InDom0(Action):
    # no call to make: the entry runs as root in dom0 (RotateSnapshots)
    calls = ()

    @classmethod
    def unavailable(cls, conn) -> str:
        if conn.target.kind == "local":
            return ""
        return f"{conn.release}'s cron schedules are entries in dom0: run xstui local on the master"


class CronSchedule(_InDom0):
    """A cron entry in dom0 that snapshots VMs at the schedule's times."""

    @staticmethod
    def fields(cache: Cache) -> list:
        return schedule_fields(cache, quiesce=False)

    def __init__(self, system: LocalSystem | None, cache: Cache, values: dict):
        if system is None:
            raise InvalidInput(["a cron entry is made in dom0: run xstui local on the master"])
        self.s = Settings.checked(cache, values)
        problems = []
        if not NAME_RE.match(self.s.name):
            problems.append(
                "a cron schedule's name is letters, digits, '.', '_' or '-' (it names its file)"
            )
        if self.s.kind == "snapshot_with_quiesce":
            problems.append("a quiesced snapshot needs XAPI's schedules (7.2 and later)")
        if not self.s.vms:
            problems.append("choose at least one VM")
        self.system, self.path = system, _file(system, self.s.name)
        if self.path.exists():
            problems.append(f"a cron schedule named {self.s.name!r} exists already")
        if problems:
            raise InvalidInput(problems)
        with cache.lock:
            self.uuids = [cache.get("vm", vm).uuid for vm in self.s.vms]
        self.line = cron_line(self.s, self.uuids, _program())

    def plan(self) -> Plan:
        s = self.s
        return Plan(
            title=f"New snapshot schedule {s.name} (cron in dom0)",
            summary=f"{s.name}: {when_words(s.frequency, s.schedule)} (dom0's clock), "
            f"{s.kept} kept, {len(s.vms)} VM(s), by cron: this release has no XAPI schedules.",
            xe=[f"echo {shlex.quote(self.line)} > /{CRON_DIR}/{PREFIX}{s.name}"],
            impact=[
                "cron runs xstui snapshot-rotate on this host: a snapshot of each VM, the "
                f"newest {s.kept} of the schedule's kept, older ones deleted with their disks",
                "it runs on this host only: if another host becomes master, make it there again",
            ],
        )

    def run(self, ctx: RunContext) -> str:
        where = see("backup", "s", tab="Snapshot schedules")
        text = f"# xstui snapshot schedule {self.s.name}: remove with xstui local, {where}\n"
        write_atomic(self.path, text + self.line + "\n", 0o644, exclusive=True)
        ctx.on_undo("remove the cron entry", lambda: self.path.unlink(missing_ok=True))
        return f"Cron schedule {self.s.name!r} written to /{CRON_DIR}/{PREFIX}{self.s.name}."


class RemoveCronSchedule(_InDom0):
    def __init__(self, system: LocalSystem | None, name: str):
        if system is None:
            raise InvalidInput(["a cron entry is removed in dom0: run xstui local on the master"])
        self.system, self.name, self.path = system, name, _file(system, name)
        if not self.path.exists():
            raise InvalidInput([f"no cron schedule named {name!r}"])

    def plan(self) -> Plan:
        return Plan(
            title=f"Delete the cron snapshot schedule {self.name}",
            summary=f"No more snapshots are taken by {self.name}; those it took stay.",
            xe=[f"rm /{CRON_DIR}/{PREFIX}{self.name}"],
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        kept = self.path.read_bytes()
        self.path.unlink()
        ctx.on_undo("put the cron entry back", lambda: write_atomic(self.path, kept, 0o644))
        return f"Cron schedule {self.name!r} deleted."


# what cron runs ----------------------------------------------------------------------
class RotateSnapshots(Action):
    """One run of a cron schedule on one VM: a snapshot marked as the
    schedule's, then its oldest beyond ``keep`` deleted with their disks."""

    calls = (
        "VM.snapshot",
        "VM.checkpoint",
        "VM.add_to_other_config",
        "VM.destroy",
        "VDI.destroy",
        "VM.hard_shutdown",
    )
    optional = ("VM.hard_shutdown",)  # a checkpoint's memory image goes first

    def __init__(self, vm: str, vm_name: str, name: str, keep: int, checkpoint: bool):
        self.vm, self.vm_name, self.name, self.keep = vm, vm_name, name, keep
        self.op = "checkpoint" if checkpoint else "snapshot"

    def plan(self) -> Plan:
        return Plan(
            title=f"Scheduled {self.op} of {self.vm_name} ({self.name})",
            summary=f"A {self.op}, the newest {self.keep} of {self.name} kept.",
            xe=[f"xe vm-{self.op} vm={shlex.quote(self.vm_name)}"],
        )

    def run(self, ctx: RunContext) -> str:
        label = f"{self.vm_name}-{self.name}-{time.strftime('%Y%m%d-%H%M')}"
        snap = ctx.call(f"VM.{self.op}", self.vm, label)
        ctx.call("VM.add_to_other_config", snap, TAG, self.name)
        mine = []
        for ref in ctx.call("VM.get_snapshots", self.vm):
            rec = ctx.call("VM.get_record", ref)
            if rec["other_config"].get(TAG) == self.name:
                mine.append((str(rec["snapshot_time"]), ref, rec["power_state"] == "Suspended"))
        gone = sorted(mine)[: max(0, len(mine) - self.keep)]
        for _when, ref, suspended in gone:
            destroy_snapshot(ctx, ref, snapshot_disks(ctx.conn, ref), suspended=suspended)
        return f"{label} taken; {len(gone)} older deleted."


def rotate(conn, args) -> int:
    """``xstui snapshot-rotate``'s run on a loaded pool: each VM in turn."""
    failed = 0
    for uuid in args.vm:
        try:
            vm = conn.call("VM.get_by_uuid", uuid)
            name = conn.call("VM.get_name_label", vm)
            action = RotateSnapshots(vm, name, args.name, args.keep, args.checkpoint)
            say(action.execute(RunContext(conn)))
        except Exception as exc:  # one VM's failure never stops the others
            failed += 1
            say(f"xstui: {uuid}: {exc}", file=sys.stderr)
    return 1 if failed else 0
