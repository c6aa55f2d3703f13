"""A simulated pool: the object store plus the rules that are not per-message
(credentials, the master, timing, fault injection)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, deque

from .. import clock
from ..datamodel import least_role
from . import consoles
from .api import Caller, dispatch
from .errors import DropConnection, XapiError
from .release import Release
from .store import Store, now_xdate


class Simulator:
    def __init__(
        self,
        store: Store,
        password: str | None = None,
        *,
        task_delay: float = 0.05,
        latency: float = 0.0,
        time_scale: float = 1.0,
    ):
        self.store = store
        self.password = password or secrets.token_urlsafe(12)
        self.task_delay = task_delay
        self.latency = latency
        self.time_scale = time_scale
        self.registrations: dict[str, dict] = {}  # session -> legacy event registration
        self.faults: dict[str, list] = {}  # method -> [calls to let through, error description]
        self.drops: dict[str, list] = {}  # method -> [calls to let through, "before"/"after"]
        self.on_address_change = None  # set by the server: (host, old, new) -> None
        self.on_host_down = None  # set by the server: (host) -> None, stops its listeners
        self.on_host_up = None  # set by the server: (host) -> None, listens again
        self.on_certificate_reset = None  # set by the server: (host, names) -> fingerprint
        self.on_certificate_install = None  # set by the server: (host, cert, key, chain)
        self.served_certificate = None  # set by the server: (host) -> PEM, None on plain HTTP
        self.made_certificates: dict[tuple, str] = {}  # (host, record) -> PEM made for it
        # seconds (scaled by time_scale) a host is away: reboot, toolstack restart
        self.reboot_seconds = 6.0
        self.agent_restart_seconds = 3.0
        self.down: set[str] = set()  # hosts whose listeners are stopped
        self.stay_disabled: set[str] = set()  # host.disable(auto_enable=false)
        self.dhcp_ntp_servers: list[str] = []  # what DHCP hands out (NTP mode DHCP)
        self.clock_skew: dict[str, float] = {}  # host -> seconds its clock is ahead
        # the master each member believes in (its pool.conf): a member whose
        # master died keeps pointing at it until told otherwise
        self.believed_master: dict[str, str] = {}
        # members that knew the master by an address it no longer has: not live
        # (emergency mode) until pool.recover_slaves tells them the new one
        self.lost_master: set[str] = set()
        self.local_sessions: dict[str, str] = {}  # session -> the member it was opened on
        # sessions VDI.open_database gave: session -> the database they read (sim/dr.py)
        self.foreign_sessions: dict[str, Store] = {}
        self.killed: set[str] = set()  # hosts killed by fault injection (not coming back)
        # how long HA takes to declare a host dead and act (scaled by time_scale);
        # shorter than a real pool's timeout, so that rehearsals stay brisk
        self.ha_failover_seconds = 5.0
        self._permissions: dict[str, frozenset | None] = {}  # session -> its RBAC permissions
        self.denied: list[str] = []  # calls refused by RBAC, for tests to see
        # calls answered, by method, and the last ones with when (monotonic
        # seconds): what a client costs (xstui sim-ctl URL calls)
        self.calls: Counter[str] = Counter()
        self.call_log: deque[tuple[float, str]] = deque(maxlen=10000)
        self.wire: Counter[str] = Counter()  # bytes "received" and "sent", HTTP headers included
        self._calls_lock = threading.Lock()
        # the API release this pool runs (the newest unless a scenario says
        # ``api:``), and messages hidden on top ("host.reset_server_certificate"):
        # unknown to dispatch and to system.listMethods
        if store.api:
            self.release = Release.named(store.api)
        elif store.dump_tables is not None:
            self.release = Release.of_dump(store.dump_tables, store.manifest)
        else:
            self.release = Release()
        self.hidden: set[str] = set()
        # bytes of generated disk data per byte a VDI uses, for exports and
        # host backups (1/1024: a 30 GiB disk exports as 30 MiB; 1 for benchmarks)
        self.data_scale = 1 / 1024
        self.chunk_delay = 0.0  # seconds per 1 MiB block an export sends: a slow link
        self.garbled_block: int | None = None  # that block of each export sent garbled
        # the pools of this process by their master's address (pool.join finds
        # the pool it joins there), and the server's hook for a member that joined
        self.peers: dict[str, Simulator] = {}
        self.on_host_joined = None  # set by the server: (host) -> None, listens for it
        # what was done to hosts, for tests to count: ("apply", host name, update),
        # ("reboot", host name, "")
        self.records: list[tuple[str, str, str]] = []
        # the "now" of the performance data (RRDs): the simulator's clock; a
        # test pins it for figures that never change
        self.clock = clock.now
        # the snapshot schedules' clock (xstui.sim.schedules): the console's,
        # or a compressed one while the schedules' runner runs
        self.schedule_clock = clock.now
        # fault injection on a host's metrics endpoints (xstui.sim.rrd.FAULTS):
        # host -> ("fail" | "garbage" | "slow", seconds for "slow")
        self.metrics_faults: dict[str, tuple[str, float]] = {}
        # perfmon (xstui.sim.rrd.perfmon_round): when each (object uuid,
        # variable) last raised its ALARM; its looks run while ``perfmon`` is set
        self.perfmon_fired: dict[tuple[str, str], float] = {}
        # rrd_updates' rows answered, per host and query shape (xstui.sim.rrd.updates)
        self.rrd_rows: dict[tuple, dict] = {}
        self.perfmon_stop = threading.Event()

    def start_perfmon(self, seconds: float) -> None:
        """perfmon's looks every ``seconds`` (scaled by time_scale) until
        ``perfmon_stop`` is set (the server closing)."""
        from . import rrd

        def loop() -> None:
            while not self.perfmon_stop.wait(seconds * self.time_scale):
                rrd.perfmon_round(self)

        threading.Thread(target=loop, name="sim-perfmon", daemon=True).start()

    def record(self, what: str, host: str, detail: str = "") -> None:
        self.records.append((what, self.store.get("host", host)["name_label"], detail))

    # pool facts ------------------------------------------------------------
    @property
    def pool(self) -> str:
        return next(iter(self.store.table("pool")))

    @property
    def master(self) -> str:
        return self.store.get("pool", self.pool)["master"]

    def master_of(self, host: str | None) -> str:
        """The master this host answers HOST_IS_SLAVE with."""
        return self.believed_master.get(host or "", self.master)

    def host_address(self, host: str) -> str:
        return self.store.get("host", host)["address"]

    def host_by_address(self, address: str) -> str | None:
        return self.store.find_one("host", address=address)

    def address_changed(self, host: str, old: str, new: str) -> None:
        """A management address moved; the server follows shortly after the
        reply has gone out (XAPI, too, answers before the interface moves)."""
        if self.on_address_change:
            threading.Timer(0.3, self.on_address_change, (host, old, new)).start()

    def go_down(self, host: str, *, seconds: float | None, reboot: bool) -> None:
        """The host goes away shortly after this call's reply has gone out: a
        reboot (``host_metrics.live`` false, back enabled after ``seconds``),
        a shutdown (``seconds`` None: it stays down) or a toolstack restart
        (``reboot`` False: only the listener and the tasks it ran go)."""
        threading.Timer(0.3, self._go_down, (host, seconds, reboot)).start()

    def adopt(self, other: Store, host: str) -> None:
        """A host joining this pool: its records come from ``other`` (its own
        pool's store): the host and its metrics, CPUs, control domain, local
        SRs, and physical NICs, each on this pool's network for its device."""
        st = self.store
        with st.lock, other.lock:
            by_device = {}
            for pif in st.find("PIF", host=self.master):
                p = st.get("PIF", pif)
                by_device[p["device"]] = p["network"]
            rec = other.get("host", host)

            def copy(cls: str, ref: str, **changes) -> None:
                if not st.exists(cls, ref):
                    st.create(cls, {**_own(other.get(cls, ref)), **changes}, ref=ref)

            copy("host_metrics", rec["metrics"])
            copy("host", host)
            for ref in other.find("host_cpu", host=host):
                copy("host_cpu", ref)
            for ref in other.find("Certificate", host=host):
                copy("Certificate", ref)
            for vm in rec["resident_VMs"]:
                if other.get("VM", vm)["is_control_domain"]:
                    metrics = other.get("VM", vm)["metrics"]
                    if other.exists("VM_metrics", metrics):
                        copy("VM_metrics", metrics)
                    copy("VM", vm)
                    consoles.sync(st, vm, by_ref=True)
            for pif in other.find("PIF", host=host):
                p = other.get("PIF", pif)
                if p["physical"]:
                    network = by_device.get(p["device"])
                    if network is None:
                        network = st.create("network", {"name_label": f"Network {p['device']}"})
                        by_device[p["device"]] = network
                    copy("PIF", pif, network=network, bond_slave_of="OpaqueRef:NULL")
            for pbd in other.find("PBD", host=host):
                sr = other.get("PBD", pbd)["SR"]
                copy("SR", sr)
                for vdi in other.get("SR", sr)["VDIs"]:
                    copy("VDI", vdi)
                copy("PBD", pbd)
            self.believed_master[host] = self.master

    def leave(self, host: str) -> None:
        """A host no longer of this pool (ejected): its listeners stop just
        after the reply, for good."""
        self.down.add(host)
        if self.on_host_down:
            threading.Timer(0.3, self.on_host_down, (host,)).start()

    def _go_down(self, host: str, seconds: float | None, reboot: bool) -> None:
        st = self.store
        with st.lock:
            if not st.exists("host", host):
                return
            self.down.add(host)
            if reboot:
                metrics = st.get("host", host)["metrics"]
                if st.exists("host_metrics", metrics):
                    st.set("host_metrics", metrics, live=False)
            if host == self.master:  # its toolstack forgets the tasks it was running
                for task in [
                    t for t, rec in st.table("task").items() if rec["status"] == "pending"
                ]:
                    st.destroy("task", task)
        if self.on_host_down:
            self.on_host_down(host)
        if seconds is not None:
            threading.Timer(seconds * self.time_scale, self._come_back, (host, reboot)).start()

    def _come_back(self, host: str, reboot: bool) -> None:
        st = self.store
        with st.lock:
            if not st.exists("host", host):
                return
            self.down.discard(host)
            if reboot:
                rec = st.get("host", host)
                if st.exists("host_metrics", rec["metrics"]):
                    st.set("host_metrics", rec["metrics"], live=True, last_updated=now_xdate())
                boot = {**rec["other_config"], "boot_time": str(int(clock.now()))}
                # xapi enables the host as it starts, unless disabled with auto_enable false
                enabled = rec["enabled"] or host not in self.stay_disabled
                # what a reboot settles: updates waiting for it, and every guidance
                st.set(
                    "host",
                    host,
                    other_config=boot,
                    enabled=enabled,
                    updates_requiring_reboot=[],
                    pending_guidances=[],
                )
            else:  # a toolstack restart settles that guidance
                rec = st.get("host", host)
                left = [g for g in rec["pending_guidances"] if g != "restart_toolstack"]
                # and a new xapi forgets a host.disable: it enables the host unless
                # disabled for good or guidance is still pending
                # (xapi_host_helpers.ml, consider_enabling_host)
                enabled = rec["enabled"] or (host not in self.stay_disabled and not left)
                st.set("host", host, pending_guidances=left, enabled=enabled)
        if self.on_host_up:
            self.on_host_up(host)

    def memory_step(self, host: str) -> int:
        """A busy host's free memory moves (a guest starts or balloons), 1 GiB down
        then up again, as ``host_metrics`` reports it; the new figure."""
        st = self.store
        with st.lock:
            metrics = st.get("host", host)["metrics"]
            free = st.get("host_metrics", metrics)["memory_free"]
            step = 1 << 30
            free = free - step if free // step % 2 else free + step
            st.set("host_metrics", metrics, memory_free=free)
            return free

    def kill_host(self, host: str) -> None:
        """Fault injection: the host dies (power cut). Its listeners stop at once
        and it stays dead until revived; its VMs are gone with it. The pool only
        notices through missing heartbeats: ``host_metrics.live`` goes false."""
        from .api import Ctx
        from .messages import vm as vms

        st = self.store
        with st.lock:
            st.get("host", host)
            self.killed.add(host)
            self.down.add(host)
            lost = []
            ctx = Ctx(self, Caller())
            for vm in list(st.get("host", host)["resident_VMs"]):
                rec = st.get("VM", vm)
                if not rec["is_control_domain"]:
                    lost.append(vm)
                    vms.set_power(ctx, vm, "Halted")
            metrics = st.get("host", host)["metrics"]
            if st.exists("host_metrics", metrics):
                st.set("host_metrics", metrics, live=False)
            ha = st.get("pool", self.pool)["ha_enabled"]
        if self.on_host_down:
            self.on_host_down(host)
        if ha:
            delay = self.ha_failover_seconds * self.time_scale
            threading.Timer(delay, self._ha_failover, (host, lost)).start()

    def _ha_failover(self, dead: str, lost: list[str]) -> None:
        """HA's answer to a dead host: the survivors elect a master if it was
        the master, and restart its protected VMs, by order, then the
        best-effort ones where memory allows."""
        from .api import Ctx
        from .messages import _ha, _placement, vm

        ctx = Ctx(self, Caller())
        st = self.store
        with st.lock:
            if not st.get("pool", self.pool)["ha_enabled"] or dead not in self.killed:
                return
            survivors = sorted(
                (h for h in st.table("host") if _placement.live(ctx, h)),
                key=lambda h: st.get("host", h)["name_label"],
            )
            if dead == self.master and survivors:
                st.set("pool", self.pool, master=survivors[0])
                for h in st.table("host"):
                    self.believed_master[h] = survivors[0]
            rank = {"restart": 0, "best-effort": 1}
            again = [
                v
                for v in lost
                if st.exists("VM", v) and st.get("VM", v)["ha_restart_priority"] in rank
            ]
            again.sort(
                key=lambda v: (
                    rank[st.get("VM", v)["ha_restart_priority"]],
                    st.get("VM", v)["order"],
                )
            )
            for ref in again:
                for h in survivors:
                    try:
                        _placement.boot_check(ctx, ref, h)
                    except XapiError:
                        continue
                    _placement.claim(ctx, h, st.get("VM", ref)["memory_static_max"])
                    vm.set_power(ctx, ref, "Running", h)
                    break
            _ha.refresh_plan(ctx)

    def cut_heartbeat(self, host: str) -> None:
        """Fault injection: the host loses its network heartbeat. With HA on it
        is isolated, fences itself (a reboot) and its VMs restart elsewhere;
        with HA off nothing notices."""
        st = self.store
        with st.lock:
            st.set("host", host, ha_network_peers=[])
            ha = st.get("pool", self.pool)["ha_enabled"]
        if ha:
            self.kill_host(host)
            threading.Timer(
                self.reboot_seconds * self.time_scale + self.ha_failover_seconds * self.time_scale,
                self.revive_host,
                (host,),
            ).start()

    def lose_statefile(self) -> None:
        """Fault injection: the heartbeat SR is gone for every host; HA stays
        on but broken (pool.disable_ha fails: the emergency path is needed)."""
        st = self.store
        with st.lock:
            for h in st.table("host"):
                st.set("host", h, ha_statefiles=[])

    def revive_host(self, host: str) -> None:
        """Fault injection: a killed host powers on again, still believing in the
        master it knew (a dead master comes back as master: split brain, as
        XAPI has it, until ``pool.emergency_reset_master`` is run on it)."""
        with self.store.lock:
            self.store.get("host", host)
            if host not in self.killed:
                return
            self.killed.discard(host)
        self._come_back(host, reboot=True)

    def lacks(self, cls: str, name: str) -> bool:
        """Whether this pool's release has no message ``cls.name``."""
        return self.release.lacks(cls, name) or f"{cls}.{name}" in self.hidden

    def check_session(self, ref: str) -> None:
        if not self.store.exists("session", ref):
            raise XapiError("SESSION_INVALID", ref)

    def check_permission(self, session: str, call: str) -> None:
        """RBAC as XAPI applies it: a directory user's session may make the
        calls its role allows (the local superuser, every call)."""
        if least_role(call) in ("read-only", "root"):  # root-only calls check for themselves
            return
        allowed = self._permissions.get(session)
        if allowed is None:
            rec = self.store.get("session", session)
            allowed = None if rec["is_local_superuser"] else frozenset(rec["rbac_permissions"])
            self._permissions[session] = allowed
        if allowed is not None and call.lower() not in allowed:
            self.denied.append(call)
            raise XapiError("RBAC_PERMISSION_DENIED", call, "No permission in user session")

    def end_sessions(self, which) -> None:
        """Log out the directory users' sessions ``which(record)`` selects
        (a subject removed, external authentication disabled)."""
        st = self.store
        for ref, rec in list(st.table("session").items()):
            if not rec["is_local_superuser"] and which(rec):
                self.registrations.pop(ref, None)
                self._permissions.pop(ref, None)
                st.destroy("session", ref)

    # calls -----------------------------------------------------------------
    def call(self, method: str, params: list, caller: Caller | None = None):
        """Run one API call; the value, or XapiError (or DropConnection when a
        drop was injected)."""
        with self._calls_lock:
            self.calls[method] += 1
            self.call_log.append((time.monotonic(), method))
        when = self.take_drop(method)
        if when == "before":
            raise DropConnection(method)
        if when == "after":
            try:
                self._call(method, params, caller)
            except XapiError:
                pass
            raise DropConnection(method)  # it ran; the reply is lost
        return self._call(method, params, caller)

    def count_wire(self, received: int, sent: int) -> None:
        with self._calls_lock:
            self.wire["received"] += received
            self.wire["sent"] += sent

    def count_get(self, path: str) -> None:
        """An HTTP GET answered (``calls["GET /rrd_updates"]``), beside the API calls."""
        with self._calls_lock:
            self.calls[f"GET {path}"] += 1

    def call_counts(self) -> dict:
        """The API calls answered so far, by method, and the last ones as
        [monotonic seconds, method] (the clock every process of the machine
        shares: a benchmark tells which came before what it saw); the bytes
        its listeners received and sent (every call and HTTP GET, as on the wire)."""
        with self._calls_lock:
            return {
                "calls": dict(self.calls),
                "log": [list(c) for c in self.call_log],
                "wire": dict(self.wire),
            }

    def take_drop(self, name: str) -> str:
        """The drop injected for this call of ``name`` (a method, or an HTTP
        handler: "PUT /pool/xmldbdump"): "before", "after" or ""."""
        drop = self.drops.get(name)
        if drop is None:
            return ""
        if drop[0] > 0:
            drop[0] -= 1
            return ""
        del self.drops[name]
        return drop[1]

    def _call(self, method: str, params: list, caller: Caller | None):
        fault = self.faults.get(method)
        if fault is not None:
            if fault[0] <= 0:
                del self.faults[method]
                raise XapiError(*fault[1])
            fault[0] -= 1
        return dispatch(self, method, params, caller or Caller())

    def inject_drop(self, method: str, when: str, after: int = 0) -> None:
        """Fault injection: the call to ``method`` after ``after`` others loses
        its connection, ``before`` the host acts on it or ``after`` (the host
        did it; the client never hears). ``method`` may name an HTTP handler
        ("PUT /pool/xmldbdump"): its body is read, then it drops unanswered,
        ``after`` leaving its task open (the host went before closing it)."""
        assert when in ("before", "after")
        self.drops[method] = [after, when]

    def inject_failure(self, method: str, description: list[str], after: int = 0) -> None:
        """Fault injection: the call to ``method`` after ``after`` successful
        ones fails with ``description`` (e.g. ["PIF_CONFIGURATION_ERROR", ...])."""
        self.faults[method] = [after, description]


# fields a copied record does not bring: the back-references the store keeps
_BACKREFS = {
    "resident_VMs",
    "PIFs",
    "PBDs",
    "host_CPUs",
    "patches",
    "certificates",
    "VDIs",
    "VBDs",
    "VIFs",
    "consoles",
    "snapshots",
    "subtasks",
    "bond_master_of",
    "VLAN_slave_of",
    "host_patches",
    "slaves",
    "uuid",
}


def _own(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in _BACKREFS}
