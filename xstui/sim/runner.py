"""Start a simulator with its listeners: used by ``xstui sim``, the demo target and tests."""

from __future__ import annotations

import errno
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from .api import list_methods
from .dump import load_dump
from .profiles import PROFILES, unknown, with_release
from .rrd import PERFMON_SECONDS
from .scenario import ScenarioError, build, generate, load_scenario, standalone_scenario
from .server import SimServer
from .simulator import Simulator


@dataclass
class RunningSim:
    sim: Simulator
    server: SimServer
    url: str
    unix_socket: str | None = None
    control_url: str = ""  # fault injection (xstui sim-ctl)
    member_urls: dict[str, str] = field(default_factory=dict)  # host name -> URL
    # hosts beside the pool, each a pool of its own: name -> (its simulator's run)
    standalone: dict[str, RunningSim] = field(default_factory=dict)

    @property
    def password(self) -> str:
        return self.sim.password

    @property
    def fingerprint(self) -> str | None:
        return self.server.fingerprint

    def close(self) -> None:
        for other in self.standalone.values():
            other.close()
        self.sim.perfmon_stop.set()
        self.server.close()


def make_store(scenario: str | dict = "demo", dump: str | None = None, seed: int | None = None):
    if dump:
        try:
            text = Path(dump).read_bytes()
        except OSError as exc:
            raise ScenarioError(f"cannot read dump {dump}: {exc.strerror}") from None
        try:
            store = load_dump(text)
        except Exception as exc:
            raise ScenarioError(
                f"{dump}: not a readable pool database dump ({type(exc).__name__})"
            ) from None
        pools = store.table("pool")
        if len(pools) != 1 or next(iter(pools.values()))["master"] not in store.table("host"):
            raise ScenarioError(f"{dump}: the dump has no pool with a master host")
        return store
    if isinstance(scenario, dict):
        return build(scenario, seed=seed)
    if scenario.startswith("generate:"):  # generate:HOSTS,VMS
        hosts, vms = _generate_sizes(scenario)
        return build(generate(hosts, vms), seed=seed)
    return build(load_scenario(scenario), seed=seed)


GENERATE_LIMITS = ((1, 1000), (0, 200_000))  # hosts, VMs


def _generate_sizes(scenario: str) -> tuple[int, int]:
    try:
        hosts, vms = (int(x) for x in scenario.split(":", 1)[1].split(","))
    except ValueError:
        raise ScenarioError(
            f"{scenario!r}: write generate:HOSTS,VMS, e.g. generate:64,4000"
        ) from None
    for value, (low, high), what in zip(
        (hosts, vms), GENERATE_LIMITS, ("hosts", "VMs"), strict=True
    ):
        if not low <= value <= high:
            raise ScenarioError(f"{scenario!r}: {what} must be between {low} and {high}")
    return hosts, vms


def start_simulator(
    scenario: str | dict = "demo",
    *,
    dump: str | None = None,
    address: str | None = None,
    port: int = 0,
    tls: bool = False,
    own_certificates: bool = False,
    unix_socket: str | None = None,
    password: str | None = None,
    latency_ms: float = 0,
    task_delay: float = 0.05,
    members: bool = True,
    api: str = "",
    release: str = "",
    schedule_speed: float = 0,
) -> RunningSim:
    """Build the pool and listen. ``address`` defaults to the master's own
    management address when that is on loopback, else 127.0.0.1; a real dump's
    addresses are shown but never used. ``api`` plays that release (a code
    name such as ``boston``) instead of what the scenario or the dump says.
    ``own_certificates`` (with ``tls``): each host serves a certificate of
    its own, the one the pool records for it (see SimServer.enable_tls).
    ``release``: play that product release (xstui.sim.profiles) instead of
    the scenario's. ``schedule_speed``: run the snapshot schedules on a
    clock that many times as fast (xstui.sim.schedules; 0: they run only
    when told, VMSS.snapshot_now)."""
    if isinstance(scenario, str) and not dump and not scenario.startswith("generate:"):
        scenario = load_scenario(scenario)  # once: the pool, and the hosts beside it
    if release:
        if release not in PROFILES:
            raise ScenarioError(unknown(release))
        if dump or not isinstance(scenario, dict):
            raise ScenarioError("a dump or a generated pool plays its own release")
        scenario = {k: v for k, v in scenario.items() if k != "api"}
        scenario = with_release(scenario, release)
    store = make_store(scenario, dump)
    if api:
        store.api = api
    sim = Simulator(store, password, latency=latency_ms / 1000, task_delay=task_delay)
    master_addr = sim.host_address(sim.master)
    if address is None:
        address = master_addr if _loopback(master_addr) else "127.0.0.1"
    # the pool's port is the same on every host's address: a port the system
    # chose for the master may be taken on another's (by another simulator on
    # this machine), then another port is tried
    for attempt in range(1 if port else PORT_ATTEMPTS):
        server = SimServer(sim)
        if tls:
            server.enable_tls(
                [address, master_addr] if master_addr != address else [address],
                own_certificates=own_certificates,
            )
        running = RunningSim(sim, server, "")
        try:
            if members and not dump:
                listener = server.serve_pool(address, port, strict=not port)
                if isinstance(scenario, dict):
                    _start_standalone(running, scenario, server.pool_port, latency_ms, task_delay)
            else:
                listener = server.listen_tcp(address, port, sim.master)
            break
        except OSError as exc:
            running.close()
            if port or exc.errno != errno.EADDRINUSE or attempt == PORT_ATTEMPTS - 1:
                raise
    running.url = listener.url
    for extra in server.listeners[1:]:
        if extra.host_ref and extra.kind == "xapi":
            running.member_urls[store.get("host", extra.host_ref)["name_label"]] = extra.url
    if unix_socket:
        server.listen_unix(unix_socket)
        running.unix_socket = unix_socket
    running.control_url = server.listen_control().url
    sim.start_perfmon(PERFMON_SECONDS)  # the pool's alarms (other_config:perfmon)
    list_methods()  # made before the first system.listMethods, as XAPI has its list
    if schedule_speed > 0:
        from . import schedules

        schedules.start(sim, schedule_speed)
    return running


PORT_ATTEMPTS = 20


def _start_standalone(
    running: RunningSim, scenario: dict, port: int, latency_ms: float, task_delay: float
) -> None:
    """Each host beside the pool: a simulator of its own on its loopback
    address and the pool's port, with the pool's root password; pool.join
    finds the pool through ``peers``."""
    sim = running.sim
    peers = {sim.host_address(sim.master): sim}
    sim.peers = peers
    for n, spec in enumerate(scenario.get("standalone", [])):
        if not _loopback(spec["address"]):
            continue
        store = build(standalone_scenario(scenario, spec))
        for ref, pif in list(store.table("PIF").items()):  # MACs of its own, not the pool's
            store.set("PIF", ref, MAC=f"02:1d:{n:02x}:00:00:{pif['MAC'][-2:]}")
        other = Simulator(store, sim.password, latency=latency_ms / 1000, task_delay=task_delay)
        other.peers = peers
        other_server = SimServer(other)
        listener = other_server.listen_tcp(spec["address"], port, other.master)
        other_server.pool_port = port
        running.standalone[spec["name"]] = RunningSim(other, other_server, listener.url)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
