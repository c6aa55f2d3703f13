"""Actions: what a screen asks the pool to do. Each one validates its input
when it is made (raising InvalidInput before any XAPI call), describes itself
(a Plan: steps, the ``xe`` equivalent, the impact, the risk) and runs with a
:class:`RunContext`: the connection, progress, a cancel event, and an undo
list. When a step fails, or the admin cancels, the steps already done are
undone in reverse order and the outcome says so."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from ..xapi.connection import Connection, ConnectionLost, XapiFailure
from .audit import audit
from .inflight import Journal

log = logging.getLogger("xstui")
RISKS = ("low", "medium", "high")
CANCEL_SLICE = 0.1  # seconds: how soon a wait notices Esc (or the console ending)


@dataclass
class Plan:
    title: str
    summary: str
    xe: list[str]
    steps: list[str] = field(default_factory=list)
    impact: list[str] = field(default_factory=list)
    risk: str = "low"  # low: confirm; medium: confirm with impact shown; high: type to confirm
    confirm_word: str = ""  # what a high-risk action asks the admin to type


def not_possible(problem: str) -> str:
    """A refusal before anything ran, as a form (a field's, the whole form's)
    and a notice say it: one prefix, then the problem as the validators word
    it (lower case first, the value quoted). What failed once it had begun is
    said "Failed: ..." (widgets/notice.error_text)."""
    return "Not possible: " + problem.rstrip(".") + "."


def no_xe(call: str) -> str:
    """A plan's equivalent where xe has no command for the call: said so, in
    one style in every plan ("(no xe command: XenAPI VMSS.snapshot_now)")."""
    return f"(no xe command: XenAPI {call})"


class InvalidInput(ValueError):
    """Input refused before any XAPI call; ``problems`` lists what and why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class TaskFailed(Exception):
    def __init__(self, failure: XapiFailure):
        super().__init__(str(failure))
        self.failure = failure


class Cancelled(Exception):
    """The admin cancelled the action while it ran."""

    def __init__(self, message: str = "Cancelled."):
        super().__init__(message)


class ActionFailed(Exception):
    """A run that failed or was cancelled, with what its undo did."""

    def __init__(
        self,
        cause: BaseException,
        undone: int,
        undo_problems: list[str],
        read_back: str = "",
        committed: bool = False,
    ):
        super().__init__(str(cause))
        self.cause, self.undone, self.undo_problems = cause, undone, undo_problems
        self.read_back = read_back  # what the pool said when read back (Action.verify)
        self.committed = committed  # a step that cannot be taken back was done (commit)

    @property
    def cancelled(self) -> bool:
        return isinstance(self.cause, Cancelled)

    def undo_report(self) -> str:
        if self.read_back:
            return self.read_back
        if isinstance(self.cause, OutcomeUnknown) and not self.undone:
            return "Whether it was done is not known: check the pool before retrying."
        if self.undo_problems:
            return (
                f"Undo incomplete: {'; '.join(self.undo_problems)}. Check the pool before retrying."
            )
        if self.committed:  # whatever was undone since, what came before stays
            return "What was done before cannot be taken back and stays: check the pool."
        if self.undone:
            return f"The {self.undone} step(s) already done were undone: the pool is as it was."
        return "Nothing had been changed."


