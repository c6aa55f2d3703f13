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


# rule(cache, now) -> flags; called with the cache lock held
HealthRule = Callable[[Cache, float], list[HealthFlag]]


def by_severity(flags: list[HealthFlag]) -> list[HealthFlag]:
    """Most severe first (stable within a severity)."""
    return sorted(flags, key=lambda f: SEVERITIES.index(f.severity))


def collect(cache: Cache, rules: tuple[HealthRule, ...], now: float) -> list[HealthFlag]:
    """Every rule's flags, most severe first."""
    with cache.lock:
        return by_severity([flag for rule in rules for flag in rule(cache, now)])
