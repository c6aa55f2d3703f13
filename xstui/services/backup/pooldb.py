"""The pool database: dumped to a file (``GET /pool/xmldbdump``), and
restored only after a dry run (``PUT /pool/xmldbdump?dry_run=true``) whose
verdict is shown beside what would change: the hosts, VMs and SRs in the
file against the pool now."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.transfer import upload
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import HERE, Field, problem_of
from ..values import listing, size
from .transfers import backup_folder, fetch, new_file, save_to, to_make, with_task

KINDS = ("host", "VM", "SR")


@dataclass
class DbSummary:
    """What a database file holds, by name: hosts, VMs (not templates,
    snapshots or control domains) and SRs."""

    pool: str = ""
    # names may repeat (each host's "Local storage"): counted, not merely collected
    names: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})


def summarize(path: Path) -> DbSummary:
    """Read a database file as a stream; InvalidInput when it is not one."""
    summary, table, seen_root = DbSummary(), "", False
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                if elem.tag == "table":
                    table = elem.get("name", "")
                elif elem.tag == "database":
                    seen_root = True
                continue
            if elem.tag == "row":
                _count(summary, table, elem.attrib)
                elem.clear()
    except (ET.ParseError, OSError) as exc:
        raise InvalidInput([f"{path} is not a readable pool database ({exc})"]) from None
    if not seen_root:
        raise InvalidInput([f"{path} is not a pool database (no <database>)"])
    return summary


def database_file(text: str) -> Path:
    """A file to restore from: readable here, and it starts as a pool database does."""
    return v.file_to_read(text, "pool database")


def _count(summary: DbSummary, table: str, row: dict[str, str]) -> None:
    name = row.get("name__label", "")
    if table == "pool":  # the pool's column is name_label: outside the "name" namespace
        summary.pool = row.get("name_label", name)
    elif table == "host" or table == "SR":
        summary.names[table][name] += 1
    elif table == "VM" and not any(
        row.get(flag) == "true" for flag in ("is_a_template", "is_a_snapshot", "is_control_domain")
    ):
        summary.names["VM"][name] += 1


def current(cache: Cache) -> DbSummary:
    """The same view of the pool as it is now."""
    with cache.lock:
        pool = views.pool(cache)
        return DbSummary(
            pool.name_label if pool else "",
            {
                "host": Counter(h.name_label for h in cache.table("host").values()),
                "VM": Counter(vm.name_label for vm in views.user_vms(cache)),
                "SR": Counter(sr.name_label for sr in cache.table("sr").values()),
            },
        )


def compare(backup: DbSummary, now: DbSummary) -> list[tuple[str, str, str]]:
    """(kind, name, what a restore does to it): "comes back" (in the file,
    not in the pool), "goes away" (in the pool, not in the file); objects in
    both are left out. Sorted by kind, then name."""
    rows = []
    for kind in KINDS:
        for name, n in sorted((backup.names[kind] - now.names[kind]).items()):
            rows += [(kind, name, "comes back")] * n
        for name, n in sorted((now.names[kind] - backup.names[kind]).items()):
            rows += [(kind, name, "goes away")] * n
    return rows


def dry_run(ctx: RunContext, path: Path) -> None:
    """XAPI's own check of the file against this pool; raises its refusal."""
    with_task(
        ctx,
        "xstui: database restore dry run",
        lambda task: upload(
            ctx.conn,
            "/pool/xmldbdump",
            {"dry_run": "true", "task_id": task},
            path,
            cancel=ctx.cancel,
        ),
    )


class DumpDatabase(Action):
    calls = ("http/get_pool_xml_db_sync",)  # the pool database holds its secrets: pool-admin

    @staticmethod
    def fields(cache: Cache) -> list[Field]:
        pool = views.pool(cache)
        return [save_to(pool.name_label if pool else "pool", ".db")]

    def __init__(self, cache: Cache, path: str):
        self.path = new_file(path)
        pool = views.pool(cache)
        self.pool = pool.name_label if pool else "the pool"

    def plan(self) -> Plan:
        return Plan(
            title=f"Dump the database of {self.pool}",
            summary=f"The pool database is saved to {self.path}.",
            xe=[f"xe pool-dump-database file-name={self.path}"],
            steps=[
                *to_make(self.path.parent),
                "GET /pool/xmldbdump (streamed to a temporary file, renamed when complete)",
            ],
            impact=[
                "nothing changes on the pool",
                "the file holds every object's configuration (not the VMs' disks): keep it "
                "somewhere safe, off the pool",
            ],
        )

    def run(self, ctx: RunContext) -> str:
        written = fetch(ctx, "xstui: dump database", "/pool/xmldbdump", {}, self.path)
        return f"Saved {size(written)} to {self.path}."


class RestoreDatabase(Action):
    """After the dry run passed: the pool becomes the file's. The master's
    toolstack restarts; the console reconnects by itself."""

    exclusive = "a database restore"  # one console at a time (services.claims)
    calls = ("http/put_pool_xml_db_sync",)

    @staticmethod
    def fields() -> list[Field]:
        """Which file: the newest dump in the backup folder at first."""
        dumps = sorted(backup_folder().glob("*.db"), key=lambda p: p.stat().st_mtime)
        path = str(dumps[-1]) if dumps else ""
        return [Field("path", f"Database file ({HERE})", path, problem_of(database_file))]

    def __init__(self, cache: Cache, path: Path, changes: list[tuple[str, str, str]]):
        self.path, self.changes = path, changes
        pool = views.pool(cache)
        self.pool = pool.name_label if pool else "pool"
        self.before = current(cache)  # to tell, read back, whether it was replaced

    def plan(self) -> Plan:
        away = [f"{k} {n}" for k, n, what in self.changes if what == "goes away"]
        back = [f"{k} {n}" for k, n, what in self.changes if what == "comes back"]
        impact = [
            "the master's toolstack restarts: every client (XenCenter, scripts, this "
            "console) is disconnected for a moment; running VMs keep running",
            "every change made since the dump is lost",
        ]
        if away:
            impact.append(f"{len(away)} object(s) leave the pool's records: {listing(away)}")
        if back:
            impact.append(f"{len(back)} come back: {listing(back)}")
        return Plan(
            title=f"Restore the database of {self.pool}",
            summary=f"The pool database is replaced by {self.path} (its dry run passed).",
            xe=[f"xe pool-restore-database file-name={self.path} dry-run=false"],
            steps=["PUT /pool/xmldbdump", "the master's toolstack restarts"],
            impact=impact,
            risk="high",
            confirm_word=self.pool,
        )

    def verify(self, conn) -> tuple[bool | None, str]:
        """Whether the pool is now the file's, from its hosts, VMs and SRs."""
        now, backup = current(conn.cache), summarize(self.path)
        if not compare(backup, self.before):
            return None, (
                "the file and the pool held the same hosts, VMs and SRs, so they cannot "
                "tell whether the database was replaced; look for a change made since the dump"
            )
        if not compare(backup, now):
            return True, "it holds the file's hosts, VMs and SRs: the database was replaced"
        if not compare(self.before, now):
            return False, "it holds what it held before: the database was not replaced"
        return None, "it matches neither the file nor what it held before"

    def run(self, ctx: RunContext) -> str:
        with_task(
            ctx,
            "xstui: database restore",
            lambda task: upload(ctx.conn, "/pool/xmldbdump", {"task_id": task}, self.path),
        )
        ctx.commit()
        return f"Restored from {self.path}; the toolstack restarts and the console reconnects."
