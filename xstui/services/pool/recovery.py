"""Pool recovery when the master is gone (RECIPES §3): find out whether the
master is dead (it does not answer, and the members still point at it), make
a member the new master (``pool.emergency_transition_to_master`` with the
member's local login, then ``pool.recover_slaves``), point a member that did
not follow at the new master (``pool.emergency_reset_master``), or switch off
a broken HA (``host.emergency_ha_disable``).

These talk to members directly, each with its own session: the console's
connection is to the dead master. Each action says when to use it and what
it risks, on screen, before anything is sent."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import XenAPI

from ...xapi import views
from ...xapi.connection import ConnectError, Connection, ConnectionLost, XapiFailure
from ..actions import Action, InvalidInput, Plan, RunContext


@dataclass(frozen=True)
class MemberAnswer:
    name: str
    address: str
    answer: str  # "master", "member of <address>", or why it could not be asked
    follows: str = ""  # the master address it points at


@dataclass(frozen=True)
class Diagnosis:
    master: str  # the master's name as last known
    master_address: str
    master_answers: bool
    members: tuple[MemberAnswer, ...]

    @property
    def master_dead(self) -> bool:
        """The master does not answer and every member that answers still
        points at it: the case for the emergency transition."""
        asked = [m for m in self.members if m.follows or m.answer == "master"]
        return (
            not self.master_answers
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


def _ask(conn: Connection, name: str, address: str) -> MemberAnswer:
    try:
        proxy = conn.session_on(address)
    except XenAPI.Failure as f:
        details = [str(d) for d in f.details]
        if details[0] == "HOST_IS_SLAVE" and len(details) > 1:
            return MemberAnswer(name, address, f"member of {details[1]}", details[1])
        return MemberAnswer(name, address, " ".join(details))
    except ConnectError as exc:
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
    answer = _ask(conn, *master)
    asked = tuple(_ask(conn, name, address) for name, address in members)
    return Diagnosis(master[0], master[1], answer.answer == "master", asked)


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
def _local_session(conn: Connection, member: MemberAnswer):
    """The member's own local login (it answers without its master), logged
    out afterwards; its refusals and silences said as the console says them."""
    with _member_errors(member):
        proxy = conn.session_on(member.address, local=True)
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

    def __init__(self, diagnosis: Diagnosis, member: str):
        chosen = next((m for m in diagnosis.members if m.name == member), None)
        if chosen is None:
            raise InvalidInput([f"{member!r} is not a member of this pool"])
        if diagnosis.master_answers:
            raise InvalidInput(
                [
                    f"the master {diagnosis.master} answers: use Designate a new master "
                    "(Host, D) in a healthy pool, not the emergency transition"
                ]
            )
        if not chosen.follows:
            raise InvalidInput([f"{member} cannot be asked: {chosen.answer}"])
        self.diagnosis, self.member = diagnosis, chosen

    def plan(self) -> Plan:
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
            impact=[WHEN_TAKEOVER, RISK_TAKEOVER],
            risk="high",
            confirm_word="takeover",
        )

    def run(self, ctx: RunContext) -> str:
        with _member_errors(self.member):
            return self._run(ctx)

    def _run(self, ctx: RunContext) -> str:
        conn = ctx.conn
        ctx.note(f"Local login on {self.member.name}")
        with _local_session(conn, self.member) as local:
            ctx.note("Emergency transition to master")
            local.pool.emergency_transition_to_master()
        ctx.commit()  # the pool has a new master: nothing to take back
        ctx.progress(0.5)
        ctx.note("Telling the members to follow")
        master = conn.session_on(self.member.address)
        try:
            recovered = master.xenapi.pool.recover_slaves()
            names = [master.xenapi.host.get_name_label(h) for h in recovered]
        finally:
            master.xenapi.session.logout()
        conn.retarget(self.member.address)  # the console follows the new master
        ctx.progress(1.0)
        return (
            f"{self.member.name} is the master. Recovered: {', '.join(names) or 'no other member'}"
            ". A member not listed must be pointed at it (Point a member at the master)."
        )


class PointAtMaster(Action):
    """A member that did not follow the new master is told its address."""

    calls = ("session.slave_local_login_with_password", "pool.emergency_reset_master")

    needs_connection = False

    def __init__(self, diagnosis: Diagnosis, member: str, master_address: str):
        chosen = next((m for m in diagnosis.members if m.name == member), None)
        if chosen is None:
            raise InvalidInput([f"{member!r} is not a member of this pool"])
        if chosen.answer == "master":
            raise InvalidInput([f"{member} answers as master itself"])
        if not master_address:
            raise InvalidInput(["no host answers as master yet: make a member the master first"])
        if chosen.follows == master_address:
            raise InvalidInput([f"{member} already follows {master_address}"])
        self.member, self.master_address = chosen, master_address

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
        with _local_session(ctx.conn, self.member) as local:
            local.pool.emergency_reset_master(self.master_address)
        return f"{self.member.name} now follows {self.master_address}."


class EmergencyHaOff(Action):
    """HA is on but broken (its statefile lost, a lock left behind): each host
    that answers is told to switch HA off, with its local login."""

    calls = ("session.slave_local_login_with_password", "host.emergency_ha_disable")

    needs_connection = False

    def __init__(self, diagnosis: Diagnosis):
        hosts = [(diagnosis.master, diagnosis.master_address)] if diagnosis.master_answers else []
        hosts += [
            (m.name, m.address) for m in diagnosis.members if m.follows or m.answer == "master"
        ]
        if not hosts:
            raise InvalidInput(["no host answers: there is nothing to switch HA off on"])
        self.hosts = hosts

    def plan(self) -> Plan:
        return Plan(
            "Emergency: switch HA off",
            f"Switch HA off on {', '.join(name for name, _ in self.hosts)}, each through its "
            "local login, without the pool's agreement.",
            [f"# on {name}: xe host-emergency-ha-disable --force" for name, _ in self.hosts],
            impact=[
                "When: HA is on but broken: the heartbeat SR is lost for good, or HA cannot be "
                "disabled normally (pool-ha-disable fails). With HA healthy, use Disable (HA, d).",
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
            with _local_session(ctx.conn, MemberAnswer(name, address, "")) as local:
                local.host.emergency_ha_disable(False)
                done.append(name)
            ctx.progress((i + 1) / len(self.hosts))
        return f"HA is off on {', '.join(done)}. Enable it again once the heartbeat SR works."
