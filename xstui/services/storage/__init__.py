"""Storage (RECIPES.md section 8): the SRs, an NFS SR made from what the
server exports, attach, detach, forget, destroy, the default SR."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".block": (
            "KINDS",
            "CreateBlockSr",
            "HeldSr",
            "LocalDisk",
            "Lun",
            "disk_holds",
            "hba_luns",
            "iscsi_config",
            "iscsi_fields",
            "iscsi_iqns",
            "iscsi_luns",
            "local_disks",
        ),
        ".manage": (
            "AttachSr",
            "DestroySr",
            "DetachSr",
            "ForgetSr",
            "RescanSr",
            "SetDefaultSr",
        ),
        ".multipath": (
            "EnableMultipath",
            "multipath_state",
        ),
        ".nfs": (
            "AttachExistingNfsSr",
            "AttachExistingSr",
            "CreateNfsSr",
            "NfsTarget",
            "exports_with_srs",
            "probe_exports",
            "srs_at",
            "unknown_srs",
            "unknown_srs_at",
        ),
        ".srs": (
            "SrDetail",
            "SrRow",
            "health",
            "sr_detail",
            "sr_rows",
        ),
    },
)
