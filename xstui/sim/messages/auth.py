"""auth.*: asking the pool's external directory about users and groups
(what ``xe subject-add`` does before it creates a subject)."""

from __future__ import annotations

from .. import directory
from ..api import Ctx, message
from ..errors import XapiError

CLASS = "auth"


def joined(ctx: Ctx) -> dict:
    """The directory the pool has joined; AUTH_IS_DISABLED when none."""
    master = ctx.store.get("host", ctx.sim.master)
    if master["external_auth_type"] != "AD" or ctx.store.directory is None:
        raise XapiError("AUTH_IS_DISABLED")
    return ctx.store.directory


@message(asyncable=False)
def get_subject_identifier(ctx: Ctx, subject_name):
    return directory.lookup(joined(ctx), str(subject_name))["sid"]


@message(asyncable=False)
def get_subject_information_from_identifier(ctx: Ctx, subject_identifier):
    d = joined(ctx)
    return directory.information(d, directory.by_sid(d, str(subject_identifier)))


@message(asyncable=False)
def get_group_membership(ctx: Ctx, subject_identifier):
    entry = directory.by_sid(joined(ctx), str(subject_identifier))
    return list(entry.get("groups", []))
