"""What an admin does with an SR: attach it on every host it has a PBD on,
detach it, forget it (the pool lets go; the data stays on the storage),
destroy it (its disks deleted first, as XAPI wants it empty: typed
confirmation, the VMs with disks on it listed first), and make it the pool's
default, suspend and crash-dump SR. An ISO library is forgotten, never
destroyed (its storage manager deletes nothing on the share: ISOSR.delete
does nothing), and is never the default SR (it holds no VM disks)."""

from __future__ import annotations

from ...xapi import views
from ...xapi.cache import Cache
from ..actions import Action, InvalidInput, Plan, RunContext
from ..values import listing
from .srs import sr_detail, sr_rows


def _iso_library(cache: Cache, sr: str) -> str:
    """The SR's name when it is an ISO library ('' otherwise)."""
    with cache.lock:
        rec = cache.get("sr", sr)
        return rec.name_label if rec is not None and rec.content_type == "iso" else ""


class _OneSr(Action):
    @staticmethod
    def refusal_on(cache: Cache, sr: str) -> str:
        """Why not on this SR as it is ('' when it may be): what the key is
        dimmed with, and what building it refuses."""
        return ""

    def __init__(self, cache: Cache, sr: str):
        row = next((r for r in sr_rows(cache) if r.ref == sr), None)
        if row is None:
            raise InvalidInput(["choose an SR in the list"])
        why = self.refusal_on(cache, sr)
        if why:
            raise InvalidInput([why])
        self.sr, self.row = sr, row
        self.detail = sr_detail(cache, sr)
        with cache.lock:
            self.uuid = cache.get("sr", sr).uuid
            # the xe equivalent names each PBD by its uuid, as the admin types it
            self.pbd_uuid = {
                ref: getattr(cache.get("pbd", ref), "uuid", ref) for ref, *_ in self.detail.pbds
            }

    def xe_pbd(self, verb: str, pbds) -> list[str]:
        return [f"xe pbd-{verb} uuid={self.pbd_uuid[ref]}  # on {h}" for ref, h in pbds]

    @property
    def running(self) -> list[str]:
        return [name for name, power in self.detail.vms if power in ("Running", "Paused")]

    def refuse_while_running(self, then: str) -> None:
        """Refused while VMs using the SR run; ``then``: what to do first."""
        if self.running:
            raise InvalidInput(
                [
                    f"running VMs have disks on {self.row.name}: "
                    + listing(self.running, 8)
                    + f" ({then})"
                ]
            )


class AttachSr(_OneSr):
    calls = ("PBD.plug", "PBD.unplug")

    @staticmethod
    def refusal_on(cache: Cache, sr: str) -> str:
        with cache.lock:
            pbds = [p for p in cache.table("pbd").values() if p.SR == sr]
            if pbds and all(p.currently_attached for p in pbds):
                return f"{cache.label('sr', sr)} is attached on every host already"
        return ""

    def __init__(self, cache: Cache, sr: str):
        super().__init__(cache, sr)
        self.pbds = [(ref, host) for ref, host, plugged, _ in self.detail.pbds if not plugged]
        if not self.detail.pbds:
            raise InvalidInput([f"{self.row.name} has no PBD: the pool does not know where it is"])

    def plan(self) -> Plan:
        return Plan(
            title=f"Attach {self.row.name}",
            summary=f"{self.row.name} is attached on {', '.join(h for _, h in self.pbds)}.",
            xe=self.xe_pbd("plug", self.pbds),
            steps=[f"PBD.plug on {h}" for _, h in self.pbds],
        )

    def run(self, ctx: RunContext) -> str:
        for pbd, host in self.pbds:
            ctx.task("PBD.plug", pbd)
            ctx.undo_task(f"detach it from {host} again", "PBD.unplug", pbd)
        return f"{self.row.name} is attached."


