"""The rolling pool update: the master first, then each member: disable,
move its VMs away (when it will reboot), apply what it lacks, reboot when the
guidance says so and wait until it is back, live and enabled, restart the
toolstack when that is the guidance, enable, move its VMs back (as XenCenter
does; each one that was stopped, moved by someone else or cannot go back is
left where it is, and said), next host.

Resumable: a journal (``$XDG_STATE_HOME/xstui/rolling/<pool uuid>.json``)
records each step once it is done, written atomically. Started again after
the console, the connection or the laptop died, the update continues where it
stopped and never applies or reboots twice: an update is applied only when the
host does not have it (an "already applied" answer counts as done), and a
reboot is written down as intended (with the host's boot time) before it is
sent; found intended but not done, the host's boot time and liveness say
whether it went, and it is sent only when the host stayed up for
``SETTLE_SECONDS``. Esc stops after the current host, every host enabled."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ...files import write_atomic
from ...xapi import operations, views
from ...xapi.cache import Cache
from ...xapi.config import state_dir
from ...xapi.connection import XapiFailure
from .. import claims
from ..actions import Action, InvalidInput, Plan, RunContext, TaskFailed
from ..fields import Field
from ..host.maintenance import Blocker, blocked_text, evacuation_blockers
from ..placement import reason_in_words
from ..values import duration, listing
from .generation import REPOSITORIES
from .guidance import explain, needs_reboot, needs_toolstack
from .model import UpdatesView, build, read_document

SETTLE_SECONDS = 30  # a reboot sent shows (host down or a new boot time) within this
BACK_SECONDS = 30 * 60  # how long a host may take to come back
BLOCKED_CHOICES = ("refuse", "shut them down")
CLAIM_SECONDS = BACK_SECONDS + 30 * 60  # the pool's marker, renewed at each host
MOVED_SECONDS = 30  # an evacuation's moves reach the console's cache within this
BOARD_ROWS = 9  # hosts the progress dialog lists at once (a window around the current one)


# the journal -------------------------------------------------------------------------
def journal_dir() -> Path:
    return state_dir() / "rolling"


class Journal:
    """What a rolling update has done, host by host (by uuid), on disk."""

    def __init__(self, path: Path, data: dict):
        self.path, self.data = path, data
        self.lock = threading.Lock()

    @classmethod
    def load(cls, pool_uuid: str) -> Journal | None:
        """The unfinished rolling update of this pool, if there is one."""
        path = journal_dir() / f"{pool_uuid}.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("finished") or data.get("pool") != pool_uuid:
            return None
        return cls(path, data)

    @classmethod
    def new(cls, pool_uuid: str, updates: list[str], order: list[str], blocked: str) -> Journal:
        data = {
            "pool": pool_uuid,
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "updates": updates,
            "order": order,
            "blocked": blocked,
            "hosts": {u: {"steps": []} for u in order},
            "finished": False,
        }
        journal = cls(journal_dir() / f"{pool_uuid}.json", data)
        journal.save()
        return journal

    def done(self, host: str, step: str) -> bool:
        return step in self.data["hosts"].get(host, {}).get("steps", [])

    def host(self, host: str) -> dict:
        return self.data["hosts"].setdefault(host, {"steps": []})

    def mark(self, host: str, step: str, **extra) -> None:
        with self.lock:
            rec = self.host(host)
            if step not in rec["steps"]:
                rec["steps"].append(step)
            rec.update(extra)
            self.save()

    def reopen(self, host: str) -> None:
        """The host is to be done again (the pool says it lacks an update the
        journal has it done with: reinstalled, reverted, a database restored)."""
        with self.lock:
            self.data["hosts"][host] = {"steps": []}
            self.save()

    def finish(self) -> None:
        self.data["finished"] = True
        self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=1))

    def progress(self, host: str) -> str:
        """One word for the screen: what this host has reached."""
        steps = self.data["hosts"].get(host, {}).get("steps", [])
        if "done" in steps:
            return "done"
        last = steps[-1].split(":")[0] if steps else ""
        return _REACHED.get(last, "waiting")


_REACHED = {
    "disable": "disabled",
    "leaving": "emptying",
    "evacuate": "emptied",
    "applied": "applying",
    "apply": "applied",
    "reboot-intent": "rebooting",
    "reboot": "rebooting",
    "start": "started",
    "back": "back",
    "enable": "enabled",
    "toolstack": "toolstack",
    "returning": "returning",
    "return": "VMs back",
}


def _vms_said(rec: dict) -> str:
    """A host's VMs in the run, in a few words: moved away, or back and left."""
    if "back" in rec or "left" in rec:
        back, left = len(rec.get("back", [])), len(rec.get("left", {}))
        return f"{back} back" + (f", {left} left" if left else "")
    if "moved" in rec:
        return f"{len(rec['moved'])} away"
    if "vms" in rec:
        return f"{len(rec['vms'])} to move"
    return ""


