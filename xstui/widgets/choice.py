"""A question with a few answers as buttons (the first is focused); Escape
answers None."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from .modal import Dialog


class ChoiceModal(Dialog):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, text: str, answers: list[tuple[str, str]]):
        super().__init__(classes="-warning")
        self.title_text, self.text, self.answers = title, text, answers

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.text, classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Static("Enter the chosen  Esc Cancel", classes="dialog-hint")
                for answer, label in self.answers:
                    yield Button(label, id=f"answer-{answer}", compact=True)

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("answer-"))
