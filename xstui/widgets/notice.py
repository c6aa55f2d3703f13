"""Errors for people: a short notice, never a traceback."""

from __future__ import annotations

import logging

from ..logfile import log_path
from ..services.actions import ActionFailed, Cancelled, InvalidInput, OutcomeUnknown, TaskFailed
from ..xapi.cache import Cache
from ..xapi.connection import ConnectError, ConnectionLost, XapiFailure
from ..xapi.errors import describe
from ..xapi.transfer import TransferFailed

log = logging.getLogger("xstui")


def error_text(exc: BaseException, cache: Cache | None = None) -> str:
    """In words; with ``cache``, the objects XAPI names by ref get their names."""
    if isinstance(exc, ActionFailed):
        if exc.cancelled:
            return f"Cancelled. {exc.undo_report()}"
        return f"{error_text(exc.cause, cache)} {exc.undo_report()}"
    if isinstance(exc, Cancelled):
        return "Cancelled."
    if isinstance(exc, OutcomeUnknown):
        return f"Outcome unknown: {exc}."
    if isinstance(exc, InvalidInput):
        return "Not done: " + "; ".join(exc.problems) + "."
    if isinstance(exc, TaskFailed):
        return f"Failed: {_named(exc.failure, cache)} [{exc.failure.code}]"
    if isinstance(exc, XapiFailure):
        return f"Refused by the host: {_named(exc, cache)} [{exc.code}]"
    if isinstance(exc, ConnectionLost | ConnectError):
        return str(exc)
    if isinstance(exc, TransferFailed):  # a sentence from the transfer, without its capital
        text = str(exc)
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    log.error("unexpected error", exc_info=exc)
    return f"Unexpected error ({exc.__class__.__name__}: {exc}); details are in {log_path()}."


def _named(failure: XapiFailure, cache: Cache | None):
    return describe(failure.details, cache.name_of) if cache is not None else failure.human


def notify_error(app, exc: BaseException) -> None:
    conn = getattr(app, "connection", None)
    app.notify(error_text(exc, conn.cache if conn else None), severity="error", timeout=10)
