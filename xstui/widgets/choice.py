"""A question with a few answers as buttons. The last answer given is the
way back (Cancel, Do not), drawn first as the grammar has it; the first is
the default (focused, drawn last: Enter); Escape answers None."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from .modal import Dialog, buttons


class ChoiceModal(Dialog):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="choice.cancel")]

    def __init__(
        self, title: str, text: str, answers: list[tuple[str, str]], *, warning: bool = True
    ):
        """``warning`` False: something to read (figures), not a question that matters."""
        super().__init__(classes="-warning" if warning else "")
        self.title_text, self.text, self.answers = title, text, answers

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.text, classes="dialog-text", markup=False)
            *on, back = (
                Button(label, id=f"answer-{answer}", compact=True) for answer, label in self.answers
            )
            yield buttons(back, *reversed(on))

    def on_mount(self) -> None:
        self.query(Button).last().focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("answer-"))
