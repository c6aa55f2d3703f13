"""``xstui check TARGET``: validate the configuration (xsconsole's "Validate
configuration", wider): the pool's network consistency, then every area's
health rules (hosts, certificates, storage, HA, updates, alerts) and probes
(time), in one report; exit 1 when something needs attention (a warning or
worse)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ...script import CliCommand, fail, say, target_arguments, with_pool
from ..fleet.arguments import fleet_arguments

if TYPE_CHECKING:
    from .consistency import Finding


def validate(conn) -> list[Finding]:
    """The network findings first (their rule named), then the other areas'
    flags (their area as the rule), most severe first (imported as it runs:
    parsing the command line imports no more than the arguments)."""
    from ... import clock
    from ...areas import health_probes, health_rules
    from ..health import by_severity, collect
    from .consistency import Finding, check_pool
    from .consistency import health as network_health

    rules = tuple(r for r in health_rules() if r is not network_health)
    flags = collect(conn.cache, rules, clock.now())
    flags += [flag for probe in health_probes() for flag in probe(conn)]
    return check_pool(conn.cache) + [
        Finding(f.severity, f.area, f.text) for f in by_severity(flags)
    ]


def run_check(args) -> int:
    if args.baseline:  # compliance with an update baseline, instead
        from ..updates.cli import run_baseline

        return run_baseline(args)
    if args.fleet:
        from ..fleet.cli import run_check_fleet

        return run_check_fleet(args)
    if not args.target:
        return fail("give a TARGET (or --fleet FILE|GROUP)")
    if args.format == "openmetrics":
        return fail("--format openmetrics goes with --fleet (a fleet of one pool will do)")
    findings = with_pool(args, validate)
    if args.json or args.format == "json":
        print(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        for f in findings:
            say(f"{f.severity:<8} {f.rule:<12} {f.text}")
        say(f"{len(findings)} finding(s)" if findings else "Nothing to report.")
    return 1 if any(f.severity in ("critical", "warning") for f in findings) else 0


def check_arguments(parser) -> None:
    target_arguments(parser, fleet=True)
    fleet_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json", "openmetrics"),
        default="text",
        help="text (default), json (as --json), or openmetrics (with --fleet: "
        "Prometheus text for a scrape or node_exporter's textfile collector)",
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="instead, check each host's updates against a compliance baseline (YAML; "
        "exit 1 on drift, 2 on a bad file)",
    )


CHECK_COMMAND = CliCommand(
    "check",
    "validate the configuration: network, hosts, storage, time... (exit 1 on a warning)",
    run_check,
    check_arguments,
)
