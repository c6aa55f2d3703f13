"""subject.*: the directory users and groups allowed to log in, and their
roles. A subject's sessions end when it is removed, as in XAPI."""

from __future__ import annotations

from ...datamodel import permissions
from ..api import Ctx, message
from ..errors import XapiError

CLASS = "subject"


def _require(ctx: Ctx, ref) -> dict:
    if not ctx.store.exists("subject", str(ref)):
        raise XapiError("HANDLE_INVALID", "subject", str(ref))
    return ctx.store.get("subject", str(ref))


@message()
def create(ctx: Ctx, args):
    record = dict(args or {})
    sid = str(record.get("subject_identifier", ""))
    if not sid:
        raise XapiError("FIELD_TYPE_ERROR", "subject_identifier")
    if ctx.store.find_one("subject", subject_identifier=sid):
        raise XapiError("SUBJECT_ALREADY_EXISTS")
    roles = [str(r) for r in record.get("roles", [])]
    for role in roles:
        if not ctx.store.exists("role", role):
            raise XapiError("ROLE_NOT_FOUND")
    return ctx.store.create(
        "subject",
        {
            "subject_identifier": sid,
            "other_config": {str(k): str(v) for k, v in (record.get("other_config") or {}).items()},
            "roles": roles,
        },
    )


@message()
def destroy(ctx: Ctx, self):
    sid = _require(ctx, self)["subject_identifier"]
    ctx.sim.end_sessions(lambda s: s["auth_user_sid"] == sid)
    ctx.store.destroy("subject", str(self))
    return ""


@message(asyncable=False)
def add_to_roles(ctx: Ctx, self, role):
    roles = _require(ctx, self)["roles"]
    if not ctx.store.exists("role", str(role)):
        raise XapiError("ROLE_NOT_FOUND")
    if role in roles:
        raise XapiError("ROLE_ALREADY_EXISTS")
    ctx.store.set("subject", str(self), roles=[*roles, str(role)])
    return ""


@message(asyncable=False)
def remove_from_roles(ctx: Ctx, self, role):
    roles = _require(ctx, self)["roles"]
    if role not in roles:
        raise XapiError("ROLE_NOT_FOUND")
    ctx.store.set("subject", str(self), roles=[r for r in roles if r != role])
    return ""


@message(asyncable=False)
def get_permissions_name_label(ctx: Ctx, self):
    names = [ctx.store.get("role", r)["name_label"] for r in _require(ctx, self)["roles"]]
    return sorted({p for name in names for p in permissions(name)})
