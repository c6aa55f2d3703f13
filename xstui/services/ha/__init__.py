"""HA (RECIPES.md section 3): its state and plan, enabling and disabling it,
the failures it tolerates and which VMs it protects. Pool recovery when the
master is gone lives in services/pool."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".actions": (
            "DisableHa",
            "EnableHa",
            "SetProtection",
            "SetTolerate",
            "heartbeat_candidates",
        ),
        ".model": (
            "PLAN_CALL",
            "HaStatus",
            "ha_status",
            "health",
            "protection_rows",
            "read_plan",
        ),
    },
)
