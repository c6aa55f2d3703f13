"""Show an action's plan — what will happen, the xe equivalent, the impact —
and confirm in proportion to its risk."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from ..services.actions import Plan
from .modal import Dialog, buttons
from .textfield import TextField


class PlanModal(Dialog):
    """Dismisses True to go ahead. The body scrolls so that, at 80x24, the
    confirmation field and the buttons always stay on screen."""

    DEFAULT_CSS = """
    PlanModal #plan-body { height: auto; max-height: 70vh; }
    PlanModal .plan-title { text-style: bold; width: 100%; }
    PlanModal .plan-xe { background: $panel; color: $foreground; padding: 0 1; }
    PlanModal .plan-impact { color: $warning; }
    PlanModal #confirm-row { height: 1; }
    PlanModal #confirm-row Input { width: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="plan.cancel"),
        # End and Home scroll the plan, from its confirmation field too (a
        # word to type needs no cursor jumps; Ctrl+E and Ctrl+A still do it)
        Binding("end", "end(1)", "End", id="plan.end", show=False, priority=True),
        Binding("home", "end(-1)", "Home", id="plan.home", show=False, priority=True),
    ]

    def __init__(self, plan: Plan):
        super().__init__(classes=f"-{plan.risk}")
        self.plan = plan

    def compose(self) -> ComposeResult:
        p = self.plan
        with Vertical():
            yield Static(f"{p.title} - risk: {p.risk}", classes="plan-title", markup=False)
            with VerticalScroll(id="plan-body"):
                yield Static(escape(p.summary))
                if p.steps:
                    yield Static(
                        "Steps:\n"
                        + "\n".join(f"  {i}. {escape(s)}" for i, s in enumerate(p.steps, 1))
                    )
                if p.xe:
                    yield Static("Equivalent command:", classes="plan-title")
                    yield Static(escape("\n".join(p.xe)), classes="plan-xe")
                if p.impact:
                    yield Static(
                        "Impact:\n" + "\n".join(f"  ! {escape(i)}" for i in p.impact),
                        classes="plan-impact",
                    )
            if p.risk == "high":  # the word is a label: an empty field never looks typed
                word = p.confirm_word or "yes"
                with Horizontal(id="confirm-row"):
                    yield Label(f"Type {word} to confirm: ", markup=False)
                    yield TextField(id="confirm-word", compact=True)
            yield buttons(
                Button("Cancel", id="cancel", compact=True),
                Button(
                    "Apply",
                    id="apply",
                    variant="error" if p.risk == "high" else "primary",
                    compact=True,
                    disabled=p.risk == "high",
                ),
            )

    def on_mount(self) -> None:
        # a plan longer than the box pages with PgDn and says so (widgets.modal.Dialog)
        self.query_one("#confirm-word" if self.plan.risk == "high" else "#apply").focus()

    @on(Input.Changed, "#confirm-word")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#apply", Button).disabled = event.value.strip() != (
            self.plan.confirm_word or "yes"
        )

    @on(Input.Submitted, "#confirm-word")
    def _submitted(self) -> None:
        if not self.query_one("#apply", Button).disabled:
            self.dismiss(True)

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
