"""What each after-apply guidance asks of the admin, in one sentence: what to
do and what it interrupts. The 6.x/7.x names (``restartHost``) and the
XenServer 8 ones (``reboot_host``) both."""

from __future__ import annotations

GUIDANCE = {
    "restartHost": "Reboot the host: its VMs must move to other hosts or stop first.",
    "reboot_host": "Reboot the host: its VMs must move to other hosts or stop first.",
    "reboot_host_on_livepatch_failure": (
        "Reboot the host only if the live patch failed to load; otherwise nothing to do."
    ),
    "reboot_host_on_kernel_livepatch_failure": (
        "Reboot the host only if the kernel live patch failed to load."
    ),
    "reboot_host_on_xen_livepatch_failure": (
        "Reboot the host only if the Xen live patch failed to load."
    ),
    "restartXAPI": (
        "Restart the toolstack (xe-toolstack-restart): VMs keep running; "
        "API clients lose their connection for about 30 s."
    ),
    "restart_toolstack": (
        "Restart the toolstack (xe-toolstack-restart): VMs keep running; "
        "API clients lose their connection for about 30 s."
    ),
    "restartHVM": (
        "Shut down and start each HVM guest (a reboot inside the guest is not enough): "
        "each VM has a short outage."
    ),
    "restartPV": "Shut down and start each PV guest: each VM has a short outage.",
    "restart_vm": "Shut down and start the VMs named: each has a short outage.",
    "restartDeviceModel": (
        "Restart each HVM guest's device model: migrate or suspend/resume it (no reboot)."
    ),
    "restart_device_model": (
        "Restart each HVM guest's device model: migrate or suspend/resume it (no reboot)."
    ),
    "evacuateHost": "Migrate every VM off the host (and back): no downtime, no reboot.",
}

# guidances that a host reboot settles, and the one a toolstack restart settles
REBOOT = frozenset({"restartHost", "reboot_host"})
TOOLSTACK = frozenset({"restartXAPI", "restart_toolstack"})


def explain(guidance: str) -> str:
    return GUIDANCE.get(guidance, f"{guidance}: follow the update's release notes.")


def needs_reboot(guidances) -> bool:
    return any(g in REBOOT for g in guidances)


def needs_toolstack(guidances) -> bool:
    return any(g in TOOLSTACK for g in guidances)
