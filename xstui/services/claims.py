"""Pool-wide procedures one console at a time: a marker on the pool
(``other_config:xstui-busy``) says who runs what since when, until when.
Taking it is XAPI's own test-and-set (``pool.add_to_other_config`` refuses a
key that exists: MAP_DUPLICATE_KEY), so two consoles, on one machine or on
two admins' laptops, cannot both start a rolling update and take two hosts
down at once. Any console shows the marker and refuses in words; a marker
past its expiry, or left by a console of this machine that is gone, may be
taken over."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, replace

from ..xapi import views
from ..xapi.cache import Cache
from ..xapi.connection import ConnectionLost, XapiFailure
from .actions import InvalidInput

KEY = "xstui-busy"


@dataclass(frozen=True)
class Claim:
    what: str  # "a rolling update"
    owner: str  # "root@admin2"
    machine: str
    pid: int
    since: float
    until: float

    def words(self) -> str:
        def at(t: float) -> str:
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))

        return (
            f"{self.what} by {self.owner} since {at(self.since)} (claimed until {at(self.until)})"
        )

    @property
    def expired(self) -> bool:
        return time.time() > self.until

    @property
    def abandoned(self) -> bool:
        """Left by a console of this machine that is no longer running."""
        import psutil  # here: the first Status frame does not wait for it

        return self.machine == socket.gethostname() and not psutil.pid_exists(self.pid)

    @property
    def mine(self) -> bool:
        return self.machine == socket.gethostname() and self.pid == os.getpid()


def current(cache: Cache) -> Claim | None:
    """The pool's marker, if any (one that does not parse counts as none)."""
    with cache.lock:
        pool = views.pool(cache)
        text = pool.other_config.get(KEY, "") if pool else ""
    try:
        return Claim(**json.loads(text)) if text else None
    except (ValueError, TypeError):
        return None


def refusal(cache: Cache) -> str:
    """Why a pool-wide procedure may not start now ('' when it may)."""
    claim = current(cache)
    if claim is None or claim.mine or claim.expired or claim.abandoned:
        return ""
    return (
        f"{claim.words()} is under way on this pool: wait for it to end, or take over "
        "after its claim expires"
    )


def take(conn, what: str, seconds: float) -> Claim:
    """Claim the pool for ``seconds``; InvalidInput when another console has it
    (it took it first, even by a hair: XAPI decides)."""
    now, machine = time.time(), socket.gethostname()
    claim = Claim(what, f"{conn.user}@{machine}", machine, os.getpid(), now, now + seconds)
    pool = views.pool(conn.cache).ref
    for _attempt in range(2):
        try:
            conn.call("pool.add_to_other_config", pool, KEY, json.dumps(asdict(claim)))
            return claim
        except XapiFailure as exc:
            if exc.code != "MAP_DUPLICATE_KEY":
                raise
        held = _read(conn, pool)
        if held is not None and not (held.mine or held.expired or held.abandoned):
            raise InvalidInput([f"{held.words()} is under way on this pool: nothing was done"])
        conn.call("pool.remove_from_other_config", pool, KEY)  # expired or abandoned: over
    raise InvalidInput(["another console claimed the pool at the same moment: nothing was done"])


def renew(conn, claim: Claim, seconds: float) -> Claim:
    """Push the expiry on (a long procedure, at each of its steps)."""
    new = replace(claim, until=time.time() + seconds)
    pool = views.pool(conn.cache).ref
    conn.call("pool.remove_from_other_config", pool, KEY)
    try:
        conn.call("pool.add_to_other_config", pool, KEY, json.dumps(asdict(new)))
    except XapiFailure as exc:
        if exc.code != "MAP_DUPLICATE_KEY":
            raise
        held = _read(conn, pool)
        raise InvalidInput(
            [f"{held.words() if held else 'another procedure'} took the pool over"]
        ) from None
    return new


def release(conn, claim: Claim) -> None:
    """Remove the marker if it is still this one (when the pool cannot be
    reached, it is left to expire)."""
    try:
        pool = views.pool(conn.cache).ref
        held = _read(conn, pool)
        if held is not None and held.pid == claim.pid and held.machine == claim.machine:
            conn.call("pool.remove_from_other_config", pool, KEY)
    except (XapiFailure, ConnectionLost):
        pass


def _read(conn, pool: str) -> Claim | None:
    """The marker as the pool has it now (not as the cache last heard)."""
    text = conn.call("pool.get_other_config", pool).get(KEY, "")
    try:
        return Claim(**json.loads(text)) if text else None
    except (ValueError, TypeError):
        return None