# what to check before -------------------------------------------------------------------
@dataclass(frozen=True)
class Preparation:
    view: UpdatesView
    blockers: dict[str, list[Blocker]]  # host ref -> VMs that cannot move off it
    journal: Journal | None  # an unfinished run of this pool


def prepare(conn, view: UpdatesView) -> Preparation:
    """The reads a rolling update needs before its dialog: what keeps VMs on
    each host (XAPI's own evacuation plan), and an unfinished journal."""
    blockers = {h.ref: evacuation_blockers(conn, h.ref) for h in view.hosts if h.live}
    pool = views.pool(conn.cache)
    return Preparation(view, blockers, Journal.load(pool.uuid))


def _guidance(view: UpdatesView, host: str, updates=None) -> set[str]:
    """What a host will be asked once it has the updates it lacks (of
    ``updates``, all when None), with what is pending already."""
    h = view.host(host)
    if h is None:
        return set()
    names = set(h.missing) if updates is None else set(h.missing) & set(updates)
    return {g for u in view.updates if u.name in names for g in u.guidance} | set(h.pending)


def _rebooting(view: UpdatesView) -> set[str]:
    return {h.ref for h in view.hosts if needs_reboot(_guidance(view, h.ref))}


def host_uuid(cache: Cache, host: str) -> str:
    rec = cache.get("host", host)
    return rec.uuid if rec is not None else ""


