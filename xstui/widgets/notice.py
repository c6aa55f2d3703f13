"""Errors for people: a short notice, never a traceback."""

from __future__ import annotations

import logging

from ..logfile import log_path
from ..services.actions import ActionFailed, Cancelled, InvalidInput, OutcomeUnknown, TaskFailed
from ..xapi.connection import ConnectError, ConnectionLost, XapiFailure

log = logging.getLogger("xstui")


def error_text(exc: BaseException) -> str:
    if isinstance(exc, ActionFailed):
        if exc.cancelled:
            return f"Cancelled. {exc.undo_report()}"
        return f"{error_text(exc.cause)} {exc.undo_report()}"
    if isinstance(exc, Cancelled):
        return "Cancelled."
    if isinstance(exc, OutcomeUnknown):
        return f"Outcome unknown: {exc}."
    if isinstance(exc, InvalidInput):
        return "Not done: " + "; ".join(exc.problems) + "."
    if isinstance(exc, TaskFailed):
        return f"Failed: {exc.failure.human} [{exc.failure.code}]"
    if isinstance(exc, XapiFailure):
        return f"Refused by the host: {exc.human} [{exc.code}]"
    if isinstance(exc, ConnectionLost | ConnectError):
        return str(exc)
    log.error("unexpected error", exc_info=exc)
    return f"Unexpected error ({exc.__class__.__name__}: {exc}); details are in {log_path()}."


def notify_error(app, exc: BaseException) -> None:
    app.notify(error_text(exc), severity="error", timeout=10)
