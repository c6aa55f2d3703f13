"""The host at the console (RECIPES.md sections 8-9): maintenance mode,
reboot and shutdown, the toolstack, time and NTP, SSH, remote syslog, and the
host's hardware and software."""

from .access import SetSsh, SetSyslog
from .clock import UNREPORTED, SetNtp, SetTimezone, TimeState, read_time, time_probe, time_zones
from .dom0_settings import InDom0, NtpInDom0, SshInDom0, TimezoneInDom0
from .facts import HostRow, host_facts, host_rows
from .maintenance import (
    Blocker,
    EnterMaintenance,
    ExitMaintenance,
    evacuated,
    evacuation_blockers,
    in_maintenance,
)
from .power import RebootHost, RestartToolstack, ShutdownHost

__all__ = [
    "UNREPORTED",
    "Blocker",
    "EnterMaintenance",
    "ExitMaintenance",
    "HostRow",
    "InDom0",
    "NtpInDom0",
    "RebootHost",
    "RestartToolstack",
    "SetNtp",
    "SetSsh",
    "SetSyslog",
    "SetTimezone",
    "ShutdownHost",
    "SshInDom0",
    "TimeState",
    "TimezoneInDom0",
    "evacuated",
    "evacuation_blockers",
    "host_facts",
    "host_rows",
    "in_maintenance",
    "read_time",
    "time_probe",
    "time_zones",
]
