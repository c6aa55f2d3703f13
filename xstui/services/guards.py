"""Preconditions shared by several areas, checked before any XAPI call."""

from __future__ import annotations

from ..xapi import views
from ..xapi.cache import Cache
from .actions import InvalidInput


def refuse_while_ha(cache: Cache, what: str) -> None:
    """XAPI refuses some changes while HA is on (HA_IS_ENABLED): say so first."""
    if views.ha_enabled(cache):
        raise InvalidInput(
            [
                f"HA is enabled on the pool: {what} is refused while it is on (HA_IS_ENABLED). "
                "Disable HA first, then re-enable it afterwards"
            ]
        )
