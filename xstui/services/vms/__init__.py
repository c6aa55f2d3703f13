"""VMs (RECIPES.md section 9): every VM of the pool, filtered as typed; power
operations and migration on a selection; a VM's memory; a VM's snapshots."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".memory": (
            "SetMemory",
            "amount",
        ),
        ".power": (
            "ANY_HOST",
            "OPS",
            "PLACED",
            "MigrateVms",
            "PowerVms",
        ),
        ".snapshots": (
            "DeleteSnapshot",
            "ExportSnapshot",
            "RevertToSnapshot",
            "SnapshotRow",
            "SnapshotToTemplate",
            "TakeSnapshot",
            "snapshot_rows",
        ),
        ".uninstall": ("DeleteVm",),
        ".table": (
            "VmRow",
            "filtered",
            "is_user_vm",
            "vm_row",
            "vm_rows",
        ),
    },
)
