"""Reliability: what the console does when the server goes away and comes
back changed. Each test drives a real simulator over real sockets."""

from __future__ import annotations

import time

from xstui.areas import watched_types
from xstui.sim.runner import start_simulator
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target
from xstui.xapi.tls import spaced


def wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def restart_on(address: str, port: int, **kw):
    """The same address and port as before (the old socket may linger a moment)."""
    for _ in range(50):
        try:
            return start_simulator("demo", address=address, port=port, members=False, **kw)
        except OSError:
            time.sleep(0.1)
    raise AssertionError("could not listen again")


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
        assert conn.cache.wait_for(lambda: conn.cache.table("host"), 5)
        first.close()
        second = restart_on(address, port, tls=True, password="pw")
        assert second.fingerprint != first.fingerprint
        assert wait(lambda: conn.state == "refused", 20), states
        assert "different certificate" in conn.state_detail
        assert spaced(second.fingerprint) in conn.state_detail
        calls = conn.calls
        time.sleep(1.5)
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
        assert wait(lambda: store.table("task"), 5)
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
        assert time.monotonic() - started < 20
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
        assert conn.cache.wait_for(lambda: conn.cache.table("host"), 5)
        for _ in range(3):
            before = conn.session_ref
            server.move_listener(running_sim.sim.master, address, "10.255.255.1")  # gone
            assert wait(lambda: conn.state == "reconnecting", 10)
            for _attempt in range(50):  # back on the same address and port
                try:
                    server.listen_tcp(address, port, running_sim.sim.master)
                    break
                except OSError:
                    time.sleep(0.1)
            assert wait(lambda b=before: conn.session_ref != b and conn.state == "connected", 20)
            # the old session is logged out just after the new one is in use
            assert wait(lambda: len(store.table("session")) == 1, 5), len(store.table("session"))
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
        assert wait(lambda: running_sim.sim.store.table("task"), 5)
        running_sim.server.close()
        assert wait(lambda: conn.state == "reconnecting", 10)
        cancel.set()

    threading.Thread(target=host_goes_away_then_escape, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(OutcomeUnknown, match="cannot be reached"):
            run_task(conn, "VM.clean_shutdown", vm, cancel=cancel, timeout=3600)
        assert time.monotonic() - started < 20
    finally:
        conn.close()


def test_esc_during_an_undo_stops_waiting_for_a_host_that_went(running_sim):
    """An undo whose call loses the host waits for it to come back; Esc
    pressed meanwhile ends that wait (the step is reported, not retried for a
    minute), without cancelling anything on the host."""
    import threading

    from xstui.services.actions import RunContext

    conn = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    conn.login()
    conn.start_events()
    vm = running_sim.sim.store.find_one("VM", name_label="web-01")
    ctx = RunContext(conn)
    ctx.undo_task("shut web-01 down again", "VM.clean_shutdown", vm)
    running_sim.server.close()  # the host goes before the undo runs
    assert wait(lambda: conn.state == "reconnecting", 10)
    threading.Timer(2.0, ctx.cancel.set).start()  # Esc, once the undo waits
    started = time.monotonic()
    try:
        done, problems = ctx.rollback()
        assert done == 0 and "could not shut web-01 down again" in problems[0]
        assert time.monotonic() - started < 15  # not FIND_TASK_SECONDS
    finally:
        conn.close()
