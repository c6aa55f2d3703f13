"""VM metadata on a portable SR, the dom0 way: the host's own
``xe-backup-metadata`` and ``xe-restore-metadata``, driven as xsconsole does
(probe, create the backup VDI when missing, list backups newest first,
restore "only VMs on this SR" or "all", each as a dry run first), their
output streamed; and the schedule, a cron link as the host's tools make it.
Remotely none of this exists: the API offers the pool database dump and
per-VM metadata export instead, and the screen says so."""

from __future__ import annotations

from dataclasses import dataclass

from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field
from ..host.local import LocalError, LocalSystem

FREQUENCIES = ("daily", "weekly", "monthly", "never")
CRON_LINK = "etc/cron.{}/backup-metadata"
CRON_TARGET = "opt/xensource/libexec/backup-metadata-cron"
NO_VDI = 3  # xe-backup-metadata -n: the SR has no backup VDI yet
REMOTE = (
    "Metadata backups to an SR are a dom0 job (the host's xe-backup-metadata, run by cron): "
    "run xstui local on the pool master for them. From here: d dumps the pool database and "
    "m exports the metadata of the marked VMs."
)


@dataclass(frozen=True)
class SrChoice:
    ref: str
    uuid: str
    name: str
    shared: bool


def metadata_srs(cache: Cache) -> list[SrChoice]:
    """SRs that can hold the backup VDI: shared ones first (they move with the
    disks), then local ones (a single point of failure)."""
    with cache.lock:
        rows = [
            SrChoice(ref, sr.uuid, sr.name_label, sr.shared)
            for ref, sr in cache.table("sr").items()
            if sr.type not in ("iso", "udev") and sr.content_type != "iso"
        ]
    return sorted(rows, key=lambda s: (not s.shared, s.name.lower()))


def sr_label(choice: SrChoice) -> str:
    local = "" if choice.shared else " (local: a single point of failure)"
    return f"{choice.name}{local} {choice.uuid[:8]}"


def sr_field(cache: Cache) -> Field:
    """The SR of the metadata backup (to make or to restore from): shared ones first."""
    labels = [sr_label(c) for c in metadata_srs(cache)]
    return Field("sr", "SR", labels[0] if labels else "", choices=labels)


def sr_chosen(cache: Cache, label: str) -> SrChoice:
    found = next((c for c in metadata_srs(cache) if sr_label(c) == label), None)
    if found is None:
        raise InvalidInput(["choose an SR"])
    return found


def schedule(system: LocalSystem) -> str:
    """The current frequency, from the cron links."""
    for period in FREQUENCIES[:-1]:
        if system.path(CRON_LINK.format(period)).is_symlink():
            return period
    return "never"


class BackupMetadata(Action):
    """xe-backup-metadata onto the SR (the backup VDI created if missing)."""

    calls = ("VDI.create",)

    def __init__(self, system: LocalSystem, choice: SrChoice | None):
        if choice is None:
            raise InvalidInput(["choose an SR"])
        self.system, self.sr = system, choice

    def plan(self) -> Plan:
        impact = ["the SR gets a 256 MiB 'Pool Metadata Backup' disk if it has none yet"]
        if not self.sr.shared:
            impact.insert(
                0,
                f"warning: {self.sr.name} is local: if this host is lost, so is the backup "
                "(a shared SR moves with the VMs' disks)",
            )
        return Plan(
            title=f"Back up VM metadata to {self.sr.name}",
            summary="The pool database and every VM's metadata are written to the SR's backup "
            "disk (12 backups kept).",
            xe=[f"xe-backup-metadata -c -u {self.sr.uuid}"],
            steps=["probe for the backup VDI (-n)", "back up (with -c when it is missing)"],
            impact=impact,
            risk="medium" if not self.sr.shared else "low",
        )

    def run(self, ctx: RunContext) -> str:
        code, out = self.system.status("xe-backup-metadata", "-n", "-u", self.sr.uuid)
        if code not in (0, NO_VDI):
            raise InvalidInput([f"xe-backup-metadata -n failed: {out}"])
        args = (["-c"] if code == NO_VDI else []) + ["-u", self.sr.uuid]
        return _streamed(ctx, self.system, "xe-backup-metadata", args)


def _streamed(ctx: RunContext, system: LocalSystem, tool: str, args: list[str]) -> str:
    """Run a dom0 script, its lines shown as they come; the last one is the outcome."""
    last = ""
    try:
        for line in system.stream(tool, *args):
            ctx.check_cancel()
            if line.strip():
                last = line.strip()
                ctx.note(last)
    except LocalError as exc:
        raise InvalidInput([str(exc)]) from None
    return last or f"{tool} finished"


