"""The fleet overview's model: one row per pool, computed from a light cache
(the classes below, not the VMs and disks a pool in focus needs), sorted
worst first. No Textual, no XAPI calls."""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import clock
from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.records import slim
from ..ha.model import health as ha_health
from ..health import SEVERITIES, HealthFlag, alert_severity, collect, recent_alerts
from ..status import health as status_health
from ..updates.baseline import Baseline, BaselineError
from ..updates.baseline import drift as baseline_drift
from ..updates.generation import PATCHES, UPDATES
from ..updates.health import health as updates_health
from ..updates.model import build as build_updates
from .answer import LOGIN_FAILED, NO_PASSWORD, REFUSED, TIMEOUT, UNREACHABLE
from .targets import FleetTarget

# what a pool not in focus is watched for: hosts and their liveness, HA,
# certificates, alerts, updates (its event.from stays idle otherwise)
LIGHT_CLASSES = (
    "pool",
    "host",
    "host_metrics",
    "certificate",
    "message",
    "pool_update",
    "pool_patch",
    "host_patch",
)
# the health rules that read only those classes
LIGHT_RULES = (
    status_health.hosts,
    status_health.certificates,
    status_health.alerts,
    ha_health,
    updates_health,
)
# connection states, worst first after the findings' own
NO_ANSWER = (REFUSED, NO_PASSWORD, TIMEOUT, UNREACHABLE, LOGIN_FAILED, "reconnecting")


def light_types() -> dict[str, type]:
    return {cls: slim(cls, None) for cls in LIGHT_CLASSES}


@dataclass(frozen=True)
class PoolRow:
    name: str
    url: str
    group: str
    state: str  # connecting, connected, reconnecting, or one of NO_ANSWER
    detail: str = ""  # why it does not answer, in words
    hosts_up: int = 0
    hosts_total: int = 0
    master: str = ""
    ha: str = ""  # off, on, broken, overcommitted ("" before the pool is known)
    tolerate: int = 0
    worst: HealthFlag | None = None
    alerts: dict[str, int] = field(default_factory=dict)  # severity -> count
    cert_days: int | None = None  # the nearest host certificate's end
    role: str = ""
    drift: int | None = None  # hosts out of the baseline (None: no baseline, or not known)
    drift_why: str = ""  # with a baseline, why the drift is not known

    @property
    def drift_text(self) -> str:
        if self.drift is not None:
            return str(self.drift)
        return "?" if self.drift_why else "-"

    @property
    def rank(self) -> int:
        """0 the worst: no answer, then critical, warning, info, nothing, still connecting."""
        if self.state in NO_ANSWER:
            return 0
        if self.worst is not None:
            return 1 + SEVERITIES.index(self.worst.severity)
        return 5 if self.state == "connecting" else 4

    @property
    def finding(self) -> bool:
        """A critical or warning finding (what n and F11 open)."""
        return self.rank in (1, 2)

    @property
    def not_asked(self) -> bool:
        """Not asked: no answer, no password, refused (its state says which)."""
        return self.rank == 0

    @property
    def ha_text(self) -> str:
        if self.ha in ("on", "overcommitted", "broken"):
            return f"{self.ha} ({self.tolerate})"
        return self.ha


def waiting_row(pool: FleetTarget, state: str = "connecting", detail: str = "") -> PoolRow:
    return PoolRow(pool.name, pool.url, pool.group, state, detail)


def pool_drift(baseline: Baseline, cache: Cache) -> tuple[int | None, str]:
    """How many hosts of the pool depart from the baseline, from the light
    cache alone (6.x's pool_patch, 7.x and 8.2's pool_update and
    host.updates), or None and why it cannot be told without more calls
    (XenServer 8's repositories, XCP-ng's yum: check --baseline asks them)."""
    with cache.lock:
        record = views.pool(cache)
        if record is not None and record.repositories:
            generation = None  # XenServer 8: what a host lacks is in GET /updates only
        elif cache.table("pool_update"):
            generation = UPDATES
        elif cache.table("pool_patch"):
            generation = PATCHES
        else:
            generation = None
    if generation is None:
        return None, "not in the light cache (repositories or yum): xstui check --baseline tells"
    try:
        drifts = baseline_drift(
            baseline, build_updates(cache, generation), record.name_label if record else ""
        )
    except BaselineError as exc:
        return None, str(exc)
    return sum(not d.compliant for d in drifts), ""


