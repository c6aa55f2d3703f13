"""Errors for people: a short notice, never a traceback."""

from __future__ import annotations

import logging
import time

from ..logfile import log_path
from ..services.actions import ActionFailed, Cancelled, InvalidInput, OutcomeUnknown, TaskFailed
from ..xapi.cache import Cache
from ..xapi.connection import ConnectError, ConnectionLost, XapiFailure
from ..xapi.errors import describe
from ..xapi.transfer import TransferFailed

log = logging.getLogger("xstui")


def _sentence(text: str) -> str:
    """``text`` as a sentence: a capital first, a stop last ("Broken pipe"
    read "Broken pipe Nothing had been changed." before the undo report)."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text[-1:] in ".!?)]" else ".")


def clear_notices(app) -> None:
    """The notices raised until now go, those still on their way as messages
    too; any raised later (an outcome that comes while a dialog is up) stay."""
    until = time.time()

    def clear() -> None:
        gone = [n for n in app._notifications if n.raised_at <= until]
        for notice in gone:
            app._unnotify(notice, refresh=False)
        if gone:
            app._refresh_notifications()

    app.call_later(clear)


def error_text(exc: BaseException, cache: Cache | None = None) -> str:
    """In words; with ``cache``, the objects XAPI names by ref get their names."""
    if isinstance(exc, ActionFailed):
        if exc.cancelled:
            return f"Cancelled. {exc.undo_report()}"
        return f"{_sentence(error_text(exc.cause, cache))} {exc.undo_report()}"
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
    if isinstance(exc, ConnectionLost | ConnectError | TransferFailed):
        return _sentence(str(exc))
    log.error("unexpected error", exc_info=exc)
    return f"Unexpected error ({exc.__class__.__name__}: {exc}); details are in {log_path()}."


def _named(failure: XapiFailure, cache: Cache | None):
    return describe(failure.details, cache.name_of) if cache is not None else failure.human


def notify_error(app, exc: BaseException) -> None:
    conn = getattr(app, "connection", None)
    app.notify(error_text(exc, conn.cache if conn else None), severity="error", timeout=10)
