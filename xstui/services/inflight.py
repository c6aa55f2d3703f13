"""Journals of jobs in flight: what a long job makes that would be left
behind if its console were killed halfway (a VM backup's snapshot, a
download's partial file), written down as the job makes each thing
(``$XDG_STATE_HOME/xstui/inflight/``) and struck off once it is gone again.
The next console on that pool finds the journals of jobs whose process is
gone (:func:`interrupted`) and offers to remove what they name
(:class:`xstui.services.leftovers.RemoveLeftovers`)."""

from __future__ import annotations

import json
import os
import time
import uuid as uuids
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..files import write_atomic
from ..xapi.config import state_dir

KINDS = ("snapshot", "file", "vdi")
MAX_JOURNAL_BYTES = 1 << 20  # a journal is a few lines; anything bigger is not one


def folder() -> Path:
    return state_dir() / "inflight"


def _started(pid: int) -> float:
    """When process ``pid`` started (0 when there is none): with the pid, what
    tells a live console from a new process that took a dead one's pid."""
    import psutil  # here: the first Status frame does not wait for it

    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return 0.0


@dataclass
class Item:
    kind: str  # one of KINDS
    key: str  # the object's uuid, or the file's path
    name: str  # in words: the snapshot's name, "the backup file"


@dataclass
class Job:
    """One job's journal."""

    title: str  # the action's plan title: "Back up web-01 to an XVA"
    pool: str  # the pool's uuid
    user: str
    pid: int = field(default_factory=os.getpid)
    process_started: float = field(default_factory=lambda: _started(os.getpid()))
    started: float = field(default_factory=time.time)
    items: list[Item] = field(default_factory=list)
    path: Path | None = None  # where the journal is (not written in it)

    @property
    def alive(self) -> bool:
        return self.process_started > 0 and _started(self.pid) == self.process_started

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started))


class Journal:
    """A running job's journal: ``add`` as each thing is made, ``strike`` once
    it is gone again, ``close`` when the job has ended and cleaned up (the
    file goes). Written only once there is something to write."""

    def __init__(self, title: str, pool: str, user: str):
        self.job = Job(title, pool, user)
        self.path = folder() / f"{os.getpid()}-{uuids.uuid4().hex[:12]}.json"

    def add(self, kind: str, key: str, name: str) -> None:
        assert kind in KINDS
        self.job.items.append(Item(kind, key, name))
        self._write()

    def strike(self, key: str) -> None:
        items = self.job.items
        self.job.items = [i for i in items if i.key != key]
        if len(self.job.items) != len(items):
            self._write()

    def close(self) -> None:
        self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        if not self.job.items:
            self.close()
            return
        record = {k: v for k, v in asdict(self.job).items() if k != "path"}
        write_atomic(self.path, json.dumps(record, indent=1))


def _load(path: Path) -> Job | None:
    try:
        if path.stat().st_size > MAX_JOURNAL_BYTES:
            return None
        record = json.loads(path.read_text())
        items = [Item(**i) for i in record.pop("items")]
        job = Job(**record, items=[i for i in items if i.kind in KINDS], path=path)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # not a journal of ours (or half of one): left alone
    return job


def interrupted(pool: str) -> list[Job]:
    """The journals of this pool's jobs whose console is gone, oldest first."""
    try:
        paths = sorted(folder().glob("*.json"))
    except OSError:
        return []
    jobs = [job for p in paths if (job := _load(p)) is not None]
    return sorted(
        (j for j in jobs if j.pool == pool and not j.alive and j.items), key=lambda j: j.started
    )
