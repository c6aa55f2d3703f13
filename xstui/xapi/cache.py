"""Records by class and ref, fed by ``event.from``. Readers take ``lock``."""

from __future__ import annotations

import threading


class Cache:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.records: dict[str, dict[str, dict]] = {}
        self.generation = 0  # bumps on every applied batch (cheap change detection)

    def table(self, cls: str) -> dict[str, dict]:
        """All records of a class (wire name, e.g. ``vm``); hold ``lock`` while iterating."""
        return self.records.get(cls.lower(), {})

    def get(self, cls: str, ref: str) -> dict | None:
        return self.records.get(cls.lower(), {}).get(ref)

    def label(self, cls: str, ref: str) -> str:
        """An object's name label, or its ref when it is not (or no longer) known."""
        return (self.get(cls, ref) or {}).get("name_label", ref)

    def replace(self, events: list[dict]) -> set[str]:
        """A full load (token ""): the cache becomes exactly these objects."""
        fresh: dict[str, dict[str, dict]] = {}
        for ev in events:
            if ev.get("operation") != "del" and "snapshot" in ev:
                fresh.setdefault(ev["class"].lower(), {})[ev["ref"]] = ev["snapshot"]
        with self.lock:
            changed = set(fresh) | set(self.records)
            self.records = fresh
            self.generation += 1
            self.changed.notify_all()
        return changed

    def apply(self, events: list[dict]) -> set[str]:
        changed: set[str] = set()
        with self.lock:
            for ev in events:
                cls = ev["class"].lower()
                table = self.records.setdefault(cls, {})
                if ev.get("operation") == "del":
                    table.pop(ev["ref"], None)
                elif "snapshot" in ev:
                    table[ev["ref"]] = ev["snapshot"]
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
