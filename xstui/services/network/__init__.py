"""Networking (RECIPES.md section 2): the interface table, the management
interface, bonds and VLANs, NIC replacement, network tests and the pool
consistency check."""

from .bonds import (
    BOND_MODES,
    CreateBond,
    CreateVlan,
    DestroyBond,
    DestroyVlan,
    bond_name,
    vms_using,
)
from .interfaces import PifRow, pif_rows
from .management import IpConfig, ReconfigureManagement, RevertManagement, SetDns, SetHostname
from .nic import ForgetNic, IntroduceNic, pending_replacements

__all__ = [
    "BOND_MODES",
    "CreateBond",
    "CreateVlan",
    "DestroyBond",
    "DestroyVlan",
    "ForgetNic",
    "IntroduceNic",
    "IpConfig",
    "PifRow",
    "ReconfigureManagement",
    "RevertManagement",
    "SetDns",
    "SetHostname",
    "bond_name",
    "pending_replacements",
    "pif_rows",
    "vms_using",
]
