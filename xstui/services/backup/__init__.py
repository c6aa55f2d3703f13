"""Backup and restore (RECIPES.md section 5): the pool database (dump, a dry
run that compares, restore), host backups, VMs exported to XVA files without
downtime and brought back from them, and VM metadata."""

from .hosts import HOST_RESTORE_STEPS, HostBackup
from .imports import ImportVm, XvaFile, import_source, source_fields
from .metadata import (
    FREQUENCIES,
    REMOTE,
    BackupMetadata,
    RestoreMetadata,
    SetSchedule,
    SrChoice,
    metadata_srs,
    probe_backups,
    schedule,
    sr_chosen,
    sr_field,
)
from .pooldb import DbSummary, DumpDatabase, RestoreDatabase, compare, dry_run, summarize
from .vms import (
    BackupVm,
    ExportMetadata,
    ImportMetadata,
    MetadataFile,
    export_metadata,
    long_chain,
    read_metadata,
)
from .xva import XvaReport, check_xva

__all__ = [
    "FREQUENCIES",
    "HOST_RESTORE_STEPS",
    "REMOTE",
    "BackupMetadata",
    "RestoreMetadata",
    "SetSchedule",
    "SrChoice",
    "metadata_srs",
    "probe_backups",
    "read_metadata",
    "schedule",
    "sr_chosen",
    "sr_field",
    "BackupVm",
    "DbSummary",
    "DumpDatabase",
    "ExportMetadata",
    "HostBackup",
    "ImportMetadata",
    "ImportVm",
    "MetadataFile",
    "RestoreDatabase",
    "XvaFile",
    "XvaReport",
    "check_xva",
    "compare",
    "dry_run",
    "export_metadata",
    "import_source",
    "long_chain",
    "source_fields",
    "summarize",
]
