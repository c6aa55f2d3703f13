"""A modal form showing an action's fields (xstui.services.fields): text
checked as it is typed by the services' validators, pick lists for choices,
several-of lists for sets. The form makes the action itself (``build``): a
refusal (cross-field rules, the pool's state) is shown in the form, keeping
what was typed. In a wizard (xstui.widgets.wizard) the way back is "Back"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from itertools import groupby

from rich.segment import Segment
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Button, Input, Label, Select, SelectionList, Static
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.input import Selection

from ..services.actions import InvalidInput, not_possible
from ..services.fields import Field
from .modal import Dialog, buttons
from .textfield import TextField


class Submitted(Message):
    """Enter on a form's list (a pick list or a tick list): the form's way on."""


class Ticks(SelectionList):
    """A several-of list that reads without colour: ``X`` ticked, blank not
    (Textual draws an X in both, told apart by colour alone). Space ticks
    and Enter is the form's way on, as in every other field."""

    BINDINGS = [Binding("enter", "submit", "OK", show=False)]

    def action_submit(self) -> None:
        self.post_message(Submitted())

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) > 1 and segments[1].text == ToggleButton.BUTTON_INNER:
            style = segments[1].style
            index = style.meta.get("option") if style is not None else None
            if index is not None and self.get_option_at_index(index).value not in self.selected:
                segments[1] = Segment(" " * len(segments[1].text), style)
                return Strip(segments, strip.cell_length)
        return strip


class Entry(TextField):
    """A form's text field: focused, all of it is selected (typing replaces
    it) and its start is in view: a long path shows where it starts, not
    its tail cut at 80 columns (End goes to its end)."""

    def on_mount(self) -> None:
        self.cursor_position = 0

    def on_focus(self, event: events.Focus) -> None:
        if self.select_on_focus and not event.from_app_focus:  # after Input's own, which selects
            self.call_later(self._select_from_the_end)

    def _select_from_the_end(self) -> None:
        self.selection = Selection(len(self.value), 0)  # the cursor, and the view, at the start


class Choice(Select, inherit_bindings=False):
    """A form's pick list: Space (or an arrow) opens it, and Enter is the
    form's way on, as in every other field (docs/DIALOGS.md)."""

    BINDINGS = [
        Binding("down,space,up", "show_overlay", "Show menu", show=False),
        Binding("enter", "submit", "OK", show=False),
    ]

    def action_submit(self) -> None:
        self.post_message(Submitted())


def refused(exc: InvalidInput) -> str:
    """A refusal as a form shows it."""
    return not_possible("; ".join(exc.problems))


def hint(placeholder: str) -> str:
    """What an empty field shows: in brackets, so that it never looks typed
    (a grey "corp.example" reads as a value where grey is not seen)."""
    return f"({placeholder})" if placeholder else ""


class Back:
    """What a wizard's form dismisses with on Escape: the step before."""


BACK = Back()
# a text field whose value is longer takes the whole line under its label: at
# 80 columns a path then shows whole (its file name and extension too)
WIDE = 30


def _wide(f: Field) -> bool:
    return not f.choices and len(str(f.value)) > WIDE


