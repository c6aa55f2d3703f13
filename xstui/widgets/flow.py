"""The one way screens perform an action: plan, confirm, run with progress,
report. The result itself arrives through the event stream."""

from __future__ import annotations

import asyncio

from ..services.actions import Action, InvalidInput
from .form import FormModal
from .notice import clear_notices, notify_error
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
    if conn is not None and conn.password_refused:
        app.ask_password()  # the password it needs, asked again
    return False


async def ask(
    app, title: str, fields, build, *, precheck: bool = False, connection=None
) -> Action | None:
    """The action a form builds (refusals shown in the form), or built at once
    when it asks nothing; with ``precheck``, its reads (XAPI's own checks) run
    in a thread before the plan. None when the admin stops or it was refused
    (said in words). Call from a worker. ``connection``: as :func:`attempt`'s,
    not required to be live (pool recovery)."""
    if connection is None and not connected(app):
        return None
    if fields:
        action = await app.push_screen_wait(FormModal(title, fields, build))
    else:
        try:
            action = build({})
        except InvalidInput as exc:
            notify_error(app, exc)
            return None
    if action is not None and precheck:
        try:
            await asyncio.to_thread(action.precheck, connection or app.connection)
        except Exception as exc:  # refusals and lost connections, in words
            notify_error(app, exc)
            return None
    return action


async def read(app, fn, *args, note: str = ""):
    """A read before the next dialog (a probe, a comparison), in a thread:
    its value, or None when it failed (said in words). ``note`` says what is
    going on meanwhile and is gone before the next dialog, whose buttons it
    would otherwise cover at 80x24."""
    value, failed = await attempt_read(app, fn, *args, note=note)
    if failed is not None:  # queued like the clearing of the note, so that it cannot take this too
        app.call_later(notify_error, app, failed)
    return value


async def attempt_read(app, fn, *args, note: str = "") -> tuple[object, Exception | None]:
    """:func:`read`'s value and, instead of saying it, the exception it
    failed with (None when it did not): a wizard shows it in its form."""
    if note:
        app.notify(note, timeout=30)
    try:
        value = await asyncio.to_thread(fn, *args)
    except Exception as exc:  # refusals, unreachable hosts, lost connections
        value, failed = None, exc
    else:
        failed = None
    if note:
        clear_notices(app)
    return value, failed


async def perform(app, action: Action, connection=None) -> bool:
    """Show the plan, ask, run; returns True when it was done. Call from a
    worker. ``connection``: another than the app's (pool recovery at connect)."""
    outcome, message = await attempt(app, action, connection)
    if outcome == "failed":
        app.notify(message, severity="error", timeout=12)
    elif outcome == "done":
        app.notify(message, severity="information", timeout=8)
    return outcome == "done"


async def attempt(app, action: Action, connection=None) -> tuple[str, str]:
    """:func:`perform`, which says the outcome: ("done" or "failed", the
    task's message), or ("cancelled", "") or ("refused", "") when it did not
    start (that said already). A wizard shows a failure in its form."""
    if action.needs_connection and not connected(app):
        return "refused", ""
    conn = connection or app.connection
    refusal = action.why_not(conn) if conn is not None else ""
    if refusal:  # RBAC, another console's procedure: said before the plan
        app.notify(
            f"{action.plan().title}: {refusal}. Nothing was changed.", severity="warning", timeout=8
        )
        return "refused", ""
    if not await app.push_screen_wait(PlanModal(action.plan())):
        app.notify("Cancelled: nothing was changed.", timeout=4)
        return "cancelled", ""
    if action.needs_connection and not connected(app):
        return "refused", ""
    ok, message = await app.push_screen_wait(TaskProgressModal(action, conn))
    return ("done" if ok else "failed"), message
