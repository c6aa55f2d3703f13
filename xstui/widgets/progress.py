"""Run an action with a progress bar, what it does now and, for the actions
that keep one, a small table of how far each part got (a rolling update's
hosts); Escape asks to cancel it."""

from __future__ import annotations

import threading

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from ..services.actions import Action, RunContext
from .modal import Dialog
from .notice import error_text

HINT = "Escape to cancel"
# one line each in the box at 80 columns (a taller box pushes its title off screen)
LOST_HINT = "Connection lost, waiting for the host: Escape to stop waiting"
COMMITTED_HINT = "Escape to stop waiting (what is done stays)"


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
            yield Static("", id="task-board", classes="dialog-text")
            yield Static("", id="task-note", classes="dialog-text", markup=False)
            yield Static(HINT, id="task-hint", classes="dialog-text")

    def on_mount(self) -> None:
        # the worker only records progress (it may hold the cache lock while
        # it does); the screen draws it a few times a second
        self.shown: tuple[float, str] = (-1.0, "")
        self.latest: tuple[float, str] = (0.0, "")
        self.board = None  # the action's table as last drawn
        self.query_one("#task-board", Static).display = False
        self.set_interval(0.1, self._draw_progress)
        self._run()

    def _draw_progress(self) -> None:
        self.query_one("#task-hint", Static).update(self._hint())
        latest = self.latest
        if latest != self.shown:
            self.shown = latest
            self.query_one("#task-bar", ProgressBar).update(progress=latest[0])
            self.query_one("#task-note", Static).update(latest[1])
        board = self.action.board()
        if board != self.board:
            self.board = board
            shown = self.query_one("#task-board", Static)
            shown.display = board is not None
            if board is not None:
                shown.update(_table(*board))

    @work(thread=True, exit_on_error=False, group="action", description="run action")
    def _run(self) -> None:
        def progress(value: float) -> None:
            self.latest = (value, self.latest[1])

        def note(text: str) -> None:
            self.latest = (self.latest[0], text)

        ctx = self.ctx = RunContext(self.connection, progress, self.cancel_requested, note=note)
        try:
            result = (True, self.action.execute(ctx))
        except Exception as exc:  # shown to the admin in words
            result = (False, error_text(exc, self.connection.cache))
        self.app.call_from_thread(self.dismiss, result)

    def _hint(self) -> str:
        """What Escape does now: while the host cannot be reached, or once a
        step that cannot be taken back is done, it only stops the waiting."""
        ctx = getattr(self, "ctx", None)
        if self.connection.state != "connected":
            return LOST_HINT
        if ctx is not None and ctx.committed:
            return COMMITTED_HINT
        return HINT

    def on_unmount(self) -> None:
        # the console is ending (or the dialog went): the worker stops waiting
        # and undoes what it can, rather than outlive the app
        self.cancel_requested.set()

    def action_cancel(self) -> None:
        self.cancel_requested.set()
        committed = getattr(self, "ctx", None) is not None and self.ctx.committed
        self.query_one("#task-hint", Static).update(
            "Stopping: what was sent stays done; the console stops waiting..."
            if committed
            else "Cancelling: the running task is cancelled and the steps done are undone..."
        )


def _table(headings: tuple[str, ...], rows: list[tuple[str, ...]]) -> Table:
    """The action's rows under bold headings; what XAPI names is data, never markup."""
    grid = Table.grid(padding=(0, 2))
    for _ in headings:
        grid.add_column(no_wrap=True)
    grid.add_row(*(Text(h, style="bold") for h in headings))
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid
