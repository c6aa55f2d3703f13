"""Apply-then-confirm: keep a change only if the admin confirms in time."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from .modal import Dialog, buttons


class CountdownModal(Dialog):
    """Dismisses True when the admin keeps the change, False on revert or timeout."""

    DEFAULT_CSS = """
    CountdownModal #countdown { text-style: bold; }
    """
    BINDINGS = [
        Binding("k", "keep", "Keep", id="countdown.keep"),
        Binding("escape,r", "revert", "Revert now", id="countdown.revert"),
    ]

    def __init__(self, question: str, seconds: int = 60):
        super().__init__(classes="-warning")
        self.question, self.left = question, seconds

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, classes="dialog-text", markup=False)
            yield Static("", id="countdown", classes="dialog-text")
            yield buttons(
                Button("Revert now", id="revert", compact=True),
                Button("Keep", id="keep", variant="primary", compact=True),
            )

    def on_mount(self) -> None:
        self._show()
        self.timer = self.set_interval(1, self._tick)
        self.query_one("#keep").focus()

    def _show(self) -> None:
        self.query_one("#countdown", Static).update(f"Reverting automatically in {self.left} s")

    def _tick(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.timer.stop()
            self.dismiss(False)
        else:
            self._show()

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.timer.stop()
        self.dismiss(True)

    @on(Button.Pressed, "#revert")
    def action_revert(self) -> None:
        self.timer.stop()
        self.dismiss(False)
