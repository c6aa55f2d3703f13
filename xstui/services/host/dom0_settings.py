"""SSH, NTP and the time zone where the release has no XAPI call for them
(before XAPI 25 / 26: XenServer 6.5 to 8.4, XCP-ng 8.2 and 8.3 as shipped):
set in dom0, as xsconsole does, through :class:`LocalSystem`. This host
only: the console runs in its dom0 (``xstui local``); another host of the
pool is set from its own dom0."""

from __future__ import annotations

from ...xapi.cache import Cache
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, host_list
from .clock import ntp_servers
from .hosts import host_or_refuse
from .local import LocalSystem


class InDom0(Action):
    """A setting this release keeps in dom0 only; ``what`` names it."""

    calls = ()  # no XAPI call: dom0's own files and tools
    what = ""

    @classmethod
    def unavailable(cls, conn) -> str:
        if conn.target.kind == "local":
            return ""
        return f"{conn.release} keeps {cls.what} in dom0: run xstui local on the host"

    @classmethod
    def elsewhere(cls, conn, host: str) -> str:
        """Why ``host`` cannot be set from here ('' when it is this host)."""
        if host == conn.this_host:
            return ""
        cache = conn.cache
        with cache.lock:
            there = cache.get("host", host)
            here = cache.get("host", conn.this_host)
        return (
            f"{conn.release} keeps {cls.what} in each host's dom0: this console runs in "
            f"{here.name_label if here else 'another host'}'s; run xstui local on "
            f"{there.name_label if there else 'that host'}"
        )

    def __init__(self, cache: Cache, host: str, system: LocalSystem):
        with cache.lock:
            self.name = host_or_refuse(cache, host).name_label
        self.system = system


class SshInDom0(InDom0):
    what = "SSH"
    UNIT = "sshd"

    @staticmethod
    def running(system: LocalSystem) -> bool:
        """sshd runs now (read before the form: it asks the init system)."""
        return system.service_running(SshInDom0.UNIT)

    @staticmethod
    def fields(was_on: bool) -> list[Field]:
        return [Field("ssh", "SSH", "on" if was_on else "off", choices=("on", "off"))]

    def __init__(self, cache: Cache, host: str, system: LocalSystem, on: str, was_on: bool):
        if on not in ("on", "off"):
            raise InvalidInput(["SSH is on or off"])
        super().__init__(cache, host, system)
        self.on, self.was_on = on == "on", was_on

    def plan(self) -> Plan:
        verb = "on" if self.on else "off"
        done = "Enable" if self.on else "Disable"
        impact = [
            "This release has no SSH timeout: SSH stays as set until it is changed again.",
        ]
        if not self.on:
            impact[:0] = [
                "New SSH logins to the host are refused; open SSH sessions stay.",
                "The host console (iLO/DRAC) and the API keep working.",
            ]
        return Plan(
            f"{done} SSH",
            f"{done} SSH on {self.name} (now and at boot), in dom0.",
            [" ".join(c) for c in self.system.service_commands(self.UNIT, verb)],
            impact=impact,
            risk="low" if self.on else "medium",
        )

    def run(self, ctx: RunContext) -> str:
        verb = "on" if self.on else "off"
        self.system.switch_service(self.UNIT, verb)
        if self.was_on != self.on:
            back = "on" if self.was_on else "off"
            ctx.on_undo(
                f"turn SSH {back} again", lambda: self.system.switch_service(self.UNIT, back)
            )
        return f"SSH {'enabled' if self.on else 'disabled'} on {self.name}."


class NtpInDom0(InDom0):
    what = "NTP"

    @staticmethod
    def fields(system: LocalSystem) -> list[Field]:
        daemon, _conf = system.ntp_daemon()
        return [
            Field(
                "servers",
                f"NTP servers ({daemon})",
                ", ".join(system.ntp_servers()),
                lambda text: None if not text.strip() else v.problem(ntp_servers, text),
                placeholder="comma separated; empty: NTP off",
            )
        ]

    @staticmethod
    def running(system: LocalSystem) -> bool:
        """The NTP daemon runs now (read before the form: it asks the init system)."""
        return system.service_running(system.ntp_daemon()[0])

    def __init__(
        self, cache: Cache, host: str, system: LocalSystem, servers_text: str, was_on: bool
    ):
        self.servers = ntp_servers(servers_text)
        super().__init__(cache, host, system)
        self.daemon, self.conf = system.ntp_daemon()
        self.old_text, self.was_on = system.read(self.conf), was_on

    def plan(self) -> Plan:
        if not self.servers:
            return Plan(
                "NTP off",
                f"Stop {self.daemon} on {self.name} (now and at boot), in dom0.",
                [" ".join(c) for c in self.system.service_commands(self.daemon, "off")],
                impact=[
                    "Without NTP the clocks drift apart: HA, AD logins and TLS need them "
                    "within seconds."
                ],
                risk="medium",
            )
        verb = "restart" if self.was_on else "on"
        return Plan(
            "Set NTP",
            f"NTP of {self.name}: {', '.join(self.servers)}, by {self.daemon}, in dom0.",
            [f"# /{self.conf}: " + "; ".join(f"server {s} iburst" for s in self.servers)]
            + [" ".join(c) for c in self.system.service_commands(self.daemon, verb)],
            impact=[
                f"{self.daemon} restarts with the new servers; the other lines of /{self.conf} "
                "are kept.",
                "Other hosts of the pool are set from their own dom0.",
            ],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        if not self.servers:
            self.system.switch_service(self.daemon, "off")
            if self.was_on:
                ctx.on_undo(
                    f"start {self.daemon} again",
                    lambda: self.system.switch_service(self.daemon, "on"),
                )
            return f"NTP off on {self.name}."
        self.system.write(self.conf, self.system.ntp_config(self.servers))
        ctx.on_undo(f"restore /{self.conf}", self._restore)
        self.system.switch_service(self.daemon, "restart" if self.was_on else "on")
        return f"NTP of {self.name}: {', '.join(self.servers)}."

    def _restore(self) -> None:
        self.system.write(self.conf, self.old_text)
        self.system.switch_service(self.daemon, "restart" if self.was_on else "off")


class TimezoneInDom0(InDom0):
    what = "the time zone"

    @staticmethod
    def fields(system: LocalSystem, zones: list[str]) -> list[Field]:
        return [host_list("timezone", "Time zone", system.timezone(), zones, "time zones")]

    def __init__(self, cache: Cache, host: str, system: LocalSystem, zone: str, zones: list[str]):
        zone = zone.strip()
        if zone not in zones:
            raise InvalidInput(
                [f"{zone!r} is not a time zone this host knows (e.g. Europe/Paris, UTC)"]
            )
        super().__init__(cache, host, system)
        self.zone, self.old = zone, system.timezone()

    def plan(self) -> Plan:
        return Plan(
            "Set time zone",
            f"Time zone of {self.name}: {self.zone}, in dom0.",
            self.system.timezone_commands(self.zone),
            impact=[
                "Log timestamps of dom0 change zone; the clock itself (UTC) does not move.",
                "Other hosts of the pool are set from their own dom0.",
            ],
        )

    def run(self, ctx: RunContext) -> str:
        self.system.set_timezone(self.zone)
        if self.old:
            ctx.on_undo(
                f"restore the time zone {self.old}", lambda: self.system.set_timezone(self.old)
            )
        return f"Time zone {self.zone} on {self.name}."
