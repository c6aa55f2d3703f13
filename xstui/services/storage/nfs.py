"""An NFS SR from what the server exports: the storage manager's probe (the
export list, which it sends back as SR_BACKEND_FAILURE_101, and the SRs
already at a path), then ``SR.create`` with the device-config it needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...areas import see
from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.connection import Connection, XapiFailure
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, problem_of
from .block import forget_new_sr

EXPORT_RE = re.compile(r"<Path>\s*([^<]+?)\s*</Path>")
SR_RE = re.compile(r"<UUID>\s*([^<]+?)\s*</UUID>")
NFS_VERSIONS = ("3", "4", "4.1")


def _probe(conn: Connection, config: dict[str, str]) -> str:
    return conn.call("SR.probe", conn.this_host, config, "nfs", {})


def probe_exports(conn: Connection, server: str) -> list[str]:
    """The paths the server exports; XapiFailure (in words) when it has none
    or cannot be reached."""
    v.host_or_ip(server, "NFS server")
    try:
        _probe(conn, {"server": server})
    except XapiFailure as exc:
        if exc.code == "SR_BACKEND_FAILURE_101":  # no path given: the answer is the list
            return EXPORT_RE.findall(" ".join(exc.details))
        raise
    return []


def srs_at(conn: Connection, server: str, path: str) -> list[str]:
    """The uuids of the SRs already at that export path."""
    return SR_RE.findall(_probe(conn, {"server": server, "serverpath": path}))


@dataclass(frozen=True)
class NfsTarget:
    server: str
    path: str
    version: str

    @property
    def device_config(self) -> dict[str, str]:
        return {"server": self.server, "serverpath": self.path, "nfsversion": self.version}


class CreateNfsSr(Action):
    calls = ("SR.create", "PBD.unplug", "SR.forget")

    @staticmethod
    def fields(server: str, exports: list[str], existing: dict[str, int]) -> list[Field]:
        labels = [f"{p}  ({existing[p]} SR there)" if existing.get(p) else p for p in exports]
        free = [p for p in exports if not existing.get(p)]  # offered first: unused exports
        return [
            Field("path", "Export", free[0] if free else labels[0], choices=labels),
            Field("name", "Name", f"NFS {server}", problem_of(_name)),
            Field("version", "NFS version", "3", choices=NFS_VERSIONS),
        ]

    def __init__(self, cache: Cache, server: str, path: str, name: str, version: str = "3"):
        problems = []
        try:
            server = v.host_or_ip(server, "NFS server")
        except InvalidInput as exc:
            problems += exc.problems
        path = path.split("  (")[0].strip()  # the choice's note about SRs already there
        if not path.startswith("/"):
            problems.append("the export path starts with /")
        try:
            name = _name(name)
        except InvalidInput as exc:
            problems += exc.problems
        if version not in NFS_VERSIONS:
            problems.append(f"NFS version: one of {', '.join(NFS_VERSIONS)}")
        if problems:
            raise InvalidInput(problems)
        self.target = NfsTarget(server, path, version)
        self.name = name
        with cache.lock:
            self.hosts = len(cache.table("host"))
            pool = views.pool(cache)
            self.master = pool.master if pool else ""

    def plan(self) -> Plan:
        t = self.target
        return Plan(
            title=f"New NFS SR {self.name}",
            summary=f"An SR on {t.server}:{t.path} (NFS {t.version}), attached on all "
            f"{self.hosts} hosts.",
            xe=[
                f'xe sr-create type=nfs shared=true content-type=user name-label="{self.name}" '
                f"device-config:server={t.server} device-config:serverpath={t.path} "
                f"device-config:nfsversion={t.version}"
            ],
            steps=["SR.create (a folder of its own on the export, a PBD plugged on each host)"],
            impact=["every host mounts the export on its storage network"],
        )

    def run(self, ctx: RunContext) -> str:
        sr = ctx.task(
            "SR.create",
            self.master,
            self.target.device_config,
            "0",
            self.name,
            "",
            "nfs",
            "user",
            True,
            {},
        )
        ctx.on_undo(f"forget the new SR {self.name}", lambda: forget_new_sr(ctx, sr))
        return f"{self.name} is attached on every host."


def _name(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput(["give the SR a name"])
    if len(text) > 128:
        raise InvalidInput(["the name is longer than 128 characters"])
    return text


def exports_with_srs(conn: Connection, server: str) -> dict[str, list[str]]:
    """Each path the server exports, with the uuids of the SRs already there."""
    return {path: srs_at(conn, server, path) for path in probe_exports(conn, server)}


def unknown_srs(cache: Cache, uuids: list[str]) -> list[str]:
    """Those of ``uuids`` the pool does not know (forgotten, or another
    pool's): attaching one brings its disks back."""
    with cache.lock:
        known = {sr.uuid for sr in cache.table("sr").values()}
    return [u for u in uuids if u not in known]


def unknown_srs_at(conn: Connection, server: str, path: str) -> list[str]:
    return unknown_srs(conn.cache, srs_at(conn, server, path))


class AttachExistingSr(Action):
    """An SR already on the storage (forgotten, or another pool's: a
    portable SR), attached to this pool: ``SR.introduce``, a PBD per host
    (``PBD.create``, ``PBD.plug``), then ``SR.scan`` finds its disks. Each
    write is a task (a dropped connection is looked up, not resent blindly);
    a failure forgets the SR again: the pool is as it was."""

    calls = ("SR.introduce", "PBD.create", "PBD.plug", "SR.scan", "PBD.unplug", "SR.forget")
    IMPACT = f"its VMs' disks are back; VMs whose records were lost need their metadata: {see('backup', 'g')}"

    def __init__(
        self,
        cache: Cache,
        kind: str,
        device_config: dict[str, str],
        uuid: str,
        name: str,
        where: str,
    ):
        self.kind, self.device_config, self.where = kind, dict(device_config), where
        self.uuid, self.name = uuid, _name(name)
        with cache.lock:
            if any(sr.uuid == uuid for sr in cache.table("sr").values()):
                raise InvalidInput([f"the pool knows the SR {uuid} already"])
            self.hosts = sorted((h.name_label, h.ref) for h in cache.table("host").values())
        if not self.hosts:  # the pool not read yet: the SR would be introduced and never attached
            raise InvalidInput(["the pool's hosts are not known yet: try again in a moment"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r}, {self.uuid!r})"  # never the CHAP secret

    def xe_config(self) -> str:
        return " ".join(
            f"device-config:{k}={'******' if k == 'chappassword' else v}"
            for k, v in self.device_config.items()
        )

    def plan(self) -> Plan:
        return Plan(
            title=f"Attach the existing SR {self.name}",
            summary=f"The SR {self.uuid} on {self.where} is introduced to the pool and "
            f"attached on all {len(self.hosts)} hosts; its disks come back with a scan.",
            xe=[
                f"xe sr-introduce uuid={self.uuid} type={self.kind} shared=true "
                f'content-type=user name-label="{self.name}"',
                f"xe pbd-create host-uuid=<each host> sr-uuid={self.uuid} {self.xe_config()}",
                "xe pbd-plug uuid=<each PBD>",
                f"xe sr-scan uuid={self.uuid}",
            ],
            steps=[
                "SR.introduce",
                *[f"PBD.create and plug on {n}" for n, _ in self.hosts],
                "SR.scan",
            ],
            impact=[self.IMPACT],
        )

    def run(self, ctx: RunContext) -> str:
        sr = ctx.task("SR.introduce", self.uuid, self.name, "", self.kind, "user", True, {})
        ctx.on_undo(f"forget {self.name} again", lambda: forget_new_sr(ctx, sr))
        for host_name, host in self.hosts:
            ctx.note(f"attaching on {host_name}")
            pbd = ctx.task(
                "PBD.create", {"host": host, "SR": sr, "device_config": self.device_config}
            )
            ctx.task("PBD.plug", pbd)
        ctx.note(f"scanning {self.name} for its disks")
        ctx.task("SR.scan", sr)
        self.sr = sr
        return f"{self.name} is attached again, with its disks."


class AttachExistingNfsSr(AttachExistingSr):
    """An SR already on an NFS export (forgotten, or another pool's)."""

    def __init__(self, cache: Cache, target: NfsTarget, uuid: str, name: str):
        self.target = target
        where = f"{target.server}:{target.path}"
        super().__init__(cache, "nfs", target.device_config, uuid, name, where)
