"""pool: handing the master role to another host, and the recovery calls
for when the master is gone (HA off): a member takes over, then the others
are pointed at it."""

from __future__ import annotations

import threading

from .. import consoles
from ..api import Ctx, message
from ..errors import XapiError
from ..schema import NULL_REF
from . import _ha
from . import _placement as place
from . import _updates as updates
from ._net import ha_enabled

CLASS = "pool"


@message()
def designate_new_master(ctx: Ctx, host):
    """The host becomes the master. Both toolstacks restart (their clients'
    connections drop); afterwards the old master answers HOST_IS_SLAVE with
    the new master's address, as every member does."""
    sim = ctx.sim
    old = sim.master
    if host == old:
        return ""  # XAPI: nothing to do
    if ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    place.require_live(ctx, host)
    ctx.work(0.5, progress=0.5)
    ctx.store.set("pool", sim.pool, master=host)
    for h in ctx.store.table("host"):  # a healthy pool: every member follows
        sim.believed_master[h] = host
    for h in (old, host):
        sim.go_down(h, seconds=sim.agent_restart_seconds, reboot=False)
    return ""


def _on_member(ctx: Ctx) -> str:
    return ctx.caller.host or ctx.sim.master


@message()
def emergency_transition_to_master(ctx: Ctx):
    """Run on a member (local login) whose master is unreachable: it becomes
    the master. The other members still point at the old one."""
    sim, host = ctx.sim, _on_member(ctx)
    if host == sim.master and sim.master not in sim.down:
        return ""  # already the master
    if ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    old = sim.master
    for other in ctx.store.table("host"):  # the others still believe in the old master
        sim.believed_master.setdefault(other, old)
    ctx.store.set("pool", sim.pool, master=host)
    sim.believed_master[host] = host
    return ""


@message()
def recover_slaves(ctx: Ctx):
    """On the (new) master: every member that can be reached is told to
    follow it; returns the hosts that were recovered."""
    sim = ctx.sim
    recovered = []
    st = ctx.store
    for host, rec in st.table("host").items():
        if host == sim.master or host in sim.down:
            continue
        if sim.master_of(host) != sim.master or host in sim.lost_master:
            sim.believed_master[host] = sim.master
            sim.lost_master.discard(host)
            if st.exists("host_metrics", rec["metrics"]):
                st.set("host_metrics", rec["metrics"], live=True)
            recovered.append(host)
    return recovered


@message()
def emergency_reset_master(ctx: Ctx, master_address):
    """Run on a member (local login): follow the master at ``master_address``."""
    sim, host = ctx.sim, _on_member(ctx)
    target = sim.host_by_address(str(master_address))
    if target is None:
        raise XapiError("HOST_NOT_LIVE")  # nothing answers there: XAPI cannot reach it
    sim.believed_master[host] = target
    return ""


# HA -----------------------------------------------------------------------------
STATEFILE_TYPES = ("nfs", "lvmoiscsi", "lvmohba", "gfs2", "smb", "ext")  # can hold a statefile
STATEFILE_BYTES = 4 * 1024**2
REDO_LOG_BYTES = 256 * 1024**2


@message(asyncable=False)
def ha_compute_max_host_failures_to_tolerate(ctx: Ctx):
    return _ha.max_failures(ctx)


@message(asyncable=False)
def ha_compute_hypothetical_max_host_failures_to_tolerate(ctx: Ctx, configuration):
    for value in configuration.values():
        if value not in ("restart", "best-effort", ""):
            raise XapiError("INVALID_VALUE", "ha_restart_priority", value)
    return _ha.max_failures(ctx, {str(k): str(v) for k, v in configuration.items()})


@message(asyncable=False)
def ha_failover_plan_exists(ctx: Ctx, n):
    return _ha.plan_exists_for(ctx, int(n))


@message()
def set_ha_host_failures_to_tolerate(ctx: Ctx, self, value):
    n = int(value)
    if n < 0:
        raise XapiError("INVALID_VALUE", "ha_host_failures_to_tolerate", value)
    pool = ctx.store.get("pool", self)
    if pool["ha_enabled"] and n > _ha.max_failures(ctx):
        raise XapiError("HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN")
    ctx.store.set("pool", self, ha_host_failures_to_tolerate=n)
    _ha.refresh_plan(ctx)
    return ""


