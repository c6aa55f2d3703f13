"""Errors for people: a short notice, never a traceback."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace

from textual.screen import ModalScreen
from textual.widgets import _toast
from textual.widgets._toast import Toast, ToastRack

from ..logfile import log_path
from ..services.actions import (
    ActionFailed,
    Cancelled,
    InvalidInput,
    OutcomeUnknown,
    TaskFailed,
    not_possible,
)
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


def notice_width(screen_width: int) -> int:
    """The columns of a notice's text: Textual's toast is 60 wide, at most
    half the screen, less its padding and its left border."""
    return max(10, min(60, screen_width // 2) - 3)


def fold_paths(message: str, width: int) -> str:
    """``message`` with each word longer than ``width`` (a path) folded after
    its slashes onto lines that fit: Textual wraps at spaces only and cut
    "/root/.local/state/xstui/root-passwo" / "rd-recovery-xcp-b.txt"."""
    out = []
    for word in re.split(r"(\s+)", message):
        if len(word) <= width or "/" not in word:
            out.append(word)
            continue
        lines, line = [], ""
        for part in re.findall(r"[^/]*/|[^/]+$", word):
            if line and len(line) + len(part) > width:
                lines.append(line)
                line = ""
            line += part
        out.append("\n".join([*lines, line]))
    return "".join(out)


# what a notice on a screen never covers: the footer, the screen's hint lines
# (a tab's keys, however many lines they wrap onto) and what a screen marks
# so (the fleet's row detail); docs/DIALOGS.md, Notices
KEEP_CLEAR = "Footer, .screen-hint, .notice-floor"


def keep_notices_clear(screen) -> None:
    """The screen's notices stand above what they must never cover
    (KEEP_CLEAR), as high as those are now. A dialog puts them at its top
    (widgets/modal.Dialog): nothing to do there."""
    if isinstance(screen, ModalScreen):
        return
    rack = screen.query(ToastRack).first(None)
    if rack is None or not screen.size.height:
        return
    tops = [w.region.y for w in screen.query(KEEP_CLEAR) if w.display and w.region.height]
    if not tops:
        return
    # at least the footer and the line above it (xstui.tcss), whatever is marked
    below = max(2, min(screen.size.height - min(tops), max(screen.size.height - 3, 0)))
    if rack.styles.margin.bottom != below:
        rack.styles.margin = (0, 0, below, 0)
        screen.refresh(layout=True)  # the rack is placed by the screen's layout


class FoldingToast(Toast):
    """Textual's notice, its long paths folded at their slashes
    (:func:`fold_paths`); the notification's message stays as it was said.
    Shown on a screen, it stands above the screen's hint lines and footer
    (:func:`keep_notices_clear`)."""

    def on_mount(self) -> None:
        keep_notices_clear(self.screen)

    def render(self):
        said = self._notification
        folded = fold_paths(said.message, notice_width(self.app.size.width))
        if folded == said.message:
            return super().render()
        self._notification = replace(said, message=folded)
        try:
            return super().render()
        finally:
            self._notification = said


# the rack of every screen makes its notices by this name
_toast.Toast = FoldingToast


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
        return not_possible("; ".join(exc.problems))
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
