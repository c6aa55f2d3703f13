"""What the logged-in session may do, as XAPI's RBAC decides it: the local
superuser (root) may make every call; a directory user the calls of its
subject's role, listed in the session's ``rbac_permissions``. The console
asks this before offering an action, so that what the role cannot do is
shown disabled with the role it needs, instead of failing halfway."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..datamodel import ROLES, least_role, permissions

ROLE_NAMES = {
    "pool-admin": "Pool Admin",
    "pool-operator": "Pool Operator",
    "vm-power-admin": "VM Power Admin",
    "vm-admin": "VM Admin",
    "vm-operator": "VM Operator",
    "read-only": "Read Only",
    "root": "the local root account",
}


@dataclass(frozen=True)
class Access:
    superuser: bool = True
    granted: frozenset[str] = field(default_factory=frozenset)  # lowercased calls
    subject: str = ""  # the subject (user or group) that let a directory user in

    @classmethod
    def of_session(cls, record: dict) -> Access:
        """From a session record (``session.get_record``)."""
        if record.get("is_local_superuser", True):
            return cls()
        granted = frozenset(str(p).lower() for p in record.get("rbac_permissions", []))
        return cls(False, granted, str(record.get("subject", "")))

    def may(self, call: str) -> bool:
        least = least_role(call)
        if self.superuser or least == "read-only":
            return True
        if least == "root":
            return False
        name = call[6:] if call.startswith("Async.") else call
        return name.lower() in self.granted

    @cached_property
    def role(self) -> str:
        """The session's role: the most privileged one whose calls it may all make."""
        if self.superuser:
            return "pool-admin"
        return next(r for r in ROLES if set(permissions(r)) <= self.granted)

    def refusal(self, calls: tuple[str, ...] | list[str]) -> str:
        """Why this session cannot make all of ``calls`` ('' when it can):
        "needs Pool Operator (you are Read Only)"."""
        denied = [c for c in calls if not self.may(c)]
        if not denied:
            return ""
        needed = min((least_role(c) for c in denied), key=_rank)
        return f"needs {ROLE_NAMES[needed]} (you are {ROLE_NAMES[self.role]})"


def _rank(role: str) -> int:
    """Most demanding first: root, then pool-admin ... read-only."""
    return -1 if role == "root" else ROLES.index(role)