@message()
def enable_ha(ctx: Ctx, heartbeat_srs, configuration):
    st, sim = ctx.store, ctx.sim
    if st.get("pool", sim.pool)["ha_enabled"]:
        raise XapiError("HA_IS_ENABLED")
    hosts = [h for h in st.table("host") if place.live(ctx, h)]
    if len(hosts) < 2:
        raise XapiError("HA_TOO_FEW_HOSTS")
    if not heartbeat_srs:
        raise XapiError("CANNOT_CREATE_STATE_FILE")
    for sr in heartbeat_srs:
        rec = st.get("SR", sr)
        if rec["type"] not in STATEFILE_TYPES:
            raise XapiError("INCOMPATIBLE_STATEFILE_SR", rec["type"])
        if not rec["shared"] or not all(place.sees(ctx, h, sr) for h in hosts):
            raise XapiError("HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED", sr)
    timeout = str(configuration.get("timeout", "30"))
    if not timeout.isdigit() or not 10 <= int(timeout) <= 3600:
        raise XapiError("INVALID_VALUE", "timeout", timeout)
    sr = heartbeat_srs[0]
    ctx.work(0.5, progress=0.3)
    statefile = st.create(
        "VDI",
        {
            "name_label": "Statefile for HA",
            "SR": sr,
            "type": "ha_statefile",
            "virtual_size": STATEFILE_BYTES,
            "physical_utilisation": STATEFILE_BYTES,
        },
    )
    redo = st.create(
        "VDI",
        {
            "name_label": "Metadata for HA",
            "SR": sr,
            "type": "redo_log",
            "virtual_size": REDO_LOG_BYTES,
            "physical_utilisation": REDO_LOG_BYTES,
        },
    )
    ctx.work(0.5, progress=0.7)
    st.set(
        "pool",
        sim.pool,
        ha_enabled=True,
        ha_statefiles=[statefile],
        ha_configuration={k: str(v) for k, v in configuration.items()},
        ha_cluster_stack="xhad",
        redo_log_enabled=True,
        redo_log_vdi=redo,
    )
    for h in hosts:
        st.set("host", h, ha_statefiles=[statefile], ha_network_peers=[p for p in hosts if p != h])
    _ha.refresh_plan(ctx)
    return ""


@message()
def disable_ha(ctx: Ctx):
    st, sim = ctx.store, ctx.sim
    pool = st.get("pool", sim.pool)
    if not pool["ha_enabled"]:
        raise XapiError("HA_NOT_ENABLED")
    if any(place.live(ctx, h) and not st.get("host", h)["ha_statefiles"] for h in st.table("host")):
        raise XapiError("HA_LOST_STATEFILE")  # the disable needs the statefile: emergency path
    ctx.work(0.5, progress=0.5)
    for vdi in [*pool["ha_statefiles"], pool["redo_log_vdi"]]:
        if st.exists("VDI", vdi):
            st.destroy("VDI", vdi)
    st.set(
        "pool",
        sim.pool,
        ha_enabled=False,
        ha_statefiles=[],
        ha_plan_exists_for=0,
        ha_overcommitted=False,
        redo_log_enabled=False,
        redo_log_vdi=NULL_REF,
    )
    for h in st.table("host"):
        st.set("host", h, ha_statefiles=[], ha_network_peers=[])
    return ""


# external authentication ------------------------------------------------------
def _management_dns(ctx: Ctx, host: str) -> list[str]:
    st = ctx.store
    for pif in st.find("PIF", host=host, management=True):
        return [d for d in st.get("PIF", pif)["DNS"].split(",") if d]
    return []


def _refuse_join(ctx: Ctx, config: dict, service_name: str) -> None:
    """What the domain controller (store.directory) would refuse, host by
    host, master first, before any host joins: XAPI's error names the host."""
    st, d = ctx.store, ctx.store.directory
    hosts = [ctx.sim.master, *(h for h in st.table("host") if h != ctx.sim.master)]
    names = [st.get("host", h)["hostname"].lower() for h in hosts]
    for host, name in zip(hosts, names, strict=True):

        def fail(kind: str, why: str, host: str = host) -> XapiError:
            return XapiError(f"POOL_AUTH_ENABLE_FAILED_{kind}", host, why)

        if d is None or service_name.lower() != d["domain"]:
            raise fail("DOMAIN_LOOKUP_FAILED", f"Failed to look up the domain {service_name}")
        if d["dns"] and d["dns"] not in _management_dns(ctx, host):
            raise fail(
                "DOMAIN_LOOKUP_FAILED",
                f"Failed to look up the domain {service_name}: the host's DNS servers do not "
                "answer for it",
            )
        if config.get("user", "") != d["join_user"] or config.get("pass", "") != d["join_password"]:
            raise fail("WRONG_CREDENTIALS", "Wrong credentials for the join account")
        ou = config.get("ou", "")
        if ou and ou.lower() not in d["ous"]:
            raise fail("INVALID_OU", f"The OU {ou} does not exist")
        if names.count(name) > 1:
            raise fail("DUPLICATE_HOSTNAME", f"Another host in the pool is called {name}")


