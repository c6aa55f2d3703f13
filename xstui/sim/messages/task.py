"""task.*: cancel and destroy (the rest is implicit)."""

from ..api import Ctx, message
from ..errors import XapiError
from ..store import now_xdate

CLASS = "task"


@message()
def cancel(ctx: Ctx, task):
    record = ctx.store.get("task", task)
    if record["status"] != "pending":
        raise XapiError("OPERATION_NOT_ALLOWED", f"task {task} is {record['status']}")
    ctx.store.set("task", task, status="cancelling")
    return ""


@message(asyncable=False)
def destroy(ctx: Ctx, task):
    ctx.store.get("task", task)
    ctx.store.destroy("task", task)
    return ""


@message(asyncable=False)
def create(ctx: Ctx, label, description):
    """A task a client makes for an HTTP transfer to report on (task_id=)."""
    return ctx.store.create(
        "task",
        {
            "name_label": str(label),
            "name_description": str(description),
            "status": "pending",
            "created": now_xdate(),
            "resident_on": ctx.sim.master,
            "progress": 0.0,
            "allowed_operations": ["cancel"],
        },
    )
