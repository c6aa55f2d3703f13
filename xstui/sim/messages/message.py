"""message.*: alerts are dismissed (destroyed) one by one."""

from ..api import Ctx, message

CLASS = "message"


@message(asyncable=False)
def destroy(ctx: Ctx, self):
    ctx.store.get("message", self)
    ctx.store.destroy("message", self)
    return ""
