"""Repository.* (XenServer 8): the update repositories a pool may sync from."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError

CLASS = "Repository"


@message()
def introduce(ctx: Ctx, name_label, name_description, binary_url, source_url, update, gpgkey_path):
    st = ctx.store
    for ref, rec in st.table("Repository").items():
        if rec["binary_url"] == binary_url:
            raise XapiError("REPOSITORY_ALREADY_EXISTS", ref)
    return st.create(
        "Repository",
        {
            "name_label": name_label,
            "name_description": name_description,
            "binary_url": binary_url,
            "source_url": source_url,
            "update": bool(update),
            "gpgkey_path": gpgkey_path,
        },
    )


@message()
def forget(ctx: Ctx, self):
    st = ctx.store
    if self in st.get("pool", ctx.sim.pool)["repositories"]:
        raise XapiError("REPOSITORY_IS_IN_USE")
    st.destroy("Repository", self)
    return ""
