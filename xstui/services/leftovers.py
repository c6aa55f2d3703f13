"""Removing what an interrupted job left behind (see :mod:`.inflight`): each
thing its journal names that is still there, then the journal."""

from __future__ import annotations

from pathlib import Path

from ..datamodel import NULL_REF
from ..files import partial_files
from ..xapi.cache import Cache
from ..xapi.connection import ConnectionLost, XapiFailure
from .actions import Action, Plan, RunContext
from .inflight import Item, Job, interrupted
from .values import size


def to_remove(cache: Cache) -> list[RemoveLeftovers]:
    """For each interrupted job of this pool that left something still
    there, the action that removes it; journals naming nothing left go."""
    with cache.lock:
        pool = next(iter(cache.table("pool").values()), None)
    out = []
    for job in interrupted(pool.uuid if pool else ""):
        action = RemoveLeftovers(cache, job)
        if action.found:
            out.append(action)
        elif job.path is not None:
            job.path.unlink(missing_ok=True)
    return out


class RemoveLeftovers(Action):
    """Remove what an interrupted job left (each thing still there), then its journal."""

    calls = ("VM.destroy", "VDI.destroy")

    def __init__(self, cache: Cache, job: Job):
        self.job = job
        self.found: list[tuple[Item, str]] = []  # each thing still there, in words
        with cache.lock:
            for item in job.items:
                if item.kind == "file":
                    for part in partial_files(Path(item.key)):
                        self.found.append((item, f"{item.name}: {part} ({size(_size(part))})"))
                    continue
                if _by_uuid(cache, item) is not None:
                    self.found.append((item, f"the {item.kind} {item.name!r} ({item.key})"))

    def plan(self) -> Plan:
        job = self.job
        xe = []
        for item, _words in self.found:
            if item.kind == "snapshot":
                xe.append(f"xe snapshot-uninstall uuid={item.key} force=true")
            elif item.kind == "vdi":
                xe.append(f"xe vdi-destroy uuid={item.key}")
        files = {
            p
            for item, _ in self.found
            if item.kind == "file"
            for p in partial_files(Path(item.key))
        }
        xe += [f"rm {f}" for f in sorted(files)]
        return Plan(
            f"Leftovers of: {job.title}",
            f"{job.title} (by {job.user}, {job.when()}) ended without cleaning up: its "
            "console was stopped or lost. What it left behind is removed.",
            xe,
            steps=[words for _item, words in self.found],
            impact=["Nothing else is touched: each thing named was made by that job."],
            risk="low",
        )

    def run(self, ctx: RunContext) -> str:
        conn, done = ctx.conn, 0
        for item, _words in self.found:
            if item.kind == "file":
                for part in partial_files(Path(item.key)):
                    part.unlink(missing_ok=True)
            else:
                with conn.cache.lock:
                    rec = _by_uuid(conn.cache, item)
                if rec is None:
                    continue  # gone meanwhile
                if item.kind == "snapshot":
                    destroy_snapshot(ctx, rec.ref, snapshot_disks(conn, rec.ref))
                else:
                    destroy_snapshot(ctx, None, [rec.ref])
            done += 1
        if self.job.path is not None:
            self.job.path.unlink(missing_ok=True)
        return f"Removed {done} leftover(s) of {self.job.title}."


RECONNECT_SECONDS = 30  # how long a removal waits for a dropped connection to come back


def snapshot_disks(conn, snap: str) -> list[str]:
    """The disks that go with a snapshot, as ``xe snapshot-uninstall`` picks
    them: the VDIs of its VBDs marked as its own (``other_config:owner``,
    set by XAPI on a snapshot's disks; never an ISO in its CD drive), and
    its memory image (a checkpoint's suspend VDI)."""
    out = []
    for vbd in conn.call("VM.get_VBDs", snap):
        rec = conn.call("VBD.get_record", vbd)  # one call for both fields
        if "owner" in rec["other_config"] and rec["VDI"] != NULL_REF:
            out.append(rec["VDI"])
    image = conn.call("VM.get_suspend_VDI", snap)
    return out + ([image] if image != NULL_REF else [])


def destroy_snapshot(
    ctx: RunContext, snap: str | None, vdis: list[str], *, suspended: bool = False
) -> None:
    """The snapshot (if any) and its disks go; a ``suspended`` one (a
    checkpoint) is shut down first, as xe does, which drops its memory image.
    A call whose connection dropped is sent again once the console is back
    (gone already counts as done)."""
    steps = [("VM.hard_shutdown", snap)] if snap and suspended else []
    steps += ([("VM.destroy", snap)] if snap else []) + [("VDI.destroy", vdi) for vdi in vdis]
    for method, ref in steps:
        for attempt in range(2):
            try:
                ctx.conn.call(method, ref)
                break
            except XapiFailure as exc:
                if exc.code == "HANDLE_INVALID":
                    break  # the host did it before the reply was lost
                raise
            except ConnectionLost:
                if attempt or not ctx.conn.cache.wait_for(
                    lambda: ctx.conn.state == "connected", RECONNECT_SECONDS
                ):
                    raise


def _by_uuid(cache: Cache, item: Item):
    table = cache.table("vm" if item.kind == "snapshot" else "vdi")
    return next((r for r in table.values() if r.uuid == item.key), None)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
