"""A modal form whose fields are checked as they are typed; nothing is
returned until every field is valid."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


@dataclass
class FormField:
    name: str
    label: str
    value: str = ""
    check: Callable[[str], str | None] = lambda text: None  # the problem, or None
    password: bool = False
    placeholder: str = ""


class FormModal(ModalScreen[dict[str, str] | None]):
    DEFAULT_CSS = """
    FormModal { align: center middle; }
    FormModal > Vertical {
        width: 80%; max-width: 80; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    FormModal .form-title { text-style: bold; }
    FormModal .form-problem { color: $error; height: auto; }
    FormModal Horizontal { height: auto; align-horizontal: right; }
    FormModal Button { margin-left: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(self, title: str, fields: list[FormField]):
        super().__init__()
        self.title_text, self.fields = title, fields

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="form-title")
            for f in self.fields:
                yield Label(f.label)
                yield Input(
                    f.value, id=f"field-{f.name}", password=f.password, placeholder=f.placeholder
                )
                yield Label("", id=f"problem-{f.name}", classes="form-problem")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def problems(self) -> dict[str, str]:
        out = {}
        for f in self.fields:
            problem = f.check(self.query_one(f"#field-{f.name}", Input).value)
            if problem:
                out[f.name] = problem
        return out

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        field = next((f for f in self.fields if f.name == name), None)
        if field:
            self.query_one(f"#problem-{name}", Label).update(field.check(event.value) or "")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        problems = self.problems()
        for f in self.fields:
            self.query_one(f"#problem-{f.name}", Label).update(problems.get(f.name, ""))
        if not problems:
            self.dismiss(
                {f.name: self.query_one(f"#field-{f.name}", Input).value for f in self.fields}
            )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
