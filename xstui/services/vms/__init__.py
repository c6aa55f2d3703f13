"""VMs (RECIPES.md section 9): every VM of the pool, filtered as typed; power
operations and migration on a selection; a VM's memory; a VM's snapshots."""

from .memory import SetMemory, amount
from .power import ANY_HOST, OPS, PLACED, MigrateVms, PowerVms
from .snapshots import (
    DeleteSnapshot,
    ExportSnapshot,
    RevertToSnapshot,
    SnapshotRow,
    SnapshotToTemplate,
    TakeSnapshot,
    snapshot_rows,
)
from .table import VmRow, filtered, is_user_vm, vm_row, vm_rows

__all__ = [
    "ANY_HOST",
    "DeleteSnapshot",
    "ExportSnapshot",
    "RevertToSnapshot",
    "SnapshotRow",
    "SnapshotToTemplate",
    "TakeSnapshot",
    "snapshot_rows",
    "OPS",
    "PLACED",
    "MigrateVms",
    "PowerVms",
    "SetMemory",
    "VmRow",
    "amount",
    "filtered",
    "is_user_vm",
    "vm_row",
    "vm_rows",
]
