"""Pool recovery when the master is gone (RECIPES §3): find out whether the
master is dead (it does not answer, and the members still point at it), make
a member the new master (``pool.emergency_transition_to_master`` with the
member's local login, then ``pool.recover_slaves``), point a member that did
not follow at the new master (``pool.emergency_reset_master``), or switch off
a broken HA (``host.emergency_ha_disable``).

These talk to members directly, each with its own session: the console's
connection is to the dead master. Each action says when to use it and what
it risks, on screen, before anything is sent.

Over HTTPS a member is asked only once its certificate is trusted: pinned,
or trusted for this session after the admin confirmed that it is the one
the pool recorded for that host (its Certificate record of type host, from
the console's cache, read while the master was alive). One that presents
another is never trusted from here, and a host not asked leaves the master's
fate open. The pool's CAs (Certificate records of type ca) are not used:
their records carry a fingerprint, not the key a signature is checked with,
and a CA-signed host certificate installed through the pool is recorded
like a self-signed one. In dom0, the other hosts are reached over HTTPS
(Connection.host_target)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import XenAPI

from ...areas import see
from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import ConnectError, Connection, ConnectionLost, XapiFailure
from ...xapi.tls import spaced
from ..actions import Action, InvalidInput, Plan, RunContext


@dataclass(frozen=True)
class MemberAnswer:
    name: str
    address: str
    answer: str  # "master", "member of <address>", or why it could not be asked
    follows: str = ""  # the master address it points at
    # it answers, but was not asked: the certificate it presents is not trusted
    untrusted: str = ""  # that certificate's SHA-256 fingerprint
    record: str = ""  # it against the pool's records: matched, not matched, no record, pinned


@dataclass(frozen=True)
class Diagnosis:
    master: str  # the master's name as last known
    master_address: str
    master_answers: bool
    members: tuple[MemberAnswer, ...]
    master_answer: MemberAnswer | None = None  # the master's own, when it was asked

    @property
    def untrusted(self) -> tuple[MemberAnswer, ...]:
        """The hosts (the master too) that answer but were not asked: the
        certificate each presents is not trusted."""
        hosts = (self.master_answer, *self.members) if self.master_answer else self.members
        return tuple(h for h in hosts if h.untrusted)

    @property
    def master_dead(self) -> bool:
        """The master does not answer and every member that answers still
        points at it: the case for the emergency transition. Never while a
        host could not be asked: it may be the master, or follow another."""
        asked = [m for m in self.members if m.follows or m.answer == "master"]
        return (
            not self.master_answers
            and not self.untrusted
            and bool(asked)
            and all(m.follows == self.master_address for m in asked)
        )

    @property
    def new_master(self) -> str:
        """The address of the host that answers as master: the one known,
        or a member after a transition."""
        if self.master_answers:
            return self.master_address
        return next((m.address for m in self.members if m.answer == "master"), "")


def recorded_certificates(cache: Cache) -> dict[str, tuple[str, ...]] | None:
    """The SHA-256 fingerprints the pool recorded for each host's certificate
    (Certificate records of type host), by the host's address; None when the
    console knows no record (a release before Stockholm keeps none, or the
    pool was not read)."""
    found: dict[str, tuple[str, ...]] = {}
    with cache.lock:
        for ref, cert in views.host_certificate_records(cache).items():
            host = cache.get("host", ref)
            if host is not None:
                fingerprint = views.certificate_fingerprint(cert).upper()
                found[host.address] = (*found.get(host.address, ()), fingerprint)
    return found or None


def _untrusted(
    name: str, address: str, exc: ConnectError, records: dict[str, tuple[str, ...]] | None
) -> MemberAnswer:
    """A host whose certificate is not trusted, said against the pool's records."""
    fingerprint = exc.fingerprint.upper()
    if exc.pinned:  # this console pinned another one for it: its own warning stands
        return MemberAnswer(name, address, str(exc), untrusted=fingerprint, record="pinned")
    if records is None:
        return MemberAnswer(
            name,
            address,
            f"not asked: presents a certificate not trusted yet ({spaced(fingerprint)}) and the "
            "pool's certificate records are not known here: compare it on the host's console",
            untrusted=fingerprint,
            record="no record",
        )
    if fingerprint in records.get(address, ()):
        return MemberAnswer(
            name,
            address,
            "not asked yet: presents the certificate the pool recorded for it (Trust to ask it)",
            untrusted=fingerprint,
            record="matched",
        )
    return MemberAnswer(
        name,
        address,
        f"presents a certificate the pool never recorded: {spaced(fingerprint)}; not asked",
        untrusted=fingerprint,
        record="not matched",
    )


