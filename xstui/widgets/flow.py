"""The one way screens perform an action: plan, confirm, run with progress,
report. The result itself arrives through the event stream."""

from __future__ import annotations

from ..services.actions import Action
from .plan import PlanModal
from .progress import TaskProgressModal


def connected(app) -> bool:
    """Actions need a live connection: otherwise say why and open nothing."""
    conn = app.connection
    if conn is not None and conn.state == "connected":
        return True
    reason = conn.state_detail if conn is not None and conn.state_detail else "not connected"
    app.notify(
        f"Not available while the connection is down ({reason}). Nothing was changed.",
        severity="warning",
        timeout=8,
    )
    return False


async def perform(app, action: Action, connection=None) -> bool:
    """Show the plan, ask, run; returns True when it was done. Call from a
    worker. ``connection``: another than the app's (pool recovery at connect)."""
    if action.needs_connection and not connected(app):
        return False
    if not await app.push_screen_wait(PlanModal(action.plan())):
        app.notify("Cancelled: nothing was changed.", timeout=4)
        return False
    if action.needs_connection and not connected(app):
        return False
    ok, message = await app.push_screen_wait(
        TaskProgressModal(action, connection or app.connection)
    )
    app.notify(message, severity="information" if ok else "error", timeout=8 if ok else 12)
    return ok
