"""Run an action with a progress bar; Escape asks to cancel it."""

from __future__ import annotations

import threading

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from ..services.actions import Action, RunContext
from .modal import Dialog
from .notice import error_text


class TaskProgressModal(Dialog):
    """Dismisses with (succeeded, message)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="task.cancel")]

    def __init__(self, action: Action, connection):
        super().__init__()
        self.action, self.connection = action, connection
        self.cancel_requested = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                self.action.plan().title + "...",
                id="task-title",
                classes="dialog-title",
                markup=False,
            )
            yield ProgressBar(total=1.0, show_eta=False, id="task-bar")
            yield Static("Escape to cancel", id="task-hint", classes="dialog-text")

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
        self.query_one("#task-hint", Static).update(
            "Cancelling: the running task is cancelled and the steps done are undone..."
        )
