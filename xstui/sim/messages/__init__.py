"""The simulator's behaviours: one module per XAPI class, each naming its
``CLASS`` and marking its messages with ``@message``. This is the one table
of them; a message defined twice is an error, not a silent overwrite."""

from __future__ import annotations

from functools import cache

from ..api import Message, behaviour
from . import (
    auth,
    bond,
    event,
    host,
    message,
    network,
    pbd,
    pif,
    pool,
    pool_patch,
    pool_update,
    repository,
    role,
    session,
    sr,
    subject,
    task,
    vbd,
    vdi,
    vif,
    vlan,
    vm,
    vm_appliance,
    vmss,
)

MODULES = (
    session,
    event,
    task,
    host,
    pool,
    pif,
    bond,
    vlan,
    network,
    vm,
    vm_appliance,
    vbd,
    vif,
    vdi,
    sr,
    pbd,
    message,
    pool_patch,
    pool_update,
    repository,
    auth,
    subject,
    role,
    vmss,
)


@cache
def table() -> dict[tuple[str, str], Message]:
    out: dict[tuple[str, str], Message] = {}
    for module in MODULES:
        for fn in vars(module).values():
            if callable(fn) and hasattr(fn, "xapi_message"):
                msg = behaviour(module.CLASS, fn)
                key = (msg.cls, msg.name)
                if key in out:
                    raise RuntimeError(f"{msg.wire_name} is defined twice")
                out[key] = msg
    return out
