"""Show an action's plan — what will happen, the xe equivalent, the impact —
and confirm in proportion to its risk."""

from __future__ import annotations

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ..services.actions import Plan


class PlanModal(ModalScreen[bool]):
    DEFAULT_CSS = """
    PlanModal { align: center middle; }
    PlanModal > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    PlanModal.-high > Vertical { border: thick $error; }
    PlanModal.-medium > Vertical { border: thick $warning; }
    PlanModal #plan-body { height: auto; max-height: 16; }
    PlanModal .plan-title { text-style: bold; }
    PlanModal .plan-xe { background: $panel; color: $foreground; padding: 0 1; }
    PlanModal .plan-impact { color: $warning; }
    PlanModal Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    PlanModal Button { margin-left: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="plan.cancel")]

    def __init__(self, plan: Plan):
        super().__init__(classes=f"-{plan.risk}")
        self.plan = plan

    def compose(self) -> ComposeResult:
        p = self.plan
        with Vertical():
            yield Label(f"{p.title} — risk: {p.risk}", classes="plan-title")
            with VerticalScroll(id="plan-body"):
                yield Static(escape(p.summary))
                if p.steps:
                    yield Static(
                        "Steps:\n"
                        + "\n".join(f"  {i}. {escape(s)}" for i, s in enumerate(p.steps, 1))
                    )
                yield Static("Equivalent command:", classes="plan-title")
                yield Static(escape("\n".join(p.xe)), classes="plan-xe")
                if p.impact:
                    yield Static(
                        "Impact:\n" + "\n".join(f"  ! {escape(i)}" for i in p.impact),
                        classes="plan-impact",
                    )
            if p.risk == "high":
                word = p.confirm_word or "yes"
                yield Label(f"Type {word!r} to confirm:")
                yield Input(id="confirm-word", placeholder=word, compact=True)
            with Horizontal():
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(
                    "Apply",
                    id="apply",
                    variant="error" if p.risk == "high" else "primary",
                    compact=True,
                    disabled=p.risk == "high",
                )

    def on_mount(self) -> None:
        self.query_one("#confirm-word" if self.plan.risk == "high" else "#cancel").focus()

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
