"""An NFS SR from what the server exports: the storage manager's probe (the
export list, which it sends back as SR_BACKEND_FAILURE_101, and the SRs
already at a path), then ``SR.create`` with the device-config it needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

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

    @property
    def device_config(self) -> dict[str, str]:
        t = self.target
        return {"server": t.server, "serverpath": t.path, "nfsversion": t.version}

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
            self.device_config,
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
