"""The pool as a whole: its master role (shared by the Host area's
maintenance of the master, HA recovery), and its membership (eject)."""

from .master import DesignateMaster
from .membership import EjectHost, JoinCheck, JoinPool, check_join, join_refusal
from .recovery import (
    Diagnosis,
    EmergencyHaOff,
    PointAtMaster,
    TakeOverAsMaster,
    diagnose,
    trust_for_session,
    trustable,
)

__all__ = [
    "DesignateMaster",
    "Diagnosis",
    "EjectHost",
    "EmergencyHaOff",
    "JoinCheck",
    "JoinPool",
    "PointAtMaster",
    "TakeOverAsMaster",
    "check_join",
    "join_refusal",
    "diagnose",
    "trust_for_session",
    "trustable",
]
