"""pool_patch.* (XenServer 6.x): a patch uploaded by ``PUT /pool_patch_upload``
is prechecked and applied per host (a ``host_patch``) or pool-wide, its files
cleaned, destroyed."""

from __future__ import annotations

from ..api import Ctx, message
from ._updates import PATCHES

CLASS = "pool_patch"


@message()
def precheck(ctx: Ctx, self, host):
    PATCHES.precheck(ctx, self, host)
    ctx.work(0.5)
    return "Precheck passed."


@message()
def apply(ctx: Ctx, self, host):
    PATCHES.apply(ctx, self, host)
    return "Patch applied."


@message()
def pool_apply(ctx: Ctx, self):
    PATCHES.pool_apply(ctx, self)
    return ""


@message()
def clean(ctx: Ctx, self):
    PATCHES.clean(ctx, self)
    return ""


@message()
def pool_clean(ctx: Ctx, self):
    PATCHES.clean(ctx, self)
    return ""


@message()
def clean_on_host(ctx: Ctx, self, host):
    ctx.store.get("host", host)
    PATCHES.clean(ctx, self)
    return ""


@message()
def destroy(ctx: Ctx, self):
    PATCHES.destroy(ctx, self)
    return ""