def _ask(
    conn: Connection, name: str, address: str, records: dict[str, tuple[str, ...]] | None
) -> MemberAnswer:
    try:
        proxy = conn.session_on(address)
    except XenAPI.Failure as f:
        details = [str(d) for d in f.details]
        if details[0] == "HOST_IS_SLAVE" and len(details) > 1:
            return MemberAnswer(name, address, f"member of {details[1]}", details[1])
        return MemberAnswer(name, address, " ".join(details))
    except ConnectError as exc:
        if exc.kind == "trust" and exc.fingerprint:
            return _untrusted(name, address, exc, records)
        return MemberAnswer(name, address, str(exc))
    except OSError as exc:
        return MemberAnswer(name, address, f"does not answer ({exc.__class__.__name__})")
    try:
        proxy.xenapi.session.logout()
    except Exception:  # noqa: BLE001 (tidying only)
        pass
    return MemberAnswer(name, address, "master")


def diagnose(
    conn: Connection,
    master: tuple[str, str] | None = None,
    members: list[tuple[str, str]] | None = None,
) -> Diagnosis:
    """Ask the master and every other host of the pool who their master is:
    (name, address) pairs, by default as the console's cache last knew them.
    Reads only: logins, logged out at once."""
    if master is None or members is None:
        cache = conn.cache
        with cache.lock:
            rec = cache.get("host", views.master_ref(cache))
            master = (rec.name_label, rec.address) if rec else ("?", conn.target.host)
            members = sorted(
                (h.name_label, h.address)
                for h in cache.table("host").values()
                if rec is None or h.ref != rec.ref
            )
    records = recorded_certificates(conn.cache)
    answer = _ask(conn, *master, records)
    asked = tuple(_ask(conn, name, address, records) for name, address in members)
    return Diagnosis(master[0], master[1], answer.answer == "master", asked, answer)


def trustable(diagnosis: Diagnosis) -> tuple[MemberAnswer, ...]:
    """The hosts not asked for want of trust whose certificate the admin may
    trust for this session: those presenting what the pool recorded for
    them, or, where the console knows no record, what the admin compares on
    each host's console. Never one presenting something the pool never
    recorded, nor one this console pinned otherwise."""
    return tuple(h for h in diagnosis.untrusted if h.record in ("matched", "no record"))


def trust_for_session(conn: Connection, hosts: tuple[MemberAnswer, ...]) -> None:
    """Trust, until the console's connection ends, exactly the certificate
    each of ``hosts`` presented (the admin confirmed it); nothing is pinned."""
    for host in hosts:
        conn.trust_for_session(conn.host_target(host.address), host.untrusted)


@contextlib.contextmanager
def _member_errors(member: MemberAnswer):
    """A member's refusals and silences, as the console says them."""
    try:
        yield
    except XenAPI.Failure as f:
        raise XapiFailure(f.details) from None
    except ConnectError as exc:
        raise ConnectionLost(str(exc)) from None
    except OSError as exc:
        raise ConnectionLost(f"{member.name} ({member.address}) cannot be reached: {exc}") from None