class RollingUpdate(Action):
    calls = (
        "host.disable",
        "host.evacuate",
        "host.enable",
        "host.reboot",
        "host.restart_agent",
        "VM.clean_shutdown",
        "VM.start_on",
        "VM.pool_migrate",
        "pool_patch.apply",
        "pool_update.apply",
        "host.apply_updates",
        "host.call_plugin",
    )
    # each generation applies its own way (generation.py asks the API which)
    optional = ("pool_patch.apply", "pool_update.apply", "host.apply_updates", "host.call_plugin")
    exclusive = "a rolling update"
    claim_seconds = CLAIM_SECONDS  # renewed at each host

    @classmethod
    def calls_for(cls, generation) -> tuple[str, ...]:
        """The calls a run on a pool of this generation makes (what RBAC checks
        before anything)."""
        apply = (generation.apply_call,) if generation.apply_call else ()
        return tuple(c for c in cls.calls if c not in cls.optional) + apply

    @staticmethod
    def question(prep: Preparation) -> str:
        """The form's title: which VMs cannot move, where."""
        rebooting = _rebooting(prep.view)
        stuck = [
            f"{prep.view.host(ref).name}: {listing(b.name for b in found)}"
            for ref, found in prep.blockers.items()
            if found and ref in rebooting
        ]
        return "Rolling pool update. VMs that cannot move (local storage...): " + "; ".join(stuck)

    @staticmethod
    def fields(prep: Preparation) -> list[Field]:
        rebooting = _rebooting(prep.view)
        if prep.journal is not None or not any(prep.blockers.get(r) for r in rebooting):
            return []
        return [
            Field("blocked", "VMs that cannot move", BLOCKED_CHOICES[0], choices=BLOCKED_CHOICES)
        ]

    def __init__(self, cache: Cache, prep: Preparation, blocked: str = BLOCKED_CHOICES[0]):
        view = prep.view
        self.view, self.generation, self.journal = view, view.generation, prep.journal
        with cache.lock:
            pool = views.pool(cache)
            self.pool_uuid = pool.uuid
            self.ha = pool.ha_enabled
            self.ha_tolerates = pool.ha_plan_exists_for
            self.uuids = {h.ref: host_uuid(cache, h.ref) for h in view.hosts}
        self.by_uuid = {u: r for r, u in self.uuids.items()}
        self.calls = self.calls_for(self.generation)
        problems = []
        self.redo: list[str] = []  # hosts the journal has done that the pool says lack one
        if self.journal is not None:
            self.updates = list(self.journal.data["updates"])
            self.blocked = self.journal.data.get("blocked", BLOCKED_CHOICES[0])
            gone = [u for u in self.journal.data["order"] if u not in self.by_uuid]
            if gone:
                problems.append(
                    f"{len(gone)} host(s) of the unfinished run left the pool; "
                    f"remove {self.journal.path} to start afresh"
                )
        else:
            if blocked not in BLOCKED_CHOICES:
                problems.append(f"for VMs that cannot move, choose {' or '.join(BLOCKED_CHOICES)}")
            self.blocked = blocked
            self.updates = sorted({n for h in view.hosts for n in h.missing})
            if not self.updates and not any(needs_reboot(h.pending) for h in view.hosts):
                problems.append("every host has every update: nothing to do")
        down = [h.name for h in view.hosts if not h.live]
        if down:
            problems.append(f"not live: {listing(down)}; bring them back first")
        # hosts that lack an update, or wait for a reboot an earlier apply asked for
        if self.journal is not None:  # the journal is not the truth: the pool is
            wanted = set(self.updates)
            self.redo = [
                h.name
                for h in view.hosts
                if self.journal.done(self.uuids[h.ref], "done") and wanted & set(h.missing)
            ]
        self.todo = [
            h
            for h in view.hosts
            if (
                self.journal
                and (not self.journal.done(self.uuids[h.ref], "done") or h.name in self.redo)
            )
            or (not self.journal and (h.missing or needs_reboot(h.pending)))
        ]
        self.reboots = [h.name for h in self.todo if needs_reboot(self._guidance(h.ref))]
        blocking = {
            ref: b for ref, b in prep.blockers.items() if b and view.host(ref).name in self.reboots
        }
        if blocking and self.blocked == BLOCKED_CHOICES[0]:
            problems.append(
                "VMs that cannot move: "
                + "; ".join(f"{view.host(r).name}: {blocked_text(b)}" for r, b in blocking.items())
                + ". Choose to shut them down (they start again after), or move them first"
            )
        self.blocking = blocking
        if self.ha and self.reboots and self.ha_tolerates < 1:
            problems.append(
                "HA is on and the pool cannot tolerate a host being down "
                "(its plan covers no failure): free capacity or disable HA first"
            )
        if problems:
            raise InvalidInput(problems)

    _board = None  # the progress dialog's table, as last read

    def _guidance(self, host: str) -> set[str]:
        return _guidance(self.view, host, self.updates)

    def plan(self) -> Plan:
        order = [h.name for h in self.todo]
        if self.journal is not None:
            done = [
                self.view.host(self.by_uuid[u]).name
                for u in self.journal.data["order"]
                if self.journal.done(u, "done")
                and u in self.by_uuid
                and self.view.host(self.by_uuid[u]).name not in self.redo
            ]
            summary = (
                f"Continue the rolling update started {self.journal.data['started']}: "
                f"done {listing(done) or 'none yet'}; next {listing(order)}."
            )
            if self.redo:
                summary += (
                    f" The pool says {listing(self.redo)} lack(s) updates the journal had "
                    "applied there (reinstalled, reverted, a database restored): done again."
                )
        else:
            what = f"Install {listing(self.updates)}" if self.updates else "Reboot as updates ask"
            summary = f"{what} host by host: {' > '.join(order)}."
        impact = []
        if self.reboots:
            impact.append(
                f"Reboots {listing(self.reboots)}, one at a time; their VMs live-migrate "
                "to the other hosts first and are moved back once the host is updated and "
                "back (those stopped, moved by someone else meanwhile, or that cannot go "
                "back are left where they are, and named)."
            )
        for ref, b in self.blocking.items():
            reasons = listing(dict.fromkeys(x.reason for x in b), 2, "; ")
            impact.append(
                f"On {self.view.host(ref).name}, {listing(x.name for x in b)} cannot move "
                f"({reasons}): shut down during its reboot, started again after."
            )
        if (
            self.todo
            and self.todo[0].is_master
            and self.reboots
            and self.todo[0].name in self.reboots
        ):
            impact.append(
                "The master reboots first: the pool cannot be managed for those minutes "
                "(VMs keep running); this console reconnects by itself."
            )
        if self.ha:
            impact.append(
                f"HA stays on: while a host is down the pool tolerates {self.ha_tolerates - 1} "
                "more host failure(s)."
            )
        guidance = sorted({g for h in self.todo for g in self._guidance(h.ref)})
        impact += [f"{g}: {explain(g)}" for g in guidance]
        impact.append(
            f"Progress is journaled ({journal_dir()}): if this console dies, start the rolling "
            "update again and it continues. Esc (Ctrl-C on the command line) stops after the "
            "current host."
        )
        noun = self.generation.noun
        if self.generation.uploads:
            apply = f"xe {noun}-apply uuid=<{noun}> host-uuid=<host>  (each it lacks)"
        elif self.generation is REPOSITORIES:
            apply = f"xe host-apply-updates uuid=<host> hash={self.view.hash}"
        else:
            apply = "xe host-call-plugin host-uuid=<host> plugin=updater.py fn=update"
        xe = [
            f"for each host, the master first ({', '.join(order)}):",
            "xe host-disable uuid=<host>; xe host-evacuate uuid=<host>",
            apply,
            "xe host-reboot uuid=<host>  (when the guidance asks; wait until back)",
            "xe host-enable uuid=<host>",
            "xe vm-migrate uuid=<vm> host-uuid=<host> live=true  (each VM moved away)",
        ]
        return Plan(
            "Rolling pool update",
            summary,
            xe,
            impact=impact,
            risk="high",
            confirm_word="update",
        )

    # running -------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> str:
        conn = ctx.conn
        ctx.commit()  # every step is journaled; nothing is rolled back
        if self.journal is None:
            self.journal = Journal.new(
                self.pool_uuid, self.updates, [self.uuids[h.ref] for h in self.todo], self.blocked
            )
        journal = self.journal
        for h in self.todo:
            if h.name in self.redo:
                journal.reopen(self.uuids[h.ref])
        self._earlier_tasks(ctx)
        # Esc stops after the current host: host steps run with their own cancel
        steps = replace(ctx, cancel=threading.Event())
        order = [u for u in journal.data["order"] if not journal.done(u, "done")]
        started = time.monotonic()
        for i, uuid in enumerate(order):
            ref = self.by_uuid.get(uuid)
            if ref is None:
                continue
            if ctx.cancel.is_set():
                left = [conn.cache.label("host", self.by_uuid[u]) for u in order[i:]]
                return (
                    f"Stopped after {i} host(s), every host enabled; left: {listing(left)}. "
                    "Start the rolling update again to continue." + self._returns_said()
                )
            name = conn.cache.label("host", ref)

            def note(text: str, name=name, i=i) -> None:
                ctx.note(f"{name} ({i + 1}/{len(order)}): {text}")

            def bar(k: float, i=i) -> None:
                ctx.progress((i + k / 6) / len(order))

            # the bar moves by steps, not by each call's own progress
            host_ctx = replace(steps, note=note, progress=lambda p: None)
            ctx.claim = claims.renew(conn, ctx.claim, self.claim_seconds)
            self._host(host_ctx, ref, uuid, bar)
        ctx.note("reading every host back from the pool")
        lacking = self._still_lacking(conn)
        ctx.progress(1.0)
        if lacking:
            return (
                f"Rolling update incomplete: every host was gone through, but the pool says "
                f"{'; '.join(lacking)}. Start the rolling update again to do them."
                + self._returns_said()
            )
        journal.finish()
        return (
            f"Rolling update finished: {len(order)} host(s) in "
            f"{_took(time.monotonic() - started)}; {listing(journal.data['updates'])} applied "
            "(each host read back from the pool)." + self._returns_said()
        )

    def _still_lacking(self, conn) -> list[str]:
        """Each host that lacks one of the run's updates now, as the pool says."""
        view = build(conn.cache, self.generation, read_document(conn, self.generation))
        wanted = set(self.journal.data["updates"])
        return [
            f"{h.name} lacks {listing(sorted(wanted & set(h.missing)))}"
            for h in view.hosts
            if wanted & set(h.missing)
        ]

    def where(self) -> str:
        """Where the run is, in one line (stopped at once: the second Ctrl-C)."""
        journal = self.journal
        if journal is None:
            return "nothing had been started"
        left = [u for u in journal.data["order"] if not journal.done(u, "done")]
        if not left:
            return "every host was gone through"
        names = [self.view.host(self.by_uuid[u]).name for u in left if u in self.by_uuid]
        return f"{names[0]} was {journal.progress(left[0])}; left: {listing(names)}"

    def _returns_said(self) -> str:
        """The VMs moved back, and those left where they are (each with why)."""
        hosts = self.journal.data["hosts"].values()
        back = sum(len(h.get("back", [])) for h in hosts)
        left = [why for h in hosts for why in h.get("left", {}).values()]
        if not back and not left:
            return ""
        text = f" {back} VM(s) moved back where they were."
        if left:
            text += f" Left where they are: {'; '.join(left)}."
        return text

    def board(self):
        """Each host of the run: how far it got, and its VMs (away, back, left).
        Never waits for the journal (the run may be writing it): the rows as
        last read meanwhile."""
        journal = self.journal
        if journal is None or not journal.lock.acquire(blocking=False):
            return self._board
        try:
            rows = []
            for u in journal.data["order"]:
                host = self.view.host(self.by_uuid.get(u, ""))
                rec = journal.data["hosts"].get(u, {})
                rows.append((host.name if host else u[:8], journal.progress(u), _vms_said(rec)))
        finally:
            journal.lock.release()
        if len(rows) > BOARD_ROWS:  # a big pool: the rows around the host under way
            now = next((i for i, r in enumerate(rows) if r[1] not in ("done", "waiting")), 0)
            start = max(0, min(now - 2, len(rows) - BOARD_ROWS))
            more = len(rows) - BOARD_ROWS
            rows = rows[start : start + BOARD_ROWS] + [("", f"and {more} more", "")]
        self._board = (("Host", "State", "VMs"), rows)
        return self._board

    def _earlier_tasks(self, ctx: RunContext) -> None:
        """A run that died may have left calls running on the pool (an apply,
        an evacuation): they finish before anything is looked at again."""
        conn = ctx.conn
        names = {f"Async.{c}" for c in self.calls}

        def quiet() -> bool:
            return not any(
                t.status == "pending" and t.name_label in names
                for t in conn.cache.table("task").values()
            )

        if not quiet():
            ctx.wait_until("waiting for the calls of the earlier run to finish", quiet, 600)

    def _fresh(self, conn, host: str) -> UpdatesView:
        """The picture as it is now, asked about ``host`` only (on XCP-ng each
        host's plugin is a call of its own: the others are not asked again)."""
        return build(conn.cache, self.generation, read_document(conn, self.generation, [host]))

    def _host(self, ctx: RunContext, ref: str, uuid: str, bar) -> None:
        """One host's steps; ``bar(k)`` shows k of its 6 sixths done."""
        conn, journal = ctx.conn, self.journal
        state = self._fresh(conn, ref).host(ref)
        if "wanted" not in journal.host(uuid):  # what it lacked when the run reached it
            wanted = [n for n in journal.data["updates"] if state and n in state.missing]
            journal.mark(uuid, "start", wanted=wanted, pending=list(state.pending if state else ()))
        rec = journal.host(uuid)
        guidance = {g for u in self.view.updates if u.name in rec["wanted"] for g in u.guidance}
        guidance |= set(rec["pending"])
        reboot = needs_reboot(guidance) or journal.done(uuid, "evacuate")
        if not journal.done(uuid, "disable"):
            ctx.note("disabling")
            ctx.task("host.disable", ref)
            journal.mark(uuid, "disable")
        if reboot and not journal.done(uuid, "evacuate"):
            self._evacuate(ctx, ref, uuid)
        bar(2)
        if not journal.done(uuid, "apply"):
            self._apply(ctx, ref, uuid)
            journal.mark(uuid, "apply")
        bar(3)
        # what the host asks now that it has them (a guidance not foreseen counts)
        now = self._fresh(conn, ref).host(ref)
        if not reboot and now is not None and needs_reboot(now.pending):
            reboot = True
            if not journal.done(uuid, "evacuate"):
                self._evacuate(ctx, ref, uuid)
        if reboot and not journal.done(uuid, "back"):
            self._reboot(ctx, ref, uuid)
            journal.mark(uuid, "back")
        bar(5)
        if not journal.done(uuid, "enable"):
            rec = conn.cache.get("host", ref)
            if rec is not None and not rec.enabled:
                ctx.note("enabling")
                ctx.task("host.enable", ref)
            journal.mark(uuid, "enable")
            for vm in journal.host(uuid).get("halted", []):
                vm_ref = next((r for r, v in conn.cache.table("vm").items() if v.uuid == vm), None)
                if vm_ref is not None and conn.cache.get("vm", vm_ref).power_state == "Halted":
                    ctx.note(f"starting {conn.cache.label('vm', vm_ref)} again")
                    ctx.task("VM.start_on", vm_ref, ref, False, False)
        if journal.host(uuid).get("moved") and not journal.done(uuid, "return"):
            self._move_back(ctx, ref, uuid)
        if not reboot and needs_toolstack(guidance) and not journal.done(uuid, "toolstack"):
            ctx.note("restarting the toolstack")
            ctx.task("host.restart_agent", ref)
            if ref == views.master_ref(conn.cache):  # the connection goes, then comes back
                ctx.wait_until(
                    "waiting for the toolstack to stop", lambda: conn.state != "connected", 15
                )
            self._wait_back(ctx, ref, "its toolstack to come back", new_boot=False)
            journal.mark(uuid, "toolstack")
        journal.mark(uuid, "done")
        bar(6)

    def _evacuate(self, ctx: RunContext, ref: str, uuid: str) -> None:
        """The VMs that cannot move stopped (when chosen), the others moved
        away; the journal keeps which were there and where each went."""
        conn, journal = ctx.conn, self.journal
        if not journal.done(uuid, "leaving"):
            halted = self._stop_blocked(ctx, ref)
            journal.mark(uuid, "leaving", halted=halted, vms=_guests_on(conn.cache, ref))
        ctx.note("moving its VMs away")
        ctx.task("host.evacuate", ref)
        vms = journal.host(uuid)["vms"]
        ctx.wait_until(  # the moves arrive through the event stream
            "seeing where its VMs went",
            lambda: all(_host_of(conn.cache, vm) != uuid for vm in vms),
            MOVED_SECONDS,
        )
        went = {vm: _host_of(conn.cache, vm) for vm in vms}
        journal.mark(uuid, "evacuate", moved={vm: h for vm, h in went.items() if h and h != uuid})

    def _move_back(self, ctx: RunContext, ref: str, uuid: str) -> None:
        """Each VM moved away, live-migrated back to the host (updated and
        enabled now), unless it was stopped, was moved by someone else, or
        cannot go back: those stay where they are, said in words."""
        conn, journal = ctx.conn, self.journal
        cache, rec = conn.cache, journal.host(uuid)
        back, left = list(rec.get("back", [])), dict(rec.get("left", {}))
        for vm_uuid, went in rec["moved"].items():
            if vm_uuid in back or vm_uuid in left:
                continue  # done by an earlier run
            with cache.lock:
                vm = next((v for v in cache.table("vm").values() if v.uuid == vm_uuid), None)
                name = vm.name_label if vm is not None else vm_uuid
                why = _stays(cache, vm, ref, went)
            if why is None:  # back there already
                back.append(vm_uuid)
            elif why:
                ctx.note(f"{name} stays where it is: {why}")
                left[vm_uuid] = f"{name} ({why})"
            else:
                why = self._migrate_back(ctx, vm, ref)
                if why:
                    left[vm_uuid] = f"{name} ({why})"
                else:
                    back.append(vm_uuid)
            journal.mark(uuid, "returning", back=back, left=left)
        journal.mark(uuid, "return", back=back, left=left)

    def _migrate_back(self, ctx: RunContext, vm, ref: str) -> str:
        """Live-migrate ``vm`` back to ``ref``: '' when done, else why not."""
        conn = ctx.conn
        host = conn.cache.label("host", ref)
        try:
            conn.call("VM.assert_can_boot_here", vm.ref, ref)  # XAPI's own check first
            ctx.note(f"moving {vm.name_label} back")
            ctx.task("VM.pool_migrate", vm.ref, ref, {"live": "true"})
        except (TaskFailed, XapiFailure) as exc:
            failure = getattr(exc, "failure", exc)
            with conn.cache.lock:
                why = reason_in_words(conn.cache, failure.details, host)
            ctx.note(f"{vm.name_label} stays where it is: it cannot go back, {why}")
            return f"cannot go back: {why}"
        return ""

    def _stop_blocked(self, ctx: RunContext, ref: str) -> list[str]:
        """The VMs that cannot move, shut down (when the admin chose so)."""
        conn, halted = ctx.conn, []
        if self.blocked != BLOCKED_CHOICES[1]:
            return halted
        for b in evacuation_blockers(conn, ref):
            ctx.note(f"shutting down {b.name} (it cannot move)")
            ctx.task("VM.clean_shutdown", b.vm)
            halted.append(conn.cache.get("vm", b.vm).uuid)
        return halted

    def _apply(self, ctx: RunContext, ref: str, uuid: str) -> None:
        conn, journal = ctx.conn, self.journal
        if self.generation.lists_missing:
            view = self._fresh(conn, ref)
            h = view.host(ref)
            if h and h.missing:
                ctx.note(f"installing {len(h.missing)} update(s)")
                if self.generation is REPOSITORIES:
                    ctx.task("host.apply_updates", ref, view.hash)
                else:
                    ctx.task("host.call_plugin", ref, "updater.py", "update", {})
            return
        cls = self.generation.api_class
        for name in journal.data["updates"]:
            if journal.done(uuid, f"applied:{name}"):
                continue
            view = self._fresh(conn, ref)
            upd, h = view.update(name), view.host(ref)
            if upd is not None and h is not None and name not in h.applied:
                ctx.note(f"applying {name}")
                try:
                    ctx.task(f"{cls}.apply", upd.key, ref)
                except (TaskFailed, XapiFailure) as exc:
                    failure = getattr(exc, "failure", exc)
                    if failure.code not in ("UPDATE_ALREADY_APPLIED", "PATCH_ALREADY_APPLIED"):
                        raise
            journal.mark(uuid, f"applied:{name}")

    def _reboot(self, ctx: RunContext, ref: str, uuid: str) -> None:
        conn, journal = ctx.conn, self.journal
        resumed = journal.done(uuid, "reboot-intent")  # by an earlier run, which died
        if not resumed:
            journal.mark(uuid, "reboot-intent", boot_time=_boot_time(conn.cache, ref))
        before = journal.host(uuid).get("boot_time", "")
        if not journal.done(uuid, "reboot"):
            if resumed and (_rebooted(conn, ref, before) or self._goes_away(ctx, ref, before)):
                pass  # sent by an earlier run: not again
            else:
                ctx.note("rebooting")
                ctx.task("host.reboot", ref)
            journal.mark(uuid, "reboot")
        self._wait_back(ctx, ref, "it to come back", new_boot=True, before=before)

    def _goes_away(self, ctx: RunContext, ref: str, before: str) -> bool:
        """After an intent whose call may have gone: whether the host shows
        the reboot within SETTLE_SECONDS."""
        conn = ctx.conn
        return ctx.wait_until(
            "checking whether the reboot sent before this console stopped went through",
            lambda: _rebooted(conn, ref, before),
            SETTLE_SECONDS,
        )

    def _wait_back(self, ctx, ref, what, *, new_boot: bool, before: str = "") -> None:
        conn = ctx.conn

        def back() -> bool:
            rec = conn.cache.get("host", ref)
            if conn.state != "connected" or rec is None or not views.is_live(conn.cache, rec):
                return False
            return not new_boot or _boot_time(conn.cache, ref) != before

        started = time.monotonic()
        if not ctx.wait_until(f"waiting for {what}", back, BACK_SECONDS):
            raise TimeoutError(
                f"{conn.cache.label('host', ref)} did not come back within "
                f"{duration(BACK_SECONDS)}; start the rolling update again once it is up"
            )
        ctx.note(f"back after {_took(time.monotonic() - started)}")


