"""The one way screens perform an action: plan, confirm, run with progress,
report. The result itself arrives through the event stream."""

from __future__ import annotations

from ..services.actions import Action
from .plan import PlanModal
from .progress import TaskProgressModal


async def perform(app, action: Action) -> bool:
    """Show the plan, ask, run; returns True when it was done. Call from a worker."""
    if not await app.push_screen_wait(PlanModal(action.plan())):
        app.notify("Cancelled: nothing was changed.", timeout=4)
        return False
    ok, message = await app.push_screen_wait(TaskProgressModal(action, app.connection))
    app.notify(message, severity="information" if ok else "error", timeout=8 if ok else 12)
    return ok