@message()
def enable_external_auth(ctx: Ctx, pool, config, service_name, auth_type):
    """Join every host to the AD domain ``service_name`` with the join
    account in ``config`` (user, pass, optional ou); all or none."""
    st = ctx.store
    config = {str(k): str(v) for k, v in (config or {}).items()}
    for host, rec in st.table("host").items():
        if rec["external_auth_type"]:
            raise XapiError("POOL_AUTH_ALREADY_ENABLED", host)
    if auth_type != "AD":
        raise XapiError("AUTH_UNKNOWN_TYPE", auth_type)
    _refuse_join(ctx, config, str(service_name))
    ctx.work(1.0, progress=0.5)
    domain = st.directory["domain"]
    kept = {
        "domain": domain,
        "user": config["user"],
        **({"ou": config["ou"]} if "ou" in config else {}),
    }
    for host in st.table("host"):
        st.set(
            "host",
            host,
            external_auth_type="AD",
            external_auth_service_name=domain,
            external_auth_configuration=kept,
        )
    return ""


@message()
def disable_external_auth(ctx: Ctx, pool, config):
    """Leave the domain on every host; directory users' sessions end. With
    the join account in ``config`` the machine accounts are disabled in AD
    too; wrong credentials still leave the pool disabled, but say so."""
    st, d = ctx.store, ctx.store.directory
    config = {str(k): str(v) for k, v in (config or {}).items()}
    ctx.work(0.5, progress=0.5)
    for host in st.table("host"):
        st.set(
            "host",
            host,
            external_auth_type="",
            external_auth_service_name="",
            external_auth_configuration={},
        )
    ctx.sim.end_sessions(lambda rec: True)
    if "user" in config and d is not None:
        if config["user"] != d["join_user"] or config.get("pass", "") != d["join_password"]:
            raise XapiError(
                "POOL_AUTH_DISABLE_FAILED_WRONG_CREDENTIALS",
                ctx.sim.master,
                "The machine accounts were left in the domain: wrong credentials",
            )
    return ""


@message(asyncable=False)
def crl_list(ctx: Ctx):
    """The names of the CRLs installed pool-wide."""
    return list(ctx.store.crls)


# membership -----------------------------------------------------------------------
@message()
def eject(ctx: Ctx, host):
    """The member leaves the pool: its local SRs and every record of it go
    from the pool's database, and it reboots as a host of its own (it stays
    away from this pool's listeners). Not the master, not with HA on, not
    while VMs run there."""
    st, sim = ctx.store, ctx.sim
    if host == sim.master:
        raise XapiError("OPERATION_NOT_ALLOWED", "Cannot eject the pool master")
    if ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    running = [
        st.get("VM", v)["name_label"]
        for v in st.get("host", host)["resident_VMs"]
        if not st.get("VM", v)["is_control_domain"]
    ]
    if running:
        raise XapiError("HOST_IN_USE", host, "VM", ", ".join(running))
    ctx.work(1.0, progress=0.5)
    rec = st.get("host", host)
    for pbd in list(rec["PBDs"]):
        sr = st.get("PBD", pbd)["SR"]
        st.destroy("PBD", pbd)
        if st.exists("SR", sr) and not st.get("SR", sr)["shared"]:
            for vdi in list(st.get("SR", sr)["VDIs"]):
                for vbd in list(st.get("VDI", vdi)["VBDs"]):
                    st.destroy("VBD", vbd)
                st.destroy("VDI", vdi)
            st.destroy("SR", sr)
    for dom0 in [v for v in rec["resident_VMs"] if st.get("VM", v)["is_control_domain"]]:
        consoles.drop(st, dom0)
        st.destroy("VM", dom0)
    for cls, field in (("PIF", "host"), ("host_cpu", "host"), ("Certificate", "host")):
        for ref in st.find(cls, **{field: host}):
            st.destroy(cls, ref)
    if st.exists("host_metrics", rec["metrics"]):
        st.destroy("host_metrics", rec["metrics"])
    st.destroy("host", host)
    sim.believed_master.pop(host, None)
    sim.leave(host)
    return ""


