"""The audit log: one JSON line per action attempted (never a password)."""

from __future__ import annotations

import json
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
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(json.dumps(entry) + "\n")
    except OSError:
        pass  # auditing must never break the action itself
