"""The Status area's health rules: hosts offline or in maintenance, expiring
certificates, detached or full SRs, the HA plan, recent alerts. Other areas
add their own rules (see ``xstui.areas``: updates come from Patching's)."""

from __future__ import annotations

from datetime import datetime, timezone

from ...xapi import views
from ...xapi.cache import Cache
from ..health import HealthFlag
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
        expiry = cert.not_after.timestamp()
        days = round((expiry - now) / 86400)
        owner = cache.label("host", cert.host)
        if expiry < now:
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


def ha(cache: Cache, now: float) -> list[HealthFlag]:
    pool = views.pool(cache)
    if pool is None or not pool.ha_enabled:
        return []
    flags = []
    tolerate, plan = pool.ha_host_failures_to_tolerate, pool.ha_plan_exists_for
    if plan < tolerate:
        flags.append(
            HealthFlag(
                "critical", "ha", f"HA plan covers {plan} host failures, {tolerate} required"
            )
        )
    if pool.ha_overcommitted:
        flags.append(
            HealthFlag("warning", "ha", "HA is overcommitted: protected VMs cannot all restart")
        )
    return flags


_NEVER = datetime.fromtimestamp(0, timezone.utc)


def alerts(cache: Cache, now: float) -> list[HealthFlag]:
    """Messages of priority 1-3 from the last week, newest first."""
    flags = []
    recent = sorted(
        cache.table("message").values(), key=lambda m: m.timestamp or _NEVER, reverse=True
    )
    for msg in recent:
        if msg.timestamp is None or now - msg.timestamp.timestamp() > ALERT_WINDOW:
            continue
        if 1 <= msg.priority <= 3:
            sev = "warning" if msg.priority <= 2 else "info"
            flags.append(HealthFlag(sev, "alerts", f"{msg.name}: {msg.body}".strip()))
    return flags


RULES = (hosts, certificates, srs, ha, alerts)
