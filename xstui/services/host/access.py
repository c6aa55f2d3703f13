"""Remote access to the host: SSH on or off (with its auto-off timeout where
the host has it) and the remote syslog destination."""

from __future__ import annotations

import re
import shlex

from ...xapi import views
from ...xapi.cache import Cache
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, optional, problem_of
from ..values import listing
from .hosts import SCOPES, default_scope, host_or_refuse, scope_hosts

SSH_TIMEOUT_MAX = 172800  # seconds, XAPI's bound (two days)
SYSLOG_KEY = "syslog_destination"


def ssh_timeout(text: str | int) -> int:
    """Minutes (0: never) -> seconds."""
    if not str(text).strip():  # an emptied field is not "never": say it
        raise InvalidInput(["give the minutes after which SSH turns itself off (0: never)"])
    try:
        minutes = int(str(text).strip())
    except ValueError:
        raise InvalidInput(
            [f"the SSH timeout {str(text).strip()!r} is not a whole number of minutes (0: never)"]
        ) from None
    if not 0 <= minutes * 60 <= SSH_TIMEOUT_MAX:
        raise InvalidInput([f"the SSH timeout is 0 to {SSH_TIMEOUT_MAX // 60} minutes (two days)"])
    return minutes * 60


SYSLOG_PORT = 514  # where syslog listens when the destination names no port


def syslog_destination(text: str) -> str:
    """What XAPI's ``logging:syslog_destination`` takes (rsyslog's ``@``
    target): a host name or address, with ``:port`` if not 514 (an IPv6
    address with a port in brackets, ``[fd00::1]:1514``); empty: local only."""
    text = text.strip()
    if not text:
        return ""
    bracketed = re.fullmatch(r"\[([^\]]*)\](?::(.*))?", text)
    if bracketed:
        host, port = bracketed.group(1), bracketed.group(2)
        if ":" not in host:
            raise InvalidInput(["brackets are for an IPv6 address: [fd00::1]:1514"])
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:  # a name, an IPv4 address or a bare IPv6 one
        host, port = text, None
    host = v.host_or_ip(host, "syslog server")
    if port is None:
        return host
    number = v.int_in_range(port, "the syslog port", 1, 65535)
    return f"[{host}]:{number}" if ":" in host else f"{host}:{number}"


def syslog_port(destination: str) -> int:
    m = re.search(r"(?:^[^:]+|\])(?::(\d+))$", destination)
    return int(m.group(1)) if m else SYSLOG_PORT


