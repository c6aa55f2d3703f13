"""``xstui status TARGET --json``: the Status model for scripts and monitoring."""

from __future__ import annotations

import json

from ...script import CliCommand, fail, target_arguments, with_pool
from ..fleet.arguments import fleet_arguments


def pool_status(conn):
    """The Status model of a connected pool (its cache loaded)."""
    from ...areas import health_rules
    from ...xapi.tls import live_fingerprint
    from ..host.local import XAPI_PEM, LocalSystem
    from .model import build_status

    system = LocalSystem()
    fingerprint, source = live_fingerprint(conn.target, str(system.path(XAPI_PEM)))
    dom0 = None
    if conn.target.kind == "local":
        from .dom0 import dom0_status

        dom0 = dom0_status(system)
    return build_status(
        conn.cache,
        conn.this_host,
        rules=health_rules(),
        fingerprint=fingerprint,
        fingerprint_source=source,
        dom0=dom0,
    )


def run_status(args) -> int:
    if args.fleet:
        from ..fleet.cli import run_status_fleet

        return run_status_fleet(args)
    if not args.target:
        return fail("give a TARGET (or --fleet FILE|GROUP)")
    print(json.dumps(with_pool(args, pool_status).to_dict(), indent=2))
    return 0


def status_arguments(parser) -> None:
    target_arguments(parser, fleet=True)
    fleet_arguments(parser)


STATUS_COMMAND = CliCommand(
    "status",
    "print the status of a pool (or of each pool of a fleet) as JSON (no TUI)",
    run_status,
    status_arguments,
)