def pool_row(
    pool: FleetTarget,
    cache: Cache,
    *,
    state: str = "connected",
    role: str = "",
    now=None,
    baseline: Baseline | None = None,
) -> PoolRow:
    """The row of a pool whose light cache is loaded (its update drift
    against ``baseline`` when one is given)."""
    now = clock.now() if now is None else now
    drift, drift_why = pool_drift(baseline, cache) if baseline is not None else (None, "")
    flags = collect(cache, LIGHT_RULES, now)
    with cache.lock:
        hosts = list(cache.table("host").values())
        record = views.pool(cache)
        cert_days = [
            clock.days_left(c.not_after, now)
            for c in views.host_certificate_records(cache).values()
            if c.not_after is not None
        ]
        alerts: dict[str, int] = {}
        for msg in recent_alerts(cache, now):  # as Health counts them
            sev = alert_severity(msg.priority)
            alerts[sev] = alerts.get(sev, 0) + 1
        master = cache.label("host", record.master, "?") if record is not None else ""
        up = sum(views.is_live(cache, h) for h in hosts)
    ha, tolerate = "", 0
    if record is not None:
        tolerate = record.ha_host_failures_to_tolerate
        if not record.ha_enabled:
            ha = views.ha_word(False)
        elif any(f.area == "ha" and "Heartbeat" in f.text for f in flags):
            ha = "broken"
        elif views.ha_overcommitted(record):
            ha = "overcommitted"
        else:
            ha = views.ha_word(True)
    return PoolRow(
        pool.name,
        pool.url,
        pool.group,
        state,
        hosts_up=up,
        hosts_total=len(hosts),
        master=master,
        ha=ha,
        tolerate=tolerate,
        worst=flags[0] if flags else None,
        alerts=alerts,
        cert_days=min(cert_days) if cert_days else None,
        role=role,
        drift=drift,
        drift_why=drift_why,
    )


def worst_first(rows: list[PoolRow]) -> list[PoolRow]:
    return sorted(rows, key=lambda r: (r.rank, r.name.lower()))


def next_problem(rows: list[PoolRow], after: str | None) -> PoolRow | None:
    """The next pool with a finding (critical or warning) after the one
    named ``after``, in the order shown, going round; a pool that does not
    answer cannot be opened, so it is passed over (Enter still tries it)."""
    names = [r.name for r in rows]
    start = names.index(after) + 1 if after in names else 0
    for row in rows[start:] + rows[:start]:
        if row.finding and row.name != after:
            return row
    return None


def summary(rows: list[PoolRow]) -> str:
    """The fleet counted once, in the words of the overview's title, of n
    and of F11: pools with a finding (critical or warning), pools that could
    not be asked (no answer, no password, refused: the states the table
    shows, one word each, as xstui check --fleet), pools still connecting."""
    found = sum(r.finding for r in rows)
    said = f"{found} with a finding" if found else "none with a finding"
    silent = sum(r.not_asked for r in rows)
    if silent:
        said += f", {silent} not asked"
    waiting = sum(r.state == "connecting" for r in rows)
    return said + (f", {waiting} still connecting" if waiting else "")


def no_next_problem(rows: list[PoolRow]) -> str:
    """What n and F11 say when no other pool has a finding: the fleet in
    the overview's words, and how to try a pool that could not be asked."""
    said = f"No other pool has a finding ({summary(rows)})"
    if any(r.not_asked for r in rows):
        said += "; not asked: no answer, no password or refused (F12 says which, r asks again)"
    return said + "."


SHORT = {"critical": "CRIT", "warning": "warn", "info": "info"}
SHORT_AREA = {"certificates": "certs"}  # the Health cell has 12 columns


def health_text(row: PoolRow) -> str:
    """The Health cell: why it does not answer, or its worst finding's
    severity and area (the finding itself is in the detail below the list)."""
    if row.state != "connected" or row.worst is None:
        return row.state if row.state != "connected" else "ok"
    return f"{SHORT[row.worst.severity]} {SHORT_AREA.get(row.worst.area, row.worst.area)}"


def cells(row: PoolRow) -> list[str]:
    """The row's cells as the overview draws them (COLUMNS)."""
    if row.hosts_total == 0:  # nothing known (yet)
        return [row.name, health_text(row), "", "", "", "", "", ""]
    alerts = "/".join(str(row.alerts.get(s, 0)) for s in SEVERITIES)
    certs = "" if row.cert_days is None else f"{row.cert_days}d"
    return [
        row.name,
        health_text(row),
        f"{row.hosts_up}/{row.hosts_total}",
        row.master,
        row.ha_text,
        alerts,
        certs,
        row.drift_text,
    ]


def detail(row: PoolRow) -> str:
    """What the list has no room for: the worst finding in full, or why the
    pool does not answer; the role the pool gave; the update drift."""
    where = f"{row.name}" + (f" ({row.group})" if row.group else "")
    if row.role:
        where += f" as {row.role}"
    if row.detail:  # the state once: a detail may begin with it ("no password: set ...")
        state = row.state.replace("-", " ")  # "no-password": "no password: set ..."
        said = row.detail if row.detail.startswith(state) else f"{row.state}: {row.detail}"
        return f"{where}: {said}"
    if row.drift:
        drift = f"; {row.drift} host(s) out of the baseline"
    elif row.drift_why:
        drift = f"; drift not known: {row.drift_why}"
    else:
        drift = ""
    if row.worst is not None:
        return f"{where}: {row.worst.severity}: {row.worst.text}{drift}"
    return (
        f"{where}: {row.state}"
        + (", nothing to report" if row.state == "connected" else "")
        + drift
    )


# (title, width) of each cell, as RowList takes them: 79 columns in all (the
# role the pool gave is in the detail line: it is the user's, the same on most
# pools; Drift is "-" with no baseline, "?" when the cache cannot tell)
COLUMNS = (
    ("Pool", 10),
    ("Health", 12),
    ("Up", 5),
    ("Master", 14),
    ("HA", 10),
    ("C/W/I", 6),
    ("Cert", 5),
    ("Drift", 7),
)
