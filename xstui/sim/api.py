"""Method dispatch: explicit messages, implicit (datamodel-derived) messages,
sessions, ``Async.*`` tasks and XAPI's dispatch errors."""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..datamodel import explicit_messages
from . import operations
from .dump import row_lookup
from .errors import XapiError
from .schema import NULL_REF, ClassSpec, class_spec, classes
from .store import now_xdate
from .where import compile_where
from .wire import xml_value

if TYPE_CHECKING:
    from .simulator import Simulator


@dataclass(frozen=True)
class Message:
    cls: str
    name: str
    fn: Callable
    arity: int  # on the wire, the session included
    min_arity: int
    needs_session: bool = True
    asyncable: bool = True

    @property
    def wire_name(self) -> str:
        return f"{self.cls}.{self.name}"


# classes with messages but no stored fields
EXTRA_CLASSES = ("event", "auth")


def message(name: str | None = None, *, session: bool = True, asyncable: bool = True):
    """Mark ``fn(ctx, *params)`` as the behaviour of the message ``name`` (the
    function's own name by default) of its module's ``CLASS``. Nothing is
    registered here: :func:`xstui.sim.messages.table` collects the modules."""

    def mark(fn):
        fn.xapi_message = (name or fn.__name__, session, asyncable)
        return fn

    return mark


def behaviour(cls: str, fn) -> Message:
    """The Message for a marked function; arity from its signature."""
    name, session, asyncable = fn.xapi_message
    params = list(inspect.signature(fn).parameters.values())[1:]
    required = [p for p in params if p.default is inspect.Parameter.empty]
    extra = 1 if session else 0
    return Message(
        cls, name, fn, len(params) + extra, len(required) + extra, session, asyncable and session
    )


def explicit() -> dict[tuple[str, str], Message]:
    from .messages import table

    return table()


@dataclass
class Caller:
    """Where a call came from: the host whose listener took it, and whether it
    came over the dom0 unix socket (trusted)."""

    host: str | None = None
    trusted: bool = False


@dataclass
class Ctx:
    sim: Simulator
    caller: Caller
    session: str | None = None
    task: str | None = None
    # the database a session opened on a metadata VDI reads (VDI.open_database):
    # its calls see that pool's records; None, the pool's own
    db: object = None

    @property
    def store(self):
        return self.db if self.db is not None else self.sim.store

    def work(self, seconds: float, progress: float | None = None) -> None:
        """Simulate work that takes time, letting other calls run meanwhile."""
        own = self.sim.store  # tasks are the pool's own, whichever database is read
        if progress is not None and self.task:
            own.set("task", self.task, progress=progress)
        deadline = time.monotonic() + seconds * self.sim.time_scale
        with own.changed:
            while (left := deadline - time.monotonic()) > 0:
                own.changed.wait(left)
        if self.task and own.get("task", self.task)["status"] == "cancelling":
            raise XapiError("TASK_CANCELLED", self.task)

    def running(self, *marks: operations.Mark):
        """The operations on their objects for the rest of the block, as
        XAPI's with_*_operation runs them: checked first, in
        current_operations meanwhile (keyed by the call's task)."""
        return operations.running(self.store, marks, self.task or self.store.new_ref())


def resolve(method: str) -> tuple[Message, bool]:
    """The message a wire method name denotes, and whether it is Async."""
    is_async = method.startswith("Async.")
    name = method[6:] if is_async else method
    if "." in name:
        cls, msg_name = name.split(".", 1)
    else:  # Class_method alias (event_from, VM_get_all, VM_metrics_get_record...)
        candidates = [c for c in (*classes(), *EXTRA_CLASSES) if name.startswith(c + "_")]
        if not candidates:
            raise XapiError("MESSAGE_METHOD_UNKNOWN", method)
        cls = max(candidates, key=len)
        msg_name = name[len(cls) + 1 :]
    msg = explicit().get((cls, msg_name))
    spec = class_spec(cls) if cls in classes() else None
    if msg is None and spec:
        msg = implicit(spec, msg_name)
    declared = explicit_messages().get((cls, msg_name))
    if msg is None and spec and declared and msg_name.startswith(FIELD_SHAPED):
        msg = field_message(spec, msg_name, writable_only=False)
        msg = msg if msg and msg.arity == len(declared) else None
    if msg is None and declared is not None:
        # in the API, but the simulator has no behaviour for it (yet)
        raise XapiError("NOT_IMPLEMENTED", method)
    if msg is None or (is_async and not msg.asyncable):
        raise XapiError("MESSAGE_METHOD_UNKNOWN", method)
    return msg, is_async


