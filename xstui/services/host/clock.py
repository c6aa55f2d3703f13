"""Time: NTP servers and whether the clock is synchronised, the time zone,
and the server's clock beside this machine's. The NTP and time-zone calls
exist on recent hosts only; an older host says MESSAGE_METHOD_UNKNOWN and the
screen says what that release offers instead."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from ... import clock as console_clock
from ...areas import see
from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import Connection, ConnectionLost, XapiFailure
from ...xapi.records import to_datetime
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, host_list
from ..health import HealthFlag, Verdict
from .hosts import SCOPES, default_scope, scope_hosts

NTP_MODES = ("Custom", "DHCP", "Factory", "Disabled")
SKEW_WARNING = 5.0  # seconds between the host's clock and this machine's
PROBE_SECONDS = 60  # the health probe asks at most once a minute


@dataclass
class TimeState:
    host: str
    name: str
    mode: str
    servers: list[str]
    timezone: str
    synchronised: bool | None = None  # None: the host cannot say (older release)
    server_status: dict[str, str] = field(default_factory=dict)
    skew: float | None = None  # host clock minus this machine's, seconds
    unsupported: str = ""  # why the NTP calls are not there


UNREPORTED = "not reported by this release"
# the host reports whole seconds: below this, there is no difference to show
MEASURABLE = 1.5

# The last difference measured between each host's clock and this machine's,
# per connection's cache: host ref -> (seconds, when measured). The one place
# of that figure: the Time tab's reading and the health probe record it,
# Health's verdict on an old HOST_CLOCK_SKEW_DETECTED alert reads it.
_measured: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def skew_words(skew: float) -> str:
    """A clock difference in words, as the Time tab and Health say it."""
    if abs(skew) < MEASURABLE:
        return f"none measurable (< {MEASURABLE} s)"
    return f"{skew:+.0f} s"


def measure_skew(conn: Connection, host: str) -> float | None:
    """The host's clock minus this machine's, in seconds (``host.get_servertime``),
    remembered as the host's last measure; None when the host's answer is no time."""
    before = console_clock.now()
    server_time = conn.call("host.get_servertime", host)
    after = console_clock.now()
    clock = to_datetime(server_time)
    if clock is None:
        return None
    skew = clock.timestamp() - (before + after) / 2
    with conn.cache.lock:
        _measured.setdefault(conn.cache, {})[host] = (skew, after)
    return skew


def last_skew(cache: Cache, host: str) -> tuple[float, float] | None:
    """(seconds, when measured) of the host's last measure, None before one."""
    with cache.lock:
        return _measured.get(cache, {}).get(host)


def alerted_skews(cache: Cache, now: float) -> list[str]:
    """The live hosts with a clock-skew alert of the last week (those Health
    lists with skew_now's verdict)."""
    from ..health import recent_alerts

    with cache.lock:
        alerted = {
            m.obj_uuid for m in recent_alerts(cache, now) if m.name == "HOST_CLOCK_SKEW_DETECTED"
        }
        return sorted(
            h.ref
            for h in cache.table("host").values()
            if h.uuid in alerted and views.is_live(cache, h)
        )


def skew_now(cache: Cache, msg) -> Verdict:
    """Whether an old HOST_CLOCK_SKEW_DETECTED alert still holds, from the
    host's last measure if it was taken after the alert; said so when there
    is none (never a "not so now" that nothing measured)."""
    host = next((h.ref for h in cache.table("host").values() if h.uuid == msg.obj_uuid), None)
    measured = last_skew(cache, host) if host else None
    where = see("host", "t", tab="Time")
    if measured is None:
        return Verdict(None, f"not measured yet: see {where}")
    skew, at = measured
    if msg.timestamp is not None and at < msg.timestamp.timestamp():
        return Verdict(None, f"not measured since: see {where}")
    said = f"difference from this machine {skew_words(skew)}"
    if abs(skew) < MEASURABLE:
        return Verdict(False, f"not so now: {said}")
    return Verdict(True, f"still so now: {said}, see {where}")


def _optional(conn: Connection, method: str, *args):
    """A call newer releases have: None when the host does not know it."""
    try:
        return conn.call(method, *args)
    except XapiFailure as exc:
        if exc.code in ("MESSAGE_METHOD_UNKNOWN", "MESSAGE_REMOVED", "NOT_IMPLEMENTED"):
            return None
        raise


def read_time(conn: Connection, host: str) -> TimeState:
    cache = conn.cache
    with cache.lock:
        rec = cache.get("host", host)
        state = TimeState(
            host,
            rec.name_label,
            rec.ntp_mode if cache.reports("host", "ntp_mode") else UNREPORTED,
            list(rec.ntp_custom_servers),
            rec.timezone if cache.reports("host", "timezone") else UNREPORTED,
        )
    state.skew = measure_skew(conn, host)
    state.synchronised = _optional(conn, "host.get_ntp_synchronized", host)
    if state.synchronised is None:
        state.unsupported = (
            "This host's release has no NTP calls in its API (XenServer 8.4 / XCP-ng 8.3 "
            "updates add them): in dom0, xstui local shows the NTP daemon's state."
        )
    else:
        state.server_status = _optional(conn, "host.get_ntp_servers_status", host) or {}
    return state