class FormModal(Dialog):
    """Dismisses with what ``build`` makes of the values (an action), or None
    on cancel (BACK with ``back``); a refusal from ``build`` is shown in the
    form. ``typed`` holds the values it was left with, however it was left."""

    # Compact (one line a field) so that five fields fit a 80x24 BMC console.
    DEFAULT_CSS = """
    FormModal .form-title { text-style: bold; margin-bottom: 1; width: 100%; }
    FormModal Grid { grid-size: 2; grid-columns: auto 1fr; grid-rows: auto; grid-gutter: 0 1; height: auto; }
    FormModal SelectionList { height: auto; max-height: 6; }
    FormModal .form-problem { color: $error; height: auto; width: 100%; }
    FormModal .form-problem:disabled { display: none; }
    /* an open pick list takes room in the form (the box grows to hold it)
       rather than lying over the screen past the box and its buttons */
    FormModal Choice > SelectOverlay { overlay: none; constrain: none; max-height: 8; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        build: Callable[[dict], object],
        problem: str = "",
        *,
        back: bool = False,
    ):
        """``problem``: a refusal to show at once (the form asked again after
        a later check refused what was typed); ``back``: a wizard's step with
        one before it, where Escape goes back to (the button says "Back")."""
        super().__init__()
        self.title_text, self.fields, self.build = title, fields, build
        self.problem, self.back = problem, back
        self.typed: dict = {}
        self.said_with: dict | None = None  # the values the form's own problem was said with

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, classes="form-title", markup=False)
            # a long value (a path) gets the line under its label, whole at 80
            # columns; the fields between such ones share a grid, labels aligned
            for wide, group in groupby(self.fields, _wide):
                with nullcontext() if wide else Grid():
                    for f in group:
                        yield Label(f"{f.label}:", id=f"label-{f.name}", markup=False)
                        yield self._input(f)
            for f in self.fields:
                yield Static(
                    "", id=f"problem-{f.name}", classes="form-problem", disabled=True, markup=False
                )
            yield Static("", id="problem-form", classes="form-problem", disabled=True, markup=False)
            yield buttons(
                Button("Back" if self.back else "Cancel", id="cancel", compact=True),
                Button("OK", id="ok", variant="primary", compact=True),
            )

    def _input(self, f: Field):
        wid = f"field-{f.name}"
        if f.choices and f.several:
            chosen = set(f.value) if not isinstance(f.value, str) else {f.value}
            return Ticks(*((Text(c), c, c in chosen) for c in f.choices), id=wid, compact=True)
        if f.choices:
            value = f.value if f.value in f.choices else Select.NULL
            return Choice(
                ((Text(c), c) for c in f.choices),
                value=value,
                id=wid,
                compact=True,
                allow_blank=value is Select.NULL,
            )
        return Entry(
            str(f.value), id=wid, password=f.password, placeholder=hint(f.placeholder), compact=True
        )

    def on_mount(self) -> None:
        self._follow()
        self.query_one(f"#field-{self.fields[0].name}").focus()
        self._show_problem("form", self.problem)

    def values(self) -> dict:
        """What the fields hold; a hidden field (one that does not apply to
        the others' values) is empty."""
        out = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            if not widget.display:
                out[f.name] = [] if isinstance(widget, SelectionList) else ""
            elif isinstance(widget, SelectionList):
                out[f.name] = list(widget.selected)
            elif isinstance(widget, Select):
                out[f.name] = "" if widget.value is Select.NULL else str(widget.value)
            else:
                out[f.name] = widget.value
        return out

    def problems(self) -> dict[str, str]:
        """Each field's problem with what it holds now, as the form says it."""
        values = self.values()
        out = {}
        for f in self.fields:
            value = values[f.name]
            if not self.query_one(f"#field-{f.name}").display:
                continue  # hidden: it does not apply
            problem = f.check(value if isinstance(value, str) else ",".join(value))
            if problem:
                out[f.name] = not_possible(problem)
        return out

    @on(Input.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _changed(self, event: Message) -> None:
        """A field changed: its own problem is said anew (gone once it is
        fixed), and the form-wide one, about the values it was said with, goes."""
        name = (getattr(event.control, "id", None) or "").removeprefix("field-")
        if any(f.name == name for f in self.fields):
            self._show_problem(name, self.problems().get(name, ""))
        if self.values() != self.said_with:
            self._show_problem("form", "")
        self._follow()

    def _follow(self) -> None:
        """Fields and placeholders that follow the other fields (a storage
        kind's own fields; a default name from the NICs ticked)."""
        for f in self.fields:
            if f.shown_if is not None:
                shown = bool(f.shown_if(self.values()))
                for part in ("label", "field", "problem"):
                    widget = self.query_one(f"#{part}-{f.name}")
                    if part == "problem" and shown:  # shown when it has something to say
                        widget.styles.clear_rule("display")
                        widget.refresh(layout=True)
                    else:
                        widget.display = shown
        values = self.values()
        for f in self.fields:
            if f.placeholder_of is not None:
                self.query_one(f"#field-{f.name}", Input).placeholder = hint(
                    f.placeholder_of(values)
                )

    def _show_problem(self, name: str, text: str) -> None:
        label = self.query_one(f"#problem-{name}", Static)
        label.update(text)
        label.disabled = not text
        if name == "form":
            self.said_with = self.values()

    @on(Input.Submitted)
    @on(Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        problems = self.problems()
        for f in self.fields:
            self._show_problem(f.name, problems.get(f.name, ""))
        self._show_problem("form", "")
        if problems:
            return
        try:
            built = self.build(self.values())
        except InvalidInput as exc:
            self._show_problem("form", refused(exc))
            return
        self.typed = self.values()
        self.dismiss(built)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.typed = self.values()
        self.dismiss(BACK if self.back else None)