class DetachSr(_OneSr):
    calls = ("PBD.unplug", "PBD.plug")

    def __init__(self, cache: Cache, sr: str):
        super().__init__(cache, sr)
        self.refuse_while_running("shut them down or move their disks first")
        self.pbds = [(ref, host) for ref, host, plugged, _ in self.detail.pbds if plugged]
        if not self.pbds:
            raise InvalidInput([f"{self.row.name} is detached already"])

    def plan(self) -> Plan:
        impact = ["its disks cannot be used until it is attached again"]
        if self.row.default:
            impact.append("it is the pool's default SR: new VMs need another one meanwhile")
        return Plan(
            title=f"Detach {self.row.name}",
            summary=f"{self.row.name} is detached from {', '.join(h for _, h in self.pbds)}.",
            xe=self.xe_pbd("unplug", self.pbds),
            steps=[f"PBD.unplug on {h}" for _, h in self.pbds],
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        for pbd, host in self.pbds:
            ctx.task("PBD.unplug", pbd)
            ctx.undo_task(f"attach it on {host} again", "PBD.plug", pbd)
        if self.row.iso:
            return f"{self.row.name} is detached; f forgets it (its ISO files stay)."
        return f"{self.row.name} is detached; f forgets it, X destroys it."


class _DetachedSr(_OneSr):
    """Forget and destroy: only an SR attached nowhere."""

    def __init__(self, cache: Cache, sr: str):
        super().__init__(cache, sr)
        if self.row.attached:
            raise InvalidInput(
                [f"{self.row.name} is attached on {self.row.attached} host(s): detach it first (d)"]
            )


class ForgetSr(_DetachedSr):
    calls = ("SR.forget",)

    def plan(self) -> Plan:
        name, n, vms = self.row.name, self.detail.disks, [v for v, _ in self.detail.vms]
        if self.row.iso:
            where = next((c.get("location", "") for *_, c in self.detail.pbds), "")
            summary = (
                f"The pool forgets {name} (an ISO library) and its {n} image record(s); "
                f"the ISO files stay on the share{f' {where}' if where else ''}, untouched: "
                "a new ISO SR there lists them again."
            )
            impact = [f"VMs lose the ISO in their CD drive: {', '.join(vms)}"] if vms else []
        else:
            summary = (
                f"The pool forgets {name} and its {n} disk record(s); the data stays on "
                "the storage, where it can be introduced again."
            )
            impact = [f"VMs lose the disks they had there: {', '.join(vms)}"] if vms else []
        return Plan(
            title=f"Forget {name}",
            summary=summary,
            xe=[f"xe sr-forget uuid={self.uuid}"],
            steps=["SR.forget"],
            impact=impact,
            risk="medium" if impact or not self.row.iso else "low",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("SR.forget", self.sr)
        return f"The pool forgot {self.row.name}."


class DestroySr(_OneSr):
    """XAPI destroys only an empty SR (SR_NOT_EMPTY) that is detached
    (SR_HAS_PBD), and deletes a disk only on an attached one: the disks go
    first, the SR attached for it, then it is detached and destroyed."""

    calls = ("PBD.plug", "VDI.destroy", "PBD.unplug", "SR.destroy")

    @staticmethod
    def refusal_on(cache: Cache, sr: str) -> str:
        name = _iso_library(cache, sr)
        if not name:
            return ""
        return (
            f"{name} is an ISO library: destroying it would delete nothing on the share; "
            "forget it instead (f), its ISO files stay there"
        )

    def __init__(self, cache: Cache, sr: str):
        super().__init__(cache, sr)
        self.refuse_while_running("shut them down first")
        if not self.detail.pbds:
            raise InvalidInput([f"{self.row.name} has no PBD: it cannot be destroyed, forget it"])
        with cache.lock:  # what SR_NOT_EMPTY counts: managed disks, not RRD stores
            self.vdis = [
                (v.ref, v.name_label)
                for v in cache.table("vdi").values()
                if v.SR == sr and v.managed and v.type != "rrd"
            ]
        pbds = self.detail.pbds
        self.plug = [(r, h) for r, h, on, _ in pbds if not on] if self.vdis else []
        self.unplug = [(r, h) for r, h, on, _ in pbds if on or (r, h) in self.plug]

    def plan(self) -> Plan:
        vms = [n for n, _ in self.detail.vms]
        impact = [
            f"all {self.detail.disks} disk(s) on it are deleted, for good"
            if self.detail.disks
            else "it holds no disk: nothing but the SR itself is deleted"
        ]
        if vms:
            impact.insert(0, f"these VMs lose their disks there: {', '.join(vms)}")
        return Plan(
            title=f"Destroy {self.row.name}",
            summary=f"{self.row.name} and everything on it are deleted from the storage.",
            xe=self.xe_pbd("plug", self.plug)
            + [f"xe vdi-destroy uuid=<{name}>" for _, name in self.vdis]
            + self.xe_pbd("unplug", self.unplug)
            + [f"xe sr-destroy uuid={self.uuid}"],
            steps=[f"PBD.plug on {h}" for _, h in self.plug]
            + ([f"VDI.destroy of its {len(self.vdis)} disk(s)"] if self.vdis else [])
            + [f"PBD.unplug on {h}" for _, h in self.unplug]
            + ["SR.destroy"],
            impact=impact,
            risk="high",
            confirm_word=self.row.name,
        )

    def run(self, ctx: RunContext) -> str:
        for pbd, host in self.plug:
            ctx.task("PBD.plug", pbd)
            ctx.undo_task(f"detach it from {host} again", "PBD.unplug", pbd)
        if self.vdis:
            ctx.commit()  # a deleted disk does not come back
        for vdi, _name in self.vdis:
            ctx.task("VDI.destroy", vdi)
        for pbd, host in self.unplug:
            ctx.task("PBD.unplug", pbd)
            ctx.undo_task(f"attach it on {host} again", "PBD.plug", pbd)
        ctx.task("SR.destroy", self.sr)
        return f"{self.row.name} was destroyed."


ROLES = ("default_SR", "suspend_image_SR", "crash_dump_SR")


class SetDefaultSr(_OneSr):
    """The pool's default SR, and where suspend images and crash dumps go."""

    calls = ("pool.set_default_SR", "pool.set_suspend_image_SR", "pool.set_crash_dump_SR")

    @staticmethod
    def refusal_on(cache: Cache, sr: str) -> str:
        name = _iso_library(cache, sr)
        if name:
            return (
                f"{name} is an ISO library: the default SR holds VM disks, suspend images "
                "and crash dumps"
            )
        with cache.lock:
            pool = views.pool(cache)
            if pool is not None and all(getattr(pool, field) == sr for field in ROLES):
                return f"{cache.label('sr', sr)} is the default SR already"
        return ""

    def __init__(self, cache: Cache, sr: str):
        super().__init__(cache, sr)
        if self.row.hosts and not self.row.shared:
            raise InvalidInput([f"{self.row.name} is local to one host: choose a shared SR"])
        with cache.lock:
            pool = views.pool(cache)
            self.pool, self.pool_uuid = pool.ref, pool.uuid
            self.before = {field: getattr(pool, field) for field in ROLES}

    def plan(self) -> Plan:
        return Plan(
            title=f"Make {self.row.name} the default SR",
            summary=f"New VMs, suspend images and crash dumps go to {self.row.name}.",
            xe=[
                f"xe pool-param-set uuid={self.pool_uuid} default-SR={self.uuid} "
                f"suspend-image-SR={self.uuid} crash-dump-SR={self.uuid}"
            ],
            steps=[f"pool.set_{field}" for field in ROLES],
        )

    def run(self, ctx: RunContext) -> str:
        for field in ROLES:
            ctx.call(f"pool.set_{field}", self.pool, self.sr)
            old = self.before[field]
            ctx.on_undo(
                f"set {field} back",
                lambda f=field, o=old: ctx.conn.call(f"pool.set_{f}", self.pool, o),
            )
        return f"{self.row.name} is the default SR."


class RescanSr(_OneSr):
    calls = ("SR.scan",)

    def __init__(self, cache: Cache, sr: str):
        super().__init__(cache, sr)
        if not self.row.attached:
            raise InvalidInput([f"{self.row.name} is detached: attach it first (a)"])

    def plan(self) -> Plan:
        return Plan(
            title=f"Rescan {self.row.name}",
            summary=f"The storage manager looks for disks on {self.row.name} the pool does "
            "not know yet, and recounts what it uses.",
            xe=[f"xe sr-scan uuid={self.uuid}"],
            steps=["SR.scan"],
        )

    def run(self, ctx: RunContext) -> str:
        ctx.task("SR.scan", self.sr)
        return f"{self.row.name} rescanned."
