"""A network's operations. The datamodel declares one, ``attaching``
(datamodel.ml, network_operations), but XAPI never computes or marks it:
xapi_network.ml creates every network with empty allowed_operations and
current_operations and nothing changes them (no update_allowed_operations,
no with_network_operation in message_forwarding.ml). So here: nothing
listed, nothing refused, no message marks one."""

from __future__ import annotations

from . import Rules

RULES = Rules(cls="network", prepare=lambda store, ref: lambda op: None, listed=())
