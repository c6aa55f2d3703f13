"""One piece of work (a check, a status) over every pool of a fleet: in
parallel, at most ``concurrency`` pools at once, each given ``timeout``
seconds; one result per pool, whatever happened to the others. A pool whose
certificate changed is refused as one connection would be; a pool that does
not answer is said to, and the rest go on. Ctrl+C keeps what came back."""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ...xapi.connection import ConnectError, Connection, ConnectionLost, XapiFailure
from ...xapi.targets import parse_target
from .answer import LOGIN_FAILED, NO_PASSWORD, REFUSED, TIMEOUT, UNREACHABLE, no_answer
from .passwords import NoPassword, Passwords
from .targets import FleetTarget

EXIT_CONNECT = 3  # as one connection's failure (xstui.script)
EXIT_INTERRUPTED = 130

# a pool's outcome; the last ones are no answer at all
ANSWERED = "answered"
STATES = (
    ANSWERED,
    REFUSED,
    LOGIN_FAILED,
    NO_PASSWORD,
    "error",
    UNREACHABLE,
    TIMEOUT,
    "interrupted",
)


@dataclass
class PoolResult:
    pool: FleetTarget
    state: str
    detail: str = ""  # why it did not answer, in words
    value: object = None  # what the work returned (answered)
    exit: int = 0
    seconds: float = 0.0

    @property
    def answered(self) -> bool:
        return self.state == ANSWERED


@dataclass
class FleetRun:
    results: list[PoolResult] = field(default_factory=list)  # in the fleet's order
    interrupted: bool = False

    @property
    def exit(self) -> int:
        worst = max((r.exit for r in self.results), default=0)
        return EXIT_INTERRUPTED if self.interrupted else worst


Work = Callable[[Connection], tuple[object, int]]  # (value, exit code for this pool)


def run_fleet(
    pools: list[FleetTarget],
    work: Work,
    *,
    passwords: Passwords,
    fingerprints: dict[str, str] | None = None,
    watch: dict[str, type] | None = None,
    concurrency: int = 8,
    timeout: float = 60,
) -> FleetRun:
    """Run ``work`` on each pool (logged in, its cache loaded once). Returns
    when every pool has a result, or on Ctrl+C with those that came back (the
    others "interrupted")."""
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(pools)):
        todo.put(i)
    done: queue.Queue[tuple[int, PoolResult]] = queue.Queue()
    started: dict[int, float] = {}
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            with lock:
                started[i] = time.monotonic()
            try:
                result = one_pool(pools[i], work, passwords, fingerprints, watch, timeout)
            except Exception as exc:  # a result still: the pool is not left waiting
                result = PoolResult(
                    pools[i], "error", f"unexpected error ({exc!r})", exit=EXIT_CONNECT
                )
            done.put((i, result))

    for _ in range(max(1, min(concurrency, len(pools)))):
        # daemon: a pool that never answers must not keep the command from ending
        threading.Thread(target=worker, name="xstui-fleet", daemon=True).start()
    results: dict[int, PoolResult] = {}
    run = FleetRun()
    # Ctrl+C is this loop's even when started with it ignored (a script's
    # background job inherits SIG_IGN, and Python then never raises it)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while len(results) < len(pools):
            with lock:
                waiting = {i: t for i, t in started.items() if i not in results}
            now = time.monotonic()
            for i, t in waiting.items():
                if now - t >= timeout:
                    results[i] = PoolResult(
                        pools[i],
                        TIMEOUT,
                        f"no answer within {timeout:g} s",
                        exit=EXIT_CONNECT,
                        seconds=now - t,
                    )
            deadline = min(
                (t + timeout for i, t in waiting.items() if i not in results), default=now + 1
            )
            try:
                i, result = done.get(timeout=max(0.01, min(1.0, deadline - now)))
            except queue.Empty:
                continue
            results.setdefault(i, result)  # a late answer after its timeout is dropped
    except KeyboardInterrupt:
        run.interrupted = True
    for i, pool in enumerate(pools):
        run.results.append(
            results.get(i)
            or PoolResult(pool, "interrupted", "stopped by Ctrl+C", exit=EXIT_CONNECT)
        )
    return run


def one_pool(
    pool: FleetTarget,
    work: Work,
    passwords: Passwords,
    fingerprints: dict[str, str] | None,
    watch: dict[str, type] | None,
    timeout: float,
) -> PoolResult:
    begun = time.monotonic()

    def result(state: str, detail: str = "", value=None, code: int = EXIT_CONNECT) -> PoolResult:
        return PoolResult(pool, state, detail, value, code, time.monotonic() - begun)

    target = parse_target(pool.url)
    pins = dict(fingerprints or {})  # its own: a redirection may pin another host
    if pool.fingerprint:
        pins[target.trust_key] = pool.fingerprint
    try:
        password = passwords.for_pool(pool)
    except NoPassword as exc:
        return result(NO_PASSWORD, str(exc))
    conn = Connection(target, pool.user, password, fingerprints=pins, watch=watch, timeout=timeout)
    try:
        conn.login()
    except ConnectError as err:
        first = str(err).splitlines()[0]
        trust = " (give its fingerprint in the fleet file to trust it)"
        hint = trust if err.kind == "trust" and not err.pinned else ""
        return result(no_answer(err), first + hint)
    try:
        conn.load_once()
        value, code = work(conn)
        return result(ANSWERED, "", value, code)
    except (XapiFailure, ConnectionLost) as exc:
        return result(UNREACHABLE, str(exc))
    finally:
        conn.close()