def _answers(method: str) -> bool:
    """Whether the simulator has a behaviour for ``method``."""
    try:
        resolve(method)
    except XapiError:
        return False
    return True


def coverage() -> list[tuple[str, int, int]]:
    """Per class: (class, explicit messages implemented, in the datamodel)."""
    known = explicit_messages()
    out = []
    for cls in sorted({c for c, _ in known}, key=str.lower):
        total = sum(1 for c, _ in known if c == cls)
        done = sum(1 for c, m in known if c == cls and _answers(f"{c}.{m}"))
        out.append((cls, done, total))
    return out


def coverage_table() -> str:
    """The coverage table kept in the repo (xstui/sim/COVERAGE.md)."""
    rows = coverage()
    lines = [
        "# Simulator coverage",
        "",
        "Explicit XAPI messages with a behaviour in the simulator, per class, against the",
        "datamodel (`xstui/datamodel/schema.tsv`). A message without one answers",
        "`NOT_IMPLEMENTED`. Implicit messages (getters, setters, `get_all_records`…) all",
        "work. Regenerate: `python -m xstui.sim.api > xstui/sim/COVERAGE.md`.",
        "",
        "| class | implemented | in the datamodel |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {cls} | {done} | {total} |" for cls, done, total in rows]
    done, total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    lines.append(f"| **all** | **{done}** | **{total}** |")
    return "\n".join(lines) + "\n"


@functools.cache  # from the datamodel alone: 16 ms to make, once
def list_methods() -> tuple[str, ...]:
    """``system.listMethods``: every message of the API the simulator serves."""
    names = {f"{c}.{m}" for c, m in explicit_messages()}
    for spec in classes().values():
        for name in ("get_all", "get_all_records", "get_record", "get_by_uuid"):
            if implicit(spec, name) is not None:
                names.add(f"{spec.name}.{name}")
        for field in spec.fields:  # XAPI lists its field accessors too
            for prefix in ("get_", "set_", "add_to_", "remove_from_", "add_", "remove_"):
                if implicit(spec, f"{prefix}{field}") is not None:
                    names.add(f"{spec.name}.{prefix}{field}")
    return tuple(sorted(names))


# what a member answers itself, with a local login (slave_local_login_with_password)
LOCAL_CALLS = frozenset(
    {
        "session.slave_local_login_with_password",
        "session.local_logout",
        "session.get_this_host",
        "pool.emergency_transition_to_master",
        "pool.emergency_reset_master",
        "host.emergency_ha_disable",
    }
)


def dispatch(sim: Simulator, method: str, params: list, caller: Caller):
    """Run one call; returns the value or raises XapiError."""
    if method == "system.listMethods":  # XAPI's introspection: no session needed
        return [m for m in list_methods() if not sim.lacks(*m.split(".", 1))]
    msg, is_async = resolve(method)
    if sim.lacks(msg.cls, msg.name):  # a message this host's release does not have
        if sim.release.unknown_code(msg.cls, msg.name) == "MESSAGE_REMOVED":
            raise XapiError("MESSAGE_REMOVED")  # it had it once (XAPI sends no detail)
        raise XapiError("MESSAGE_METHOD_UNKNOWN", method)
    if not (msg.min_arity <= len(params) <= msg.arity):
        raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", method, msg.arity, len(params))
    ctx = Ctx(sim, caller)
    args = list(params)
    member = caller.host and caller.host != sim.master and not caller.trusted
    if member and not (msg.needs_session or msg.wire_name in LOCAL_CALLS):
        raise XapiError("HOST_IS_SLAVE", sim.host_address(sim.master_of(caller.host)))
    with sim.store.lock:
        if msg.needs_session:
            ctx.session = str(args.pop(0))
            if member and not (
                sim.local_sessions.get(ctx.session) == caller.host and msg.wire_name in LOCAL_CALLS
            ):
                raise XapiError("HOST_IS_SLAVE", sim.host_address(sim.master_of(caller.host)))
            sim.check_session(ctx.session)
            sim.check_permission(ctx.session, msg.wire_name)
            ctx.db = foreign_database(sim, ctx.session, msg)
        _check_refs(ctx, msg, [ctx.session, *args] if msg.needs_session else args)
        if is_async:
            return start_task(ctx, msg, args)
        with operation(ctx, msg, args):
            return msg.fn(ctx, *args)