def probe_backups(system: LocalSystem, sr_uuid: str) -> tuple[str, list[str]]:
    """(backup VDI uuid, backup dates newest first); InvalidInput when none."""
    code, out = system.status("xe-restore-metadata", "-p", "-u", sr_uuid)
    if code != 0 or not out.strip():
        raise InvalidInput([f"no metadata backup on that SR ({out or 'nothing found'})"])
    vdi = out.strip().splitlines()[-1]
    code, out = system.status("xe-restore-metadata", "-l", "-u", sr_uuid, "-x", vdi)
    if code != 0:
        raise InvalidInput([f"cannot list the backups: {out}"])
    return vdi, [d for d in out.splitlines() if d.strip()]


class RestoreMetadata(Action):
    """xe-restore-metadata for one backup date, "sr" (VMs with disks on that
    SR) or "all"; ``dry_run`` only says what would be imported."""

    calls = ("VM.import",)

    def __init__(
        self,
        system: LocalSystem,
        sr: SrChoice,
        vdi: str,
        date: str,
        mode: str,
        dry_run: bool,
        dry_run_said: str = "",
    ):
        if mode not in ("sr", "all"):
            raise InvalidInput([f"mode {mode!r}: sr or all"])
        self.system, self.sr, self.vdi, self.date = system, sr, vdi, date
        self.mode, self.dry_run, self.dry_run_said = mode, dry_run, dry_run_said
        self.said = ""  # the script's last line, once run

    @property
    def would_import(self) -> bool:
        """After a dry run: whether it found anything to import."""
        return not self.said.startswith("0 VM(s)")

    def _args(self) -> list[str]:
        dry = ["-n"] if self.dry_run else []
        return ["-y", *dry, "-u", self.sr.uuid, "-x", self.vdi, "-d", self.date, "-m", self.mode]

    def plan(self) -> Plan:
        which = "The VMs with disks on this SR" if self.mode == "sr" else "Every VM"
        summary = f"{which} in the backup of {self.date} on {self.sr.name} " + (
            "are listed, nothing is imported." if self.dry_run else "are imported."
        )
        if self.dry_run_said:
            summary += f" The dry run said: {self.dry_run_said}"
        return Plan(
            title=f"{'Dry run: r' if self.dry_run else 'R'}estore VM metadata from {self.date}",
            summary=summary,
            xe=["xe-restore-metadata " + " ".join(self._args())],
            impact=[]
            if self.dry_run
            else [
                "VM records come back, halted, on their disks; VMs that exist already are "
                "left as they are (reported as not imported)"
            ],
            risk="low" if self.dry_run else "medium",
        )

    def run(self, ctx: RunContext) -> str:
        self.said = _streamed(ctx, self.system, "xe-restore-metadata", self._args())
        return self.said


class SetSchedule(Action):
    """The cron link the host's tools use: one of daily, weekly, monthly, or none."""

    def __init__(self, system: LocalSystem, frequency: str):
        if frequency not in FREQUENCIES:
            raise InvalidInput([f"{frequency!r}: one of {', '.join(FREQUENCIES)}"])
        self.system, self.frequency = system, frequency
        self.current = schedule(system)

    def plan(self) -> Plan:
        link = "/" + CRON_LINK.format(self.frequency)
        xe = (
            [f"ln -s /{CRON_TARGET} {link}"]
            if self.frequency != "never"
            else ["rm /" + CRON_LINK.format(self.current)]
        )
        return Plan(
            title=f"Metadata backups: {self.frequency} (now {self.current})",
            summary="Scheduled metadata backups, run by the host's backup-metadata-cron; the "
            "link is the one xsconsole makes.",
            xe=xe,
            impact=["cron runs the host's backup-metadata-cron script"],
        )

    def run(self, ctx: RunContext) -> str:
        for period in FREQUENCIES[:-1]:
            link = self.system.path(CRON_LINK.format(period))
            if link.is_symlink():
                link.unlink()
                ctx.on_undo("put the old schedule back", lambda link=link: _link(self.system, link))
        if self.frequency != "never":
            _link(self.system, self.system.path(CRON_LINK.format(self.frequency)))
        return f"Metadata backups: {self.frequency}."


def _link(system: LocalSystem, link) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to("/" + CRON_TARGET)
