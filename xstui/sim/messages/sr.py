"""SR.*: a rescan. The simulator's SRs hold no disks it does not know of,
so a scan finds nothing new; it takes its time and checks the SR exists."""

from ..api import Ctx, message

CLASS = "SR"


@message()
def scan(ctx: Ctx, sr):
    ctx.store.get("SR", sr)
    ctx.work(0.2)
    return ""
