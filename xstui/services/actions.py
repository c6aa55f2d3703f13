"""Actions: what a screen asks the pool to do. Each one validates its input,
describes itself (a Plan: steps, the ``xe`` equivalent, the impact, the risk)
and runs. Screens show the plan, confirm in proportion to the risk, then run."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from ..xapi.connection import Connection, ConnectionLost, XapiFailure
from .audit import audit

RISKS = ("low", "medium", "high")


@dataclass
class Plan:
    title: str
    summary: str
    xe: list[str]
    steps: list[str] = field(default_factory=list)
    impact: list[str] = field(default_factory=list)
    risk: str = "low"  # low: confirm; medium: confirm with impact shown; high: type to confirm
    confirm_word: str = ""  # what a high-risk action asks the admin to type


class InvalidInput(ValueError):
    """Input refused before any XAPI call; ``problems`` lists what and why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class Action(ABC):
    """Subclasses validate in ``__init__`` (raise InvalidInput), then plan and run."""

    @abstractmethod
    def plan(self) -> Plan: ...

    @abstractmethod
    def run(self, conn: Connection, progress: Callable[[float], None]) -> str:
        """Do it; returns a one-line outcome. Raises XapiFailure / TaskFailed."""

    def execute(self, conn: Connection, progress: Callable[[float], None] = lambda p: None) -> str:
        """Run with an audit line for the attempt and its outcome."""
        plan = self.plan()
        try:
            outcome = self.run(conn, progress)
        except Exception as exc:
            audit(plan.title, conn.target.url, conn.user, "failed", str(exc), plan.xe)
            raise
        audit(plan.title, conn.target.url, conn.user, "done", outcome, plan.xe)
        return outcome


class TaskFailed(Exception):
    def __init__(self, failure: XapiFailure):
        super().__init__(str(failure))
        self.failure = failure


def run_task(
    conn: Connection,
    method: str,
    *args,
    progress: Callable[[float], None] = lambda p: None,
    cancel: threading.Event | None = None,
    timeout: float = 3600,
) -> str:
    """``Async.<method>`` and wait for its task through the event stream (no
    polling); returns the task's result. Raises TaskFailed, XapiFailure."""
    task = conn.call("Async." + method, *args)
    cache = conn.cache
    cancelled = False

    def finished():
        rec = cache.get("task", task)
        if rec is not None:
            progress(float(rec.get("progress", 0)))
        if cancel is not None and cancel.is_set() and not cancelled:
            return True
        return rec is not None and rec.get("status") not in ("pending", "cancelling")

    while True:
        if not cache.wait_for(finished, timeout):
            raise XapiFailure(
                ["INTERNAL_ERROR", f"{method} did not finish within {int(timeout)} s"]
            )
        rec = cache.get("task", task)
        if (
            cancel is not None
            and cancel.is_set()
            and not cancelled
            and (rec is None or rec.get("status") == "pending")
        ):
            cancelled = True
            conn.call("task.cancel", task)
            continue
        break
    try:
        conn.call("task.destroy", task)
    except (XapiFailure, ConnectionLost):
        pass  # tidying only: the host forgets finished tasks by itself, and a
        # management change may just have moved the host away from this address
    if rec["status"] == "success":
        return _unwrap(rec.get("result", ""))
    raise TaskFailed(XapiFailure(rec.get("error_info") or ["INTERNAL_ERROR", "task failed"]))


def _unwrap(result: str) -> str:
    """A task result is XML-RPC text (``<value>OpaqueRef:..</value>``)."""
    result = str(result)
    if result.startswith("<value>") and result.endswith("</value>"):
        return result[7:-8]
    return result
