"""``allowed_operations`` and ``current_operations``, kept as XAPI keeps them.

Each class with operations has a module here giving its :class:`Rules`:
XAPI's ``check_operation_error`` as XAPI writes it (what it reads of one
object, then per operation an error, or None when it may run), the
operations ``allowed_operations`` lists, which other objects' changes can
change the answer, and the messages that are operations on objects of the
class. The store recomputes what each write can affect (:func:`affected`),
so ``allowed_operations`` is current in every event; the
dispatcher runs a message through :func:`running` with the marks
:func:`marks` finds for it: each checked and listed in the object's
``current_operations`` in turn, as XAPI's message forwarding marks them
(VDI.destroy: the SR's ``vdi_destroy``, then the VDI's ``destroy``), all
before any behaviour runs and until it ends. A behaviour marks one itself
(``Ctx.running``) where XAPI marks it mid-call (a host's ``vm_start`` once
the VM is placed there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING, NamedTuple

from ..errors import XapiError

if TYPE_CHECKING:
    from ..store import Store

# per operation of one object: why it may not run (None: it may)
Check = Callable[[str], "XapiError | None"]
# another class's object (its ref, its record before or after a change) -> the
# refs of this class whose allowed_operations it can change
Reach = Callable[["Store", str, dict], Iterable[str]]


class Mark(NamedTuple):
    """One operation a call runs on one object, as message forwarding marks it."""

    cls: str
    ref: str
    op: str
    # what XAPI answers instead of the object's own error (mark_vifs)
    refusal: XapiError | None = None


# a message's arguments -> the marks it takes on this class's objects (none:
# not an operation this time); it raises XAPI's error where message
# forwarding refuses before marking anything
Marks = Callable[["Store", list], Iterable[Mark]]


@dataclass(frozen=True)
class Rules:
    cls: str
    prepare: Callable[[Store, str], Check]  # (store, ref): its check_operation_error
    listed: tuple[str, ...]  # what allowed_operations may hold (XAPI's allowable ops)
    reached_by: Mapping[str, Reach] = field(default_factory=dict)
    # the messages that are operations on objects of the class, as XAPI's
    # message forwarding marks them: the class's own message by name (its
    # value: the operation on the first argument, or a function giving the
    # marks), another class's by its wire name ("PBD.plug": a function)
    messages: Mapping[str, str | Marks] = field(default_factory=dict)
    # XAPI's update_allowed_operations where it lists other than what the
    # check lets through of ``listed`` (a VBD's leaves out the sharing checks,
    # a host's lists fewer during a rolling upgrade): a function of (store, ref)
    allowed: Callable[[Store, str], list[str]] | None = None


@cache
def rules() -> dict[str, Rules]:
    """Every class's rules, in the order XAPI marks objects when one call
    marks several (VM, SR, VDI, VBD, VIF: with_vm_operation, then
    with_sr_andor_vdi, then with_vbds_marked and with_vifs_marked)."""
    from . import host, network, pool, sr, vbd, vdi, vif, vm

    return {m.RULES.cls: m.RULES for m in (vm, sr, vdi, vbd, vif, host, pool, network)}


def error(store: Store, cls: str, ref: str, op: str) -> XapiError | None:
    """Why ``op`` may not run on the object now (None: it may)."""
    return rules()[cls].prepare(store, ref)(op)


def allowed(store: Store, cls: str, ref: str) -> list[str]:
    r = rules()[cls]
    if r.allowed is not None:
        return r.allowed(store, ref)
    check = r.prepare(store, ref)
    return [op for op in r.listed if check(op) is None]


def refresh(store: Store, cls: str, ref: str) -> None:
    """Recompute the object's allowed_operations (an event when they change);
    where an object the rules read is gone (a VBD's VM) they stay as they
    were, as XAPI's update_allowed_operations fails on the missing record."""
    if store.exists(cls, ref):
        try:
            ops = allowed(store, cls, ref)
        except XapiError:
            return
        store.derive(cls, ref, "allowed_operations", ops)


def refresh_all(store: Store) -> None:
    for cls in rules():
        for ref in list(store.table(cls)):
            refresh(store, cls, ref)


def affected(store: Store, cls: str, ref: str, before: dict, after: dict) -> set[tuple[str, str]]:
    """The objects whose allowed_operations a change to (cls, ref) can alter."""
    table = rules()
    todo = {(cls, ref)} if cls in table and after else set()
    for other in table.values():
        reach = other.reached_by.get(cls)
        if reach is not None:
            for record in (before, after):
                if record:
                    todo.update((other.cls, r) for r in reach(store, ref, record))
    return todo


def marks(store: Store, cls: str, name: str, args: list) -> list[Mark]:
    """The operations a call of ``cls.name`` is, in the order XAPI marks them."""
    out: list[Mark] = []
    for owner, entry in _messages().get((cls, name), ()):
        if callable(entry):
            out.extend(entry(store, args))
        elif args:
            out.append(Mark(owner, str(args[0]), entry))
    return out


@cache
def _messages() -> dict[tuple[str, str], list[tuple[str, str | Marks]]]:
    """(class, message) -> each (owner class, entry) naming it, in rules() order."""
    out: dict[tuple[str, str], list[tuple[str, str | Marks]]] = {}
    for r in rules().values():
        for name, entry in r.messages.items():
            cls, _, msg = name.rpartition(".")
            out.setdefault((cls or r.cls, msg), []).append((r.cls, entry))
    return out


def per_operation(check: Callable[[Store, str, str], XapiError | None]):
    """``Rules.prepare`` for rules written per (store, ref, operation)."""
    return lambda store, ref: partial(check, store, ref)


def watched(store_cls: str) -> bool:
    """Whether a change to this class can change any allowed_operations."""
    return store_cls in _watched()


@cache
def _watched() -> frozenset[str]:
    table = rules()
    return frozenset(table) | frozenset(c for r in table.values() for c in r.reached_by)


@contextmanager
def running(store: Store, todo: Iterable[Mark], key: str) -> Iterator[None]:
    """Check each mark's operation on its object and list it in the object's
    current_operations under ``key`` (the task), in turn, until the body
    ends, as XAPI's message forwarding does; a refusal unmarks what was
    marked. The newest operation comes first, as XAPI's add_to_map puts it."""
    done: list[Mark] = []
    try:
        for mark in todo:
            problem = error(store, mark.cls, mark.ref, mark.op)
            if problem is not None:
                raise mark.refusal or problem
            current = store.get(mark.cls, mark.ref)["current_operations"]
            store.set(mark.cls, mark.ref, current_operations={key: mark.op, **current})
            done.append(mark)
        yield
    finally:
        for mark in reversed(done):
            if store.exists(mark.cls, mark.ref):
                current = store.get(mark.cls, mark.ref)["current_operations"]
                left = {k: v for k, v in current.items() if k != key}
                store.set(mark.cls, mark.ref, current_operations=left)


# helpers the class modules share ------------------------------------------------
def other_in_progress(cls: str, ref: str, *running: str) -> XapiError:
    """OTHER_OPERATION_IN_PROGRESS on the object, then (where XAPI names
    them) the operation running and its task."""
    return XapiError("OTHER_OPERATION_IN_PROGRESS", cls, ref, *running)


def first_running(record: dict, ops: Iterable[str]) -> tuple[str, str] | None:
    """The first (task, operation) of the object's current_operations among ``ops``."""
    wanted = set(ops)
    return next(((t, op) for t, op in record["current_operations"].items() if op in wanted), None)


def in_progress(cls: str, ref: str, record: dict) -> XapiError:
    """XAPI's OTHER_OPERATION_IN_PROGRESS for what is running on the object."""
    current = record["current_operations"]
    if len(current) == 1:
        ((task, op),) = current.items()
        return other_in_progress(cls, ref, op, task)
    return other_in_progress(
        cls, ref, "{" + ",".join(current.values()) + "}", "{" + ",".join(current) + "}"
    )


def variant_hash(tag: str) -> int:
    """OCaml's hash of a polymorphic variant (btype.ml hash_variant): its
    ``compare`` orders operations such as `scan or `plug by it."""
    h = 0
    for byte in tag.encode():
        h = 223 * h + byte
    h &= (1 << 31) - 1
    return h - (1 << 31) if h > 0x3FFFFFFF else h


def by_op(current: Mapping[str, str]) -> list[tuple[str, str]]:
    """(task, op) of current_operations as ``List.sort_uniq`` on the
    operation leaves them: one a kind, in OCaml's order."""
    first: dict[str, str] = {}
    for task, op in current.items():
        first.setdefault(op, task)
    return sorted(((task, op) for op, task in first.items()), key=lambda x: variant_hash(x[1]))


def busy(
    cls: str,
    ref: str,
    current: Mapping[str, str],
    op: str,
    tolerates: Mapping[str, tuple[str, ...]],
    name: Callable[[str], str] = str,
) -> XapiError | None:
    """XAPI's check on operations running (SR check_parallel_ops, the VBD's
    like): ``op`` starts only beside those it ``tolerates``; the first other
    (in List.sort_uniq's order), in ``name``'s words, refuses it."""
    beside = tolerates.get(op, ())
    first = next(((t, o) for t, o in by_op(current) if o not in beside), None)
    return (
        None
        if first is None
        else XapiError("OTHER_OPERATION_IN_PROGRESS", cls, ref, name(first[1]), first[0])
    )


def truthy(value: str | None) -> bool:
    """XAPI's bool_of_assoc: "1" or "true" (any case)."""
    return value is not None and (value == "1" or value.lower() == "true")


def live_refs(store: Store, cls: str, refs: Iterable[str]) -> list[str]:
    return [r for r in refs if store.exists(cls, r)]


def rolling_upgrade(store: Store) -> bool:
    """Helpers.rolling_upgrade_in_progress: the key is there, whatever its value."""
    return any(
        "rolling_upgrade_in_progress" in p["other_config"] for p in store.tables["pool"].values()
    )


def on_upgrade(cls: str) -> Reach:
    """``reached_by`` the pool: every object of ``cls`` when a change starts
    or ends a rolling upgrade (either side of the change has the key)."""
    return lambda store, ref, pool: (
        list(store.tables[cls]) if "rolling_upgrade_in_progress" in pool["other_config"] else []
    )


def the_pool(store: Store) -> str:
    """Helpers.get_pool: the one pool."""
    return next(iter(store.tables["pool"]))


def pool_record(store: Store) -> dict:
    """The one pool's record ({} before it exists)."""
    return next(iter(store.tables["pool"].values()), {})


def sm_features(store: Store, sr_type: str) -> set[str]:
    """Xapi_sr_operations.features_of_sr: the first SM record of the type's."""
    sm = next((m for m in store.tables["SM"].values() if m["type"] == sr_type), None)
    return set(sm["features"]) if sm else set()
