"""pool_update.* (XenServer 7.x): an update uploaded into a VDI is introduced,
prechecked and applied per host or pool-wide, its files cleaned, destroyed."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError
from ._updates import UPDATES
from ._updates import introduce as _introduce

CLASS = "pool_update"


@message()
def introduce(ctx: Ctx, vdi):
    upload = ctx.store.uploads.get(vdi)
    if upload is None:
        raise XapiError("INVALID_UPDATE", "the VDI holds no uploaded update")
    ctx.work(0.5)
    return _introduce(ctx, UPDATES, {**upload, "vdi": vdi})


@message()
def precheck(ctx: Ctx, self, host):
    UPDATES.precheck(ctx, self, host)
    ctx.work(0.5)
    return "ok"  # livepatch_status: no live patch in it


@message()
def apply(ctx: Ctx, self, host):
    UPDATES.apply(ctx, self, host)
    return ""


@message()
def pool_apply(ctx: Ctx, self):
    UPDATES.pool_apply(ctx, self)
    return ""


@message()
def pool_clean(ctx: Ctx, self):
    UPDATES.clean(ctx, self)
    return ""


@message()
def destroy(ctx: Ctx, self):
    UPDATES.destroy(ctx, self)
    return ""
