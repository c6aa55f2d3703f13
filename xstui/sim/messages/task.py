"""task.*: cancel and destroy (the rest is implicit)."""

from ..api import Ctx, message
from ..errors import XapiError

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
