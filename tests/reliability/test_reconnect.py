"""Reliability: what the console does when the server goes away and comes
back changed. Each test drives a real simulator over real sockets."""

from __future__ import annotations

import time

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.sim.runner import start_simulator
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target
from xstui.xapi.tls import spaced


def restart_on(address: str, port: int, **kw):
    """The same address and port as before (the old socket may linger a moment)."""

    def started():
        try:
            return start_simulator("demo", address=address, port=port, members=False, **kw)
        except OSError:
            return None

    return wait_for(started, what=f"a simulator listening again on {address}:{port}")


def listen_again(server, address: str, port: int, host: str) -> None:
    """The same address and port as before (the old socket may linger a moment)."""

    def listening() -> bool:
        try:
            server.listen_tcp(address, port, host)
        except OSError:
            return False
        return True

    wait_for(listening, what=f"listening again on {address}:{port}")


def test_https_server_restarted_with_a_new_certificate_is_refused_not_retried():
    first = start_simulator("demo", tls=True, members=False, password="pw")
    conn = Connection(
        parse_target(first.url),
        "root",
        "pw",
        fingerprints={parse_target(first.url).trust_key: first.fingerprint},
        watch=watched_types(),
    )
    conn.login()
    states = []
    conn.on_state = lambda state, detail: states.append((state, detail))
    conn.start_events()
    address, port = first.server.listeners[0].server.server_address
    second = None
    try:
        wait_for(lambda: conn.cache.table("host"))
        first.close()
        second = restart_on(address, port, tls=True, password="pw")
        assert second.fingerprint != first.fingerprint
        wait_for(lambda: conn.state == "refused", what=f"refused (states: {states})")
        assert "different certificate" in conn.state_detail
        assert spaced(second.fingerprint) in conn.state_detail
        calls = conn.calls
        # no more retries once refused: the event thread has ended
        wait_for(lambda: not conn._thread.is_alive(), what="the event thread ended")
        assert conn.calls == calls, "no more retries once refused"
    finally:
        conn.close()
        if second:
            second.close()


def test_a_task_the_host_forgets_ends_the_wait_with_outcome_unknown(running_sim):
    """The toolstack restarts mid-task: sessions and tasks are gone. The wait
    ends in words instead of lasting the task's hour-long timeout."""
    import threading

    import pytest

    from xstui.services.actions import OutcomeUnknown, run_task

    running_sim.sim.task_delay = 30  # the task will still be pending
    conn = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    conn.login()
    conn.start_events()
    store = running_sim.sim.store
    vm = store.find_one("VM", name_label="web-01")

    def restart_toolstack():
        wait_for(lambda: store.table("task"), what="the task created")
        with store.lock:
            for ref in list(store.table("task")):
                store.destroy("task", ref)
            for ref in list(store.table("session")):
                store.destroy("session", ref)

    threading.Thread(target=restart_toolstack, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(OutcomeUnknown, match="no longer knows the task"):
            run_task(conn, "VM.clean_shutdown", vm, timeout=3600)
        # before the task would have ended, let alone the hour
        assert time.monotonic() - started < running_sim.sim.task_delay
    finally:
        conn.close()


def test_each_reconnect_logs_out_the_session_it_replaces(running_sim):
    conn = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    conn.login()
    conn.start_events()
    store, server = running_sim.sim.store, running_sim.server
    address, port = server.listeners[0].server.server_address
    try:
        wait_for(lambda: conn.cache.table("host"))
        for _ in range(3):
            before = conn.session_ref
            server.move_listener(running_sim.sim.master, address, "10.255.255.1")  # gone
            wait_for(lambda: conn.state == "reconnecting", what="reconnecting")
            listen_again(server, address, port, running_sim.sim.master)
            wait_for(
                lambda b=before: conn.session_ref != b and conn.state == "connected",
                what="connected with a new session",
            )
            # the old session is logged out just after the new one is in use
            wait_for(lambda: len(store.table("session")) == 1, what="one session left")
    finally:
        conn.close()


def test_cancel_while_the_host_is_unreachable_ends_the_wait(running_sim):
    """Esc with the host gone: the console cannot cancel the task, so it says
    the outcome is unknown instead of waiting for a host that may never return."""
    import threading

    import pytest

    from xstui.services.actions import OutcomeUnknown, run_task

    running_sim.sim.task_delay = 30
    conn = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    conn.login()
    conn.start_events()
    vm = running_sim.sim.store.find_one("VM", name_label="web-01")
    cancel = threading.Event()

    def host_goes_away_then_escape():
        wait_for(lambda: running_sim.sim.store.table("task"), what="the task created")
        running_sim.server.close()
        wait_for(lambda: conn.state == "reconnecting", what="reconnecting")
        cancel.set()

    threading.Thread(target=host_goes_away_then_escape, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(OutcomeUnknown, match="cannot be reached"):
            run_task(conn, "VM.clean_shutdown", vm, cancel=cancel, timeout=3600)
        # before the task would have ended, let alone the hour
        assert time.monotonic() - started < running_sim.sim.task_delay
    finally:
        conn.close()


def test_esc_during_an_undo_stops_waiting_for_a_host_that_went(running_sim):
    """An undo whose call loses the host waits for it to come back; Esc
    pressed meanwhile ends that wait (the step is reported, not retried for a
    minute), without cancelling anything on the host."""
    import threading

    from xstui.services.actions import FIND_TASK_SECONDS, RunContext

    conn = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    conn.login()
    conn.start_events()
    vm = running_sim.sim.store.find_one("VM", name_label="web-01")
    ctx = RunContext(conn)
    ctx.undo_task("shut web-01 down again", "VM.clean_shutdown", vm)
    running_sim.server.close()  # the host goes before the undo runs
    wait_for(lambda: conn.state == "reconnecting", what="reconnecting")
    asked = []
    call = conn.call

    def recorded(method, *args):
        asked.append(method)
        return call(method, *args)

    conn.call = recorded

    def escape_once_the_undo_waits():
        # the undo's call was lost with the host: it looks for the task there
        wait_for(lambda: "task.get_all_records_where" in asked, what="the undo looking")
        ctx.cancel.set()

    threading.Thread(target=escape_once_the_undo_waits, daemon=True).start()
    started = time.monotonic()
    try:
        done, problems = ctx.rollback()
        assert done == 0 and "could not shut web-01 down again" in problems[0]
        assert time.monotonic() - started < FIND_TASK_SECONDS  # it stopped looking at Esc
    finally:
        conn.close()
