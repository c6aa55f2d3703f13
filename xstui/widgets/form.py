"""A modal form whose fields are checked as they are typed; nothing is
returned until every field is valid."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
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
    # Compact (one line a field) so that five fields fit a 80x24 BMC console.
    DEFAULT_CSS = """
    FormModal { align: center middle; }
    FormModal > Vertical {
        width: 90%; max-width: 90; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FormModal .form-title { text-style: bold; margin-bottom: 1; }
    FormModal Grid { grid-size: 2; grid-columns: auto 1fr; grid-rows: 1; grid-gutter: 1 1; height: auto; }
    FormModal .form-problem { color: $error; height: auto; }
    FormModal .form-problem:disabled { display: none; }
    FormModal Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    FormModal Button { margin-left: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(self, title: str, fields: list[FormField]):
        super().__init__()
        self.title_text, self.fields = title, fields

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="form-title")
            with Grid():
                for f in self.fields:
                    yield Label(f.label)
                    yield Input(
                        f.value,
                        id=f"field-{f.name}",
                        password=f.password,
                        placeholder=f.placeholder,
                        compact=True,
                    )
            for f in self.fields:
                yield Label("", id=f"problem-{f.name}", classes="form-problem", disabled=True)
            with Horizontal():
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("OK", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query(Input).first().focus()

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
            self._show_problem(name, field.check(event.value) or "")

    def _show_problem(self, name: str, text: str) -> None:
        label = self.query_one(f"#problem-{name}", Label)
        label.update(text)
        label.disabled = not text

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        problems = self.problems()
        for f in self.fields:
            self._show_problem(f.name, problems.get(f.name, ""))
        if not problems:
            self.dismiss(
                {f.name: self.query_one(f"#field-{f.name}", Input).value for f in self.fields}
            )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