def operation(ctx: Ctx, msg: Message, args: list):
    """A message that is an operation on objects runs as XAPI's message
    forwarding runs it: each checked against its object's state first, and
    in its current_operations meanwhile (keyed by the task)."""
    todo = operations.marks(ctx.store, msg.cls, msg.name, args)
    return ctx.running(*todo) if todo else nullcontext()


# what a session on a database opened from a metadata VDI may call besides
# reads: the recovery messages (they write into session_to's pool) and logout
FOREIGN_CALLS = frozenset(
    {
        "VM.recover",
        "VM.assert_can_be_recovered",
        "VM_appliance.recover",
        "VM_appliance.assert_can_be_recovered",
        "session.logout",
    }
)


def foreign_database(sim: Simulator, session: str, msg: Message):
    """The database ``session`` opened on a metadata VDI (None: the pool's
    own). The simulator serves it for reading and recovery only: a write
    through it answers OPERATION_NOT_ALLOWED (XAPI would write into the
    VDI's copy, which nothing reads again)."""
    db = sim.foreign_sessions.get(session)
    if db is None:
        return None
    read = msg.name.startswith("get_") or msg.wire_name in FOREIGN_CALLS
    if not read:
        raise XapiError(
            "OPERATION_NOT_ALLOWED",
            f"{msg.wire_name} on a database opened from a metadata VDI (read only here)",
        )
    return db


def _check_refs(ctx: Ctx, msg: Message, args: list) -> None:
    """Refs are checked once, here, from the datamodel's parameter types:
    an unknown object is HANDLE_INVALID before any behaviour runs. A session
    on a foreign database names that database's objects."""
    types = explicit_messages().get((msg.cls, msg.name), ())
    for ptype, value in zip(types, args, strict=False):
        parts = ptype.split()
        if len(parts) == 2 and parts[1] == "ref" and parts[0] not in ("session", "task"):
            spec = class_spec(parts[0])
            ref = str(value)
            if spec is not None and ref != NULL_REF and not ctx.store.exists(spec.name, ref):
                raise XapiError("HANDLE_INVALID", parts[0], str(value))


def start_task(ctx: Ctx, msg: Message, args: list) -> str:
    store = ctx.sim.store  # the pool's own, whichever database the call reads
    task = store.create(
        "task",
        {
            "name_label": "Async." + msg.wire_name,
            "status": "pending",
            "created": now_xdate(),
            "resident_on": ctx.sim.master,
            "progress": 0.0,
            "allowed_operations": ["cancel"],
        },
    )
    task_ctx = replace(ctx, task=task)

    def run():
        try:
            with store.lock:
                with operation(task_ctx, msg, args):
                    task_ctx.work(ctx.sim.task_delay)
                    value = msg.fn(task_ctx, *args)
                store.set(
                    "task",
                    task,
                    status="success",
                    progress=1.0,
                    finished=now_xdate(),
                    result=xml_value(value) if value not in (None, "") else "",
                    allowed_operations=[],
                )
        except XapiError as err:
            with store.lock:
                if store.exists("task", task):
                    cancelled = err.code == "TASK_CANCELLED"
                    store.set(
                        "task",
                        task,
                        status="cancelled" if cancelled else "failure",
                        progress=1.0,
                        finished=now_xdate(),
                        error_info=err.description,
                        allowed_operations=[],
                    )

    threading.Thread(target=run, name=f"task {task}", daemon=True).start()
    return task


