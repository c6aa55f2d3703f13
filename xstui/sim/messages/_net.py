"""What the networking behaviours share: XAPI's address and name rules, the
HA check, and moving a host's management address (and the listener with it)."""

from __future__ import annotations

import ipaddress
import re

from ..api import Ctx
from ..errors import XapiError

MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
HOSTNAME_RE = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def ha_enabled(ctx: Ctx) -> bool:
    return bool(ctx.store.get("pool", ctx.sim.pool)["ha_enabled"])


def check_ip(value: str, param: str) -> None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise XapiError("INVALID_IP_ADDRESS_SPECIFIED", param) from None


def move_address(ctx: Ctx, host: str, address: str) -> None:
    """The host's management address changes: record it, and move the
    simulator's listener there once this call has been answered."""
    old = ctx.store.get("host", host)["address"]
    ctx.store.set("host", host, address=address)
    ctx.sim.address_changed(host, old, address)
