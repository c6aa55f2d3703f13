"""Networking (RECIPES.md section 2): the interface table, the management
interface, bonds and VLANs, NIC replacement, network tests and the pool
consistency check."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".bonds": (
            "BOND_MODES",
            "CreateBond",
            "CreateVlan",
            "DestroyBond",
            "DestroyVlan",
            "bond_name",
            "vms_using",
        ),
        ".interfaces": (
            "PifRow",
            "pif_rows",
        ),
        ".management": (
            "IpConfig",
            "ReconfigureManagement",
            "RevertManagement",
            "SetDns",
            "SetHostname",
        ),
        ".nic": (
            "ForgetNic",
            "IntroduceNic",
            "pending_replacements",
        ),
    },
)
