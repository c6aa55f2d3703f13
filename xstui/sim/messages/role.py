"""role.*: the six roles and what each may call, from the datamodel. The
simulator keeps the roles only, not XAPI's one role record per permission,
so ``role.get_permissions`` (refs of those) is not implemented."""

from __future__ import annotations

from ...datamodel import permissions
from ..api import Ctx, message

CLASS = "role"


@message(asyncable=False)
def get_permissions_name_label(ctx: Ctx, self):
    return permissions(ctx.store.get("role", str(self))["name_label"])


@message(asyncable=False)
def get_by_permission_name_label(ctx: Ctx, label):
    wanted = str(label).lower()
    return [
        ref
        for ref, role in ctx.store.table("role").items()
        if wanted in permissions(role["name_label"])
    ]
