"""host.*: enable/disable and the host's own clock."""

from ..api import Ctx, message
from ..errors import XapiError
from ..store import now_xdate


@message("host")
def disable(ctx: Ctx, host, auto_enable=True):
    # auto_enable (newer XAPI): whether the host re-enables itself after a toolstack restart
    ctx.store.get("host", host)
    ctx.store.set("host", host, enabled=False)
    return ""


@message("host")
def enable(ctx: Ctx, host):
    h = ctx.store.get("host", host)
    metrics = ctx.store.table("host_metrics").get(h["metrics"], {})
    if not metrics.get("live", True):
        raise XapiError("HOST_OFFLINE", host)
    ctx.store.set("host", host, enabled=True)
    return ""


@message("host", asyncable=False)
def get_servertime(ctx: Ctx, host):
    ctx.store.get("host", host)
    return now_xdate()


@message("host", asyncable=False)
def get_server_localtime(ctx: Ctx, host):
    ctx.store.get("host", host)
    return now_xdate()