@dataclass
class RunContext:
    conn: Connection
    progress: Callable[[float], None] = lambda p: None
    cancel: threading.Event = field(default_factory=threading.Event)
    undo_steps: list[tuple[str, Callable[[], object]]] = field(default_factory=list)
    note: Callable[[str], None] = lambda text: None  # what is happening now, in words

    committed: bool = False  # past the point of no return: see commit()
    title: str = ""  # the plan's (set by Action.execute): names the job in its journal
    journal: Journal | None = None  # what the job made that would outlive a kill
    claim: object = None  # the pool's marker while an exclusive action runs (services.claims)

    def leftover(self, kind: str, key: str, name: str) -> None:
        """The job just made something that would stay if the console were
        killed now (see services.inflight): written down until ``tidied``."""
        if self.journal is None:
            cache = self.conn.cache
            with cache.lock:
                pool = next(iter(cache.table("pool").values()), None)
            self.journal = Journal(self.title, pool.uuid if pool else "", self.conn.user)
        self.journal.add(kind, key, name)

    def tidied(self, key: str) -> None:
        """What ``leftover`` named is gone again (removed, or kept on purpose)."""
        if self.journal is not None:
            self.journal.strike(key)

    def check_cancel(self) -> None:
        if self.cancel.is_set() and not self.committed:
            raise Cancelled()

    def commit(self) -> None:
        """The step just done cannot be taken back (a reboot was sent): the
        undo list is dropped, and from now on Esc only stops the waiting."""
        self.committed = True
        self.undo_steps.clear()

    def call(self, method: str, *args):
        """A synchronous call (for quick ones); refused once cancel is asked."""
        self.check_cancel()
        return self.conn.call(method, *args)

    def task(
        self,
        method: str,
        *args,
        span: tuple[float, float] = (0.0, 1.0),
        on_change: Callable[[], None] | None = None,
    ) -> str:
        """``Async.<method>``; its progress fills ``span`` of the bar, and
        ``on_change`` runs on each change the task sees (to say what moved).
        Esc cancels the XAPI task (raising Cancelled)."""
        self.check_cancel()
        low, high = span

        def progress(p: float) -> None:
            self.progress(low + (high - low) * p)
            if on_change is not None:
                on_change()

        return run_task(self.conn, method, *args, progress=progress, cancel=self.cancel)

    def wait_until(self, what: str, done: Callable[[], bool], seconds: float) -> bool:
        """Say ``what``, then wait through the event stream (reconnects
        included) until ``done()``; False when the admin stopped waiting
        (Esc) or the time ran out. The note says how long at most."""
        self.note(f"{what.rstrip('.')} (up to {deadline_words(seconds)})")
        deadline = time.monotonic() + seconds
        cancel = self.cancel
        while not cancel.is_set() and time.monotonic() < deadline:
            # a short slice: Esc, or the console ending, ends the wait at once
            if self.conn.cache.wait_for(lambda: cancel.is_set() or done(), CANCEL_SLICE):
                return not cancel.is_set()
        return False

    def on_undo(self, description: str, undo: Callable[[], object]) -> None:
        """Register how to take back a step that has just been done."""
        self.undo_steps.append((description, undo))

    def rollback(self) -> tuple[int, list[str]]:
        """Undo the registered steps, newest first; (steps undone, problems).
        After Esc while the host cannot be reached, nothing is attempted: each
        step would wait up to FIND_TASK_SECONDS for a host the admin has
        stopped waiting for, so each is reported instead."""
        done, problems = 0, []
        if self.cancel.is_set() and self.conn is not None and self.conn.state != "connected":
            while self.undo_steps:
                description, _undo = self.undo_steps.pop()
                problems.append(
                    f"could not {description} (the host cannot be reached: check it when it is back)"
                )
            return done, problems
        while self.undo_steps:
            description, undo = self.undo_steps.pop()
            try:
                undo()
                done += 1
            except Exception as exc:  # one failed step never stops the others
                if not isinstance(exc, (XapiFailure, TaskFailed, ConnectionLost, OutcomeUnknown)):
                    log.warning("undo step %r failed", description, exc_info=True)
                problems.append(f"could not {description} ({in_words(exc)})")
        return done, problems

    def undo_task(self, description: str, method: str, *args) -> None:
        """on_undo for the common case: one Async call, never cancelled itself;
        Esc only stops waiting for a host that cannot be reached."""
        self.on_undo(description, lambda: run_task(self.conn, method, *args, give_up=self.cancel))