def time_zones(conn: Connection, host: str, system=None) -> list[str]:
    """The time zones the host knows, sorted: its own list
    (``host.list_timezones``); when that list is empty and the console runs in
    this host's dom0 (``system``, a LocalSystem), dom0's zone database.
    InvalidInput, in words, on a release without the time-zone calls."""
    zones = _optional(conn, "host.list_timezones", host)
    if zones is None:
        raise InvalidInput(
            [
                "this host's release has no time-zone calls in its API (XenServer 8.4 / "
                "XCP-ng 8.3 updates add them)"
            ]
        )
    if not zones and system is not None and host == conn.this_host:
        zones = system.timezones()
    if not zones:
        raise InvalidInput(["the host lists no time zones"])
    return sorted(set(zones))


def ntp_servers(text: str) -> list[str]:
    """Comma-separated NTP servers: host names or IPv4 addresses."""
    servers = [s.strip() for s in text.replace(" ", ",").split(",") if s.strip()]
    for s in servers:
        v.host_or_ip(s, "NTP server")
    if len(set(servers)) != len(servers):
        raise InvalidInput(["an NTP server is listed twice"])
    return servers


def dom0_ntp_daemon(conn: Connection) -> str:
    """The NTP daemon of the pool's dom0, as its release has it: chronyd from
    XenServer 8 and XCP-ng 8 (platform 3), ntpd before; '' when the host
    does not say its platform version."""
    major = conn.platform_version.split(".")[0]
    if not major.isdigit():
        return ""
    return "chronyd" if int(major) >= 3 else "ntpd"


class SetNtp(Action):
    calls = ("host.set_ntp_custom_servers", "host.set_ntp_mode")
    older = "this release sets NTP in dom0: run xstui local on the host"

    @classmethod
    def unavailable(cls, conn) -> str:
        """``older``, naming the release's own daemon (chronyd on XCP-ng 8.2,
        ntpd on XenServer 7.1)."""
        missing = conn.lacks(cls.calls)
        if not missing:
            return ""
        daemon = dom0_ntp_daemon(conn)
        return f"{conn.release} has no {missing[0]}: " + (
            f"it sets NTP in dom0 ({daemon}): run xstui local on the host" if daemon else cls.older
        )

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        rec = cache.get("host", host)
        return [
            Field(
                "mode",
                "NTP mode",
                rec.ntp_mode if rec.ntp_mode in NTP_MODES else "Custom",
                choices=NTP_MODES,
            ),
            Field(
                "servers",
                "NTP servers (Custom)",
                ", ".join(rec.ntp_custom_servers),
                lambda text: None if not text.strip() else v.problem(ntp_servers, text),
                placeholder="comma separated",
            ),
            Field(
                "scope",
                "Apply to",
                default_scope(cache, lambda h: (h.ntp_mode, sorted(h.ntp_custom_servers))),
                choices=SCOPES,
            ),
        ]

    def __init__(
        self, cache: Cache, host: str, mode: str, servers_text: str, scope: str = "this host"
    ):
        if mode not in NTP_MODES:
            raise InvalidInput([f"NTP mode must be one of {', '.join(NTP_MODES)}"])
        servers = ntp_servers(servers_text)
        if mode == "Custom" and not servers:
            raise InvalidInput(["Custom mode needs at least one NTP server"])
        with cache.lock:
            self.hosts = [
                (h.ref, h.uuid, h.name_label, h.ntp_mode, list(h.ntp_custom_servers))
                for h in scope_hosts(cache, host, scope)
            ]
        self.mode, self.servers = mode, servers
        if all(
            old_mode == mode and (mode != "Custom" or old_servers == servers)
            for _ref, _uuid, _name, old_mode, old_servers in self.hosts
        ):
            what = f"{mode} ({', '.join(servers)})" if mode == "Custom" else mode
            raise InvalidInput([f"nothing to change: NTP is already {what}"])

    def plan(self) -> Plan:
        names = ", ".join(h[2] for h in self.hosts)
        what = f"{self.mode} ({', '.join(self.servers)})" if self.mode == "Custom" else self.mode
        calls = []
        for _ref, uuid, _name, old_mode, _old_servers in self.hosts:
            if self.mode == "Custom":
                calls.append(
                    f"xe host-param-set uuid={uuid} ntp-custom-servers={','.join(self.servers)}"
                )
            if old_mode != self.mode:
                calls.append(f"xe host-param-set uuid={uuid} ntp-mode={self.mode}")
        impact = ["chronyd restarts with the new sources; the clock is slewed, not stepped."]
        if self.mode == "Disabled":
            impact.append(
                "Without NTP the clocks drift apart: HA, AD logins and TLS need them within seconds."
            )
        return Plan("Set NTP", f"NTP of {names}: {what}.", calls, impact=impact, risk="low")

    def run(self, ctx: RunContext) -> str:
        for i, (ref, _uuid, name, old_mode, old_servers) in enumerate(self.hosts):
            ctx.note(f"Configuring {name}")
            if self.mode == "Custom":
                ctx.task("host.set_ntp_custom_servers", ref, self.servers)
                ctx.undo_task(
                    f"restore the NTP servers of {name}",
                    "host.set_ntp_custom_servers",
                    ref,
                    old_servers,
                )
            if old_mode != self.mode:
                ctx.task("host.set_ntp_mode", ref, self.mode)
                ctx.undo_task(f"restore the NTP mode of {name}", "host.set_ntp_mode", ref, old_mode)
            ctx.progress((i + 1) / len(self.hosts))
        return (
            f"NTP set on {len(self.hosts)} host(s): {self.mode}"
            + (f" ({', '.join(self.servers)})" if self.mode == "Custom" else "")
            + "."
        )


