"""Security (RECIPES.md sections 6-7): certificates, the root password and,
when it is lost, the way back for the host's bootloader; Active Directory,
the users and groups who may log in, and their roles."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".certificates": (
            "DAYS_DEFAULT",
            "KEY_TYPES",
            "SERVED_CALL",
            "CertRow",
            "CsrRequest",
            "InstallCertificate",
            "MakeCsr",
            "NEW_CERTIFICATE",
            "RegenerateCertificate",
            "Served",
            "check_certificate",
            "csr_fields",
            "host_certificates",
            "keeps_records",
            "make_csr",
            "make_self_signed",
            "read_crls",
            "read_served",
            "regenerate_mode",
            "save_csr",
            "trusted_cas",
        ),
        ".directory": (
            "AddSubject",
            "DisableDirectory",
            "EnableDirectory",
            "RemoveSubject",
            "SetSubjectRole",
            "NOT_JOINED",
            "directory_state",
            "prerequisites",
            "role_rows",
            "subject_rows",
        ),
        ".password": (
            "ChangeRootPassword",
            "Guide",
            "SaveGuide",
            "guide_text",
            "recovery_guide",
            "strength_hints",
        ),
    },
)
