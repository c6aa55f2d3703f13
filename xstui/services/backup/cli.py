"""``xstui snapshot-rotate TARGET``: what a cron snapshot schedule runs in
dom0 where the release has no VMSS (see xstui.services.backup.cron). Parsing
its arguments imports nothing else."""

from __future__ import annotations

import argparse

from ...script import CliCommand, fail, target_arguments, with_pool

MAX_KEPT = 10  # snapshots a schedule keeps at most (Xapi_vmss.assert_retained_snapshots)


def _options(parser) -> None:
    parser.add_argument("--name", required=True, help="the schedule's name (marks its snapshots)")
    parser.add_argument("--keep", type=int, required=True, help=f"snapshots kept (1-{MAX_KEPT})")
    parser.add_argument("--checkpoint", action="store_true", help="with the memory")
    parser.add_argument("--vm", action="append", default=[], metavar="UUID", help="a VM")


def rotate_parser() -> argparse.ArgumentParser:
    """The options alone: how a cron entry's command line is read back."""
    parser = argparse.ArgumentParser(prog="xstui snapshot-rotate", add_help=False)
    _options(parser)
    return parser


def rotate_arguments(parser) -> None:
    target_arguments(parser)
    _options(parser)


def run_rotate(args) -> int:
    if not 1 <= args.keep <= MAX_KEPT:
        return fail(f"--keep is 1 to {MAX_KEPT}")
    if not args.vm:
        return fail("give the VMs, --vm UUID each")
    from .cron import rotate

    return with_pool(args, lambda conn: rotate(conn, args))


ROTATE_COMMAND = CliCommand(
    "snapshot-rotate",
    "what a cron snapshot schedule runs (releases before 7.2): snapshot VMs, keep the newest N",
    run_rotate,
    rotate_arguments,
)
