"""event.*: ``from`` (token based) and the legacy register/next/unregister."""

import time

from ... import clock
from ..api import Ctx, message
from ..errors import XapiError
from ..schema import class_spec
from ..wire import I4

CLASS = "event"


def _interest(names):
    """A predicate (class, ref) -> bool for event class names such as
    ``*``, ``vm`` or ``vm/OpaqueRef:...``."""
    names = [str(n) for n in names]
    if "*" in names:
        return lambda cls, ref: True
    classes, objects = set(), set()
    for n in names:
        if "/" in n:
            c, ref = n.split("/", 1)
            objects.add((c.lower(), ref))
        else:
            classes.add(n.lower())
    return lambda cls, ref: cls.lower() in classes or (cls.lower(), ref) in objects


def _event(ctx: Ctx, gen, cls, ref, op, stamp: str = "0.0"):
    """An event as XAPI writes it (ocaml/xapi/xapi_event.ml): its id and
    timestamp strings (event.from's is always "0.0")."""
    store = ctx.store
    spec = class_spec(cls)
    ev = {
        "id": str(gen),
        "timestamp": stamp,
        "class": spec.wire_name,
        "operation": op,
        "ref": ref,
    }
    if op != "del":
        ev["snapshot"] = ctx.sim.release.shown(spec.name, store.get(cls, ref))
    return ev


def _parse_token(token: str) -> int:
    try:
        return int(str(token).split(",")[0])
    except ValueError:
        raise XapiError("EVENT_FROM_TOKEN_PARSE_FAILURE", token) from None


@message("from", asyncable=False)
def event_from(ctx: Ctx, classes, token, timeout):
    store = ctx.store
    interest, absent = _interest(classes), ctx.sim.release.classes
    wanted = (lambda c, r: interest(c, r) and c not in absent) if absent else interest
    deadline = time.monotonic() + float(timeout)
    with store.changed:
        if token == "":
            events = [
                _event(ctx, store.generation, c, r, "add") for c, r in store.all_objects(wanted)
            ]
        else:
            since = _parse_token(token)
            while True:
                changes = store.changes_since(since, wanted)
                left = deadline - time.monotonic()
                if changes or left <= 0:
                    break
                store.changed.wait(left)
            events = [_event(ctx, *c) for c in changes]
        # every table's count, whatever was asked (xapi_event.ml folds the tableset)
        counts = {
            class_spec(name).wire_name: I4(len(table))
            for name, table in store.tables.items()
            if name not in absent
        }
        return {"events": events, "valid_ref_counts": counts, "token": store.token}


@message(asyncable=False)
def register(ctx: Ctx, classes):
    reg = ctx.sim.registrations.setdefault(
        ctx.session, {"classes": set(), "generation": ctx.store.generation}
    )
    reg["classes"] |= {str(c).lower() for c in classes}
    return ""


@message(asyncable=False)
def unregister(ctx: Ctx, classes):
    reg = ctx.sim.registrations.get(ctx.session)
    if reg:
        reg["classes"] -= {str(c).lower() for c in classes}
    return ""


@message(asyncable=False)
def next(ctx: Ctx):  # noqa: A001  (the API's name)
    store = ctx.store
    with store.changed:
        while True:
            reg = ctx.sim.registrations.get(ctx.session)
            if reg is None:
                raise XapiError("SESSION_NOT_REGISTERED", ctx.session)
            changes = store.changes_since(reg["generation"], _interest(reg["classes"]))
            if changes:
                reg["generation"] = store.generation
                out = []
                for gen, cls, ref, op in changes:
                    ev = _event(ctx, gen, cls, ref, op, stamp=f"{int(clock.now())}.")
                    ev["obj_uuid"] = ev.get("snapshot", {}).get("uuid", "")
                    out.append(ev)
                return out
            store.changed.wait(30)


@message(asyncable=False)
def get_current_id(ctx: Ctx):
    return ctx.store.generation


@message(asyncable=False)
def inject(ctx: Ctx, cls, ref):
    spec = class_spec(cls)
    if spec is None:
        raise XapiError("HANDLE_INVALID", cls, ref)
    ctx.store.touch(spec.name, ref)
    return ctx.store.token
