"""The Patching area's health (Status, Health tab; ``xstui check``):
updates the pool knows but some hosts lack, and hosts waiting for the reboot
an applied update asked for. 6.x patches and 7.x/8.2 updates come from the
cache (a rule makes no calls); XenServer 8 and XCP-ng list what a host lacks
only on request, so their probe asks (at most every few minutes)."""

from __future__ import annotations

import weakref

from ... import clock
from ...xapi.cache import Cache
from ...xapi.connection import ConnectionLost, XapiFailure
from ...xapi.transfer import TransferFailed
from ..health import HealthFlag
from .generation import PATCHES, UPDATES, detect
from .guidance import needs_reboot
from .model import UpdatesView, build, read_document


def health(cache: Cache, now: float) -> list[HealthFlag]:
    with cache.lock:
        if cache.table("pool_update"):
            generation = UPDATES
        elif cache.table("pool_patch"):
            generation = PATCHES
        else:
            return []
        view = build(cache, generation)
    return flags_of(view)


def flags_of(view: UpdatesView) -> list[HealthFlag]:
    """What Health says of a pool's updates, whatever the generation."""
    flags = []
    for h in view.hosts:
        if needs_reboot(h.pending):
            flags.append(
                HealthFlag(
                    "warning", "updates", f"{h.name} waits for the reboot an update asked for"
                )
            )
    for u in view.updates:
        lacking = sorted(h.name for h in view.hosts if h.ref not in u.applied_on)
        if lacking:
            where = ", ".join(lacking) if u.applied_on else "any host"
            flags.append(HealthFlag("info", "updates", f"Update {u.name} not applied on {where}"))
    return flags


class MissingProbe:
    """Health for the pools whose hosts say what they lack only when asked
    (XCP-ng's updater.py, XenServer 8's repositories): asked at most every
    ``every`` seconds per connection (yum takes its time); the last answer
    is kept in between, and what cannot be read is said."""

    every = 10 * 60

    def __init__(self) -> None:
        # per connection: (when read, the flags then)
        self.read: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self, conn) -> list[HealthFlag]:
        at, flags = self.read.get(conn, (None, []))
        if at is not None and clock.now() - at < self.every:
            return flags
        try:
            generation = detect(conn)
            if not generation.lists_missing:
                flags = []  # the cache says (the rule above)
            else:
                view = build(conn.cache, generation, read_document(conn, generation))
                flags = flags_of(view)
        except (XapiFailure, ConnectionLost):
            return flags  # asked again next round
        except TransferFailed as exc:  # no repository, not synced: said
            flags = [HealthFlag("info", "updates", f"What the hosts lack is not known: {exc}")]
        self.read[conn] = (clock.now(), flags)
        return flags


missing_probe = MissingProbe()
