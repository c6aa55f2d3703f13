"""Storage (RECIPES.md section 8): the SRs, an NFS SR made from what the
server exports, attach, detach, forget, destroy, the default SR."""

from .block import (
    KINDS,
    CreateBlockSr,
    HeldSr,
    LocalDisk,
    Lun,
    disk_holds,
    hba_luns,
    iscsi_config,
    iscsi_fields,
    iscsi_iqns,
    iscsi_luns,
    local_disks,
)
from .manage import AttachSr, DestroySr, DetachSr, ForgetSr, RescanSr, SetDefaultSr
from .multipath import EnableMultipath, multipath_state
from .nfs import (
    AttachExistingNfsSr,
    CreateNfsSr,
    NfsTarget,
    exports_with_srs,
    probe_exports,
    srs_at,
    unknown_srs,
    unknown_srs_at,
)
from .srs import SrDetail, SrRow, health, sr_detail, sr_rows

__all__ = [
    "AttachExistingNfsSr",
    "NfsTarget",
    "exports_with_srs",
    "unknown_srs",
    "unknown_srs_at",
    "KINDS",
    "CreateBlockSr",
    "HeldSr",
    "LocalDisk",
    "Lun",
    "disk_holds",
    "local_disks",
    "hba_luns",
    "health",
    "iscsi_config",
    "iscsi_fields",
    "iscsi_iqns",
    "iscsi_luns",
    "AttachSr",
    "CreateNfsSr",
    "DestroySr",
    "DetachSr",
    "EnableMultipath",
    "ForgetSr",
    "RescanSr",
    "SetDefaultSr",
    "SrDetail",
    "SrRow",
    "multipath_state",
    "probe_exports",
    "sr_detail",
    "sr_rows",
    "srs_at",
]
