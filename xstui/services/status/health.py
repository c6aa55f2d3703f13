"""The Status area's health rules: hosts offline or in maintenance, expiring
certificates, detached or full SRs, recent alerts. Other areas
add their own rules (see ``xstui.areas``: updates come from Patching's, HA's from HA's)."""

from __future__ import annotations

import weakref

from ... import clock
from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import ConnectionLost, XapiFailure
from .. import claims
from ..ha.model import plan_now
from ..health import HealthFlag, alert_severity, recent_alerts
from ..host.clock import skew_now
from ..values import moment
from .model import storage

CERT_WARN_DAYS = 30
SR_WARN_PERCENT = 90
SR_CRITICAL_PERCENT = 97


# a host's state (views.host_state, the words F1 and F7 show) that Health flags
HOST_FLAGS = {
    "offline": ("critical", "is offline"),
    "maintenance": ("warning", "is in maintenance"),
    "disabled": ("warning", "is disabled (no VM may start there)"),
}


def hosts(cache: Cache, now: float) -> list[HealthFlag]:
    flags = []
    for h in cache.table("host").values():
        flag = HOST_FLAGS.get(views.host_state(cache, h))
        if flag is not None:
            flags.append(HealthFlag(flag[0], "pool", f"Host {h.name_label} {flag[1]}"))
    return flags


def certificate_flag(owner: str, days: int) -> HealthFlag | None:
    """The flag for a host certificate ending in ``days`` (None: not yet near)."""
    if days < 0:
        return HealthFlag(
            "critical", "certificates", f"Certificate of {owner} expired {-days} days ago"
        )
    if days <= CERT_WARN_DAYS:
        return HealthFlag(
            "warning", "certificates", f"Certificate of {owner} expires in {days} days"
        )
    return None


def certificates(cache: Cache, now: float) -> list[HealthFlag]:
    """Hosts whose certificate record says it ends soon (the hosts without
    a record are asked by CertificateProbe)."""
    flags = []
    for host, cert in views.host_certificate_records(cache).items():
        if cert.not_after is None:
            continue
        flag = certificate_flag(cache.label("host", host), clock.days_left(cert.not_after, now))
        if flag is not None:
            flags.append(flag)
    return flags


class CertificateProbe:
    """Health for the hosts without a certificate record (every host before
    XenServer 8.2): each live one is asked the certificate it serves
    (``host.get_server_certificate``), at most every ``every`` seconds per
    connection (a certificate's end moves only when it is replaced); one
    that does not answer is said to be unknown, not left out silently."""

    every = 15 * 60

    def __init__(self) -> None:
        # per connection: (when read, what was read)
        self.read: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self, conn) -> list[HealthFlag]:
        from ..security.certificates import host_certificates, read_served

        at, served = self.read.get(conn, (None, None))
        if at is None or clock.now() - at > self.every:
            try:
                served = read_served(conn)
            except (XapiFailure, ConnectionLost):
                return []  # asked again next round
            self.read[conn] = (clock.now(), served)
        if served is None:  # every host has a record, or the release cannot say
            return []
        cache, flags = conn.cache, []
        with cache.lock:
            recorded = views.host_certificate_records(cache)
            live = {h.ref for h in cache.table("host").values() if views.is_live(cache, h)}
            rows = host_certificates(cache, served=served)
        for row in rows:
            if row.host in recorded:
                continue
            if row.days_left is not None:
                flag = certificate_flag(row.name, row.days_left)
                if flag is not None:
                    flags.append(flag)
            elif row.host in live:
                flags.append(
                    HealthFlag(
                        "info",
                        "certificates",
                        f"Certificate of {row.name}: not known (no record, and the host did not "
                        "say which it serves)",
                    )
                )
        return flags


certificate_probe = CertificateProbe()


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


# alerts about a state that can be read now: listed as Logs lists them, with
# whether the state still holds (verdict(cache, message) -> Verdict; the area's
# own rule flags the state itself): one that no longer holds is historic, listed
# as information, not counted as a problem
STATE_ALERTS = {
    "HA_POOL_OVERCOMMITTED": lambda cache, msg: plan_now(cache),
    "HOST_CLOCK_SKEW_DETECTED": skew_now,
}


def alerts(cache: Cache, now: float) -> list[HealthFlag]:
    """Critical and warning messages from the last week, newest first, with
    the severity Logs (F10) gives them; information once the state it
    reported no longer holds (said after it)."""
    flags = []
    for msg in recent_alerts(cache, now):
        sev = alert_severity(msg.priority)
        if sev == "info":
            continue
        text = f"{msg.name}, {moment(msg.timestamp)}: {msg.body}".strip()
        if msg.name in STATE_ALERTS:
            verdict = STATE_ALERTS[msg.name](cache, msg)
            text += f" ({verdict.words})"
            if verdict.holds is False:
                sev = "info"
        flags.append(HealthFlag(sev, "alerts", text))
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