@contextlib.contextmanager
def _local_session(conn: Connection, member: MemberAnswer, password: str | None = None):
    """The member's own local login (it answers without its master), logged
    out afterwards; its refusals and silences said as the console says them.
    ``password``: root's, where the console logged in without one (dom0's socket)."""
    with _member_errors(member):
        proxy = conn.session_on(member.address, local=True, password=password)
        try:
            yield proxy.xenapi
        finally:
            try:
                proxy.xenapi.session.local_logout()
            except Exception:  # noqa: BLE001 (tidying only: the call's outcome stands)
                pass


WHEN_TAKEOVER = (
    "When: the master is dead (hardware, power) and will not be back soon, and HA is off. "
    "With HA on, HA elects a new master by itself: do not use this."
)
RISK_TAKEOVER = (
    "Risk: if the old master comes back on the network it still thinks it is the master "
    "(two masters, split brain): keep it off, or run pool-emergency-reset-master on it "
    "as soon as it boots. VMs that ran on it are halted: start them elsewhere."
)


class TakeOverAsMaster(Action):
    """A member becomes the master, then the others are told to follow it."""

    calls = ("session.slave_local_login_with_password", "pool.emergency_transition_to_master")

    needs_connection = False

    def __init__(self, diagnosis: Diagnosis, member: str, password: str | None = None):
        chosen = next((m for m in diagnosis.members if m.name == member), None)
        if chosen is None:
            raise InvalidInput([f"{member!r} is not a member of this pool"])
        if diagnosis.master_answers:
            raise InvalidInput(
                [
                    f"the master {diagnosis.master} answers: use Designate a new master in "
                    f"{see('host', 'D')} in a healthy pool, not the emergency transition"
                ]
            )
        if not chosen.follows:
            raise InvalidInput([f"{member} cannot be asked: {chosen.answer}"])
        self.diagnosis, self.member, self.password = diagnosis, chosen, password

    def plan(self) -> Plan:
        impact = [WHEN_TAKEOVER, RISK_TAKEOVER]
        if self.diagnosis.untrusted:
            impact.append(
                "Not asked (certificate not trusted): "
                f"{', '.join(h.name for h in self.diagnosis.untrusted)}. If one of them took over "
                "already, this makes a second master."
            )
        return Plan(
            "Emergency: make a member the master",
            f"{self.member.name} ({self.member.address}) becomes the master of the pool in place "
            f"of {self.diagnosis.master} ({self.diagnosis.master_address}), which does not answer; "
            "then every member that can be reached is told to follow it.",
            [
                f"# on {self.member.name}: xe pool-emergency-transition-to-master",
                f"# on {self.member.name}: xe pool-recover-slaves",
            ],
            steps=[
                f"local login on {self.member.name}",
                "pool.emergency_transition_to_master",
                "pool.recover_slaves",
            ],
            impact=impact,
            risk="high",
            confirm_word="takeover",
        )

    def run(self, ctx: RunContext) -> str:
        with _member_errors(self.member):
            return self._run(ctx)

    def _run(self, ctx: RunContext) -> str:
        conn = ctx.conn
        ctx.note(f"Local login on {self.member.name}")
        with _local_session(conn, self.member, self.password) as local:
            ctx.note("Emergency transition to master")
            local.pool.emergency_transition_to_master()
        ctx.commit()  # the pool has a new master: nothing to take back
        ctx.progress(0.5)
        ctx.note("Telling the members to follow")
        master = conn.session_on(self.member.address, password=self.password)
        try:
            recovered = master.xenapi.pool.recover_slaves()
            names = [master.xenapi.host.get_name_label(h) for h in recovered]
        finally:
            master.xenapi.session.logout()
        # the console follows the new master, trusted as it was to be asked
        conn.retarget(self.member.address, same_certificate=False)
        ctx.progress(1.0)
        stays = (
            f" This console stays on this host's socket: connect to {self.member.address} "
            "to manage the pool."
            if conn.target.kind == "local" and self.member.address != conn.own_address()
            else ""
        )
        return (
            f"{self.member.name} is the master. Recovered: {', '.join(names) or 'no other member'}"
            ". A member not listed must be pointed at it (Point a member at the master)." + stays
        )