# implicit messages --------------------------------------------------------------
# Where XAPI leaves out an implicit message (sessions cannot be listed, the pool
# has no name lookup, messages have no per-field getters).
_WITHOUT = {
    "session": {"get_all", "get_all_records", "get_all_records_where"},
    "pool": {"get_by_name_label"},
}
_NO_FIELD_GETTERS = {"message"}


def implicit(spec: ClassSpec, name: str) -> Message | None:
    """Messages XAPI derives from the datamodel for every class."""
    cls, fields = spec.name, spec.fields
    if name in _WITHOUT.get(cls, ()):
        return None

    def make(fn, arity):
        return Message(cls, name, fn, arity, arity, True, False)

    if name == "get_all":
        return make(lambda ctx: list(ctx.store.table(cls)), 1)
    if name == "get_all_records":
        return make(
            lambda ctx: {r: ctx.sim.release.shown(cls, v) for r, v in ctx.store.table(cls).items()},
            1,
        )
    if name == "get_all_records_where":

        def where(ctx, expr):
            pred, row = compile_where(str(expr)), row_lookup(spec)
            shown = ctx.sim.release.shown
            return {r: shown(cls, v) for r, v in ctx.store.table(cls).items() if pred(row(v))}

        return make(where, 2)
    if name == "get_record":
        return make(lambda ctx, ref: ctx.sim.release.shown(cls, ctx.store.get(cls, ref)), 2)
    if name == "get_by_uuid" and "uuid" in fields:
        return make(lambda ctx, uuid: ctx.store.ref_by_uuid(cls, uuid), 2)
    if name == "get_by_name_label" and "name_label" in fields:
        return make(lambda ctx, label: ctx.store.find(cls, name_label=label), 2)
    if name.startswith("get_") and name[4:] in fields and cls not in _NO_FIELD_GETTERS:
        f = name[4:]
        return make(lambda ctx, ref: ctx.store.get(cls, ref)[f], 2)
    return field_message(spec, name, writable_only=True)


# explicit messages whose whole behaviour is to change their field (XAPI's own
# ones also tell the storage manager or a running guest, which has no simulated
# effect here); other explicit setters check more and stay NOT_IMPLEMENTED
FIELD_SHAPED = ("set_name_label", "set_name_description", "add_to_", "remove_from_")


def field_message(spec: ClassSpec, name: str, *, writable_only: bool) -> Message | None:
    """A setter, or an add/remove on a map or set field, for ``name``."""
    cls, fields = spec.name, spec.fields

    def usable(f: str) -> bool:
        return f in fields and (fields[f].writable or not writable_only)

    def make(fn, arity):
        return Message(cls, name, fn, arity, arity, True, not writable_only)

    if name.startswith("set_") and usable(name[4:]):
        f = name[4:]

        def setter(ctx, ref, value):
            ctx.store.get(cls, ref)
            ctx.store.set(cls, ref, **{f: value})
            return ""

        return make(setter, 3)
    for prefix, arity, kind in (
        ("add_to_", 4, "map"),
        ("remove_from_", 3, "map"),
        ("add_", 3, "set"),
        ("remove_", 3, "set"),
    ):
        f = name[len(prefix) :]
        if name.startswith(prefix) and usable(f) and fields[f].kind == kind:
            return make(_collection_op(cls, f, prefix), arity)
    return None


def _collection_op(cls: str, f: str, prefix: str):
    def op(ctx, ref, key, value=None):
        current = ctx.store.get(cls, ref)[f]
        if prefix == "add_to_":
            if key in current:
                raise XapiError("MAP_DUPLICATE_KEY", cls, f, ref, key)
            new = {**current, key: value}
        elif prefix == "remove_from_":
            new = {k: v for k, v in current.items() if k != key}
        elif prefix == "add_":
            new = current if key in current else [*current, key]
        else:
            new = [v for v in current if v != key]
        ctx.store.set(cls, ref, **{f: new})
        return ""

    if prefix in ("add_to_",):
        return lambda ctx, ref, key, value: op(ctx, ref, key, value)
    return lambda ctx, ref, key: op(ctx, ref, key)


if __name__ == "__main__":
    print(coverage_table(), end="")
