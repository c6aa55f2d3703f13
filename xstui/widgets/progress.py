"""Run an action with a progress bar; Escape asks to cancel it."""

from __future__ import annotations

import threading

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar

from ..services.actions import Action, RunContext
from .notice import error_text


class TaskProgressModal(ModalScreen[tuple[bool, str]]):
    """Dismisses with (succeeded, message)."""

    DEFAULT_CSS = """
    TaskProgressModal { align: center middle; }
    TaskProgressModal > Vertical {
        width: 70%; max-width: 80; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="task.cancel")]

    def __init__(self, action: Action, connection):
        super().__init__()
        self.action, self.connection = action, connection
        self.cancel_requested = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.action.plan().title + "…", id="task-title")
            yield ProgressBar(total=1.0, show_eta=False, id="task-bar")
            yield Label("Escape to cancel", id="task-hint")

    def on_mount(self) -> None:
        self._run()

    @work(thread=True, exit_on_error=False, group="action", description="run action")
    def _run(self) -> None:
        def progress(value: float) -> None:
            self.app.call_from_thread(
                self.query_one("#task-bar", ProgressBar).update, progress=value
            )

        ctx = RunContext(self.connection, progress, self.cancel_requested)
        try:
            result = (True, self.action.execute(ctx))
        except Exception as exc:  # shown to the admin in words
            result = (False, error_text(exc))
        self.app.call_from_thread(self.dismiss, result)

    def action_cancel(self) -> None:
        self.cancel_requested.set()
        self.query_one("#task-hint", Label).update(
            "Cancelling: the running task is cancelled and the steps done are undone…"
        )
