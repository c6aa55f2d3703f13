"""Security (RECIPES.md section 7): the root password and, when it is lost,
the way back for the host's bootloader."""

from .certificates import (
    KEY_TYPES,
    CertRow,
    CsrRequest,
    InstallCertificate,
    RegenerateCertificate,
    check_certificate,
    csr_fields,
    host_certificates,
    make_csr,
    save_csr,
)
from .password import ChangeRootPassword, Guide, guide_text, recovery_guide, strength_hints

__all__ = [
    "KEY_TYPES",
    "CertRow",
    "ChangeRootPassword",
    "CsrRequest",
    "Guide",
    "InstallCertificate",
    "RegenerateCertificate",
    "check_certificate",
    "csr_fields",
    "guide_text",
    "host_certificates",
    "make_csr",
    "recovery_guide",
    "save_csr",
    "strength_hints",
]
