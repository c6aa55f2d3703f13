"""``allowed_operations`` and ``current_operations``, kept as XAPI keeps them.

Each class with operations has a module here giving its :class:`Rules`:
XAPI's ``check_operation_error`` for one operation (an error, or None when
it may run), the operations ``allowed_operations`` lists, which other
objects' changes can change the answer, and the messages that are
operations on objects of the class. The store calls :func:`after_change` on
every write, so ``allowed_operations`` is current in every event; the
dispatcher runs a message through :func:`running` with the marks
:func:`marks` finds for it: each checked and listed in the object's
``current_operations`` in turn, as XAPI's message forwarding marks them
(VDI.destroy: the SR's ``vdi_destroy``, then the VDI's ``destroy``), all
before any behaviour runs and until it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from ..errors import XapiError

if TYPE_CHECKING:
    from ..store import Store

Check = Callable[["Store", str, str], "XapiError | None"]
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
    check: Check
    listed: tuple[str, ...]  # what allowed_operations may hold (XAPI's allowable ops)
    reached_by: Mapping[str, Reach] = field(default_factory=dict)
    # the messages that are operations on objects of the class, as XAPI's
    # message forwarding marks them: the class's own message by name (its
    # value: the operation on the first argument, or a function giving the
    # marks), another class's by its wire name ("PBD.plug": a function)
    messages: Mapping[str, str | Marks] = field(default_factory=dict)
    # what update_allowed_operations asks, when it asks less than ``check``
    # does (a VBD's listing leaves out the sharing checks)
    listing: Check | None = None


def _rules() -> dict[str, Rules]:
    """Every class's rules, in the order XAPI marks objects when one call
    marks several (VM, SR, VDI, VBD, VIF: with_vm_operation, then
    with_sr_andor_vdi, then with_vbds_marked and with_vifs_marked)."""
    from . import sr, vbd, vdi, vif, vm

    return {m.RULES.cls: m.RULES for m in (vm, sr, vdi, vbd, vif)}


RULES: dict[str, Rules] = {}


def rules() -> dict[str, Rules]:
    if not RULES:
        RULES.update(_rules())
    return RULES


def error(store: Store, cls: str, ref: str, op: str) -> XapiError | None:
    """Why ``op`` may not run on the object now (None: it may)."""
    return rules()[cls].check(store, ref, op)


def allowed(store: Store, cls: str, ref: str) -> list[str]:
    r = rules()[cls]
    check = r.listing or r.check
    return [op for op in r.listed if check(store, ref, op) is None]


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


def after_change(store: Store, cls: str, ref: str, before: dict, after: dict) -> None:
    """The store's hook: recompute what a change to (cls, ref) can affect."""
    table = rules()
    todo: dict[tuple[str, str], None] = {}
    if cls in table and after:
        todo[(cls, ref)] = None
    for other in table.values():
        reach = other.reached_by.get(cls)
        if reach is not None:
            for record in (before, after):
                if record:
                    todo.update(dict.fromkeys((other.cls, r) for r in reach(store, ref, record)))
    for c, r in todo:
        refresh(store, c, r)


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
    """(class, message) -> each (owner class, entry) naming it, in _rules() order."""
    out: dict[tuple[str, str], list[tuple[str, str | Marks]]] = {}
    for r in rules().values():
        for name, entry in r.messages.items():
            cls, _, msg = name.rpartition(".")
            out.setdefault((cls or r.cls, msg), []).append((r.cls, entry))
    return out


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


def vms_with(store: Store, field: str, ref: str) -> list[str]:
    """The VMs whose ``field`` is ``ref`` (their metrics, guest metrics)."""
    return [r for r, vm in store.tables["VM"].items() if vm[field] == ref]


def rolling_upgrade(store: Store) -> bool:
    """Helpers.rolling_upgrade_in_progress: the key is there, whatever its value."""
    return any(
        "rolling_upgrade_in_progress" in p["other_config"] for p in store.tables["pool"].values()
    )


def pool(store: Store) -> dict:
    return next(iter(store.tables["pool"].values()), {})


def sm_features(store: Store, sr_type: str) -> set[str]:
    """Xapi_sr_operations.features_of_sr: the first SM record of the type's."""
    sm = next((m for m in store.tables["SM"].values() if m["type"] == sr_type), None)
    return set(sm["features"]) if sm else set()


# devices (VBD, VIF) ------------------------------------------------------------
_STOPPING = ("clean_shutdown", "hard_shutdown", "suspend", "pause")


def vm_stopping(vm_ref: str, vm: dict) -> XapiError | None:
    """No plug or unplug while the VM shuts down, suspends or pauses
    (xapi_vbd_helpers.ml, xapi_vif_helpers.ml: the first such operation)."""
    for op in vm["current_operations"].values():
        if op in _STOPPING:
            return XapiError("OPERATION_NOT_ALLOWED", f"Current operation on VM:{vm_ref} is {op}")
    return None


def domain_type(store: Store, vm: dict) -> str:
    """Helpers.domain_type: the running domain's, the configured one when
    halted (a simulated domain without one runs as configured)."""
    if vm["power_state"] != "Halted":
        metrics = store.tables["VM_metrics"].get(vm["metrics"])
        if metrics and metrics["current_domain_type"] != "unspecified":
            return metrics["current_domain_type"]
    return vm["domain_type"]


def _has_pv_drivers(guest: dict | None) -> bool:
    """Xapi_pv_driver_version.of_guest_metrics is not Unknown: a version
    with a major and a minor number (and numbers for micro, build if given)."""
    version = guest["PV_drivers_version"] if guest else {}
    given = [k for k in ("major", "minor", "micro", "build") if k in version]
    return given[:2] == ["major", "minor"] and all(version[k].lstrip("+-").isdigit() for k in given)


def hotplug(store: Store, vm_ref: str, vm: dict, device: str) -> XapiError | None:
    """Why a running HVM guest cannot hot-plug a ``device`` ("VBD" or "VIF"):
    its drivers say so, or it has none (xapi_vbd_helpers.ml, xapi_vif_helpers.ml)."""
    if vm["power_state"] != "Running" or domain_type(store, vm) != "hvm":
        return None
    guest = store.tables["VM_guest_metrics"].get(vm["guest_metrics"])
    says = guest[f"can_use_hotplug_{device.lower()}"] if guest else "unspecified"
    if says == "no":
        return XapiError(
            "OPERATION_NOT_ALLOWED", f"VM states it does not support {device} hotplug."
        )
    if says == "yes" or (guest and guest["PV_drivers_detected"]) or _has_pv_drivers(guest):
        return None
    return XapiError("VM_MISSING_PV_DRIVERS", vm_ref)
