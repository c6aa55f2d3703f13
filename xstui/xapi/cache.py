"""Typed records by class and ref, fed by ``event.from``. Readers take ``lock``
when they read several records that must agree."""

from __future__ import annotations

import gc
import sys
import threading
from contextlib import contextmanager

from .records import make_record, record_type


@contextmanager
def gc_paused(freeze: bool = False):
    """Building tens of thousands of records at once: the cyclic collector
    would rescan them again and again (records hold no cycles; refcounting
    frees them). With ``freeze`` (a full load, which is rare), what exists
    afterwards is moved out of its way for good (gc.freeze); not on every
    batch, or cyclic garbage alive at that moment would never be collected."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        if freeze:
            gc.freeze()


class Cache:
    def __init__(self, types: dict[str, type] | None = None) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.records: dict[str, dict[str, tuple]] = {}
        self.types = dict(types or {})  # wire class name -> record type (slim or full)
        self.generation = 0  # bumps on every applied batch (cheap change detection)
        self.loads = 0  # full loads: the first, and every resync after a reconnect
        # the classes whose objects have all arrived (a full load comes in parts)
        self.loaded: set[str] = set()
        # wire class -> the fields its records carry: an older release sends
        # fewer, and a field it lacks is "not reported", not an empty value
        self.fields: dict[str, frozenset[str]] = {}

    def _record(self, cls: str, ref: str, snapshot: dict):
        rtype = self.types.get(cls)
        if rtype is None:
            rtype = self.types[cls] = record_type(cls)
        if cls not in self.fields:
            self.fields[cls] = frozenset(snapshot)
        return make_record(rtype, ref, snapshot)

    def reports(self, cls: str, field: str) -> bool:
        """Whether this pool's release sends ``field`` of ``cls`` (True until
        a record of the class has been seen)."""
        seen = self.fields.get(cls.lower())
        return seen is None or field in seen

    def event_hook(self, obj: dict) -> dict:
        """For a JSON parser: an event's snapshot becomes its typed record as
        soon as it is parsed, so a first load of thousands of VMs never holds
        all their raw dicts at once."""
        snapshot = obj.get("snapshot")
        if isinstance(snapshot, dict) and "class" in obj and "ref" in obj:
            cls = str(obj["class"]).lower()
            obj["ref"] = ref = sys.intern(str(obj["ref"]))  # one string with the refs to it
            obj["record"] = self._record(cls, ref, snapshot)
            del obj["snapshot"]
        return obj

    def _of(self, ev: dict):
        """An event's record, built here unless the parser built it already."""
        record = ev.get("record")
        if record is None:
            ev["ref"] = ref = sys.intern(str(ev["ref"]))
            record = self._record(ev["class"].lower(), ref, ev["snapshot"])
        return record

    def table(self, cls: str) -> dict[str, tuple]:
        """All records of a class (wire name, e.g. ``vm``); hold ``lock`` while iterating."""
        return self.records.get(cls.lower(), {})

    def get(self, cls: str, ref: str):
        return self.records.get(cls.lower(), {}).get(ref)

    def label(self, cls: str, ref: str, unknown: str | None = None) -> str:
        """An object's name label; for an object not (or no longer) known,
        ``unknown`` or else the ref itself."""
        rec = self.get(cls, ref)
        if rec is not None:
            return rec.name_label
        return ref if unknown is None else unknown

    def name_of(self, ref: str) -> str | None:
        """The name label of whatever object ``ref`` is, when the cache knows
        it (for XAPI errors, which name objects by ref only)."""
        with self.lock:
            for table in self.records.values():
                rec = table.get(ref)
                if rec is not None:
                    return getattr(rec, "name_label", None)
        return None

    def _tables(self, events: list[dict], fresh: dict, freeze: bool) -> dict:
        with gc_paused(freeze=freeze):
            for ev in events:
                if ev.get("operation") != "del" and ("snapshot" in ev or "record" in ev):
                    fresh.setdefault(ev["class"].lower(), {})[ev["ref"]] = self._of(ev)
        return fresh

    def replace(self, events: list[dict]) -> set[str]:
        """A full load (token ""): the cache becomes exactly these objects."""
        fresh = self._tables(events, {}, freeze=True)
        with self.lock:
            changed = set(fresh) | set(self.records)
            self.records = fresh
            self.loaded = set(self.types) | set(fresh)
            self.generation += 1
            self.loads += 1
            self.changed.notify_all()
        return changed

    def replace_part(self, events: list[dict], classes: list[str], last: bool) -> set[str]:
        """A part of a full load: these classes become exactly these objects,
        the others keep theirs until their part comes. After the ``last``
        part the load is complete (``loads`` counts it) and every class is
        said to have changed (a screen waiting for its classes draws whole)."""
        fresh = self._tables(events, {c: {} for c in classes}, freeze=last)
        with self.lock:
            changed = {c for c, table in fresh.items() if table or self.records.get(c)}
            self.records.update(fresh)
            self.loaded.update(fresh)
            if last:
                self.loads += 1
                changed = set(self.records)
            self.generation += 1
            self.changed.notify_all()
        return changed

    def ready(self, classes) -> bool:
        """Whether every one of ``classes`` that is watched has all its
        objects here (a full load comes in parts: see Connection.load_parts)."""
        return all(c in self.loaded for c in classes if c in self.types)

    def apply(self, events: list[dict]) -> set[str]:
        changed: set[str] = set()
        with self.lock:
            for ev in events:
                cls = ev["class"].lower()
                table = self.records.setdefault(cls, {})
                if ev.get("operation") == "del":
                    if table.pop(ev["ref"], None) is not None:
                        changed.add(cls)
                elif "snapshot" in ev or "record" in ev:
                    record = self._of(ev)
                    # a change to fields no screen keeps changes nothing here
                    if table.get(ev["ref"]) != record:
                        table[ev["ref"]] = record
                        changed.add(cls)
            if changed:
                self.generation += 1
                self.changed.notify_all()
        return changed

    def wait_for(self, predicate, timeout: float):
        """Block until ``predicate()`` (evaluated under the lock) is true, or the
        timeout passes; returns its last value. Wakes on every applied batch."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)
