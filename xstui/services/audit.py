"""The audit log: one JSON line per action attempted (never a password)."""

from __future__ import annotations

import json
import os
import time

from ..xapi.config import state_dir


def audit(
    action: str, target: str, user: str, outcome: str, detail: str = "", xe: list[str] | None = None
) -> None:
    path = state_dir() / "audit.log"
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "target": target,
        "user": user,
        "action": action,
        "outcome": outcome,
        "detail": detail,
        "xe": xe or [],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # who did what to which pool is for the admin's eyes only
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(json.dumps(entry) + "\n")
    except OSError:
        pass  # auditing must never break the action itself
