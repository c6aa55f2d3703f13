"""A fleet check as OpenMetrics text (what Prometheus scrapes, and what
node_exporter's textfile collector reads): per pool whether it answered, its
state, its findings by severity and each finding, its exit code; per run
whether it is complete. Label values are escaped as the format says."""

from __future__ import annotations

from collections import Counter

from ..health import SEVERITIES
from .run import STATES, FleetRun


def _label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in labels.items()) + "}"


def openmetrics(run: FleetRun) -> str:
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, str, object]]):
        lines.append(f"# TYPE {name} {kind}")
        lines.append(f"# HELP {name} {help_text}")
        lines.extend(f"{sample}{labels} {value}" for sample, labels, value in samples)

    pools = [(r, {"pool": r.pool.name, "group": r.pool.group}) for r in run.results]
    family(
        "xstui_pool_up",
        "gauge",
        "Whether the pool answered the check.",
        [("xstui_pool_up", _labels(**p, url=r.pool.url), int(r.answered)) for r, p in pools],
    )
    family(
        "xstui_pool_state",
        "stateset",
        "What happened to the pool's check.",
        [
            ("xstui_pool_state", _labels(**p, xstui_pool_state=state), int(r.state == state))
            for r, p in pools
            for state in STATES
        ],
    )
    family(
        "xstui_pool_findings",
        "gauge",
        "The pool's findings by severity (none when it did not answer).",
        [
            (
                "xstui_pool_findings",
                _labels(**p, severity=sev),
                sum(f.severity == sev for f in r.value),
            )
            for r, p in pools
            if r.answered
            for sev in SEVERITIES
        ],
    )
    findings = []
    for r, p in pools:
        counted = Counter((f.severity, f.rule, f.text) for f in (r.value or []))
        findings += [
            ("xstui_finding", _labels(**p, severity=sev, rule=rule, text=text), n)
            for (sev, rule, text), n in counted.items()
        ]
    family("xstui_finding", "gauge", "One finding (how many times it was found).", findings)
    family(
        "xstui_pool_check_exit_code",
        "gauge",
        "The pool's exit code (0 clean, 1 a warning or worse, 3 no answer).",
        [("xstui_pool_check_exit_code", _labels(**p), r.exit) for r, p in pools],
    )
    family(
        "xstui_pool_check_seconds",
        "gauge",
        "How long the pool's check took.",
        [("xstui_pool_check_seconds", _labels(**p), round(r.seconds, 3)) for r, p in pools],
    )
    family(
        "xstui_fleet_check_complete",
        "gauge",
        "1 when every pool was checked, 0 when the check was stopped.",
        [("xstui_fleet_check_complete", "", int(not run.interrupted))],
    )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