class SetSsh(Action):
    calls = ("host.enable_ssh", "host.disable_ssh", "host.set_ssh_enabled_timeout")
    older = "this release turns SSH on and off in dom0: run xstui local on the host"

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        rec = cache.get("host", host)
        return [
            Field("ssh", "SSH", "on" if rec.ssh_enabled else "off", choices=("on", "off")),
            Field(
                "timeout",
                "Turn off after (minutes, 0: never)",
                str(rec.ssh_enabled_timeout // 60),
                problem_of(ssh_timeout),
            ),
        ]

    def __init__(self, cache: Cache, host: str, on: str, timeout: str = "0"):
        if on not in ("on", "off"):
            raise InvalidInput(["SSH is on or off"])
        self.timeout = ssh_timeout(timeout)
        with cache.lock:
            rec = host_or_refuse(cache, host)
            if not views.is_live(cache, rec):
                raise InvalidInput([f"{rec.name_label} is not live"])
            self.host, self.uuid, self.name = host, rec.uuid, rec.name_label
            self.was_on, self.old_timeout = rec.ssh_enabled, rec.ssh_enabled_timeout
        self.on = on == "on"
        if self.on == self.was_on and (not self.on or self.timeout == self.old_timeout):
            same = ", with this timeout" if self.on else ""
            raise InvalidInput([f"nothing to change: SSH is already {on}{same}"])

    def plan(self) -> Plan:
        verb = "enable" if self.on else "disable"
        impact = []
        if not self.on:
            impact.append("New SSH logins to the host are refused; open SSH sessions stay.")
            impact.append("The host console (iLO/DRAC) and the API keep working.")
        elif self.timeout:
            impact.append(f"SSH turns itself off after {self.timeout // 60} minutes.")
        return Plan(
            f"{verb.capitalize()} SSH",
            f"{verb.capitalize()} SSH on {self.name}"
            + (f", off again after {self.timeout // 60} min" if self.on and self.timeout else "")
            + ".",
            [f"xe host-{verb}-ssh uuid={self.uuid}"]
            + (
                [f"xe host-param-set uuid={self.uuid} ssh-enabled-timeout={self.timeout}"]
                if self.on and self.timeout != self.old_timeout
                else []
            ),
            impact=impact,
            risk="medium" if not self.on else "low",
        )

    def run(self, ctx: RunContext) -> str:
        if self.on:
            ctx.task("host.enable_ssh", self.host)
            if not self.was_on:
                ctx.undo_task(f"disable SSH on {self.name}", "host.disable_ssh", self.host)
            if self.timeout != self.old_timeout:
                ctx.task("host.set_ssh_enabled_timeout", self.host, str(self.timeout))
        else:
            ctx.task("host.disable_ssh", self.host)
        if not self.on:
            return f"SSH disabled on {self.name}."
        return f"SSH enabled on {self.name}" + (
            f", off again after {self.timeout // 60} min." if self.timeout else "."
        )


class SetSyslog(Action):
    calls = ("host.set_logging", "host.syslog_reconfigure")

    @staticmethod
    def fields(cache: Cache, host: str) -> list[Field]:
        rec = cache.get("host", host)
        return [
            Field(
                "destination",
                "Remote syslog server",
                rec.logging.get(SYSLOG_KEY, ""),
                optional(problem_of(syslog_destination)),
                placeholder="host or host:port; empty: local only",
            ),
            Field(
                "scope",
                "Apply to",
                default_scope(cache, lambda h: h.logging.get(SYSLOG_KEY, "")),
                choices=SCOPES,
            ),
        ]

    def __init__(self, cache: Cache, host: str, destination: str, scope: str = "this host"):
        self.destination = syslog_destination(destination)
        with cache.lock:
            self.hosts = [
                (h.ref, h.uuid, h.name_label, dict(h.logging))
                for h in scope_hosts(cache, host, scope)
            ]

    def plan(self) -> Plan:
        xe = []
        for _ref, uuid, _name, _old in self.hosts:
            if self.destination:
                xe.append(
                    f"xe host-param-set uuid={uuid} logging:{SYSLOG_KEY}={shlex.quote(self.destination)}"
                )
            else:
                xe.append(
                    f"xe host-param-remove uuid={uuid} param-name=logging param-key={SYSLOG_KEY}"
                )
            xe.append(f"xe host-syslog-reconfigure host-uuid={uuid}")
        where = f"to {self.destination}" if self.destination else "locally only"
        names = [h[2] for h in self.hosts]
        return Plan(
            "Remote syslog",
            f"{listing(names)} {'log' if len(names) > 1 else 'logs'} {where}.",
            xe,
            impact=[
                f"syslog restarts on {'each host' if len(names) > 1 else names[0]}; messages go "
                f"over UDP {syslog_port(self.destination)}, unencrypted."
            ]
            if self.destination
            else ["Logs stay on the hosts (/var/log), rotated by size."],
        )

    def run(self, ctx: RunContext) -> str:
        for i, (ref, _uuid, name, old) in enumerate(self.hosts):
            new = {k: val for k, val in old.items() if k != SYSLOG_KEY}
            if self.destination:
                new[SYSLOG_KEY] = self.destination
            ctx.call("host.set_logging", ref, new)
            ctx.on_undo(
                f"restore the syslog setting of {name}",
                lambda ref=ref, old=old: _restore_logging(ctx.conn, ref, old),
            )
            ctx.task("host.syslog_reconfigure", ref)
            ctx.progress((i + 1) / len(self.hosts))
        where = f"to {self.destination}" if self.destination else "locally only"
        if len(self.hosts) == 1:
            return f"{self.hosts[0][2]} logs {where}."
        return f"{len(self.hosts)} hosts log {where}."


def _restore_logging(conn, host: str, logging: dict) -> None:
    conn.call("host.set_logging", host, logging)
    conn.call("host.syslog_reconfigure", host)
