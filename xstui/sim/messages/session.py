"""session.*: login, logout, password change."""

import secrets
import uuid

from ...datamodel import ROLES, permissions
from .. import directory
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
    """root with the pool's password; with external authentication on, also
    a directory user who is a subject (or in a group that is one): the
    session then carries the most privileged of the subjects' roles."""
    sim = ctx.sim
    uname, pwd = str(uname), str(pwd)
    fields = {"auth_user_name": uname or "root", "is_local_superuser": True}
    if ctx.caller.trusted:
        pass
    elif uname == "root":
        if pwd != sim.password:
            raise XapiError("SESSION_AUTHENTICATION_FAILED", uname, "Authentication failure")
    else:
        fields = _directory_login(ctx, uname, pwd)
    fields["rbac_permissions"] = (
        _permissions() if fields["is_local_superuser"] else permissions(fields.pop("role"))
    )
    stamp = now_xdate()
    # session refs are secrets (object refs may stay reproducible): a client
    # without the password must not guess one
    return sim.store.create(
        "session",
        {
            # the host that took the login: the master, or its own dom0's socket
            "this_host": ctx.caller.host or sim.master,
            "this_user": NULL_REF,
            "last_active": stamp,
            "validation_time": stamp,
            "originator": originator,
            **fields,
        },
        ref=f"OpaqueRef:{uuid.UUID(bytes=secrets.token_bytes(16), version=4)}",
    )


def _directory_login(ctx: Ctx, uname: str, pwd: str) -> dict:
    st = ctx.store
    master = st.get("host", ctx.sim.master)
    d = st.directory
    entry = None
    if master["external_auth_type"] == "AD" and d is not None:
        entry = d["accounts"].get(directory.account_name(d, uname))
    if entry is None or entry["group"] or entry["password"] != pwd:
        raise XapiError("SESSION_AUTHENTICATION_FAILED", uname, "Authentication failure")
    sids = {entry["sid"], *entry["groups"]}
    subjects = [s for s in st.table("subject").values() if s["subject_identifier"] in sids]
    roles = {st.get("role", r)["name_label"] for s in subjects for r in s["roles"]}
    if not roles:
        why = "is not a subject of this pool" if not subjects else "has no role"
        raise XapiError("SESSION_AUTHORIZATION_FAILED", uname, f"The user {why}")
    return {
        "auth_user_name": f"{d['netbios']}\\{entry['name']}",
        "auth_user_sid": entry["sid"],
        "is_local_superuser": False,
        "subject": next(
            (r for r, s in st.table("subject").items() if s["subject_identifier"] in sids),
            NULL_REF,
        ),
        "role": min(roles, key=ROLES.index),
    }


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
    ctx.sim.foreign_sessions.pop(ctx.session, None)  # one on a metadata VDI's database
    ctx.sim.store.destroy("session", ctx.session)
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
