"""Backup and restore (RECIPES.md section 5): the pool database (dump, a dry
run that compares, restore), host backups, VMs exported to XVA files without
downtime and brought back from them, and VM metadata."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".dr": (
            "START_CHOICES",
            "STORAGE",
            "AttachExistingSr",
            "DrDatabase",
            "FoundSr",
            "RecoverVms",
            "attach_found",
            "find_srs",
            "open_metadata",
            "recover_fields",
            "search",
            "search_fields",
        ),
        ".cron": (
            "CronEntry",
            "CronSchedule",
            "RemoveCronSchedule",
            "cron_entries",
            "cron_rows",
        ),
        ".hosts": (
            "HOST_RESTORE_STEPS",
            "HostBackup",
        ),
        ".imports": (
            "ImportVm",
            "XvaFile",
            "import_source",
            "source_fields",
        ),
        ".metadata": (
            "FREQUENCIES",
            "REMOTE",
            "BackupMetadata",
            "RestoreMetadata",
            "SetSchedule",
            "SrChoice",
            "metadata_srs",
            "probe_backups",
            "schedule",
            "sr_chosen",
            "sr_field",
        ),
        ".pooldb": (
            "DbSummary",
            "DumpDatabase",
            "RestoreDatabase",
            "compare",
            "dry_run",
            "summarize",
        ),
        ".schedules": (
            "CreateSchedule",
            "DeleteSchedule",
            "EditSchedule",
            "RunScheduleNow",
            "ScheduleRow",
            "ToggleSchedule",
            "schedule_fields",
            "schedule_rows",
        ),
        ".vms": (
            "BackupVm",
            "ExportMetadata",
            "ImportMetadata",
            "MetadataFile",
            "export_metadata",
            "long_chain",
            "read_metadata",
        ),
        ".xva": (
            "XvaReport",
            "check_xva",
        ),
    },
)
