"""The pool as a whole: its master role (shared by the Host area's
maintenance of the master and, later, HA recovery and pool membership)."""

from .master import DesignateMaster
from .recovery import Diagnosis, EmergencyHaOff, PointAtMaster, TakeOverAsMaster, diagnose

__all__ = [
    "DesignateMaster",
    "Diagnosis",
    "EmergencyHaOff",
    "PointAtMaster",
    "TakeOverAsMaster",
    "diagnose",
]
