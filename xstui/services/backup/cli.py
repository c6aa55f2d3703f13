"""One-shot commands of the Backup area, for cron jobs: the screen's own
actions (BackupVm, DumpDatabase, ImportVm, ImportMetadata), with its checks,
its plan and ``xe`` equivalent, its undo and its audit line.

- ``xstui backup TARGET vm NAME [--to FILE]``: the VM (its name or UUID) to
  an XVA file, through a snapshot when it runs; the file is read back and
  every block's checksum checked;
- ``xstui backup TARGET pool-db [--to FILE]``: the pool database;
- ``xstui restore TARGET FILE [--sr NAME] [--restore] [--force]``: an XVA
  imported (to the pool's default SR unless --sr), halted; or VM metadata
  (a ``.meta.xva`` file or a folder of them);
- ``xstui snapshot-rotate TARGET --name N --keep K --vm UUID...``: what a
  cron snapshot schedule runs in dom0 where the release has no VMSS (see
  xstui.services.backup.cron).

Each takes --yes (without it, asks on a terminal and refuses without one),
--dry-run (the plan and its xe equivalent; nothing changes) and --json (the
result alone on stdout). Progress, with the bytes, goes to stderr when it is
a terminal. Exit codes (xstui.script): 0 done; 1 failed on the pool (what
was done undone, said) or not confirmed; 2 refused before anything changed
(arguments, a VM or SR name matching none or several, a file, its room, a
restore whose VM or MACs are in the pool) or a file found corrupt while it
streamed (what it made removed); 3 the pool could not be reached or went
away; 130 Ctrl-C (what was done undone)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable

from ...script import (
    EXIT_CONNECT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliCommand,
    action_arguments,
    confirmed,
    dry_run,
    fail,
    live_pool,
    say,
    target_arguments,
    with_pool,
)
from ..values import printable

# What the commands use is imported when they run: parsing the command line
# imports no more than the arguments (see xstui.areas).

BACKUP_KINDS = ("vm", "pool-db")
# XAPI's refusals of an import's file (cut short, not an XVA, from a newer
# release...): bad input, exit 2 like the console's own checks
FILE_REFUSED = "IMPORT_"
MAX_KEPT = 10  # snapshots a schedule keeps at most (Xapi_vmss.assert_retained_snapshots)


def backup_arguments(parser) -> None:
    target_arguments(parser)
    parser.add_argument("what", choices=BACKUP_KINDS, help="a VM to an XVA, or the pool database")
    parser.add_argument("name", nargs="?", default="", help="the VM's name or UUID (vm)")
    parser.add_argument(
        "--to",
        metavar="FILE",
        default="",
        help="the file to write, new (a backup never overwrites); default: "
        "$XSTUI_BACKUP_DIR or ~/xstui-backups, named after the VM or pool and the time",
    )
    action_arguments(parser)


def restore_arguments(parser) -> None:
    target_arguments(parser)
    parser.add_argument(
        "file", help="an XVA file, or VM metadata (a .meta.xva file or a folder of them)"
    )
    parser.add_argument(
        "--sr",
        metavar="NAME",
        default="",
        help="the SR the disks go to: its name, 'NAME on HOST' for a local one, or its UUID "
        "(default: the pool's default SR)",
    )
    parser.add_argument(
        "--restore",
        action="store_true",
        help="keep the VM's UUID and MACs (refused when they are in the pool); "
        "default: a copy with new ones",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="as XAPI's force: let blocks with a bad checksum in (said in the result)",
    )
    action_arguments(parser)


def vm_named(cache, name: str) -> str:
    """The VM (not a template, snapshot or control domain) that ``name``
    names, by UUID or name; InvalidInput when none or several."""
    from ...xapi import views
    from ..actions import InvalidInput
    from ..values import listing

    with cache.lock:
        vms = list(views.user_vms(cache))
        same = [vm for vm in vms if vm.uuid == name] or [vm for vm in vms if vm.name_label == name]
        if len(same) == 1:
            return same[0].ref
        if same:

            def state(vm) -> str:
                where = (
                    f" on {cache.label('host', vm.resident_on)}"
                    if vm.resident_on in cache.table("host")
                    else ""
                )
                return f"{vm.power_state.lower()}{where}"

            which = [f"{vm.uuid} ({state(vm)})" for vm in same]
            raise InvalidInput(
                [f"{len(same)} VMs are named {name!r}: {listing(which, 4)}; give the UUID of one"]
            )
        other = next(
            (vm for vm in cache.table("vm").values() if name in (vm.name_label, vm.uuid)), None
        )
        alike = sorted(vm.name_label for vm in vms if vm.name_label.lower() == name.lower())
    if other is not None:
        kind = next(
            what
            for flag, what in (
                (other.is_a_snapshot, "a snapshot"),
                (other.is_a_template, "a template"),
                (True, "the control domain of a host"),
            )
            if flag
        )
        raise InvalidInput([f"{name!r} is {kind}, not a VM: only VMs are backed up"])
    hint = f" (did you mean {listing([repr(a) for a in alike], 3)}?)" if alike else ""
    raise InvalidInput([f"no VM is named {name!r}{hint}"])


def sr_chosen(cache, name: str) -> str:
    """The label (of disk_srs) of the SR --sr names, or of the pool's default
    SR without it; InvalidInput when it names none or several."""
    from ...xapi import views
    from ..actions import InvalidInput
    from ..disks import disk_srs, srs_named
    from ..values import listing

    srs = disk_srs(cache)
    if not name:
        pool = views.pool(cache)
        default = pool.default_SR if pool is not None else ""
        label = next((label for label, ref in srs.items() if ref == default), "")
        if label:
            return label
        raise InvalidInput(
            [
                "the pool has no default SR that disks can go to: choose one with --sr "
                f"({listing(srs, 4) or 'none is plugged'})"
            ]
        )
    found = srs_named(cache, name)
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidInput(
            [
                f"{len(found)} SRs are named {name!r}: {listing(found, 4)}; give 'NAME on HOST' or its UUID"
            ]
        )
    raise InvalidInput(
        [f"no SR that disks can go to is named {name!r}: {listing(srs, 6) or 'none is plugged'}"]
    )


def run_backup(args) -> int:
    from ..actions import InvalidInput
    from .pooldb import DumpDatabase
    from .vms import BackupVm

    if args.what == "vm" and not args.name:
        return fail("name the VM to back up: xstui backup TARGET vm NAME")
    if args.what == "pool-db" and args.name:
        return fail(f"pool-db takes no name ({args.name!r}): xstui backup TARGET pool-db")
    with live_pool(args) as conn:
        cache = conn.cache
        try:
            if args.what == "vm":
                vm = vm_named(cache, args.name)
                action = BackupVm(cache, vm, args.to or BackupVm.fields(cache, vm)[0].value)
            else:
                action = DumpDatabase(cache, args.to or DumpDatabase.fields(cache)[0].value)
        except InvalidInput as exc:
            return fail("; ".join(exc.problems))
        return perform(conn, action, args, lambda: _written(action))


def _written(action) -> dict:
    """The file a backup wrote, for --json: its size and, for an XVA, what
    was checked (every block's checksum, read back from the file)."""
    doc = {"file": str(action.path), "bytes": action.path.stat().st_size}
    report = getattr(action, "report", None)
    if report is not None:
        doc.update(vm=action.name, disks=report.disks, blocks=report.blocks, checked=True)
    return doc


def run_restore(args) -> int:
    from ...xapi.connection import ConnectionLost, XapiFailure
    from ..actions import InvalidInput
    from .imports import FORCE, RESTORE, ImportVm, import_source
    from .vms import ImportMetadata

    with live_pool(args) as conn:
        cache = conn.cache
        try:
            # absolute: the plan's xe line and the audit log name the file wherever run
            source = import_source(cache, os.path.abspath(os.path.expanduser(args.file)))
            if isinstance(source, ImportMetadata):
                given = [f"--{o}" for o in ("sr", "restore", "force") if getattr(args, o)]
                if given:
                    raise InvalidInput(
                        [
                            f"{args.file} holds VM metadata (their disks are on the pool's SRs "
                            f"already): {', '.join(given)} apply to an XVA only"
                        ]
                    )
                action = source
            else:
                action = ImportVm(
                    cache,
                    source,
                    sr_chosen(cache, args.sr),
                    next(label for label, keep in RESTORE.items() if keep == args.restore),
                    next(label for label, on in FORCE.items() if on == args.force),
                )
                action.precheck(conn)  # the SR's room, as its storage manager counts it
        except InvalidInput as exc:
            return fail("; ".join(exc.problems))
        except (XapiFailure, ConnectionLost) as exc:
            return fail(str(exc), EXIT_CONNECT)
        return perform(conn, action, args, lambda: _imported(conn, action))


def _imported(conn, action) -> dict:
    """The VMs an import brought, for --json: each one's name, UUID and power state."""
    from .vms import ImportMetadata

    if isinstance(action, ImportMetadata):
        return {"vms": [{"name": f.vm_name, "uuid": f.vm_uuid} for f in action.files]}
    vms = []
    with conn.cache.lock:
        for ref in action.made:
            rec = conn.cache.get("vm", ref)
            if rec is not None:
                vms.append(
                    {"name": rec.name_label, "uuid": rec.uuid, "power_state": rec.power_state}
                )
    report = action.report
    return {"vms": vms, "disks": report.disks, "blocks": report.blocks}


def perform(conn, action, args, result: Callable[[], dict]) -> int:
    """What the screen's flow does, without it: the release's and the role's
    refusals, the plan (or --dry-run), the go-ahead, the run through
    Action.execute (undo and audit line) with its progress on a terminal's
    stderr, then the outcome (``result()``: what --json adds to it)."""
    from ...xapi.connection import ConnectionLost
    from ..actions import (
        ActionFailed,
        Cancelled,
        InvalidInput,
        OutcomeUnknown,
        RunContext,
        TaskFailed,
    )

    plan = action.plan()
    refusal = action.unavailable(conn) or action.why_not(conn)
    if refusal:
        return fail(f"{plan.title}: {refusal}. Nothing was done.")
    if args.dry_run:
        return dry_run(plan, args.json)
    out = sys.stderr if args.json else sys.stdout  # with --json, stdout holds the result alone
    refused = confirmed(plan, args.yes, out)
    if refused is not None:
        return refused
    meter = Meter(sys.stderr)
    ctx = RunContext(conn, progress=meter.progress, note=meter.note)

    def stop(signum, frame):
        if ctx.cancel.is_set():
            raise SystemExit(EXIT_INTERRUPTED)
        ctx.cancel.set()  # the action stops and undoes what it did
        meter.say("Stopping: what was done is undone (Ctrl-C again to quit at once)")

    before = signal.signal(signal.SIGINT, stop)
    try:
        with meter:
            outcome = action.execute(ctx)
    except ActionFailed as exc:
        from ...widgets.notice import error_text  # the screen's words (no Textual in it)

        cause = exc.cause
        if isinstance(cause, Cancelled):
            code = EXIT_INTERRUPTED
        elif isinstance(cause, InvalidInput) or (
            isinstance(cause, TaskFailed) and cause.failure.code.startswith(FILE_REFUSED)
        ):
            code = EXIT_USAGE  # the file, refused by the console's check or by the host's
        elif isinstance(cause, ConnectionLost | OutcomeUnknown):
            code = EXIT_CONNECT
        else:
            code = EXIT_FAILED
        words = error_text(exc, conn.cache)
        if args.json:
            print(json.dumps({"done": False, "error": words}, indent=2))
        return fail(f"{plan.title}: {words}", code)
    finally:
        signal.signal(signal.SIGINT, before)
    if args.json:
        print(json.dumps({"done": True, "outcome": outcome, **result()}, indent=2))
    else:
        say(outcome)
    return 0


class Meter:
    """The run's progress on one line of stderr when it is a terminal: the
    share done and what happens now ("120 of 512 MiB sent, 118 block(s)
    checked"), redrawn at most every REDRAW seconds but at once for a new
    kind of step; cleared when it ends. Silent otherwise: a cron job's mail
    holds the result alone."""

    REDRAW = 0.1

    def __init__(self, out):
        self.out = out if out.isatty() else None
        self.share, self.text, self.kind, self.at = 0.0, "", "", 0.0
        self.drawn = False
        self.lock = threading.Lock()

    def progress(self, share: float) -> None:
        self.share = share
        self._draw()

    def note(self, text: str) -> None:
        self.text = text
        self._draw(new=re.sub(r"\d+", "#", text) != self.kind)

    def say(self, text: str) -> None:
        """A line of its own (above the meter)."""
        with self.lock:
            if self.out is not None:
                self.out.write("\r\x1b[K")
            say(text, file=sys.stderr)
            self.at = 0.0

    def _draw(self, new: bool = False) -> None:
        if self.out is None:
            return
        with self.lock:
            now = time.monotonic()
            if not new and now - self.at < self.REDRAW:
                return
            self.at, self.kind, self.drawn = now, re.sub(r"\d+", "#", self.text), True
            width = max(20, shutil.get_terminal_size().columns - 1)
            line = printable(f"{min(1.0, self.share):4.0%} {self.text}")[:width]
            self.out.write(f"\r{line}\x1b[K")
            self.out.flush()

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc) -> None:
        if self.out is not None and self.drawn:  # the outcome says the rest
            self.out.write("\r\x1b[K")
            self.out.flush()


