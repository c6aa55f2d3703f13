"""Pool membership: ejecting a member (``pool.eject``: it reboots as a host
of its own and the data on its local disks is erased, so the plan lists what
goes with it and the host's name must be typed), and joining this host to a
pool (``pool.join``) after comparing it with the pool's master: what XAPI
would refuse is said first, and CPUs that differ need the admin's word."""

from __future__ import annotations

from dataclasses import dataclass, field

import XenAPI

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import Connection, XapiFailure, network_reason
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, problem_of
from ..guards import refuse_while_ha
from ..host.hosts import guests_on, host_or_refuse
from ..values import listing


class EjectHost(Action):
    calls = ("pool.eject",)

    def __init__(self, cache: Cache, host: str):
        with cache.lock:
            rec = host_or_refuse(cache, host)
            self.host, self.name, self.uuid = host, rec.name_label, rec.uuid
            master = views.master_ref(cache)
            running = [vm.name_label for vm in guests_on(cache, host)]
            local = [
                sr.ref
                for sr in cache.table("sr").values()
                if not sr.shared
                and any(p.SR == sr.ref and p.host == host for p in cache.table("pbd").values())
            ]
            disks = {v.ref for v in cache.table("vdi").values() if v.SR in local}
            self.losing = sorted(
                {
                    cache.label("vm", b.VM)
                    for b in cache.table("vbd").values()
                    if b.VDI in disks
                    and cache.get("vm", b.VM) is not None
                    and not cache.get("vm", b.VM).is_a_snapshot
                }
            )
        problems = []
        if host == master:
            problems.append(f"{self.name} is the pool master: designate another master first (D)")
        if running:
            problems.append(
                f"VMs run on {self.name}: {listing(running)}; enter maintenance mode "
                "first (m), which moves them"
            )
        if problems:
            raise InvalidInput(problems)
        refuse_while_ha(cache, "ejecting a host")

    def plan(self) -> Plan:
        impact = [
            f"{self.name} reboots as a host of its own, with the factory pool settings",
            "the data on its local disks is erased",
        ]
        if self.losing:
            impact.insert(
                0, f"these VMs lose their disks on its local storage: {', '.join(self.losing)}"
            )
        return Plan(
            title=f"Eject {self.name} from the pool",
            summary=f"{self.name} leaves the pool; shared SRs stay with the pool.",
            xe=[f"xe pool-eject host-uuid={self.uuid}"],
            steps=["pool.eject (the host reboots)"],
            impact=impact,
            risk="high",
            confirm_word=self.name,
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("pool.eject", self.host)
        ctx.commit()
        return f"{self.name} left the pool and is rebooting as a host of its own."


# joining ----------------------------------------------------------------------------
@dataclass
class JoinCheck:
    """This host against the pool it would join: ``refusals`` XAPI would
    refuse whatever the admin says; ``mismatches`` (CPUs) only a forced join
    accepts; ``notes`` what the admin should know."""

    pool: str = ""
    master: str = ""
    refusals: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def join_refusal(cache: Cache, this_host: str) -> str:
    """Why this host cannot join a pool now ('' when it is on its own): a
    host in a pool joins another only once it is on its own again."""
    with cache.lock:
        others = len(cache.table("host")) - 1
        master = views.master_ref(cache)
        name = cache.label("host", this_host, "this host")
    if others <= 0:
        return ""
    if this_host == master:
        return f"{name}, this console's host, is the master of {others} other host(s): eject them first"
    return f"{name}, this console's host, is a pool member: eject it before it joins another pool"


def _login_refused(address: str, details: list[str]) -> Exception:
    """The master's refusal of the login, in words (the form keeps what was typed)."""
    code = details[0] if details else ""
    if code == "SESSION_AUTHENTICATION_FAILED":
        why = f"the pool master at {address} did not accept this root password"
    elif code == "HOST_IS_SLAVE":
        master = details[1] if len(details) > 1 else "its master"
        why = f"{address} is a member of its pool: give its master's address ({master})"
    else:
        return XapiFailure(details)
    return InvalidInput([why])


def check_join(conn: Connection, address: str, password: str) -> JoinCheck:
    """Read the pool's master (a session with the pool's root password) and
    compare: a read, nothing changes. Raises XapiFailure/ConnectError for a
    master that cannot be reached or refuses the password."""
    address = v.host_or_ip(address, "pool master")
    found = JoinCheck()
    cache = conn.cache
    with cache.lock:
        me = cache.get("host", conn.this_host)
        shared = [sr.name_label for sr in cache.table("sr").values() if sr.shared]
        running = [vm.name_label for vm in views.user_vms(cache) if vm.power_state != "Halted"]
        my_devices = sorted(
            p.device for p in cache.table("pif").values() if p.host == me.ref and p.physical
        )
    alone = join_refusal(cache, conn.this_host)
    if alone:
        found.refusals.append(alone)
    if running:
        found.refusals.append(f"VMs run or are suspended here: {listing(running)}")
    if shared:
        found.refusals.append(f"this host has shared SRs of its own: {', '.join(shared)}")
    try:
        session = conn.session_on(address, password=password)
    except XenAPI.Failure as exc:  # a wrong password, a member's address: in words
        raise _login_refused(address, [str(d) for d in exc.details]) from None
    except OSError as exc:
        raise InvalidInput(
            [f"cannot reach the pool master at {address}: {network_reason(exc)}"]
        ) from None
    try:
        x = session.xenapi
        master_ref = x.session.get_this_host(session._session)
        master = x.host.get_record(master_ref)
        pool = x.pool.get_record(x.pool.get_all()[0])
        their_devices = sorted(
            p["device"]
            for p in x.PIF.get_all_records_where(f'field "host" = "{master_ref}"').values()
            if p["physical"]
        )
    finally:
        try:
            session.xenapi.session.logout()
        except Exception:
            pass
    found.pool, found.master = pool["name_label"] or "(unnamed pool)", master["name_label"]
    mine = (me.API_version_major, me.API_version_minor)
    theirs = (int(master["API_version_major"]), int(master["API_version_minor"]))
    if mine != theirs:
        found.refusals.append(
            f"API {mine[0]}.{mine[1]} here, {theirs[0]}.{theirs[1]} on the pool: same release needed"
        )
    a, b = me.cpu_info, master["cpu_info"]
    if a.get("vendor") != b.get("vendor"):
        found.mismatches.append(
            f"CPU vendor: {a.get('vendor')} here, {b.get('vendor')} in the pool; live migration "
            "between them will not work"
        )
    elif a.get("features") != b.get("features"):
        found.mismatches.append(
            f"CPU features differ ({a.get('features')} here, {b.get('features')} in the pool): "
            "VMs will see only what every host offers"
        )
    if my_devices != their_devices:
        found.notes.append(
            f"NICs: {', '.join(my_devices)} here, {', '.join(their_devices)} on the master; "
            "the pool's networks expect the same layout"
        )
    return found


class JoinPool(Action):
    calls = ("pool.join", "pool.join_force")

    @staticmethod
    def fields() -> list[Field]:
        return [
            Field("address", "Pool master", "", problem_of(v.host_or_ip, "pool master")),
            Field("password", "Its root password", "", password=True),
            Field("force", "If the CPUs differ", "refuse", choices=("refuse", "join anyway")),
        ]

    def __init__(self, cache: Cache, address: str, password: str, force: str, check: JoinCheck):
        if not password:
            raise InvalidInput(["give the pool's root password"])
        if check.refusals:
            raise InvalidInput(check.refusals)
        self.forced = force == "join anyway"
        if check.mismatches and not self.forced:
            raise InvalidInput(
                [*check.mismatches, "choose 'join anyway' to join all the same, knowing this"]
            )
        self.address, self._password, self.check = address.strip(), password, check
        with cache.lock:
            me = next(iter(cache.table("host").values()))
            self.name, self.uuid = me.name_label, me.uuid

    def __repr__(self) -> str:
        return f"JoinPool({self.address!r}, <hidden>)"

    def plan(self) -> Plan:
        c = self.check
        verb = "pool-join force=true" if self.forced else "pool-join"
        impact = [
            f"{self.name} becomes a member of {c.pool}: its toolstack restarts and this console "
            "follows it to the pool's master",
            "its root password becomes the pool's (the one typed here), as every member's",
            "the pool's shared SRs and networks are attached to it",
            *[f"forced: {m}" for m in c.mismatches],
            *c.notes,
        ]
        return Plan(
            title=f"Join {self.name} to the pool {c.pool}",
            summary=f"{self.name} joins the pool whose master is {c.master} ({self.address}).",
            xe=[
                f"xe {verb} master-address={self.address} master-username=root "
                "master-password=******"
            ],
            steps=["pool.join_force" if self.forced else "pool.join"],
            impact=impact,
            risk="high" if self.forced else "medium",
            confirm_word=self.name if self.forced else "",
        )

    def run(self, ctx: RunContext) -> str:
        method = "pool.join_force" if self.forced else "pool.join"
        # once in the pool, the host has the pool's root password (the master's
        # user database): the console logs in again with the one typed here
        ours = ctx.conn.user == "root"
        if ours:
            ctx.conn.expect_password(self._password)
        try:
            ctx.task(method, self.address, "root", self._password)
        except BaseException:
            ctx.conn.expect_password(None)
            raise
        ctx.commit()
        if not ours:
            return (
                f"{self.name} joined {self.check.pool}; the console follows it to the master, "
                f"where {ctx.conn.user} may need the pool's own password."
            )
        return (
            f"{self.name} joined {self.check.pool}: its root password is now the pool's, "
            "which the console logs in with as it follows the host to the master."
        )
