"""``xstui check --fleet FILE|GROUP`` and ``xstui status --fleet …``: one
result per pool, in the fleet's order; the exit code is the worst pool's
(130 after Ctrl+C, with what came back printed)."""

from __future__ import annotations

import json
import sys

from ...script import EXIT_USAGE, fail, say
from .metrics import openmetrics
from .passwords import Passwords
from .run import FleetRun, PoolResult, run_fleet
from .targets import FleetError, FleetTarget, resolve_fleet

MAX_CONCURRENCY = 64


def fleet_of(args) -> list[FleetTarget]:
    """The fleet the arguments name; exits 2 with the file's problems."""
    from ...xapi.config import Config

    if args.target:
        raise SystemExit(fail("give a TARGET or --fleet, not both"))
    if args.fingerprint:
        raise SystemExit(fail("with --fleet, each pool's fingerprint is in the fleet file"))
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        raise SystemExit(fail(f"--concurrency must be 1 to {MAX_CONCURRENCY}"))
    if not 0 < args.timeout <= 3600:
        raise SystemExit(fail("--timeout must be between 0 and 3600 seconds"))
    try:
        return resolve_fleet(args.fleet, Config.load())
    except FleetError as exc:
        raise SystemExit(refuse(exc)) from None


def refuse(exc: FleetError) -> int:
    """Each problem of a fleet on a line of its own; exit 2."""
    for line in str(exc).splitlines():
        say(f"xstui: {line}", file=sys.stderr)
    return EXIT_USAGE


def over_fleet(args, work) -> FleetRun:
    from ...areas import watched_types
    from ...xapi.config import Config

    pools = fleet_of(args)
    config = Config.load()
    return run_fleet(
        pools,
        work,
        passwords=Passwords(args.password_command or ""),
        fingerprints=config.fingerprints,
        watch=watched_types(),
        concurrency=args.concurrency,
        timeout=args.timeout,
    )


def pool_dict(result: PoolResult) -> dict:
    p = result.pool
    return {
        "name": p.name,
        "url": p.url,
        "group": p.group,
        "state": result.state,
        "detail": result.detail,
        "exit": result.exit,
        "seconds": round(result.seconds, 3),
    }


def run_check_fleet(args) -> int:
    from ..network.cli import validate

    def check(conn):
        findings = validate(conn)
        return findings, 1 if any(f.severity in ("critical", "warning") for f in findings) else 0

    run = over_fleet(args, check)
    if args.format == "openmetrics":
        sys.stdout.write(openmetrics(run))
    elif args.json or args.format == "json":
        pools = [
            {**pool_dict(r), "findings": [f.to_dict() for f in r.value or []]} for r in run.results
        ]
        print(
            json.dumps(
                {"pools": pools, "complete": not run.interrupted, "exit": run.exit}, indent=2
            )
        )
    else:
        for r in run.results:
            if r.answered:
                found = len(r.value)
                say(
                    f"{r.pool.name:<16} {r.state:<12} {found} finding(s)"
                    if found
                    else f"{r.pool.name:<16} {r.state:<12} nothing to report"
                )
                for f in r.value:
                    say(f"  {f.severity:<8} {f.rule:<12} {f.text}")
            else:
                say(f"{r.pool.name:<16} {r.state:<12} {r.detail}")
        say(summary(run))
    return run.exit


def run_status_fleet(args) -> int:
    from ..status.cli import pool_status

    run = over_fleet(args, lambda conn: (pool_status(conn).to_dict(), 0))
    pools = [{**pool_dict(r), "status": r.value} for r in run.results]
    print(json.dumps({"pools": pools, "complete": not run.interrupted, "exit": run.exit}, indent=2))
    return run.exit


def summary(run: FleetRun) -> str:
    answered = sum(r.answered for r in run.results)
    others: dict[str, int] = {}
    for r in run.results:
        if not r.answered:
            others[r.state] = others.get(r.state, 0) + 1
    rest = "".join(f", {n} {state}" for state, n in others.items())
    stopped = " (stopped by Ctrl+C)" if run.interrupted else ""
    return f"{len(run.results)} pools: {answered} answered{rest}{stopped}"
