"""``allowed_operations`` and ``current_operations``, kept as XAPI keeps them.

Each class with operations has a module here giving its :class:`Rules`:
XAPI's ``check_operation_error`` as XAPI writes it (what it reads of one
object, then per operation an error, or None when it may run), the
operations ``allowed_operations`` lists, and which other objects' changes
can change the answer. The store calls :func:`after_change`
on every write, so ``allowed_operations`` is current in every event; the
dispatcher runs a message that is an operation through :func:`running`:
checked first (XAPI's error, before any behaviour), listed in
``current_operations`` while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from ..errors import XapiError

if TYPE_CHECKING:
    from ..store import Store

# per operation of one object: why it may not run (None: it may)
Check = Callable[[str], "XapiError | None"]
# another class's object (its ref, its record before or after a change) -> the
# refs of this class whose allowed_operations it can change
Reach = Callable[["Store", str, dict], Iterable[str]]


@dataclass(frozen=True)
class Rules:
    cls: str
    prepare: Callable[[Store, str], Check]  # (store, ref): its check_operation_error
    listed: tuple[str, ...]  # what allowed_operations may hold (XAPI's allowable ops)
    reached_by: Mapping[str, Reach] = field(default_factory=dict)
    # the messages of the class that are operations on their first argument,
    # as XAPI's message forwarding marks them: message name -> the operation,
    # or a function of (store, arguments) to the operation or None
    messages: Mapping[str, str | Callable[[Store, list], str | None]] = field(default_factory=dict)


def _rules() -> dict[str, Rules]:
    from . import vm

    return {m.RULES.cls: m.RULES for m in (vm,)}


RULES: dict[str, Rules] = {}


def rules() -> dict[str, Rules]:
    if not RULES:
        RULES.update(_rules())
    return RULES


def error(store: Store, cls: str, ref: str, op: str) -> XapiError | None:
    """Why ``op`` may not run on the object now (None: it may)."""
    return rules()[cls].prepare(store, ref)(op)


def allowed(store: Store, cls: str, ref: str) -> list[str]:
    r = rules()[cls]
    check = r.prepare(store, ref)
    return [op for op in r.listed if check(op) is None]


def refresh(store: Store, cls: str, ref: str) -> None:
    """Recompute the object's allowed_operations (an event when they change)."""
    if store.exists(cls, ref):
        store.derive(cls, ref, "allowed_operations", allowed(store, cls, ref))


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


def operation(store: Store, cls: str, name: str, args: list) -> str | None:
    """The operation a call of a message of ``cls`` is (on its first argument), if any."""
    r = rules().get(cls)
    op = r.messages.get(name) if r is not None and args else None
    return op(store, args) if callable(op) else op


def watched(store_cls: str) -> bool:
    """Whether a change to this class can change any allowed_operations."""
    return store_cls in _watched()


@cache
def _watched() -> frozenset[str]:
    table = rules()
    return frozenset(table) | frozenset(c for r in table.values() for c in r.reached_by)


@contextmanager
def running(store: Store, cls: str, ref: str, op: str, key: str) -> Iterator[None]:
    """Check ``op`` on the object, then list it in current_operations under
    ``key`` (the task) until the body ends, as XAPI's message forwarding does."""
    problem = error(store, cls, ref, op)
    if problem is not None:
        raise problem
    current = store.get(cls, ref)["current_operations"]
    store.set(cls, ref, current_operations={**current, key: op})
    try:
        yield
    finally:
        if store.exists(cls, ref):
            current = store.get(cls, ref)["current_operations"]
            store.set(cls, ref, current_operations={k: v for k, v in current.items() if k != key})


# helpers the class modules share ------------------------------------------------
def in_progress(cls: str, ref: str, record: dict) -> XapiError:
    """XAPI's OTHER_OPERATION_IN_PROGRESS for what is running on the object."""
    current = record["current_operations"]
    if len(current) == 1:
        ((task, op),) = current.items()
        return XapiError("OTHER_OPERATION_IN_PROGRESS", cls, ref, op, task)
    return XapiError(
        "OTHER_OPERATION_IN_PROGRESS",
        cls,
        ref,
        "{" + ",".join(current.values()) + "}",
        "{" + ",".join(current) + "}",
    )


def truthy(value: str | None) -> bool:
    """XAPI's bool_of_assoc: "1" or "true" (any case)."""
    return value is not None and (value == "1" or value.lower() == "true")


def live_refs(store: Store, cls: str, refs: Iterable[str]) -> list[str]:
    return [r for r in refs if store.exists(cls, r)]