class SetTimezone(Action):
    calls = ("host.set_timezone",)
    older = "this release sets the time zone in dom0: run xstui local on the host"

    @staticmethod
    def fields(cache: Cache, host: str, zones: list[str]) -> list[Field]:
        """The zone is picked from the host's own list (type its first letters
        to jump there: Europe/P...)."""
        rec = cache.get("host", host)
        return [
            host_list("timezone", "Time zone", rec.timezone, zones, "time zones"),
            Field("scope", "Apply to", default_scope(cache, lambda h: h.timezone), choices=SCOPES),
        ]

    def __init__(
        self, cache: Cache, host: str, zone: str, zones: list[str], scope: str = "this host"
    ):
        zone = zone.strip()
        if zone not in zones:
            raise InvalidInput(
                [f"{zone!r} is not a time zone this host knows (e.g. Europe/Paris, UTC)"]
            )
        with cache.lock:
            self.hosts = [
                (h.ref, h.uuid, h.name_label, h.timezone) for h in scope_hosts(cache, host, scope)
            ]
        self.zone = zone
        if all(h[3] == zone for h in self.hosts):
            raise InvalidInput([f"nothing to change: the time zone is already {zone}"])

    def plan(self) -> Plan:
        return Plan(
            "Set time zone",
            f"Time zone of {', '.join(h[2] for h in self.hosts)}: {self.zone}.",
            [f"xe host-param-set uuid={h[1]} timezone={self.zone}" for h in self.hosts],
            impact=["Log timestamps of dom0 change zone; the clock itself (UTC) does not move."],
        )

    def run(self, ctx: RunContext) -> str:
        for ref, _uuid, name, old in self.hosts:
            ctx.task("host.set_timezone", ref, self.zone)
            ctx.undo_task(f"restore the time zone of {name}", "host.set_timezone", ref, old)
        return f"Time zone {self.zone} on {len(self.hosts)} host(s)."


class TimeSyncProbe:
    """Health: hosts whose clock is not synchronised. Status runs it at most
    once a minute while it is shown; the first round asks ``first_round``
    hosts, every later one ``per_round``, in turn, and the verdicts are
    remembered: the calls a minute do not grow with the pool (one; each of
    64 hosts is asked every hour: a clock drifts slowly, and the Host area
    reads its host's whenever shown), and a small pool's clocks are all
    known from the start. A host with a clock-skew alert of the last week
    has its clock measured each round too (skew_now's verdict on it)."""

    first_round = 8
    per_round = 1

    def __init__(self) -> None:
        # per connection: host ref -> synchronised (None: the host cannot say), next index
        self.state: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self, conn: Connection) -> list[HealthFlag]:
        verdicts, start = self.state.get(conn, (None, 0))
        size = self.per_round if verdicts is not None else self.first_round
        verdicts = verdicts or {}
        with conn.cache.lock:
            hosts = sorted(
                (h.name_label, h.ref)
                for h in conn.cache.table("host").values()
                if views.is_live(conn.cache, h)
            )
        names = {ref: name for name, ref in hosts}
        verdicts = {ref: v for ref, v in verdicts.items() if ref in names}  # gone or down
        batch = [hosts[(start + i) % len(hosts)] for i in range(min(size, len(hosts)))]
        for _name, ref in batch:
            try:
                verdicts[ref] = _optional(conn, "host.get_ntp_synchronized", ref)
            except (XapiFailure, ConnectionLost):
                continue  # asked again next time round
        for ref in alerted_skews(conn.cache, console_clock.now())[: self.first_round]:
            try:
                measure_skew(conn, ref)  # for Health's word on the alert
            except (XapiFailure, ConnectionLost):
                continue
        self.state[conn] = (verdicts, (start + len(batch)) % max(len(hosts), 1))
        return [
            HealthFlag(
                "warning",
                "time",
                f"The clock of {names[ref]} is not synchronised by NTP: see {see('host', 't', tab='Time')}",
            )
            for ref, synced in sorted(verdicts.items(), key=lambda item: names[item[0]])
            if synced is False
        ]


time_probe = TimeSyncProbe()