class PointAtMaster(Action):
    """A member that did not follow the new master is told its address."""

    calls = ("session.slave_local_login_with_password", "pool.emergency_reset_master")

    needs_connection = False

    def __init__(
        self, diagnosis: Diagnosis, member: str, master_address: str, password: str | None = None
    ):
        chosen = next((m for m in diagnosis.members if m.name == member), None)
        if chosen is None:
            raise InvalidInput([f"{member!r} is not a member of this pool"])
        if chosen.answer == "master":
            raise InvalidInput([f"{member} answers as master itself"])
        if not master_address:
            raise InvalidInput(["no host answers as master yet: make a member the master first"])
        if chosen.follows == master_address:
            raise InvalidInput([f"{member} already follows {master_address}"])
        self.member, self.master_address, self.password = chosen, master_address, password

    def plan(self) -> Plan:
        return Plan(
            "Emergency: point a member at the master",
            f"{self.member.name} follows the master at {self.master_address} "
            f"(it points at {self.member.follows or 'nothing that answers'} now).",
            [
                f"# on {self.member.name}: xe pool-emergency-reset-master master-address={self.master_address}"
            ],
            steps=[f"local login on {self.member.name}", "pool.emergency_reset_master"],
            impact=[
                "When: after a member became the master, for a member that recover_slaves "
                "could not reach (it was down, or off the network).",
                "Risk: pointing it at a host that is not the master leaves it cut off until "
                "this is run again with the right address.",
            ],
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        with _local_session(ctx.conn, self.member, self.password) as local:
            local.pool.emergency_reset_master(self.master_address)
        return f"{self.member.name} now follows {self.master_address}."


class EmergencyHaOff(Action):
    """HA is on but broken (its statefile lost, a lock left behind): each host
    that answers is told to switch HA off, with its local login."""

    calls = ("session.slave_local_login_with_password", "host.emergency_ha_disable")

    needs_connection = False

    def __init__(self, diagnosis: Diagnosis, password: str | None = None):
        hosts = [(diagnosis.master, diagnosis.master_address)] if diagnosis.master_answers else []
        hosts += [
            (m.name, m.address) for m in diagnosis.members if m.follows or m.answer == "master"
        ]
        if not hosts:
            raise InvalidInput(["no host answers: there is nothing to switch HA off on"])
        self.hosts, self.password = hosts, password

    def plan(self) -> Plan:
        return Plan(
            "Emergency: switch HA off",
            f"Switch HA off on {', '.join(name for name, _ in self.hosts)}, each through its "
            "local login, without the pool's agreement.",
            [f"# on {name}: xe host-emergency-ha-disable --force" for name, _ in self.hosts],
            impact=[
                "When: HA is on but broken: the heartbeat SR is lost for good, or HA cannot be "
                "disabled normally (pool-ha-disable fails). With HA healthy, use Disable in "
                f"{see('ha', 'd')}.",
                "Risk: nothing restarts protected VMs until HA is enabled again; enable it "
                "(with a working heartbeat SR) as soon as the pool is stable.",
            ],
            risk="high",
            confirm_word="ha off",
        )

    def run(self, ctx: RunContext) -> str:
        done = []
        ctx.commit()  # each host switched off stays so
        for i, (name, address) in enumerate(self.hosts):
            ctx.note(f"{name}")
            with _local_session(ctx.conn, MemberAnswer(name, address, ""), self.password) as local:
                local.host.emergency_ha_disable(False)
                done.append(name)
            ctx.progress((i + 1) / len(self.hosts))
        return f"HA is off on {', '.join(done)}. Enable it again once the heartbeat SR works."
