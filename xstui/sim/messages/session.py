"""session.*: login, logout, password change."""

import secrets
import uuid

from ..api import Ctx, explicit, message
from ..errors import XapiError
from ..schema import NULL_REF
from ..store import now_xdate

CLASS = "session"


def _permissions() -> list[str]:
    """What a local superuser may do: every message the simulator knows."""
    return sorted({f"{m.cls.lower()}.{m.name}" for m in explicit().values()})


@message(session=False)
def login_with_password(ctx: Ctx, uname, pwd, version="1.0", originator=""):
    sim = ctx.sim
    if not ctx.caller.trusted and (uname != "root" or pwd != sim.password):
        raise XapiError("SESSION_AUTHENTICATION_FAILED", uname, "Authentication failure")
    stamp = now_xdate()
    # session refs are secrets (object refs may stay reproducible): a client
    # without the password must not guess one
    return sim.store.create(
        "session",
        {
            "this_host": sim.master,
            "this_user": NULL_REF,
            "last_active": stamp,
            "validation_time": stamp,
            "is_local_superuser": True,
            "auth_user_name": uname or "root",
            "rbac_permissions": _permissions(),
            "originator": originator,
        },
        ref=f"OpaqueRef:{uuid.UUID(bytes=secrets.token_bytes(16), version=4)}",
    )


@message(session=False)
def slave_local_login_with_password(ctx: Ctx, uname, pwd):
    """A login a member answers itself, without its master: for the emergency
    calls when the master is gone. Valid on that member only."""
    sim = ctx.sim
    host = ctx.caller.host or sim.master
    if uname != "root" or pwd != sim.password:
        raise XapiError("SESSION_AUTHENTICATION_FAILED", uname, "Authentication failure")
    stamp = now_xdate()
    ref = sim.store.create(
        "session",
        {
            "this_host": host,
            "this_user": NULL_REF,
            "last_active": stamp,
            "validation_time": stamp,
            "is_local_superuser": True,
            "auth_user_name": uname,
            "originator": "local",
        },
        ref=f"OpaqueRef:{uuid.UUID(bytes=secrets.token_bytes(16), version=4)}",
    )
    sim.local_sessions[ref] = host
    return ref


@message(asyncable=False)
def local_logout(ctx: Ctx):
    ctx.sim.local_sessions.pop(ctx.session, None)
    ctx.store.destroy("session", ctx.session)
    return ""


@message()
def logout(ctx: Ctx):
    ctx.sim.registrations.pop(ctx.session, None)
    ctx.store.destroy("session", ctx.session)
    return ""


@message(asyncable=False)
def change_password(ctx: Ctx, old_pwd, new_pwd):
    # XAPI ignores the old password: a local-superuser session suffices.
    if not ctx.store.get("session", ctx.session)["is_local_superuser"]:
        raise XapiError(
            "USER_IS_NOT_LOCAL_SUPERUSER", ctx.store.get("session", ctx.session)["auth_user_name"]
        )
    if not new_pwd:
        raise XapiError("INVALID_VALUE", "new_pwd", "")
    ctx.sim.password = new_pwd
    return ""
