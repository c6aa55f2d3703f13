"""``xstui status TARGET --json``: the Status model for scripts and monitoring."""

from __future__ import annotations

import json

from ...script import CliCommand, target_arguments, with_pool


def run_status(args) -> int:
    from ...areas import health_rules
    from ...xapi.tls import live_fingerprint
    from ..host.local import XAPI_PEM, LocalSystem
    from .model import build_status

    def status(conn):
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

    print(json.dumps(with_pool(args, status).to_dict(), indent=2))
    return 0


STATUS_COMMAND = CliCommand(
    "status", "print the status of a pool as JSON (no TUI)", run_status, target_arguments
)
