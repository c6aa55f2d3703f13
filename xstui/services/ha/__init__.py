"""HA (RECIPES.md section 3): its state and plan, enabling and disabling it,
the failures it tolerates and which VMs it protects. Pool recovery when the
master is gone lives in services/pool."""

from .actions import DisableHa, EnableHa, SetProtection, SetTolerate, heartbeat_candidates
from .model import PLAN_CALL, HaStatus, ha_status, health, protection_rows, read_plan

__all__ = [
    "PLAN_CALL",
    "DisableHa",
    "EnableHa",
    "HaStatus",
    "SetProtection",
    "SetTolerate",
    "ha_status",
    "health",
    "heartbeat_candidates",
    "protection_rows",
    "read_plan",
]
