"""The host at the console (RECIPES.md sections 8-9): maintenance mode,
reboot and shutdown, the toolstack, time and NTP, SSH, remote syslog, and the
host's hardware and software."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".access": (
            "SetSsh",
            "SetSyslog",
        ),
        ".clock": (
            "UNREPORTED",
            "SetNtp",
            "SetTimezone",
            "TimeState",
            "read_time",
            "skew_now",
            "skew_words",
            "time_probe",
            "time_zones",
        ),
        ".dom0_settings": (
            "InDom0",
            "NtpInDom0",
            "SshInDom0",
            "TimezoneInDom0",
        ),
        ".facts": (
            "HostRow",
            "host_facts",
            "host_rows",
        ),
        ".maintenance": (
            "Blocker",
            "EnterMaintenance",
            "ExitMaintenance",
            "evacuated",
            "evacuation_blockers",
            "in_maintenance",
        ),
        ".power": (
            "RebootHost",
            "RestartToolstack",
            "ShutdownHost",
        ),
    },
)
