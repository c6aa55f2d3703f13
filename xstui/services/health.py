"""Health flags: what each area contributes to the Status screen's Health tab.
A rule reads the cache and says what is wrong; it never calls XAPI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..xapi.cache import Cache

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class HealthFlag:
    severity: str  # critical, warning, info
    area: str
    text: str


@dataclass(frozen=True)
class Verdict:
    """Whether the state an old alert reported holds now (None: not known),
    in words ("still so now: ...", "not so now: ..."): Health lists an alert
    that no longer holds as information (historic), not as a problem."""

    holds: bool | None
    words: str

    def __str__(self) -> str:
        return self.words


# XAPI message priority (1 data loss imminent .. 5 informational) -> severity,
# the one mapping for Health's alerts and the Logs area's list
PRIORITY_SEVERITY = {1: "critical", 2: "critical", 3: "warning", 4: "info", 5: "info"}


def alert_severity(priority: int) -> str:
    """The severity of an XAPI message of this priority, in every area."""
    return PRIORITY_SEVERITY.get(priority, "info")


ALERT_WINDOW = 7 * 86400  # the alerts Health, HA and the fleet count: the last week's


def recent_alerts(cache: Cache, now: float) -> list:
    """The messages of the last week, newest first (call with the cache lock held)."""
    recent = [
        m
        for m in cache.table("message").values()
        if m.timestamp is not None and now - m.timestamp.timestamp() <= ALERT_WINDOW
    ]
    return sorted(recent, key=lambda m: m.timestamp, reverse=True)


# rule(cache, now) -> flags; called with the cache lock held
HealthRule = Callable[[Cache, float], list[HealthFlag]]


def by_severity(flags: list[HealthFlag]) -> list[HealthFlag]:
    """Most severe first (stable within a severity)."""
    return sorted(flags, key=lambda f: SEVERITIES.index(f.severity))


def collect(cache: Cache, rules: tuple[HealthRule, ...], now: float) -> list[HealthFlag]:
    """Every rule's flags, most severe first."""
    with cache.lock:
        return by_severity([flag for rule in rules for flag in rule(cache, now)])
