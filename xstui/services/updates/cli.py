"""One-shot commands of the Patching area:

- ``xstui check TARGET --baseline FILE [--json]``: drift from a compliance
  baseline per host; exit 1 on drift, 2 on a bad baseline, 3 when the pool
  cannot be reached;
- ``xstui rolling-update TARGET [--yes|--dry-run]``: the rolling pool update
  without the TUI, printing each step; resumable like the screen's (same
  journal). ``--dry-run`` prints the plan and the xe equivalents, and
  changes nothing."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from ...script import (
    EXIT_CONNECT,
    EXIT_USAGE,
    CliCommand,
    action_arguments,
    confirmed,
    dry_run,
    fail,
    live_pool,
    say,
    target_arguments,
    with_pool,
)

if TYPE_CHECKING:
    from .model import UpdatesView

# What the commands use is imported when they run: parsing the command line
# imports no more than the arguments (see xstui.areas).


def current_view(conn) -> UpdatesView:
    """The per-host picture, reading XenServer 8's list of missing updates."""
    from .generation import detect
    from .model import build, read_document

    generation = detect(conn)
    return build(conn.cache, generation, read_document(conn, generation))


def no_hotfix_api(conn, view: UpdatesView) -> str:
    """Why hotfixes cannot be checked or applied on this pool, naming its
    release ('' when they can)."""
    from .generation import NONE

    if view.generation is not NONE:
        return ""
    return (
        f"{conn.release} offers no hotfix API (no pool_patch, pool_update, update "
        "repositories nor XCP-ng's updater.py plugin): nothing can be checked or applied"
    )


def run_baseline(args) -> int:
    from ...xapi import views
    from ...xapi.transfer import TransferFailed
    from .baseline import BaselineError, drift, load

    try:
        baseline = load(args.baseline)
    except BaselineError as exc:
        return fail(str(exc), EXIT_USAGE)

    def compute(conn):
        view = current_view(conn)
        if no_hotfix_api(conn, view):
            raise SystemExit(fail(no_hotfix_api(conn, view), EXIT_USAGE))
        pool = views.pool(conn.cache)
        return view, drift(baseline, view, pool.name_label if pool else "")

    try:
        view, drifts = with_pool(args, compute)
    except BaselineError as exc:
        return fail(str(exc), EXIT_USAGE)
    except TransferFailed as exc:
        return fail(str(exc), EXIT_CONNECT)
    if args.json:
        print(
            json.dumps(
                {
                    "baseline": args.baseline,
                    "generation": view.generation.id,
                    "hosts": [d.to_dict() for d in drifts],
                },
                indent=2,
            )
        )
    else:
        say(f"{view.generation.title}; baseline {args.baseline}")
        for d in drifts:
            if d.compliant:
                say(f"ok       {d.host}")
                continue
            if d.missing:
                say(f"missing  {d.host}: {', '.join(d.missing)}")
            if d.unexpected:
                say(f"extra    {d.host}: {', '.join(d.unexpected)}")
        bad = sum(1 for d in drifts if not d.compliant)
        say(f"{bad} host(s) drift from the baseline" if bad else "Every host is compliant.")
    return 1 if any(not d.compliant for d in drifts) else 0


def rolling_arguments(parser) -> None:
    target_arguments(parser)
    action_arguments(parser)
    parser.add_argument(
        "--shut-down-blocked",
        action="store_true",
        help="shut down VMs that cannot move (local storage) while their host reboots",
    )


def run_rolling(args) -> int:
    from ...xapi.transfer import TransferFailed
    from ..actions import ActionFailed, InvalidInput, RunContext
    from .rolling import BLOCKED_CHOICES, RollingUpdate, prepare

    with live_pool(args) as conn:
        try:
            view = current_view(conn)
            if no_hotfix_api(conn, view):
                return fail(no_hotfix_api(conn, view))
            refusal = conn.access.refusal(RollingUpdate.calls_for(view.generation))
            if refusal:  # before anything is read further, written or asked
                return fail(f"the rolling update cannot run: {refusal}. Nothing was done.")
            prep = prepare(conn, view)
            blocked = BLOCKED_CHOICES[1 if args.shut_down_blocked else 0]
            action = RollingUpdate(conn.cache, prep, blocked)
        except InvalidInput as exc:
            if str(exc).startswith("every host has every update"):
                text = "Every host has every update: nothing to do."
                say(json.dumps({"finished": True, "outcome": text}) if args.json else text)
                return 0
            return fail("; ".join(exc.problems))
        except TransferFailed as exc:
            return fail(str(exc), EXIT_CONNECT)
        plan = action.plan()
        if args.dry_run:
            return dry_run(plan, args.json)
        refusal = action.why_not(conn)  # another console's rolling update
        if refusal:
            return fail(f"the rolling update cannot run: {refusal}. Nothing was done.")
        # with --json, the steps go to stderr and the outcome alone to stdout
        out = sys.stderr if args.json else sys.stdout
        refused = confirmed(plan, args.yes, out)
        if refused is not None:
            return refused
        ticker = Ticker(out)
        ctx = RunContext(conn, note=ticker.say)

        def stop(signum, frame):
            if ctx.cancel.is_set():  # the second: now, with where it was
                ticker.say(
                    f"Stopped now: {action.where()}. Start the rolling update again to "
                    "continue (it is journaled)."
                )
                raise SystemExit(130)
            ctx.cancel.set()
            ticker.say("Stopping after the current host (Ctrl-C again to stop now)")

        signal.signal(signal.SIGINT, stop)
        try:
            with ticker:
                outcome = action.execute(ctx)
        except ActionFailed as exc:
            if args.json:
                print(json.dumps({"finished": False, "error": str(exc.cause)}))
            return fail(f"the rolling update stopped: {exc.cause}. Run it again to continue.", 1)
        finished = outcome.startswith("Rolling update finished")
        say(json.dumps({"finished": finished, "outcome": outcome}) if args.json else outcome)
        return 0 if finished or outcome.startswith("Stopped after") else 1


class Ticker:
    """The run's notes, timestamped; during a long wait (a host rebooting, a
    task), the last one again every TICK_SECONDS with how long it has been,
    so a silent terminal never means a hung console."""

    TICK_SECONDS = 10

    def __init__(self, out):
        self.out, self.last, self.at = out, "", time.monotonic()
        # reentrant: the Ctrl-C handler says something while the run may be saying
        self.lock, self.ended = threading.RLock(), threading.Event()

    def say(self, text: str) -> None:
        with self.lock:
            self.last, self.at = text, time.monotonic()
            say(f"{time.strftime('%H:%M:%S')} {text}", file=self.out)

    def __enter__(self) -> Ticker:
        threading.Thread(target=self._tick, daemon=True, name="ticker").start()
        return self

    def __exit__(self, *exc) -> None:
        self.ended.set()

    def _tick(self) -> None:
        while not self.ended.wait(1.0):
            with self.lock:
                quiet = time.monotonic() - self.at
                if self.last and quiet >= self.TICK_SECONDS:
                    say(f"{time.strftime('%H:%M:%S')} still {self.last} ({int(quiet)} s)", self.out)
                    self.at = time.monotonic() - (quiet % self.TICK_SECONDS)


ROLLING_COMMAND = CliCommand(
    "rolling-update",
    "apply every missing update host by host, the master first (resumable)",
    run_rolling,
    rolling_arguments,
)
