"""The object database: records by class and ref, with a change log for events.

Every change goes through :meth:`Store.create`, :meth:`Store.set` or
:meth:`Store.destroy`, which bump the generation and wake ``event.from``
waiters, so no change can be missed by event consumers.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
import uuid as uuidlib
from collections.abc import Iterable
from contextlib import contextmanager

from .. import clock
from . import operations
from .errors import XapiError
from .schema import XDate, blank, class_spec, classes, coerce

# ref fields with no back-reference set, indexed for lookups by value
_INDEXED: dict[str, tuple[str, ...]] = {
    "VM": ("metrics", "guest_metrics"),
    "host": ("metrics",),
}

# One-to-many relations XAPI maintains itself: (child class, ref field) -> (parent class, set field)
RELATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("VM", "resident_on", "host", "resident_VMs"),
    ("PIF", "host", "host", "PIFs"),
    ("PBD", "host", "host", "PBDs"),
    ("host_cpu", "host", "host", "host_CPUs"),
    ("host_patch", "host", "host", "patches"),
    ("Certificate", "host", "host", "certificates"),
    ("PBD", "SR", "SR", "PBDs"),
    ("VDI", "SR", "SR", "VDIs"),
    ("VBD", "VM", "VM", "VBDs"),
    ("VBD", "VDI", "VDI", "VBDs"),
    ("VIF", "VM", "VM", "VIFs"),
    ("VIF", "network", "network", "VIFs"),
    ("console", "VM", "VM", "consoles"),
    ("PIF", "network", "network", "PIFs"),
    ("PIF", "bond_slave_of", "Bond", "slaves"),
    ("Bond", "master", "PIF", "bond_master_of"),
    ("VLAN", "tagged_PIF", "PIF", "VLAN_slave_of"),
    ("host_patch", "pool_patch", "pool_patch", "host_patches"),
    ("VM", "snapshot_of", "VM", "snapshots"),
    ("VM", "parent", "VM", "children"),
    ("VM", "appliance", "VM_appliance", "VMs"),
    ("VM", "snapshot_schedule", "VMSS", "VMs"),
    ("VDI", "snapshot_of", "VDI", "snapshots"),
    ("task", "subtask_of", "task", "subtasks"),
)
_BY_CHILD: dict[str, list[tuple[str, str, str]]] = {}
for _c, _f, _p, _s in RELATIONS:
    _BY_CHILD.setdefault(_c, []).append((_f, _p, _s))


def now_xdate(t: float | None = None) -> XDate:
    return XDate(time.strftime("%Y%m%dT%H:%M:%SZ", time.gmtime(clock.now() if t is None else t)))


class Store:
    def __init__(self, seed: int | None = None):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rng = random.Random(seed)
        self.seed = seed or 0  # the scenario's: the performance figures derive from it
        # the scenario's ``load:`` (busy and noisy VMs, hosts short of memory)
        self.load: dict[str, list[str]] = {}
        self.tables: dict[str, dict[str, dict]] = {name: {} for name in classes()}
        self.by_uuid: dict[str, dict[str, str]] = {name: {} for name in classes()}
        self.generation = 0
        self.message_generation = 0
        self._index: dict[tuple[str, str], dict[str, set[str]]] = {
            (c, f): {} for c, fields in _INDEXED.items() for f in fields
        }
        self._deferred: set[tuple[str, str]] | None = None  # inside batch()
        # change log, parallel lists so bisect works on generations
        self._log_gens: list[int] = []
        self._log: list[tuple[str, str, str]] = []  # (class, ref, op)
        # what a loaded pool dump carried that the schema does not know
        self.raw_rows: dict[str, dict[str, dict[str, str]]] = {}  # class -> ref -> row as loaded
        self.raw_tables: dict[str, list[dict[str, str]]] = {}  # tables not modelled
        self.manifest: dict[str, str] = {}
        # the world outside the pool that XAPI talks to: the Active Directory
        # domain the pool can join (see sim/directory.py), None without one
        self.directory: dict | None = None
        # hotfixes (sim/updates.py): precheck failures by (update name, host
        # name), prerequisites by update uuid, uploaded files by VDI; the 8.x
        # repository's updates, which each host has, and whether it was synced
        self.precheck_fails: dict[tuple[str, str], str] = {}
        self.update_requires: dict[str, list[str]] = {}
        self.uploads: dict[str, dict] = {}
        self.cleaned_patches: set[str] = set()  # 6.x patches whose files were removed
        self.repository_updates: list[dict] = []
        self.repository_applied: dict[str, set[str]] = {}
        self.repository_synced = False
        # XCP-ng's updater.py plugin: the packages yum offers (None: no plugin)
        self.yum_updates: list[dict] | None = None
        self.yum_applied: dict[str, set[str]] = {}
        self.api = ""  # the release a scenario asked for (``api:``); "" the newest
        self.dump_tables: set[str] | None = None  # the tables of a loaded dump
        self.crls: list[str] = []  # the pool's certificate revocation lists (their file names)
        # NFS servers on the storage network: address -> exported paths
        self.nfs_exports: dict[str, list[str]] = {}
        # iSCSI targets (address -> iqn, chap, luns), FC LUNs every host sees,
        # and the free local disks of each host (for lvm/ext SRs)
        self.iscsi_targets: dict[str, dict] = {}
        self.hba_luns: list[dict] = []
        self.local_disks: list[str] = []
        # SRs the pool forgot, still on their storage: uuid -> (SR record,
        # device-config, VDI records), for SR.probe to find and SR.introduce
        self.on_storage: dict[str, tuple[dict, dict, list[dict]]] = {}
        # of those, the local ones: uuid -> (host ref, device) whose disk holds it
        self.on_disk: dict[str, tuple[str, str]] = {}
        # the databases metadata VDIs on that storage hold (another pool's,
        # for disaster recovery: sim/dr.py): VDI uuid -> that pool's records
        self.databases: dict[str, Store] = {}

    # identifiers ---------------------------------------------------------
    def new_uuid(self) -> str:
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    def new_ref(self) -> str:
        return "OpaqueRef:" + self.new_uuid()

    # reads ---------------------------------------------------------------
    def table(self, cls: str) -> dict[str, dict]:
        return self.tables[cls]

    def get(self, cls: str, ref: str) -> dict:
        try:
            return self.tables[cls][ref]
        except KeyError:
            raise XapiError("HANDLE_INVALID", cls, ref) from None

    def exists(self, cls: str, ref: str) -> bool:
        return ref in self.tables[cls]

    def ref_by_uuid(self, cls: str, uuid: str) -> str:
        try:
            return self.by_uuid[cls][uuid]
        except KeyError:
            raise XapiError("UUID_INVALID", cls, uuid) from None

    def find(self, cls: str, **equal) -> list[str]:
        return [
            ref
            for ref, rec in self.tables[cls].items()
            if all(rec.get(k) == v for k, v in equal.items())
        ]

    def find_one(self, cls: str, **equal) -> str | None:
        found = self.find(cls, **equal)
        return found[0] if found else None

    # writes --------------------------------------------------------------
    def create(self, cls: str, fields: dict | None = None, ref: str | None = None) -> str:
        spec = class_spec(cls)
        if spec is None:
            raise KeyError(cls)
        cls = spec.name
        with self.lock:
            ref = ref or self.new_ref()
            record = blank(spec)
            if "uuid" in record:
                record["uuid"] = self.new_uuid()
            for name, value in (fields or {}).items():
                record[name] = coerce(spec.fields[name], value)
            self.tables[cls][ref] = record
            if "uuid" in record:
                self.by_uuid[cls][record["uuid"]] = ref
            if cls == "message":
                self.message_generation += 1
            self._record_change(cls, ref, "add")
            self._relink(cls, ref, {}, record)
            self._derive_after(cls, ref, {}, record)
            return ref

    def set(self, cls: str, ref: str, **values) -> None:
        spec = class_spec(cls)
        with self.lock:
            record = self.get(cls, ref)
            before = dict(record)
            for name, value in values.items():
                record[name] = coerce(spec.fields[name], value)
            self._record_change(cls, ref, "mod")
            self._relink(cls, ref, before, record)
            self._derive_after(cls, ref, before, record)

    def derive(self, cls: str, ref: str, name: str, value) -> None:
        """Write a field XAPI computes from others (allowed_operations): an
        event when it changes, and no recomputation of anything else."""
        with self.lock:
            record = self.get(cls, ref)
            if record[name] != value:
                record[name] = value
                self._record_change(cls, ref, "mod")

    def _derive_after(self, cls: str, ref: str, before: dict, after: dict) -> None:
        """Keep the field index and allowed_operations in step with a change."""
        for field in _INDEXED.get(cls, ()):
            old, new = before.get(field), after.get(field)
            if old != new:
                self._index[(cls, field)].get(old, set()).discard(ref)
                if new is not None:
                    self._index[(cls, field)].setdefault(new, set()).add(ref)
        if operations.watched(cls):
            todo = operations.affected(self, cls, ref, before, after)
            if self._deferred is not None:
                self._deferred |= todo
            else:
                for c, r in todo:
                    operations.refresh(self, c, r)

    @contextmanager
    def batch(self):
        """Many changes at once (building a pool): each object's
        allowed_operations are computed once, at the end."""
        with self.lock:
            outer, self._deferred = self._deferred is None, self._deferred or set()
            try:
                yield
            finally:
                if outer:
                    todo, self._deferred = self._deferred, None
                    for c, r in todo:
                        operations.refresh(self, c, r)

    def pointing(self, cls: str, field: str, ref: str) -> list[str]:
        """The objects of ``cls`` whose ``field`` is ``ref`` (indexed fields only)."""
        return sorted(self._index[(cls, field)].get(ref, ()))

    def touch(self, cls: str, ref: str) -> None:
        """Emit a ``mod`` event without changing anything (event.inject)."""
        with self.lock:
            self.get(cls, ref)
            self._record_change(cls, ref, "mod")

    def destroy(self, cls: str, ref: str) -> None:
        with self.lock:
            record = self.get(cls, ref)
            del self.tables[cls][ref]
            if "uuid" in record:
                self.by_uuid[cls].pop(record["uuid"], None)
            self.raw_rows.get(cls, {}).pop(ref, None)
            self._record_change(cls, ref, "del")
            self._relink(cls, ref, record, {})
            self._derive_after(cls, ref, record, {})

    def _relink(self, cls: str, ref: str, before: dict, after: dict) -> None:
        """Keep the parents' back-reference sets in step with a child's ref fields."""
        for fname, parent_cls, set_field in _BY_CHILD.get(cls, ()):
            old, new = before.get(fname), after.get(fname)
            if old == new:
                continue
            parents = self.tables[parent_cls]
            if old in parents and ref in parents[old][set_field]:
                parents[old][set_field] = [r for r in parents[old][set_field] if r != ref]
                self._record_change(parent_cls, old, "mod")
            if new in parents and (not before or ref not in parents[new][set_field]):
                parents[new][set_field].append(ref)  # a new child cannot be listed yet
                self._record_change(parent_cls, new, "mod")

    def rebuild_relations(self) -> None:
        """Complete every back-reference set (after loading a dump); what the
        dump listed is kept, even references to objects it left out."""
        with self.lock:
            for child, fname, parent_cls, set_field in RELATIONS:
                parents = self.tables[parent_cls]
                for ref, rec in self.tables[child].items():
                    parent = rec.get(fname)
                    if parent in parents and ref not in parents[parent][set_field]:
                        parents[parent][set_field].append(ref)
            for (cls, field), index in self._index.items():
                index.clear()
                for ref, rec in self.tables[cls].items():
                    index.setdefault(rec[field], set()).add(ref)
            operations.refresh_all(self)

    def replace_contents(self, other: Store, keep: Iterable[str] = ("task",)) -> None:
        """Become ``other`` (a restored pool database), class by class, except
        the ``keep`` classes; every change is logged, so event.from sees it."""
        with self.lock:
            for cls in self.tables:
                if cls in keep:
                    continue
                fresh = other.tables.get(cls, {})
                for ref in [r for r in self.tables[cls] if r not in fresh]:
                    rec = self.tables[cls].pop(ref)
                    self.by_uuid[cls].pop(rec.get("uuid", ""), None)
                    self._record_change(cls, ref, "del")
                for ref, rec in fresh.items():
                    op = "mod" if ref in self.tables[cls] else "add"
                    self.tables[cls][ref] = rec
                    if rec.get("uuid"):
                        self.by_uuid[cls][rec["uuid"]] = ref
                    self._record_change(cls, ref, op)
            self.raw_rows, self.raw_tables = other.raw_rows, other.raw_tables
            self.rebuild_relations()

    def _record_change(self, cls: str, ref: str, op: str) -> None:
        self.generation += 1
        self._log_gens.append(self.generation)
        self._log.append((cls, ref, op))
        self.changed.notify_all()

    # events --------------------------------------------------------------
    @property
    def token(self) -> str:
        return f"{self.generation:020d},{self.message_generation:020d}"

    def changes_since(self, generation: int, wanted) -> list[tuple[int, str, str, str]]:
        """Objects changed after ``generation``: (gen, class, ref, op), one per object.

        ``op`` is add for objects created since, del for objects gone since
        (omitted when created and destroyed in the window), mod otherwise.
        """
        start = bisect.bisect_right(self._log_gens, generation)
        first: dict[tuple[str, str], str] = {}
        last: dict[tuple[str, str], tuple[int, str]] = {}
        for gen, (cls, ref, op) in zip(self._log_gens[start:], self._log[start:], strict=True):
            if not wanted(cls, ref):
                continue
            key = (cls, ref)
            first.setdefault(key, op)
            last[key] = (gen, op)
        out = []
        for key, (gen, op) in last.items():
            if first[key] == "add":
                if op == "del":
                    continue
                op = "add"
            out.append((gen, key[0], key[1], op))
        out.sort()
        return out

    def all_objects(self, wanted) -> Iterable[tuple[str, str]]:
        for cls, table in self.tables.items():
            for ref in table:
                if wanted(cls, ref):
                    yield cls, ref
