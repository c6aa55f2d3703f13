"""Mail alerts as XAPI's mail-alarm reads them: the pool's other_config
``mail-destination`` (where alerts go), ``ssmtp-mailhub`` (the SMTP server,
host[:port]) and, optionally, ``mail-min-priority`` (1 the most important to
5; alerts of that priority or more important are mailed, 3 when unset).
Nothing is contacted here: the names are checked as text."""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass

from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, optional, problem_of
from ..validate import LABEL_RE, int_in_range, ipv4

DESTINATION, MAILHUB, PRIORITY = "mail-destination", "ssmtp-mailhub", "mail-min-priority"
KEYS = (DESTINATION, MAILHUB, PRIORITY)
LOCAL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")


@dataclass(frozen=True)
class MailConfig:
    destination: str = ""
    mailhub: str = ""
    priority: str = ""

    @classmethod
    def of(cls, other_config: dict) -> MailConfig:
        return cls(*(str(other_config.get(k, "")) for k in KEYS))

    @property
    def words(self) -> str:
        if not self.destination:
            return "no mail alerts"
        return (
            f"alerts mailed to {self.destination} through {self.mailhub or '(no mail server)'}, "
            f"priority {self.priority or '3'} or more important"
        )


def _host(text: str) -> str:
    """A host name, an IPv4 address or an IPv6 address (in [] with a port)."""
    if text.replace(".", "").isdigit():
        return ipv4(text, "mail server")
    try:
        ipaddress.ip_address(text.strip("[]"))
        return text
    except ValueError:
        pass
    parts = text.rstrip(".").split(".")
    if len(text) > 253 or not all(LABEL_RE.match(p) for p in parts):
        raise InvalidInput(
            [
                f"mail server {text!r} is not a host name (letters, digits, '.' and '-')"
                " nor an IP address"
            ]
        )
    return text


def address(text: str) -> str:
    """One e-mail address: local@domain."""
    value = text.strip()
    local, at, domain = value.rpartition("@")
    if not at or not LOCAL_RE.match(local or "") or ".." in local:
        raise InvalidInput([f"{value!r} is not an e-mail address (name@example.com)"])
    parts = domain.split(".")
    if len(parts) < 2 or not all(LABEL_RE.match(p) for p in parts):
        raise InvalidInput([f"{value!r} is not an e-mail address: {domain!r} is not a domain"])
    return value


def mailhub(text: str) -> str:
    """host, host:port, or [IPv6]:port."""
    value = text.strip()
    host, port = value, None
    if value.startswith("["):
        host, _, rest = value.partition("]")
        host += "]"
        if rest and not rest.startswith(":"):
            raise InvalidInput([f"mail server {value!r}: after ']' only ':port'"])
        port = rest[1:] if rest else None
    elif value.count(":") == 1:
        host, port = value.split(":")
    if not host:
        raise InvalidInput(["mail server: a host name or address is needed"])
    _host(host)
    if port is not None:
        int_in_range(port, "mail server port", 1, 65535)
    return value


def priority(text: str) -> str:
    return str(int_in_range(text, "priority", 1, 5, " (1 the most important)"))


class SetMailAlerts(Action):
    """The pool's mail alerts: set, changed or removed (both empty)."""

    calls = ("pool.remove_from_other_config", "pool.add_to_other_config")

    @staticmethod
    def fields(current: MailConfig) -> list[Field]:
        return [
            Field(
                "destination",
                "Mail alerts to",
                current.destination,
                optional(problem_of(address)),
                placeholder="empty: no mail",
            ),
            Field(
                "mailhub",
                "Mail server (host[:port])",
                current.mailhub,
                optional(problem_of(mailhub)),
            ),
            Field(
                "priority",
                "Mail priorities 1 to (1-5)",
                current.priority,
                optional(problem_of(priority)),
                placeholder="empty: 3 (1 the most important)",
            ),
        ]

    def __init__(self, pool: str, uuid: str, current: MailConfig, values: dict):
        self.pool, self.uuid, self.was = pool, uuid, current
        problems: list[str] = []
        typed = {k: values.get(k, "").strip() for k in ("destination", "mailhub", "priority")}
        for key, check in (("destination", address), ("mailhub", mailhub), ("priority", priority)):
            if typed[key]:
                try:
                    typed[key] = check(typed[key])
                except InvalidInput as exc:
                    problems += exc.problems
        if bool(typed["destination"]) != bool(typed["mailhub"]):
            problems.append("an address and a mail server go together (both empty: no mail alerts)")
        if typed["priority"] and not typed["destination"]:
            problems.append("a priority without an address mails nothing")
        if problems:
            raise InvalidInput(problems)
        self.new = MailConfig(typed["destination"], typed["mailhub"], typed["priority"])
        self.values = dict(
            zip(KEYS, (self.new.destination, self.new.mailhub, self.new.priority), strict=True)
        )

    def plan(self) -> Plan:
        xe = [
            f"xe pool-param-remove uuid={self.uuid} param-name=other-config param-key={k}"
            for k in KEYS
        ]
        xe += [
            f"xe pool-param-set uuid={self.uuid} other-config:{k}={shlex.quote(v)}"
            for k, v in self.values.items()
            if v
        ]
        return Plan(
            title="Mail alerts of the pool",
            summary=f"The pool: {self.new.words}.",
            xe=xe,
            steps=[f"pool.remove_from_other_config({k!r})" for k in KEYS]
            + [f"pool.add_to_other_config({k!r}, {v!r})" for k, v in self.values.items() if v],
            impact=[
                f"Was: {self.was.words}.",
                "Nothing is contacted now: the mail server is tried when an alert is sent.",
            ],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        for key in KEYS:
            ctx.call("pool.remove_from_other_config", self.pool, key)
        for key, value in self.values.items():
            if value:
                ctx.call("pool.add_to_other_config", self.pool, key, value)
        return f"The pool: {self.new.words}."
