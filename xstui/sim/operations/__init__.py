"""``allowed_operations`` and ``current_operations``, kept as XAPI keeps them.

Each class with operations has a module here giving its :class:`Rules`:
XAPI's ``check_operation_error`` as XAPI writes it (what it reads of one
object, then per operation an error, or None when it may run), the
operations ``allowed_operations`` lists, and which other objects' changes
can change the answer. The store calls :func:`after_change`
on every write, so ``allowed_operations`` is current in every event; the
dispatcher runs a message that is an operation through :func:`running`:
checked first (XAPI's error, before any behaviour), listed in
``current_operations`` while it runs. The object a message marks is its first
argument, or what the Rules' function of the call names (the pool for
``pool.enable_ha``); a behaviour marks one itself (``Ctx.running``) where
XAPI marks it mid-call (a host's ``vm_start`` once the VM is placed there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING

from ..errors import XapiError

if TYPE_CHECKING:
    from ..store import Store

# per operation of one object: why it may not run (None: it may)
Check = Callable[[str], "XapiError | None"]
# another class's object (its ref, its record before or after a change) -> the
# refs of this class whose allowed_operations it can change
Reach = Callable[["Store", str, dict], Iterable[str]]
# a call's arguments -> the object it marks and the operation, or None
Marks = Callable[["Store", list], "tuple[str, str] | None"]


@dataclass(frozen=True)
class Rules:
    cls: str
    prepare: Callable[[Store, str], Check]  # (store, ref): its check_operation_error
    listed: tuple[str, ...]  # what allowed_operations may hold (XAPI's allowable ops)
    reached_by: Mapping[str, Reach] = field(default_factory=dict)
    # the messages that are operations on an object of this class, as XAPI's
    # message forwarding marks them: a message of the class ("start"), or of
    # another ("host.apply_updates") -> the operation on its first argument,
    # or a function of (store, arguments) to (the object, the operation) or None
    messages: Mapping[str, str | Marks] = field(default_factory=dict)
    # XAPI's update_allowed_operations where it lists other than the listed
    # operations check lets through: a function of (store, ref)
    allowed: Callable[[Store, str], list[str]] | None = None


def _rules() -> dict[str, Rules]:
    from . import host, network, pool, vm

    return {m.RULES.cls: m.RULES for m in (vm, host, pool, network)}


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
    if r.allowed is not None:
        return r.allowed(store, ref)
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


def operation(store: Store, cls: str, name: str, args: list) -> tuple[str, str, str] | None:
    """The operation a call of the message ``cls.name`` is, if any: (the
    object's class, its ref, the operation)."""
    found = _marking().get((cls, name))
    if found is None:
        return None
    target_cls, entry = found
    if callable(entry):
        target = entry(store, args)
        return None if target is None else (target_cls, *target)
    return (target_cls, str(args[0]), entry) if args else None


@cache
def _marking() -> dict[tuple[str, str], tuple[str, str | Marks]]:
    """(message class, message) -> (the class it marks, its Rules entry)."""
    out: dict[tuple[str, str], tuple[str, str | Marks]] = {}
    for r in rules().values():
        for key, entry in r.messages.items():
            cls, _, name = key.rpartition(".")
            if (cls or r.cls, name) in out:
                raise RuntimeError(f"{cls or r.cls}.{name} marks two classes")
            out[(cls or r.cls, name)] = (r.cls, entry)
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
def busy(cls: str, ref: str, *running: str) -> XapiError:
    """OTHER_OPERATION_IN_PROGRESS on the object, then (where XAPI names
    them) the operation running and its task."""
    return XapiError("OTHER_OPERATION_IN_PROGRESS", cls, ref, *running)


def in_progress(cls: str, ref: str, record: dict) -> XapiError:
    """XAPI's OTHER_OPERATION_IN_PROGRESS for what is running on the object."""
    current = record["current_operations"]
    if len(current) == 1:
        ((task, op),) = current.items()
        return busy(cls, ref, op, task)
    return busy(cls, ref, "{" + ",".join(current.values()) + "}", "{" + ",".join(current) + "}")


def first_running(record: dict, ops: Iterable[str]) -> tuple[str, str] | None:
    """The first (task, operation) of the object's current_operations among ``ops``."""
    wanted = set(ops)
    return next(((t, op) for t, op in record["current_operations"].items() if op in wanted), None)


def truthy(value: str | None) -> bool:
    """XAPI's bool_of_assoc: "1" or "true" (any case)."""
    return value is not None and (value == "1" or value.lower() == "true")


def live_refs(store: Store, cls: str, refs: Iterable[str]) -> list[str]:
    return [r for r in refs if store.exists(cls, r)]


def rolling_upgrade(store: Store) -> bool:
    """Helpers.rolling_upgrade_in_progress: the pool's other_config has the
    key, whatever its value."""
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