class Action(ABC):
    """Subclasses validate in ``__init__`` (raise InvalidInput), then plan and run."""

    # False for the few actions meant for when the master cannot be reached
    # (pool recovery): they talk to other hosts themselves
    needs_connection = True
    # the XAPI calls it may make that change something (Async or not): what
    # RBAC checks, so that a role that may not make them is told before it
    # starts (an instance narrows it where its input decides, e.g. VM power)
    calls: tuple[str, ...] = ()
    # every release: the calls it makes only where the host has them (it asks
    # has_method and takes that release's way otherwise) ...
    optional: tuple[str, ...] = ()
    # ... and, when a release lacks one of the others, why in words and what
    # to do instead ("XCP-ng 8.2 sets NTP in dom0: run xstui local there");
    # the test of releases fails for an action that says nothing
    older: str = ""
    # a pool-wide procedure one console at a time ("a rolling update"): run
    # under the pool's marker (services.claims), refused while another has it
    exclusive: str = ""
    claim_seconds: float = 15 * 60  # how long the marker holds unless renewed

    def why_not(self, conn) -> str:
        """Why this session may not start it now ('' when it may): its role,
        or another console running a pool-wide procedure."""
        why = conn.access.refusal(self.calls)
        if not why and self.exclusive:
            from . import claims

            why = claims.refusal(conn.cache)
        return why

    @classmethod
    def unavailable(cls, conn) -> str:
        """Why this pool's release cannot do it ('' when it can)."""
        missing = conn.lacks(c for c in cls.calls if c not in cls.optional)
        if not missing:
            return ""
        return f"{conn.release} has no {missing[0]}" + (f": {cls.older}" if cls.older else "")

    @abstractmethod
    def plan(self) -> Plan: ...

    @abstractmethod
    def run(self, ctx: RunContext) -> str:
        """Do it; returns a one-line outcome. Each step done registers its undo."""

    def board(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]] | None:
        """A small table the progress dialog keeps in view while it runs
        (headings, rows: e.g. each host of a rolling update), or None. Read
        from the screen's thread a few times a second."""
        return None

    def _claimed_run(self, ctx: RunContext) -> str:
        """``run``, under the pool's marker when it is exclusive (ctx.claim:
        renewed by a long procedure as it goes)."""
        if not self.exclusive:
            return self.run(ctx)
        from . import claims

        ctx.claim = claims.take(ctx.conn, self.exclusive, self.claim_seconds)
        try:
            return self.run(ctx)
        finally:
            claims.release(ctx.conn, ctx.claim)

    def verify(self, conn) -> tuple[bool | None, str]:
        """After a break whose outcome is unknown (OutcomeUnknown), once the
        pool has been read again: whether it was done (None: the pool cannot
        tell), and what the pool says, in words. Actions past a point of no
        return over a connection that may break (a database restore) say."""
        return None, ""

    VERIFY_SECONDS = 300  # how long the pool is waited for, to be read back
    CALM_SECONDS = 15  # no break within this: the connection held, read now

    def _read_back(self, ctx: RunContext) -> tuple[bool | None, str]:
        """Wait for the pool to answer again (a toolstack restarting: up to
        VERIFY_SECONDS, Esc stops waiting), then ask ``verify``."""
        conn = ctx.conn
        loads, calm = conn.cache.loads, time.monotonic() + self.CALM_SECONDS
        back = ctx.wait_until(
            "The connection broke before the outcome was known: reading the pool back "
            "when it answers...",
            lambda: (
                conn.state == "connected" and (conn.cache.loads > loads or time.monotonic() > calm)
            ),
            self.VERIFY_SECONDS,
        )
        if not back:
            return None, (
                f"the pool did not answer within {self.VERIFY_SECONDS} s"
                if not ctx.cancel.is_set()
                else "you stopped waiting for the pool to answer"
            )
        return self.verify(conn)

    def execute(self, ctx: RunContext) -> str:
        """Run with an audit line for the attempt and its outcome; on failure or
        cancel, undo what was done and raise ActionFailed. When the outcome is
        unknown (a break at the point of no return), the pool is read back and
        the outcome is what it says (see ``verify``)."""
        plan, conn = self.plan(), ctx.conn
        ctx.title = ctx.title or plan.title
        try:
            outcome = self._claimed_run(ctx)
            ctx.check_cancel()  # cancelled while the last step finished: take it back
        except OutcomeUnknown as exc:
            if type(self).verify is Action.verify:
                raise self._failed(ctx, plan, exc) from exc
            done, words = self._read_back(ctx)
            if not done:
                if done is None:
                    words = f"Whether it was done is not known: {words}. Check the pool first."
                else:
                    words = f"Read back from the pool: {words}."
                raise self._failed(ctx, plan, exc, words) from exc
            outcome = f"{str(exc).rstrip('.')}; read back from the pool: {words}."
            audit(plan.title, conn.target.url, conn.user, "done (read back)", outcome, plan.xe)
            return outcome
        except Exception as exc:
            raise self._failed(ctx, plan, exc) from exc
        audit(plan.title, conn.target.url, conn.user, "done", outcome, plan.xe)
        return outcome

    @staticmethod
    def _failed(ctx: RunContext, plan: Plan, exc: Exception, read_back: str = "") -> ActionFailed:
        """Undo what was done; the audit line; the ActionFailed to raise."""
        undone, problems = ctx.rollback()
        failed = ActionFailed(exc, undone, problems, read_back, ctx.committed)
        verdict = "cancelled" if failed.cancelled else "failed"
        conn = ctx.conn
        audit(
            plan.title,
            conn.target.url,
            conn.user,
            verdict,
            f"{exc} {failed.undo_report()}",
            plan.xe,
        )
        return failed


def deadline_words(seconds: float) -> str:
    """How long a wait may last, in words: 45 s, 10 min, 2 h."""
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.0f} h"


FIND_TASK_SECONDS = 60  # how long to look for a task whose reply was lost