def _guests_on(cache: Cache, host: str) -> list[str]:
    """The uuids of the VMs running (or paused) on ``host``, dom0 aside:
    what an evacuation moves."""
    with cache.lock:
        return [
            vm.uuid
            for vm in cache.table("vm").values()
            if vm.resident_on == host
            and vm.power_state in ("Running", "Paused")
            and not vm.is_control_domain
        ]


def _host_of(cache: Cache, vm_uuid: str) -> str:
    """The uuid of the host a VM runs on ('' when halted, or gone)."""
    with cache.lock:
        vm = next((v for v in cache.table("vm").values() if v.uuid == vm_uuid), None)
        if vm is None or vm.power_state not in ("Running", "Paused"):
            return ""
        return host_uuid(cache, vm.resident_on)


def _stays(cache: Cache, vm, host: str, went: str) -> str | None:
    """Why a VM moved away is left where it is ('' when it may go back, None
    when it is back already); hold the cache's lock."""
    if vm is None:
        return "it no longer exists"
    if vm.power_state not in ("Running", "Paused"):
        return f"{vm.power_state.lower()} meanwhile"
    if vm.resident_on == host:
        return None
    now = cache.get("host", vm.resident_on)
    if now is None or now.uuid != went:
        return f"moved by someone else, to {now.name_label if now else 'another host'}"
    refused = operations.refusal(cache, "vm", vm.ref, "pool_migrate")
    return f"cannot go back: {refused}" if refused else ""


def _boot_time(cache: Cache, host: str) -> str:
    rec = cache.get("host", host)
    return rec.other_config.get("boot_time", "") if rec is not None else ""


def _rebooted(conn, ref: str, before: str) -> bool:
    rec = conn.cache.get("host", ref)
    if conn.state != "connected" or rec is None:
        return True  # the connection went: the master is on its way down
    return not views.is_live(conn.cache, rec) or _boot_time(conn.cache, ref) != before


def _took(seconds: float) -> str:
    return f"{int(seconds)} s" if seconds < 120 else duration(seconds)
