"""The storage managers of the SR types the simulator serves: the SM records
XAPI makes from the drivers in /opt/xensource/sm (name, configuration keys,
capabilities; ``features`` carry each capability's version, "VDI_RESET_ON_BOOT/2"
is version 2), and SR.get_supported_types."""

from __future__ import annotations

_VDI_COMMON = (
    "SR_PROBE SR_UPDATE VDI_CREATE VDI_DELETE VDI_ATTACH VDI_DETACH VDI_UPDATE VDI_CLONE "
    "VDI_SNAPSHOT VDI_RESIZE VDI_GENERATE_CONFIG VDI_MIRROR VDI_RESET_ON_BOOT/2 ATOMIC_PAUSE "
    "VDI_CONFIG_CBT VDI_ACTIVATE VDI_DEACTIVATE"
)

# type: (name, description, driver, configuration keys, capabilities)
DRIVERS = {
    "nfs": (
        "NFS VHD",
        "SR plugin which stores disks as VHD files on a remote NFS filesystem",
        "NFSSR",
        {"server": "hostname or IP address", "serverpath": "path on remote server"},
        _VDI_COMMON + " THIN_PROVISIONING VDI_READ_CACHING SR_CACHING",
    ),
    "lvmoiscsi": (
        "LVHD over iSCSI",
        "SR plugin which represents disks as Logical Volumes within a Volume Group "
        "created on an iSCSI LUN",
        "LVMoISCSISR",
        {"target": "IP address or hostname of the iSCSI target", "targetIQN": "target IQN"},
        _VDI_COMMON + " SR_METADATA VDI_INTRODUCE",
    ),
    "lvmohba": (
        "LVHD over FC",
        "SR plugin which represents disks as VHDs on Logical Volumes within a Volume Group "
        "created on an HBA LUN",
        "LVMoHBASR",
        {"SCSIid": "the SCSI id of the LUN"},
        _VDI_COMMON + " SR_METADATA VDI_INTRODUCE",
    ),
    "lvm": (
        "Local LVHD",
        "SR plugin which represents disks as VHD disks on Logical Volumes within a "
        "locally-attached Volume Group",
        "LVMSR",
        {"device": "local device path (required) (e.g. /dev/sda3)"},
        _VDI_COMMON + " SR_METADATA",
    ),
    "ext": (
        "Local EXT3 VHD",
        "SR plugin which represents disks as VHD files stored on a local EXT3 filesystem, "
        "created inside an LVM volume",
        "EXTSR",
        {"device": "local device path (required) (e.g. /dev/sda3)"},
        _VDI_COMMON + " THIN_PROVISIONING VDI_READ_CACHING SR_CACHING",
    ),
    "iso": (
        "ISO",
        "Handles CD images stored as files in iso format",
        "ISOSR",
        {"location": "path to mount (required)", "type": "cifs or nfs_iso"},
        "VDI_CREATE VDI_DELETE VDI_ATTACH VDI_DETACH SR_SCAN SR_ATTACH SR_DETACH",
    ),
}


def supported_types() -> list[str]:
    return sorted(DRIVERS)


def sm_records() -> list[dict]:
    """One SM record a type, as XAPI's Xapi_sm keeps them."""
    out = []
    for kind, (name, description, driver, configuration, caps) in sorted(DRIVERS.items()):
        capabilities = caps.split()
        out.append(
            {
                "name_label": name,
                "name_description": description,
                "type": kind,
                "vendor": "Citrix Systems Inc",
                "copyright": "(C) 2008 Citrix Systems Inc",
                "version": "1.0",
                "required_api_version": "1.0",
                "configuration": dict(configuration),
                "capabilities": [c.split("/")[0] for c in capabilities],
                "features": {c.split("/")[0]: int((c.split("/") + ["1"])[1]) for c in capabilities},
                "driver_filename": f"/opt/xensource/sm/{driver}",
            }
        )
    return out


# what a 64-bit Xen host offers guests (host.capabilities)
HOST_CAPABILITIES = [
    "xen-3.0-x86_64",
    "hvm-3.0-x86_32",
    "hvm-3.0-x86_32p",
    "hvm-3.0-x86_64",
]