# snapshot-rotate ------------------------------------------------------------------
def _rotate_options(parser) -> None:
    parser.add_argument("--name", required=True, help="the schedule's name (marks its snapshots)")
    parser.add_argument("--keep", type=int, required=True, help=f"snapshots kept (1-{MAX_KEPT})")
    parser.add_argument("--checkpoint", action="store_true", help="with the memory")
    parser.add_argument("--vm", action="append", default=[], metavar="UUID", help="a VM")


def rotate_parser() -> argparse.ArgumentParser:
    """The options alone: how a cron entry's command line is read back."""
    parser = argparse.ArgumentParser(prog="xstui snapshot-rotate", add_help=False)
    _rotate_options(parser)
    return parser


def rotate_arguments(parser) -> None:
    target_arguments(parser)
    _rotate_options(parser)


def run_rotate(args) -> int:
    if not 1 <= args.keep <= MAX_KEPT:
        return fail(f"--keep is 1 to {MAX_KEPT}")
    if not args.vm:
        return fail("give the VMs, --vm UUID each")
    from .cron import rotate

    return with_pool(args, lambda conn: rotate(conn, args))


BACKUP_COMMAND = CliCommand(
    "backup",
    "back up a VM to an XVA file (checked), or the pool database, as the Backup screen does",
    run_backup,
    backup_arguments,
)
RESTORE_COMMAND = CliCommand(
    "restore",
    "import a VM from an XVA file (halted), or VMs from metadata, as the Backup screen does",
    run_restore,
    restore_arguments,
)
ROTATE_COMMAND = CliCommand(
    "snapshot-rotate",
    "what a cron snapshot schedule runs (releases before 7.2): snapshot VMs, keep the newest N",
    run_rotate,
    rotate_arguments,
)
