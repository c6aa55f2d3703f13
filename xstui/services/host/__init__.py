"""The host at the console (RECIPES.md sections 8-9): maintenance mode,
reboot and shutdown, the toolstack, time and NTP, SSH, remote syslog, and the
host's hardware and software."""

from .access import SetSsh, SetSyslog
from .clock import SetNtp, SetTimezone, TimeState, read_time, time_probe, time_zones
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
    "Blocker",
    "EnterMaintenance",
    "ExitMaintenance",
    "HostRow",
    "RebootHost",
    "RestartToolstack",
    "SetNtp",
    "SetSsh",
    "SetSyslog",
    "SetTimezone",
    "ShutdownHost",
    "TimeState",
    "evacuated",
    "evacuation_blockers",
    "host_facts",
    "host_rows",
    "in_maintenance",
    "read_time",
    "time_probe",
    "time_zones",
]
