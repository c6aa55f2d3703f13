"""The Status area's health rules: hosts offline or in maintenance, expiring
certificates, detached or full SRs, recent alerts. Other areas
add their own rules (see ``xstui.areas``: updates come from Patching's, HA's from HA's)."""

from __future__ import annotations

from datetime import datetime, timezone

from ... import clock
from ...xapi import views
from ...xapi.cache import Cache
from .. import claims
from ..health import HealthFlag, alert_severity
from .model import storage

CERT_WARN_DAYS = 30
SR_WARN_PERCENT = 90
SR_CRITICAL_PERCENT = 97
ALERT_WINDOW = 7 * 86400


def hosts(cache: Cache, now: float) -> list[HealthFlag]:
    flags = []
    for h in cache.table("host").values():
        if not views.is_live(cache, h):
            flags.append(HealthFlag("critical", "pool", f"Host {h.name_label} is offline"))
        elif not h.enabled:
            flags.append(
                HealthFlag("warning", "pool", f"Host {h.name_label} is in maintenance mode")
            )
    return flags


def certificates(cache: Cache, now: float) -> list[HealthFlag]:
    flags = []
    for cert in cache.table("certificate").values():
        if cert.type != "host" or cert.not_after is None:
            continue
        days = clock.days_left(cert.not_after, now)
        owner = cache.label("host", cert.host)
        if days < 0:
            flags.append(
                HealthFlag(
                    "critical", "certificates", f"Certificate of {owner} expired {-days} days ago"
                )
            )
        elif days <= CERT_WARN_DAYS:
            flags.append(
                HealthFlag(
                    "warning", "certificates", f"Certificate of {owner} expires in {days} days"
                )
            )
    return flags


def srs(cache: Cache, now: float) -> list[HealthFlag]:
    flags = []
    for pbd in cache.table("pbd").values():
        if not pbd.currently_attached:
            sr = cache.get("sr", pbd.SR)
            flags.append(
                HealthFlag(
                    "warning",
                    "storage",
                    f"SR {sr.name_label if sr else '?'} is not attached on {cache.label('host', pbd.host)}",
                )
            )
    for sr in storage(cache):
        if sr.size and sr.used_percent >= SR_WARN_PERCENT:
            where = f" on {sr.host}" if sr.host else ""
            sev = "critical" if sr.used_percent >= SR_CRITICAL_PERCENT else "warning"
            flags.append(
                HealthFlag(sev, "storage", f"SR {sr.name}{where} is {sr.used_percent:.0f}% full")
            )
    return flags


# alerts about a state the cache holds now: the area's own rule says whether it
# still holds (HA's, from the figures F3 shows), not a message from hours ago
STATE_ALERTS = {"HA_POOL_OVERCOMMITTED"}
_NEVER = datetime.fromtimestamp(0, timezone.utc)


def alerts(cache: Cache, now: float) -> list[HealthFlag]:
    """Critical and warning messages from the last week, newest first."""
    flags = []
    recent = sorted(
        cache.table("message").values(), key=lambda m: m.timestamp or _NEVER, reverse=True
    )
    for msg in recent:
        if msg.timestamp is None or now - msg.timestamp.timestamp() > ALERT_WINDOW:
            continue
        if msg.name in STATE_ALERTS:
            continue
        sev = alert_severity(msg.priority)
        if sev != "info":
            flags.append(HealthFlag(sev, "alerts", f"{msg.name}: {msg.body}".strip()))
    return flags


def procedures(cache: Cache, now: float) -> list[HealthFlag]:
    """A pool-wide procedure another console runs (the pool's marker)."""
    claim = claims.current(cache)
    if claim is None or claim.mine:
        return []
    said = claim.words()
    said = said[:1].upper() + said[1:]
    if claim.expired or claim.abandoned:
        return [HealthFlag("info", "pool", f"{said} stopped without ending: it may be resumed")]
    return [HealthFlag("warning", "pool", f"{said} is under way")]


RULES = (hosts, certificates, srs, alerts, procedures)
