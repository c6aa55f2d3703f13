"""Active Directory and who may log in (RECIPES.md section 7): join the pool
to a domain (``pool.enable_external_auth``) after checking what can be
checked from here, leave it, and manage the subjects (directory users and
groups) with their one role each."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from ...areas import see
from ...datamodel import ROLES, permissions
from ...xapi import views
from ...xapi.access import ROLE_NAMES
from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, problem_of
from ..host.clock import UNREPORTED
from ..validate import domain_name

NETBIOS_MAX = 15  # AD computer names beyond this are cut: hosts may collide
# what the hosts must reach on the domain controllers, as XenServer's AD
# documentation lists it: (port, protocols, what for)
AD_PORTS = (
    (53, "TCP/UDP", "DNS"),
    (88, "TCP/UDP", "Kerberos"),
    (123, "UDP", "NTP"),
    (137, "UDP", "NetBIOS names"),
    (139, "TCP", "NetBIOS sessions"),
    (389, "TCP/UDP", "LDAP"),
    (445, "TCP", "SMB"),
    (464, "TCP/UDP", "Kerberos password changes"),
    (3268, "TCP", "Global Catalog"),
)
PORTS = ", ".join(f"{port} {protocols} ({use})" for port, protocols, use in AD_PORTS)
MASK = "******"


@dataclass(frozen=True)
class Directory:
    enabled: bool
    domain: str
    user: str  # the join account recorded by XAPI ('' when not joined)
    mixed: bool  # hosts disagree: some joined, some not (a half-finished change)


NOT_JOINED = "the pool has not joined a domain: join one first (a)"


def directory_state(cache: Cache) -> Directory:
    with cache.lock:
        hosts = list(cache.table("host").values())
    kinds = {(h.external_auth_type, h.external_auth_service_name) for h in hosts}
    joined = [h for h in hosts if h.external_auth_type]
    first = joined[0] if joined else None
    return Directory(
        enabled=bool(joined),
        domain=first.external_auth_service_name if first else "",
        user=first.external_auth_configuration.get("user", "") if first else "",
        mixed=len(kinds) > 1,
    )


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: cannot be checked from the API, the admin must
    text: str
    blocks: bool = False  # XAPI would refuse the join (not a mere warning)


def prerequisites(cache: Cache) -> list[Check]:
    """What joining needs, checked where the API shows it (host names, DNS,
    NTP), listed where it does not (ports, the controller's time)."""
    checks = []
    with cache.lock:
        ntp_reported = cache.reports("host", "ntp_mode")  # XAPI 26.0 and later
        hosts = sorted(cache.table("host").values(), key=lambda h: h.name_label)
        names = [h.hostname.lower() for h in hosts]
        for h in hosts:
            name = h.hostname
            if not re.fullmatch(r"[A-Za-z0-9-]+", name) or name.lower() == "localhost":
                checks.append(
                    Check(False, f"{h.name_label}: host name {name!r} is not valid in AD", True)
                )
            elif len(name) > NETBIOS_MAX:
                checks.append(
                    Check(
                        False,
                        f"{h.name_label}: host name {name!r} is over {NETBIOS_MAX} characters; "
                        "AD cuts it and hosts may collide",
                    )
                )
            if names.count(name.lower()) > 1:
                checks.append(
                    Check(False, f"{h.name_label}: another host is also called {name}", True)
                )
            pif = views.management_pif(cache, h.ref)
            if pif is None or not views.dns_servers(pif):
                checks.append(Check(False, f"{h.name_label}: no DNS server on the management NIC"))
            if ntp_reported and (
                h.ntp_mode == "Disabled" or (h.ntp_mode == "Custom" and not h.ntp_custom_servers)
            ):
                checks.append(
                    Check(False, f"{h.name_label}: NTP is off (Kerberos needs <5 min skew)")
                )
        dns = sorted({d for h in hosts for d in _dns(cache, h.ref)})
    if not [c for c in checks if c.ok is False]:
        has = (
            f"DNS and NTP servers set; whether they synchronise: {see('host', 't', tab='Time')}"
            if ntp_reported
            else "DNS servers set"
        )
        checks.append(Check(True, f"host names unique and AD-valid; every host has {has}"))
    if not ntp_reported:
        checks.append(
            Check(
                None,
                f"NTP of the hosts: {UNREPORTED}; check each host's NTP daemon "
                f"in {see('host', 't', tab='Time')} of xstui local on the host: Kerberos needs "
                "<5 min skew",
            )
        )
    checks.append(
        Check(None, f"the DNS servers ({', '.join(dns) or 'none'}) must answer for the domain")
    )
    checks.append(Check(None, "the hosts' time servers must agree with the domain controllers"))
    checks.append(Check(None, f"the hosts must reach the controllers: {PORTS}"))
    return checks


def _dns(cache: Cache, host: str) -> list[str]:
    pif = views.management_pif(cache, host)
    return views.dns_servers(pif) if pif is not None else []


# subjects and roles ---------------------------------------------------------------
@dataclass(frozen=True)
class SubjectRow:
    ref: str
    name: str
    group: bool
    role: str  # the role's API name; '' without one


def subject_rows(cache: Cache) -> list[SubjectRow]:
    with cache.lock:
        rows = [
            SubjectRow(
                ref,
                s.other_config.get("subject-name", s.subject_identifier),
                s.other_config.get("subject-is-group") == "true",
                min(
                    (cache.label("role", r) for r in s.roles if cache.get("role", r)),
                    key=lambda name: ROLES.index(name) if name in ROLES else len(ROLES),
                    default="",
                ),
            )
            for ref, s in cache.table("subject").items()
        ]
    return sorted(rows, key=lambda r: r.name.lower())


# what each role may do, in one line (the API's descriptions run to three)
MAY = {
    "pool-admin": "do everything, including AD, users and roles",
    "pool-operator": "run hosts, pool, storage, networks, HA and updates",
    "vm-power-admin": "manage VMs fully and choose where they run",
    "vm-admin": "create and change VMs and templates",
    "vm-operator": "start, stop and use VMs",
    "read-only": "look, and change nothing",
}


@dataclass(frozen=True)
class RoleRow:
    name: str
    title: str
    may: str
    description: str  # the pool's own
    calls: int  # the changing calls it may make


def role_rows(cache: Cache) -> list[RoleRow]:
    with cache.lock:
        roles = {r.name_label: r.name_description for r in cache.table("role").values()}
    return [
        RoleRow(name, ROLE_NAMES[name], MAY[name], roles[name], len(permissions(name)))
        for name in ROLES
        if name in roles
    ]


def _role_ref(cache: Cache, role: str) -> str:
    with cache.lock:
        for ref, r in cache.table("role").items():
            if r.name_label == role:
                return ref
    raise InvalidInput([f"the pool has no role {role!r}"])


def _role_choice(text: str) -> str:
    """The role's API name from its API name or its title."""
    for name in ROLES:
        if text in (name, ROLE_NAMES[name]):
            return name
    raise InvalidInput([f"{text!r} is not a role (one of {', '.join(ROLES)})"])


ROLE_CHOICES = [ROLE_NAMES[r] for r in ROLES]


# actions -----------------------------------------------------------------------------
class EnableDirectory(Action):
    calls = ("pool.enable_external_auth",)

    @staticmethod
    def fields() -> list[Field]:
        return [
            Field("domain", "AD domain", "", problem_of(domain_name), placeholder="corp.example"),
            Field("user", "Join account", "", placeholder="an account allowed to join computers"),
            Field("password", "Its password", "", password=True),
            Field("ou", "OU (optional)", "", placeholder="OU=Servers,DC=corp,DC=example"),
        ]

    def __init__(self, cache: Cache, domain: str, user: str, password: str, ou: str = ""):
        problems = []
        state = directory_state(cache)
        if state.enabled:
            problems.append(f"the pool has joined {state.domain} already: disable it first")
        user, ou = user.strip(), ou.strip()
        try:
            domain = domain_name(domain)
        except InvalidInput as exc:
            problems += exc.problems
        if not user:
            problems.append("give the join account")
        if not password:
            problems.append("give the join account's password")
        checks = [c for c in prerequisites(cache) if c.ok is False]
        problems += [c.text for c in checks if c.blocks]
        self.warnings = [c.text for c in checks if not c.blocks]  # said in the plan
        if problems:
            raise InvalidInput(problems)
        self.domain, self.user, self.ou = domain, user, ou
        self._password = password  # never in the plan, the outcome or the audit
        with cache.lock:
            self.pool = views.pool(cache).ref
            self.hosts = len(cache.table("host"))

    def __repr__(self) -> str:
        return f"EnableDirectory({self.domain!r}, {self.user!r}, <hidden>)"

    def plan(self) -> Plan:
        ou = f" config:ou={self.ou}" if self.ou else ""
        return Plan(
            title=f"Join the pool to {self.domain}",
            summary=(
                f"Each of the {self.hosts} hosts joins the AD domain {self.domain} with the "
                f"account {self.user}: all of them or none."
            ),
            xe=[
                f"xe pool-enable-external-auth auth-type=AD service-name={self.domain} "
                f"config:user={self.user} config:pass={MASK}{ou}"
            ],
            steps=["pool.enable_external_auth (every host creates its computer account)"],
            impact=[
                "a computer account per host appears in AD"
                + (f" under {self.ou}" if self.ou else ""),
                "nobody from the directory may log in until added as a user with a role",
                "root keeps working as before",
                *[f"warning: {t}" for t in self.warnings],
            ],
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        config = {"user": self.user, "pass": self._password}
        if self.ou:
            config["ou"] = self.ou
        ctx.task("pool.enable_external_auth", self.pool, config, self.domain, "AD")
        return f"The pool joined {self.domain}. Add the users and groups who may log in."


class DisableDirectory(Action):
    calls = ("pool.disable_external_auth",)

    @staticmethod
    def fields() -> list[Field]:
        return [
            Field("user", "Account (optional)", "", placeholder="to disable the computer accounts"),
            Field("password", "Its password", "", password=True),
        ]

    def __init__(self, cache: Cache, user: str = "", password: str = "", me: str = ""):
        state = directory_state(cache)
        if not state.enabled:
            raise InvalidInput(["the pool has not joined a domain"])
        if user.strip() and not password:
            raise InvalidInput(["give the account's password, or no account at all"])
        self.domain, self.user, self._password = state.domain, user.strip(), password
        self.me = me  # the console's own user when it is a directory user
        self.users = len(subject_rows(cache))
        with cache.lock:
            self.pool = views.pool(cache).ref

    def __repr__(self) -> str:
        return f"DisableDirectory({self.domain!r}, {self.user!r}, <hidden>)"

    def plan(self) -> Plan:
        creds = f" config:user={self.user} config:pass={MASK}" if self.user else ""
        impact = [
            f"the {self.users} directory users and groups may no longer log in; their "
            "open sessions end now (they stay listed, for when the pool joins again)",
            "the computer accounts are disabled in AD"
            if self.user
            else "the computer accounts stay in AD (give an account to disable them)",
        ]
        if self.me:
            impact.insert(0, f"this console is logged in as {self.me}: its session ends too")
        return Plan(
            title=f"Leave the domain {self.domain}",
            summary=f"Every host of the pool leaves {self.domain}; only root may log in after.",
            xe=[f"xe pool-disable-external-auth{creds}"],
            steps=["pool.disable_external_auth"],
            impact=impact,
            risk="high" if self.me else "medium",
            confirm_word="leave" if self.me else "",
        )

    def run(self, ctx: RunContext) -> str:
        config = {"user": self.user, "pass": self._password} if self.user else {}
        ctx.task("pool.disable_external_auth", self.pool, config)
        return f"The pool left {self.domain}: only root may log in."


class AddSubject(Action):
    calls = (
        "auth.get_subject_identifier",
        "auth.get_subject_information_from_identifier",
        "subject.create",
        "subject.destroy",
        "subject.add_to_roles",
    )

    @staticmethod
    def fields() -> list[Field]:
        return [
            Field("name", "User or group", "", placeholder="CORP\\alice or helpdesk@corp.example"),
            Field("role", "Role", ROLE_NAMES["read-only"], choices=ROLE_CHOICES),
        ]

    def __init__(self, cache: Cache, name: str, role: str):
        if not directory_state(cache).enabled:
            raise InvalidInput([NOT_JOINED])
        self.name = name.strip()
        if not self.name:
            raise InvalidInput(["give a user or group name"])
        self.role = _role_choice(role)
        self.role_ref = _role_ref(cache, self.role)

    def plan(self) -> Plan:
        return Plan(
            title=f"Let {self.name} log in as {ROLE_NAMES[self.role]}",
            summary=(
                f"{self.name} is looked up in the directory and may then log in to the pool "
                f"with the {ROLE_NAMES[self.role]} role."
            ),
            xe=[
                f"xe subject-add subject-name={shlex.quote(self.name)}",
                f"xe subject-role-add uuid=<new subject> role-name={self.role}",
            ],
            steps=[
                "auth.get_subject_identifier (the directory resolves the name)",
                "subject.create",
                "subject.add_to_roles",
            ],
            impact=[f"{self.name} may {MAY[self.role]}"],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        sid = ctx.call("auth.get_subject_identifier", self.name)
        info = ctx.call("auth.get_subject_information_from_identifier", sid)
        subject = ctx.call("subject.create", {"subject_identifier": sid, "other_config": info})
        ctx.on_undo(f"remove {self.name}", lambda: ctx.conn.call("subject.destroy", subject))
        ctx.call("subject.add_to_roles", subject, self.role_ref)
        name = info.get("subject-name", self.name)
        return f"{name} may log in as {ROLE_NAMES[self.role]}."


class _OneSubject(Action):
    def __init__(self, cache: Cache, subject: str):
        row = next((r for r in subject_rows(cache) if r.ref == subject), None)
        if row is None:
            raise InvalidInput(["choose a user or group in the list"])
        self.subject, self.row = subject, row
        with cache.lock:
            rec = cache.get("subject", subject)
            self.current, self.uuid = list(rec.roles), rec.uuid


class SetSubjectRole(_OneSubject):
    calls = ("subject.add_to_roles", "subject.remove_from_roles")

    @staticmethod
    def fields(current: str) -> list[Field]:
        return [Field("role", "Role", ROLE_NAMES.get(current, ""), choices=ROLE_CHOICES)]

    def __init__(self, cache: Cache, subject: str, role: str):
        super().__init__(cache, subject)
        self.role = _role_choice(role)
        if self.role == self.row.role and len(self.current) == 1:
            raise InvalidInput([f"{self.row.name} has that role already"])
        self.role_ref = _role_ref(cache, self.role)

    def plan(self) -> Plan:
        old = ROLE_NAMES.get(self.row.role, "no role")
        return Plan(
            title=f"{self.row.name}: {old} -> {ROLE_NAMES[self.role]}",
            summary=f"{self.row.name} gets the {ROLE_NAMES[self.role]} role instead of {old}.",
            xe=[
                f"xe subject-role-remove uuid={self.uuid} role-name={self.row.role}",
                f"xe subject-role-add uuid={self.uuid} role-name={self.role}",
            ],
            steps=["subject.remove_from_roles (each current role)", "subject.add_to_roles"],
            impact=[
                f"{self.row.name} may then {MAY[self.role]}",
                "sessions already open keep their permissions until they log in again",
            ],
        )

    def run(self, ctx: RunContext) -> str:
        for role in self.current:
            if role == self.role_ref:
                continue
            ctx.call("subject.remove_from_roles", self.subject, role)
            ctx.on_undo(
                "give the old role back",
                lambda role=role: ctx.conn.call("subject.add_to_roles", self.subject, role),
            )
        if self.role_ref not in self.current:
            ctx.call("subject.add_to_roles", self.subject, self.role_ref)
        return f"{self.row.name} is now {ROLE_NAMES[self.role]}."


class RemoveSubject(_OneSubject):
    calls = ("subject.destroy",)

    def __init__(self, cache: Cache, subject: str, my_subject: str = ""):
        """``my_subject``: the subject the console's own session came in by."""
        super().__init__(cache, subject)
        self.mine = subject == my_subject

    def plan(self) -> Plan:
        kind = "group's members" if self.row.group else "user"
        impact = [f"the {kind} may no longer log in; open sessions end now"]
        if self.mine:
            impact.insert(0, "this is the account this console is logged in with: it ends too")
        return Plan(
            title=f"Remove {self.row.name}",
            summary=f"{self.row.name} ({ROLE_NAMES.get(self.row.role, 'no role')}) "
            "may no longer log in to the pool.",
            xe=[f"xe subject-remove subject-uuid={self.uuid}"],
            steps=["subject.destroy"],
            impact=impact,
            risk="high" if self.mine else "medium",
            confirm_word="remove" if self.mine else "",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.call("subject.destroy", self.subject)
        return f"{self.row.name} may no longer log in."
