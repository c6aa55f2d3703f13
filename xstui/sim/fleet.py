"""``xstui sim --scenario fleet:P,H,V``: P pools of H hosts and V VMs each, on
addresses of their own in 127.0.0.0/8, with varied health: after a healthy
first pool, one with HA broken (the statefile lost), one whose master's
certificate ends in days, one behind on updates, one that does not answer
(it listens, and never replies); the rest healthy. One password for all."""

from __future__ import annotations

import secrets
import socket
import threading
from dataclasses import dataclass, field

from .runner import RunningSim, start_simulator
from .scenario import ScenarioError, generate

LIMITS = ((1, 500), (1, 200), (0, 20_000))  # pools, hosts per pool, VMs per pool
# what each pool after the first is like (the rest are healthy)
KINDS = ("healthy", "ha-broken", "cert-expiring", "behind-on-updates", "silent")
CERT_DAYS = 12  # the expiring certificate's days left (Health warns from 30)


class SilentListener:
    """A host that takes connections and never says a word (a hung xapi):
    each connection is held open, unread, until close(); ``reached`` counts
    them."""

    def __init__(self, address: str):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind((address, 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.reached = 0
        self._held: list[socket.socket] = []
        threading.Thread(target=self._take, name="xstui-silent", daemon=True).start()

    def _take(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:  # closed
                return
            self._held.append(conn)
            self.reached += 1

    def close(self) -> None:
        try:
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes accept()
        except OSError:
            pass
        self.socket.close()
        for conn in self._held:
            conn.close()


@dataclass
class FleetPool:
    name: str
    kind: str
    url: str
    running: RunningSim | None = None  # None: the pool that does not answer
    silent: SilentListener | None = None

    def close(self) -> None:
        if self.running:
            self.running.close()
        if self.silent:
            self.silent.close()


@dataclass
class RunningFleet:
    password: str
    pools: list[FleetPool] = field(default_factory=list)

    def close(self) -> None:
        # each pool's server waits up to a poll interval to stop: all at once
        closers = [threading.Thread(target=pool.close) for pool in self.pools]
        for t in closers:
            t.start()
        for t in closers:
            t.join()

    def fleet(self, group: str = "sim"):
        """The fleet file's pools for what is served."""
        from ..services.fleet.targets import FleetTarget

        return [FleetTarget(p.name, p.url, "root", group) for p in self.pools]


def fleet_sizes(scenario: str) -> tuple[int, int, int]:
    try:
        sizes = tuple(int(x) for x in scenario.split(":", 1)[1].split(","))
        if len(sizes) != 3:
            raise ValueError
    except ValueError:
        raise ScenarioError(
            f"{scenario!r}: write fleet:POOLS,HOSTS,VMS, e.g. fleet:6,3,20"
        ) from None
    for value, (low, high), what in zip(
        sizes, LIMITS, ("pools", "hosts per pool", "VMs per pool"), strict=True
    ):
        if not low <= value <= high:
            raise ScenarioError(f"{scenario!r}: {what} must be between {low} and {high}")
    return sizes  # type: ignore[return-value]


def pool_kind(index: int) -> str:
    return KINDS[index] if index < len(KINDS) else "healthy"


def _net(index: int) -> str:
    """The pool's /24: 127.64.0.0 on, 250 pools per second octet."""
    return f"127.{64 + index // 250}.{index % 250}"


def pool_scenario(index: int, hosts: int, vms: int) -> dict:
    """Pool ``index`` of the fleet in scenario form, its kind's health built in."""
    name, net, kind = f"fleet-{index + 1:02d}", _net(index), pool_kind(index)
    sc = generate(hosts, vms, seed=index + 1)
    sc["name"] = name
    sc["pool"]["name"] = name
    sc["dns"], sc["gateway"] = [f"{net}.53"], f"{net}.1"
    sc["netmask"] = "255.255.255.0"
    sc["srs"][0]["server"] = f"{net}.5"
    renamed = {}
    for i, h in enumerate(sc["hosts"]):
        renamed[h["name"]] = f"{name}-h{i + 1:02d}"
        h["name"], h["address"] = renamed[h["name"]], f"{net}.{11 + i}"
        h["storage_ip"] = f"127.{96 + index // 250}.{index % 250}.{11 + i}"
        h["ntp"] = [f"{net}.123"]  # on loopback: its clock synchronised
    for row in sc["vms"]:
        row[0] = f"{name}-{row[0]}"
        row[1] = renamed.get(row[1], row[1])
        if row[6].startswith("Local storage@"):
            row[6] = "Local storage@" + renamed[row[6].split("@", 1)[1]]
    for u in sc["updates"]:
        u["applied"] = [renamed[h] for h in u["applied"]]
    if kind == "ha-broken":
        sc["pool"]["ha"] = {
            "enabled": True,
            "failures_to_tolerate": 1 if hosts > 1 else 0,
            "plan_exists_for": 1 if hosts > 1 else 0,
            "heartbeat_sr": "Shared NFS",
        }
    elif kind == "cert-expiring":
        sc["hosts"][0]["cert_days"] = CERT_DAYS
    elif kind == "behind-on-updates":
        sc["updates"].append({"name": "XS82ECU1002", "guidance": [], "applied": []})
    return sc


def start_fleet(scenario: str, password: str | None = None, tls: bool = False) -> RunningFleet:
    """Serve the fleet ``fleet:P,H,V`` (``tls``: each host with a certificate
    of its own); ScenarioError or OSError."""
    pools_n, hosts, vms = fleet_sizes(scenario)
    fleet = RunningFleet(password or secrets.token_urlsafe(12))
    try:
        for index in range(pools_n):
            fleet.pools.append(_start_pool(index, hosts, vms, fleet.password, tls))
    except BaseException:
        fleet.close()
        raise
    return fleet


def _start_pool(index: int, hosts: int, vms: int, password: str, tls: bool) -> FleetPool:
    sc = pool_scenario(index, hosts, vms)
    name, kind, address = sc["name"], pool_kind(index), sc["hosts"][0]["address"]
    if kind == "silent":
        listener = SilentListener(address)
        url = f"{'https' if tls else 'http'}://{address}:{listener.port}"
        return FleetPool(name, kind, url, None, listener)
    running = start_simulator(sc, password=password, tls=tls, own_certificates=tls)
    if kind == "ha-broken":
        running.sim.lose_statefile()
    return FleetPool(name, kind, running.url, running)
