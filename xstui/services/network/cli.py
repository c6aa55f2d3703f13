"""``xstui check TARGET``: the pool consistency check; exit 1 when it finds something."""

from __future__ import annotations

import json

from ...script import CliCommand, target_arguments, with_pool
from .consistency import check_pool


def run_check(args) -> int:
    findings = with_pool(args, lambda conn: check_pool(conn.cache))
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        for f in findings:
            print(f"{f.severity:<8} {f.rule:<10} {f.text}")
        print(f"{len(findings)} finding(s)" if findings else "The pool is consistent.")
    return 1 if findings else 0


CHECK_COMMAND = CliCommand(
    "check",
    "check the pool's consistency (exit 1 when something is found)",
    run_check,
    target_arguments,
)