def in_words(exc: BaseException) -> str:
    """What went wrong, in a few words (an OSError's reason and file, never a traceback)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) or exc.__class__.__name__


class OutcomeUnknown(Exception):
    """A step whose result the console could not learn (its task vanished,
    the host went away). The undo re-reads the pool rather than trusting
    what was recorded."""


def run_task(
    conn: Connection,
    method: str,
    *args,
    progress: Callable[[float], None] = lambda p: None,
    cancel: threading.Event | None = None,
    timeout: float = 3600,
    give_up: threading.Event | None = None,
) -> str:
    """``Async.<method>`` and wait for its task through the event stream (no
    polling); returns the task's result. Raises TaskFailed, XapiFailure,
    OutcomeUnknown, or Cancelled when ``cancel`` is set and XAPI cancelled it.
    ``give_up`` only ends the wait for an unreachable host (OutcomeUnknown):
    it never cancels the task (an undo's; see RunContext.undo_task).

    The call is never sent twice blindly: when the connection drops before its
    reply, the task is looked for on the host (see :func:`_find_sent_task`)."""
    cache = conn.cache
    name = "Async." + method
    with cache.lock:
        known = {t.ref for t in cache.table("task").values() if t.name_label == name}
        loads = cache.loads
    try:
        task = conn.call(name, *args)
    except ConnectionLost:
        task = _find_sent_task(conn, name, args, known, cancel or give_up)
    cancel_sent = False
    deadline = time.monotonic() + timeout

    def settled():
        rec = cache.get("task", task)
        if rec is not None:
            progress(rec.progress)
        if cancel is not None and cancel.is_set() and not cancel_sent:
            return True
        return rec is not None and rec.status not in ("pending", "cancelling")

    while True:
        if not cache.wait_for(settled, 1.0):
            _check_still_there(conn, task, method, loads, cancel)
            if time.monotonic() > deadline:
                raise XapiFailure(
                    ["INTERNAL_ERROR", f"{method} did not finish within {int(timeout)} s"]
                )
            continue
        rec = cache.get("task", task)
        if cancel is not None and cancel.is_set() and not cancel_sent:
            cancel_sent = True
            if rec is None or rec.status == "pending":
                try:
                    conn.call("task.cancel", task)
                except (XapiFailure, ConnectionLost):
                    pass  # finished meanwhile: its status says how
            continue
        break
    try:
        conn.call("task.destroy", task)
    except (XapiFailure, ConnectionLost):
        pass  # tidying only: the host forgets finished tasks by itself, and a
        # management change may just have moved the host away from this address
    if rec.status == "success":
        return task_result(rec.result)
    if rec.status == "cancelled":
        raise Cancelled()
    raise TaskFailed(XapiFailure(list(rec.error_info) or ["INTERNAL_ERROR", "task failed"]))


def _check_still_there(
    conn: Connection, task: str, method: str, loads: int, cancel: threading.Event | None
) -> None:
    """While waiting: a connection given up, a cancel while the host cannot be
    reached, or a task the host no longer knows after a resync (its toolstack
    restarted), ends the wait."""
    if conn.state in ("refused", "closed"):
        raise OutcomeUnknown(
            f"{method}: the connection was given up ({conn.state_detail or conn.state}) "
            "before the task finished"
        )
    if cancel is not None and cancel.is_set() and conn.state != "connected":
        raise OutcomeUnknown(
            f"{method}: cancelled while the host cannot be reached; the task may still run there"
        )
    if conn.cache.get("task", task) is None and conn.cache.loads != loads:
        try:
            conn.call("task.get_status", task)
        except XapiFailure as exc:
            if exc.code == "HANDLE_INVALID":
                raise OutcomeUnknown(
                    f"{method}: the host no longer knows the task (its toolstack restarted?)"
                ) from None
        except ConnectionLost:
            pass  # still reconnecting: keep waiting


def _find_sent_task(
    conn: Connection, name: str, args: tuple, known: set[str], cancel: threading.Event | None
) -> str:
    """The connection dropped before ``name`` was answered: did the host get it?
    Ask for the tasks of that name. One new task is ours; none means the call
    never arrived, so it is sent (once) again; several mean we cannot tell."""
    deadline = time.monotonic() + FIND_TASK_SECONDS
    resent = False
    while True:
        try:
            # the database's column: XAPI answers "missing field" for "name_label"
            records = conn.call("task.get_all_records_where", f'field "name__label" = "{name}"')
        except (ConnectionLost, XapiFailure) as exc:  # still away, or a session to renew
            if time.monotonic() > deadline or (cancel is not None and cancel.is_set()):
                raise OutcomeUnknown(
                    f"{name}: the host cannot be asked what it did ({exc})"
                ) from None
            (cancel or threading.Event()).wait(1.0)  # Esc ends the wait at once
            continue
        new = sorted(set(records) - known)
        if len(new) == 1:
            return new[0]
        if len(new) > 1:
            raise OutcomeUnknown(
                f"{name}: {len(new)} such tasks appeared; which one is ours is unknown"
            )
        if resent:
            raise OutcomeUnknown(f"{name}: sent twice, never seen on the host")
        resent = True
        try:
            return conn.call(name, *args)  # it never arrived: sending it is safe
        except ConnectionLost:
            continue


def task_result(result: str) -> str:
    """A task result is XML-RPC text (``<value>OpaqueRef:..</value>``)."""
    if result.startswith("<value>") and result.endswith("</value>"):
        return result[7:-8]
    return result
