"""The pool as a whole: its master role (shared by the Host area's
maintenance of the master, HA recovery), and its membership (eject)."""

from ...lazy import exports

# each imported from its module when first used (see xstui.lazy)
__getattr__, __dir__, __all__ = exports(
    __name__,
    {
        ".master": ("DesignateMaster",),
        ".membership": (
            "EjectHost",
            "JoinCheck",
            "JoinPool",
            "check_join",
            "join_refusal",
        ),
        ".recovery": (
            "Diagnosis",
            "EmergencyHaOff",
            "PointAtMaster",
            "TakeOverAsMaster",
            "diagnose",
            "trust_for_session",
            "trustable",
        ),
    },
)