@message()
def join(ctx: Ctx, master_address, master_username, master_password):
    """This host (a pool of its own) joins the pool whose master is at
    ``master_address``, with XAPI's checks; its CPUs must match the pool's."""
    return _join(ctx, str(master_address), str(master_username), str(master_password), False)


@message()
def join_force(ctx: Ctx, master_address, master_username, master_password):
    """join, accepting CPUs that differ from the pool's."""
    return _join(ctx, str(master_address), str(master_username), str(master_password), True)


def _join(ctx: Ctx, address: str, user: str, password: str, force: bool) -> str:
    me, st = ctx.sim, ctx.store
    if len(st.table("host")) > 1:
        raise XapiError("JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS")
    pool = me.peers.get(address)
    if pool is None or pool is me:
        raise XapiError("JOINING_HOST_CONNECTION_FAILED")
    if user != "root" or password != pool.password:
        raise XapiError("SESSION_AUTHENTICATION_FAILED", user, "Authentication failure")
    host = me.master
    rec = st.get("host", host)
    running = [
        v
        for v in rec["resident_VMs"]
        if not st.get("VM", v)["is_control_domain"]
        and st.get("VM", v)["power_state"] in ("Running", "Paused", "Suspended")
    ]
    if running:
        raise XapiError("JOINING_HOST_CANNOT_HAVE_RUNNING_OR_SUSPENDED_VMS")
    if any(sr["shared"] for sr in st.table("SR").values()):
        raise XapiError("JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS")
    with pool.store.lock:
        master = pool.store.get("host", pool.master)
        mine = (rec["API_version_major"], rec["API_version_minor"])
        theirs = (master["API_version_major"], master["API_version_minor"])
        if mine != theirs:
            raise XapiError(
                "POOL_JOINING_HOST_MUST_HAVE_SAME_API_VERSION",
                f"{mine[0]}.{mine[1]}",
                f"{theirs[0]}.{theirs[1]}",
            )
        a, b = rec["cpu_info"], master["cpu_info"]
        if not force and (
            a.get("vendor") != b.get("vendor") or a.get("features") != b.get("features")
        ):
            raise XapiError(
                "HOSTS_NOT_HOMOGENEOUS",
                f"CPUs differ: {a.get('vendor')} {a.get('features')} here, "
                f"{b.get('vendor')} {b.get('features')} on the master",
            )
    ctx.work(1.0, progress=0.5)
    pool.adopt(st, host)
    me.leave(host)  # this toolstack restarts as a member: its own listener goes
    if pool.on_host_joined:
        threading.Timer(0.6, pool.on_host_joined, (host,)).start()
    return ""


# updates from repositories (XenServer 8) ---------------------------------------------
@message()
def set_repositories(ctx: Ctx, self, value):
    st = ctx.store
    for repo in value:
        st.get("Repository", repo)
    st.set("pool", self, repositories=list(value))
    st.repository_synced = False
    return ""


@message()
def sync_updates(ctx: Ctx, self, force, token, token_id, username="", password=""):
    """The repositories' metadata fetched; the hash ``host.apply_updates`` wants."""
    st = ctx.store
    if not st.get("pool", self)["repositories"]:
        raise XapiError("NO_REPOSITORIES_CONFIGURED")
    for step in range(1, 4):
        ctx.work(0.3, progress=step / 4)
    st.repository_synced = True
    return updates.repository_hash(ctx)


@message()
def check_update_readiness(ctx: Ctx, self, requires_reboot):
    """Per host, what would stop applying updates (XAPI's list of errors)."""
    st = ctx.store
    out = []
    for h in st.table("host"):
        if not place.live(ctx, h):
            out.append(["HOST_OFFLINE", h])
        elif h in ctx.sim.stay_disabled:
            out.append(["HOST_DISABLED_UNTIL_REBOOT", h])
    return out
