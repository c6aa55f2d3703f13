"""The one list of admin areas. Each area declares its screen, the XAPI
classes (and, for the big ones, the fields) it reads, the health rules it adds
to Status, and its one-shot CLI commands; the app's modes, keys, palette,
event subscription and Health tab, and the CLI, are all built from this list.

Adding an area: a services package, a screen module, simulator behaviour for
the calls it makes, a scenario section, and an entry here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .script import CliCommand
    from .services.health import HealthFlag, HealthRule

ALL = None  # every field of the class
# what tells a user VM from the rest and where it runs
VM_PLACE = (
    "name_label",
    "uuid",
    "power_state",
    "resident_on",
    "is_a_template",
    "is_control_domain",
    "is_a_snapshot",
)

# a VM's snapshots as a tree (each one's parent, the VM's own: where it is now)
SNAPSHOTS = (
    "snapshots",
    "snapshot_of",
    "snapshot_time",
    "parent",
    "suspend_VDI",
    "name_description",
)
# the SRs new disks may go to (an import, a template copied): their room, kind, place
DISK_SRS = (
    "name_label",
    "uuid",
    "shared",
    "type",
    "content_type",
    "physical_size",
    "physical_utilisation",
)

# Always watched: actions wait for their tasks through the event stream, and
# every screen's connection bar shows the pool and the host.
CORE_WATCHES: Mapping[str, tuple[str, ...] | None] = {"task": ALL, "pool": ALL, "host": ALL}
# what the pool says an object can do now, and what runs on it (xapi/operations.py)
OPERATIONS = ("allowed_operations", "current_operations")
# The classes whose objects grow with the VMs (a 4000-VM pool has about
# 4000 of each): read after the rest of what the first screen draws from
POOL_SIZED = frozenset({"vm", "vm_metrics", "vm_guest_metrics", "vbd", "vdi", "vif"})
# What the connection bar draws; every screen redraws for these (tasks are
# watched for actions to wait on, not for drawing)
BAR_CLASSES = frozenset({"pool", "host"})


@dataclass(frozen=True)
class Area:
    id: str
    title: str
    key: str  # the function key that shows it
    description: str
    screen: str  # "module:Class", imported when the area is first shown
    watches: Mapping[str, tuple[str, ...] | None]  # wire class -> fields read (ALL: every one)
    # The rest, like the screen, as "module:name", imported when first used
    # (parsing the command line or drawing Status imports no more than it needs):
    # its health rules (HealthRule each), its one-shot commands (CliCommand),
    health: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    # and health that needs calls (not in the cache, HealthProbe each): run by
    # Status while it is shown, at most every PROBE_SECONDS
    probes: tuple[str, ...] = ()


# probe(connection) -> flags; makes XAPI calls, so it runs in a worker
HealthProbe = Callable[[object], list["HealthFlag"]]


AREAS: tuple[Area, ...] = (
    Area(
        id="status",
        title="Status",
        key="f1",
        description="Host and pool status, storage and health",
        screen="xstui.screens.status:StatusScreen",
        watches={
            "host_metrics": ALL,
            "vm": (
                "name_label",
                "power_state",
                "resident_on",
                "is_a_template",
                "is_control_domain",
                "is_a_snapshot",
                "metrics",
                "memory_target",
                "memory_overhead",
            ),
            "vm_metrics": ("memory_actual",),
            "sr": ALL,
            "pbd": ALL,
            "pif": ALL,
            "network": ALL,
            "certificate": ALL,
            "pool_update": ALL,
            "pool_patch": ALL,
            "host_patch": ALL,
            "message": ALL,
        },
        health=tuple(
            f"xstui.services.status.health:{rule}"
            for rule in ("hosts", "certificates", "srs", "alerts", "procedures")
        ),
        probes=("xstui.services.status.health:certificate_probe",),
        commands=("xstui.services.status.cli:STATUS_COMMAND",),
    ),
    Area(
        id="network",
        title="Networking",
        key="f2",
        description="Interfaces, management, bonds, VLANs, NIC replacement, pool check",
        screen="xstui.screens.network:NetworkScreen",
        watches={
            "pif": ALL,
            "pif_metrics": ALL,
            "network": ALL,
            "bond": ALL,
            "vlan": ALL,
            "vm": ("name_label", "VIFs", "resident_on", "power_state", "is_control_domain"),
        },
        health=("xstui.services.network.consistency:health",),
        commands=("xstui.services.network.cli:CHECK_COMMAND",),
    ),
    Area(
        id="ha",
        title="HA",
        key="f3",
        description="HA state and plan, enable/disable, failures to tolerate, VM protection",
        screen="xstui.screens.ha:HaScreen",
        watches={
            "host_metrics": ALL,
            "sr": ALL,
            "pbd": ALL,
            "vm": (
                *VM_PLACE,
                "memory_static_max",
                "ha_restart_priority",
                "order",
                "start_delay",
                "affinity",
            ),
        },
        health=("xstui.services.ha.model:health",),
    ),
    Area(
        id="updates",
        title="Patching",
        key="f4",
        description="Updates per host, upload, precheck, apply, baseline, rolling pool update",
        screen="xstui.screens.updates:UpdatesScreen",
        watches={
            "host_metrics": ALL,
            "pool_patch": ALL,
            "host_patch": ALL,
            "pool_update": ALL,
            "repository": ALL,
            "vm": VM_PLACE,
            "sr": (
                "name_label",
                "shared",
                "type",
                "content_type",
                "physical_size",
                "physical_utilisation",
            ),
            "pbd": ("host", "SR"),
        },
        health=("xstui.services.updates.health:health",),
        probes=("xstui.services.updates.health:missing_probe",),
        commands=("xstui.services.updates.cli:ROLLING_COMMAND",),
    ),
    Area(
        id="backup",
        title="Backup",
        key="f5",
        description="Pool database dump and restore, host backups, VMs to XVA and back, snapshot schedules",
        screen="xstui.screens.backup:BackupScreen",
        watches={
            "vm": (*VM_PLACE, "snapshots", "suspend_VDI", "snapshot_schedule"),
            "vbd": ("VM", "VDI", "type"),
            "vdi": ("SR", "physical_utilisation", "virtual_size", "name_label"),
            "sr": DISK_SRS,
            "pbd": ("host", "SR", "currently_attached"),
            # a restore keeps the MACs of the file: none may be in use
            "vif": ("MAC", "VM"),
            "certificate": ALL,
            # snapshot schedules (from 7.2), and how their last runs went
            "vmss": ALL,
            "message": ("name", "obj_uuid", "timestamp"),
        },
        commands=(
            "xstui.services.backup.cli:BACKUP_COMMAND",
            "xstui.services.backup.cli:RESTORE_COMMAND",
            "xstui.services.backup.cli:ROTATE_COMMAND",
        ),
    ),
    Area(
        id="storage",
        title="Storage",
        key="f9",
        description="SRs: new NFS SR from the server's exports, attach, detach, forget, destroy",
        screen="xstui.screens.storage:StorageScreen",
        watches={
            "sr": (
                "name_label",
                "uuid",
                "type",
                "shared",
                "content_type",
                "physical_size",
                "physical_utilisation",
                "sm_config",
                "PBDs",
                *OPERATIONS,
            ),
            "pbd": ("host", "SR", "currently_attached", "device_config"),
            # managed and type: the disks an SR.destroy wants gone first
            "vdi": ("SR", "physical_utilisation", "virtual_size", "name_label", "managed", "type"),
            "vbd": ("VM", "VDI", "type"),
            "vm": VM_PLACE,
            "host": ALL,
        },
        health=("xstui.services.storage.srs:health",),
    ),
    Area(
        id="logs",
        title="Logs",
        key="f10",
        description="The pool's alerts (dismiss); in dom0 the host's logs: follow, search, errors",
        screen="xstui.screens.logs:LogsScreen",
        watches={"message": ALL, "sr": ("name_label", "uuid"), "vm": VM_PLACE},
    ),
    Area(
        id="security",
        title="Security",
        key="f6",
        description="Host certificates, root password, and the way back when it is lost",
        screen="xstui.screens.security:SecurityScreen",
        watches={"certificate": ALL, "subject": ALL, "role": ALL},
    ),
    Area(
        id="host",
        title="Host",
        key="f7",
        description="Maintenance, reboot, toolstack, time and NTP, SSH, syslog, hardware",
        screen="xstui.screens.host:HostScreen",
        watches={
            "host_metrics": ALL,
            "pif": ("host", "device", "MAC", "physical"),
            "vm": (*VM_PLACE, "memory_static_max"),
            # what an eject takes with it: the host's local SRs and the disks there
            "sr": ("shared",),
            "pbd": ("host", "SR"),
            "vdi": ("SR",),
            "vbd": ("VM", "VDI"),
        },
        probes=("xstui.services.host.clock:time_probe",),
    ),
    Area(
        id="vms",
        title="VMs",
        key="f8",
        description="Every VM: filter, power, migration, memory, snapshots",
        screen="xstui.screens.vms:VmsScreen",
        watches={
            "vm": (
                *VM_PLACE,
                "memory_static_min",
                "memory_static_max",
                "memory_dynamic_min",
                "memory_dynamic_max",
                "VCPUs_at_startup",
                "guest_metrics",
                "ha_restart_priority",
                *OPERATIONS,
                "blocked_operations",
                *SNAPSHOTS,
            ),
            "vm_guest_metrics": ("networks", "PV_drivers_detected"),
            "host_metrics": ALL,
            # a VM's snapshots: their tree, dates and what their disks hold; a
            # deleted VM's disks (read-only ones stay, as xe vm-uninstall leaves them)
            "vbd": ("VM", "VDI", "type"),
            "vdi": ("SR", "physical_utilisation", "virtual_size", "name_label", "read_only"),
            "sr": DISK_SRS,
            "pbd": ("host", "SR", "currently_attached"),
        },
        commands=("xstui.services.metrics.cli:TOP_COMMAND",),
    ),
)


def watched_fields(areas: tuple[Area, ...] = AREAS) -> dict[str, tuple[str, ...] | None]:
    """Per class, the union of the fields the areas read (ALL wins)."""
    out: dict[str, set[str] | None] = dict(CORE_WATCHES)
    for a in areas:
        for cls, fields in a.watches.items():
            if fields is ALL or (cls in out and out[cls] is ALL):
                out[cls] = ALL
            else:
                out[cls] = set(out.get(cls) or ()) | set(fields)
    return {cls: (tuple(sorted(f)) if f is not ALL else ALL) for cls, f in out.items()}


def load_order(areas: tuple[Area, ...] = AREAS) -> tuple[tuple[str, ...], ...]:
    """How the console reads the pool (Connection.load_parts): what the first
    area's screen draws from but the classes that grow with the VMs, then
    those of them it reads, then the rest. Its first frame waits for no VM."""
    first = watched_fields(areas[:1])
    return (
        tuple(c for c in first if c not in POOL_SIZED),
        tuple(c for c in first if c in POOL_SIZED),
    )


def watched_types(areas: tuple[Area, ...] = AREAS) -> dict[str, type]:
    """The record type of every watched class, for the connection's cache."""
    from .xapi.records import slim

    return {cls: slim(cls, fields) for cls, fields in watched_fields(areas).items()}


