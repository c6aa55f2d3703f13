"""The overview's connections: one light connection per pool (its event
stream watches only :data:`.overview.LIGHT_CLASSES`, so a pool not in focus
costs an ``event.from`` every 30 s when idle), at most ``concurrency``
logging in at once. A pool that does not answer is said to, and tried again
with backoff, never holding up the others; a changed certificate, a refused
password or no password at all are not retried (retry() tries again at once).
No Textual: ``on_change(name)`` is called from the connections' threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ...xapi.connection import ConnectError, Connection
from ...xapi.targets import parse_target
from .answer import NO_PASSWORD, TIMEOUT, UNREACHABLE, no_answer
from .overview import PoolRow, light_types, pool_row, waiting_row, worst_first
from .passwords import NoPassword, Passwords
from .targets import FleetTarget

if TYPE_CHECKING:
    from ..updates.baseline import Baseline

FIRST_RETRY = 2.0  # seconds; doubled at each failure
LAST_RETRY = 120.0
STATES = {"connected": "connected", "reconnecting": "reconnecting", "refused": "refused"}


class FleetWatch:
    def __init__(
        self,
        pools: list[FleetTarget],
        passwords: Passwords,
        fingerprints: dict[str, str] | None = None,
        *,
        concurrency: int = 8,
        timeout: float = 10,
        on_change: Callable[[str], None] = lambda name: None,
        baseline: Baseline | None = None,
    ):
        self.pools = {p.name: p for p in pools}
        self.passwords, self.fingerprints = passwords, dict(fingerprints or {})
        self.timeout, self.on_change = timeout, on_change
        self.baseline = baseline  # each row's update drift against it (None: "-")
        self.rows: dict[str, PoolRow] = {p.name: waiting_row(p) for p in pools}
        self.connections: dict[str, Connection] = {}
        self.password: dict[str, str] = {}  # what each pool was logged in with
        self._slots = threading.Semaphore(concurrency)
        self._wake = {p.name: threading.Event() for p in pools}
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        for pool in self.pools.values():
            threading.Thread(
                target=self._keep, args=(pool,), name=f"xstui-fleet-{pool.name}", daemon=True
            ).start()

    def worst_first(self) -> list[PoolRow]:
        with self._lock:
            return worst_first(list(self.rows.values()))

    def retry(self, name: str) -> None:
        """Try a pool that does not answer again now."""
        if name in self._wake:
            self._wake[name].set()

    def close(self) -> None:
        self._stop.set()
        for wake in self._wake.values():
            wake.set()
        with self._lock:
            connections = list(self.connections.values())
        for conn in connections:
            conn.close()

    # the pools' threads ---------------------------------------------------------
    def _keep(self, pool: FleetTarget) -> None:
        """Log in until it works; its connection keeps itself up from then on."""
        delay = FIRST_RETRY
        while not self._stop.is_set():
            with self._slots:
                if self._stop.is_set():
                    return
                again = self._connect(pool, delay)
            if again is None:
                return
            wake = self._wake[pool.name]
            wake.wait(delay if again else None)
            wake.clear()
            delay = min(delay * 2, LAST_RETRY) if again else FIRST_RETRY

    def _connect(self, pool: FleetTarget, delay: float) -> bool | None:
        """None: connected; True: try again later; False: only when asked."""
        try:
            password = self.passwords.for_pool(pool)
        except NoPassword as exc:
            self._set(waiting_row(pool, NO_PASSWORD, str(exc)))
            return False
        target = parse_target(pool.url)
        pins = dict(self.fingerprints)
        if pool.fingerprint:
            pins[target.trust_key] = pool.fingerprint
        conn = Connection(
            target,
            pool.user,
            password,
            fingerprints=pins,
            watch=light_types(),
            timeout=self.timeout,
        )
        try:
            conn.login()
        except ConnectError as err:
            first = str(err).splitlines()[0]
            state = no_answer(err)
            if state not in (TIMEOUT, UNREACHABLE):  # refused, login failed: when asked
                self._set(waiting_row(pool, state, first))
                return False
            self._set(waiting_row(pool, state, f"{first} (tried again in {delay:g} s)"))
            return True
        if self._stop.is_set():
            conn.close()
            return None
        with self._lock:
            self.connections[pool.name] = conn
            self.password[pool.name] = password
        conn.on_change = lambda classes: self._update(pool)
        conn.on_state = lambda state, detail: self._update(pool, detail)
        self._set(waiting_row(pool, "connecting"))
        conn.start_events()
        return None

    def _update(self, pool: FleetTarget, detail: str = "") -> None:
        conn = self.connections[pool.name]
        state = STATES.get(conn.state, conn.state)
        if not conn.cache.table("pool"):  # not loaded yet
            row = waiting_row(pool, "connecting" if state == "connected" else state, detail)
        else:
            row = pool_row(
                pool, conn.cache, state=state, role=conn.access.role, baseline=self.baseline
            )
            if state != "connected" and detail:
                row = replace(row, detail=detail)
        self._set(row)

    def _set(self, row: PoolRow) -> None:
        with self._lock:
            self.rows[row.name] = row
        self._changed(row.name)

    def _changed(self, name: str) -> None:
        if not self._stop.is_set():
            self.on_change(name)