@cache
def _imported(names: tuple[str, ...]) -> tuple:
    """What each "module:name" names, its module imported once."""
    out = []
    for name in names:
        module, attribute = name.split(":")
        out.append(getattr(import_module(module), attribute))
    return tuple(out)


def health_rules(areas: tuple[Area, ...] = AREAS) -> tuple[HealthRule, ...]:
    return _imported(tuple(rule for a in areas for rule in a.health))


def health_probes(areas: tuple[Area, ...] = AREAS) -> tuple[HealthProbe, ...]:
    return _imported(tuple(p for a in areas for p in a.probes))


def commands(areas: tuple[Area, ...] = AREAS) -> tuple[CliCommand, ...]:
    return _imported(tuple(c for a in areas for c in a.commands))


def see(area: str, *keys: str, tab: str = "") -> str:
    """Where to go for something, in the one style of every cross-reference
    (docs/DIALOGS.md): the area's title, the tab's if one is named, then the
    keys to press, the area's first: "Host, Time tab (F7, t)", "Security
    (F6, w)", "HA (F3)". The title and the function key come from the list
    above, so that a reference cannot name an area otherwise than the
    console does (tests/unit/test_cross_references.py checks the keys)."""
    (a,) = (a for a in AREAS if a.id == area)
    where = f"{a.title}, {tab} tab" if tab else a.title
    return f"{where} ({', '.join((a.key.upper(), *keys))})"
