"""The xapi layer against the simulator over real HTTP: login, redirection,
TLS trust, the event cache, reconnection, tasks."""

import os
import secrets
import socket
import threading
import time

import pytest
import XenAPI

from tests.waiting import TIMEOUT, wait_for
from xstui.areas import load_order, watched_types
from xstui.services.actions import Cancelled, TaskFailed, run_task
from xstui.xapi.connection import EVENT_TIMEOUT, ConnectError, Connection, XapiFailure
from xstui.xapi.targets import parse_target


def connect(running, **kw) -> Connection:
    conn = Connection(parse_target(running.url), "root", running.password, **kw)
    conn.login()
    return conn


def test_login_reads_this_host_in_one_call_and_the_release_when_asked(running_sim):
    conn = connect(running_sim)
    assert conn.this_host == running_sim.sim.master
    assert conn.calls == 1  # session.get_record
    conn.load_once()
    assert conn.calls == 2
    assert conn.has_method("VM.start") and not conn.has_method("VM.fly")
    assert conn.calls == 3  # system.listMethods, once
    assert conn.has_method("host.reboot") and conn.calls == 3
    assert len(conn.cache.table("host")) == 3
    conn.close()


def test_member_address_is_followed_to_the_master(running_sim):
    member_url = running_sim.member_urls["xcp-c"]
    conn = Connection(parse_target(member_url), "root", running_sim.password, watch=watched_types())
    conn.login()
    assert conn.target.host == "127.10.0.11"
    conn.close()


def test_bad_password_is_an_auth_error(running_sim):
    conn = Connection(parse_target(running_sim.url), "root", "wrong")
    with pytest.raises(ConnectError) as err:
        conn.login()
    assert err.value.kind == "auth"
    assert "password" in str(err.value)


def test_unreachable_host_is_a_network_error():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # a port of ours, never listening: refused
        port = closed.getsockname()[1]
        conn = Connection(parse_target(f"http://127.0.0.1:{port}"), "root", "x")
        with pytest.raises(ConnectError) as err:
            conn.login()
    assert err.value.kind == "network" and "refused" in str(err.value)


def test_tls_first_contact_pin_and_mismatch():
    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", tls=True, members=False)
    try:
        target = parse_target(running.url)
        conn = Connection(target, "root", running.password)
        with pytest.raises(ConnectError) as err:
            conn.login()
        assert err.value.kind == "trust" and err.value.fingerprint == running.fingerprint
        assert err.value.pinned is None
        pinned = {target.trust_key: running.fingerprint}
        conn = Connection(target, "root", running.password, fingerprints=pinned)
        conn.login()
        assert conn.fingerprint == running.fingerprint
        conn.close()
        wrong = {target.trust_key: "AA:" * 31 + "AA"}
        with pytest.raises(ConnectError) as err:
            Connection(target, "root", running.password, fingerprints=wrong).login()
        assert err.value.kind == "trust" and err.value.pinned == wrong[target.trust_key]
        assert "regenerated" in str(err.value)
    finally:
        running.close()


def test_local_target_uses_the_socket_and_trusted_login(monkeypatch):
    from xstui.sim.runner import start_simulator

    path = f"/tmp/xstui-test-{secrets.token_hex(4)}_sock"  # underscores are fine for us
    running = start_simulator("demo", unix_socket=path, members=False)
    try:
        monkeypatch.setenv("XSTUI_XAPI_SOCKET", path)
        target = parse_target("local")
        assert target.kind == "local" and target.socket_path == path and target.encrypted
        conn = Connection(target, "root", "", watch=watched_types())
        conn.login()
        conn.load_once()
        assert len(conn.cache.table("vm")) > 25
        conn.close()
    finally:
        running.close()


def test_event_stream_is_woken_by_a_change(running_sim):
    conn = connect(running_sim)
    changes, answers = [], []
    conn.on_change = changes.append
    ask = conn._event_from

    def event_from(channel, token, timeout, *classes):
        result = ask(channel, token, timeout, *classes)
        answers.append(result["events"])
        return result

    conn._event_from = event_from
    conn.start_events()
    wait_for(lambda: conn.cache.table("host"), what="the first load")
    loaded = len(answers)
    other = XenAPI.Session(running_sim.url)
    other.xenapi.login_with_password("root", running_sim.password)
    host = running_sim.sim.master
    started = time.monotonic()
    other.xenapi.host.set_name_label(host, "renamed")
    wait_for(lambda: conn.cache.get("host", host).name_label == "renamed", what="the new name")
    # the long poll under way answered the change (within a second when
    # idle), long before its own timeout
    assert time.monotonic() - started < EVENT_TIMEOUT / 2
    assert host in [ev["ref"] for ev in answers[loaded]]  # the first answer after the load
    assert any("host" in c for c in changes)
    conn.close()


def test_a_first_load_in_parts_brings_what_status_draws_before_the_vms(running_sim):
    conn = connect(running_sim, watch=watched_types(), load_order=load_order())
    assert "host" in conn.load_parts[0] and "vm" not in conn.load_parts[0]
    assert conn.load_parts[1] == ["vm", "vm_metrics"] and "vbd" in conn.load_parts[2]
    seen = []  # at each change: the classes, VMs there, the load complete
    conn.on_change = lambda classes: seen.append(
        (set(classes), bool(conn.cache.table("vm")), conn.cache.loads)
    )
    ask, master = conn._event_from, running_sim.sim.master

    def event_from(channel, token, timeout, classes=None):
        result = ask(channel, token, timeout, classes)
        if classes == conn.load_parts[1]:  # a change to the first part meanwhile
            running_sim.sim.store.set("host", master, name_label="renamed meanwhile")
        return result

    conn._event_from = event_from
    started = time.monotonic()
    conn.start_events()
    wait_for(lambda: conn.cache.loads, what="the whole pool")
    first, vms, last = seen[0], seen[1], seen[2]
    assert "host" in first[0] and "vm" not in first[0] and first[1:] == (False, 0)
    assert vms[0] == {"vm", "vm_metrics"} and vms[1:] == (True, 0)
    assert {"host", "vm", "vbd"} <= last[0] and last[2] == 1  # every screen draws whole
    assert conn.cache.ready(set(conn.cache.types))
    # what changed while the other parts were read is not lost (the first part's token)
    wait_for(lambda: conn.cache.get("host", master).name_label == "renamed meanwhile")
    log = [m for t, m in running_sim.sim.call_counts()["log"] if t >= started]
    # what the release can do is read once the first screen can draw
    assert log[:4] == ["event.from", "system.listMethods", "event.from", "event.from"]
    conn.close()


def test_reconnects_after_the_server_goes_away(running_sim):
    conn = connect(running_sim)
    states = []
    conn.on_state = lambda s, d: states.append(s)
    conn.start_events()
    wait_for(lambda: conn.cache.table("host"), what="the first load")
    master = running_sim.sim.master
    running_sim.server.stop_host(master)  # its toolstack goes away...
    wait_for(lambda: "reconnecting" in states, what="reconnecting")

    running_sim.server.restart_host(master)  # ...and comes back
    running_sim.sim.store.set("host", running_sim.sim.master, name_label="after-restart")
    wait_for(
        lambda: (
            getattr(conn.cache.get("host", running_sim.sim.master), "name_label", "")
            == "after-restart"
        ),
    )
    assert conn.state == "connected"
    conn.close()


def test_run_task_waits_through_events(running_sim):
    conn = connect(running_sim)
    conn.start_events()
    vm = running_sim.sim.store.find_one("VM", name_label="web-01")
    seen = []
    assert run_task(conn, "VM.clean_shutdown", vm, progress=seen.append, timeout=TIMEOUT) == ""
    assert running_sim.sim.store.get("VM", vm)["power_state"] == "Halted"
    assert not running_sim.sim.store.table("task"), "finished tasks are destroyed"
    with pytest.raises(TaskFailed) as err:
        run_task(conn, "VM.clean_shutdown", vm, timeout=TIMEOUT)
    assert err.value.failure.code == "VM_BAD_POWER_STATE"
    assert "power state" in str(err.value)
    conn.close()


def test_run_task_cancel(running_sim):
    running_sim.sim.task_delay = 3
    conn = connect(running_sim)
    conn.start_events()
    vm = running_sim.sim.store.find_one("VM", name_label="web-02")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        run_task(conn, "VM.clean_shutdown", vm, cancel=cancel, timeout=TIMEOUT)
    assert running_sim.sim.store.get("VM", vm)["power_state"] == "Running"
    conn.close()


def test_call_failures_are_human(running_sim):
    conn = connect(running_sim)
    with pytest.raises(XapiFailure) as err:
        conn.call("VM.get_record", "OpaqueRef:gone")
    assert err.value.code == "HANDLE_INVALID"
    assert "no longer exists" in str(err.value) and "class: VM" in str(err.value)
    conn.close()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("fingerprints: {a: b\n", "line"),
        ("fingerprints: [a, b]\n", "fingerprints must be"),
        ("- just a list\n", "expected keys"),
        ("targets: [x]\ncolour: red\n", "unknown key 'colour'"),
    ],
)
def test_a_bad_config_is_reported_and_never_overwritten(tmp_path, text, expected):
    from xstui.xapi.config import Config

    path = tmp_path / "config.yaml"
    path.write_text(text)
    config = Config.load(path)
    assert expected in config.problem and str(path) in config.problem
    config.fingerprints["h:443"] = "AB"
    assert config.save() is False
    assert path.read_text() == text


def test_config_is_written_atomically_and_private(tmp_path):
    import stat

    from xstui.xapi.config import Config

    path = tmp_path / "sub" / "config.yaml"
    config = Config.load(path)
    pin = ":".join(["AB"] * 32)  # a pin is a SHA-256 fingerprint (xstui.xapi.tls)
    config.fingerprints["h:443"] = pin
    config.keymap["network.bond"] = "B"
    assert config.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Config.load(path)
    assert again.fingerprints == {"h:443": pin} and again.keymap == {"network.bond": "B"}
    assert not again.problem and [p.name for p in path.parent.iterdir()] == ["config.yaml"]


def test_saved_targets_keep_the_latest_first_and_every_named_one(tmp_path):
    """Connecting to simulators and tunnels filled the connect list with
    dead URLs: the RECENT latest unnamed ones are kept, a fleet's named
    ones always, the one just used first."""
    from xstui.xapi.config import RECENT, Config

    config = Config.load(tmp_path / "config.yaml")
    config.targets.append("https://named")
    config.saved["https://named"] = {"name": "paris"}
    for port in range(RECENT + 3):
        config.remember_target(f"http://127.10.0.11:{4000 + port}")
    config.remember_target("http://127.10.0.11:4005")  # again: first, once
    config.remember_target("demo")  # never saved
    assert config.save()
    targets = Config.load(tmp_path / "config.yaml").targets
    assert targets[0] == "http://127.10.0.11:4005" and targets.count(targets[0]) == 1
    assert "https://named" in targets and len(targets) == RECENT + 1
    assert "http://127.10.0.11:4000" not in targets and "demo" not in targets


def test_fingerprint_given_for_a_member_is_followed_to_its_master():
    from xstui.sim.runner import start_simulator

    """`xstui status https://member --fingerprint F`: the master that the
    member sends us to presents the same certificate, so F vouches for it."""
    running = start_simulator("demo", tls=True, password="pw")
    try:
        member_url = running.member_urls["xcp-b"]
        member = parse_target(member_url)
        conn = Connection(
            member, "root", "pw", fingerprints={member.trust_key: running.fingerprint}
        )
        conn.login()
        assert conn.target.host == "127.10.0.11"
        assert conn.fingerprints[conn.target.trust_key] == running.fingerprint
        conn.close()
    finally:
        running.close()


def test_a_config_folder_that_is_a_file_is_reported_not_a_traceback(tmp_path, monkeypatch):
    from xstui.xapi.config import Config

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "xstui").write_text("a file where the folder should be")
    config = Config.load()
    assert "cannot be read" in config.problem
    config.fingerprints["h:443"] = "AB"
    assert config.save() is False
    fresh = Config.load(tmp_path / "elsewhere" / "config.yaml")
    (tmp_path / "elsewhere").write_text("in the way")
    assert fresh.save() is False and "cannot be written" in fresh.problem


def test_the_audit_log_is_private(tmp_path, monkeypatch):
    import stat

    from xstui.services.audit import audit

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    old = os.umask(0)
    try:
        audit("Rename host", "https://h", "root", "done", "ok")
    finally:
        os.umask(old)
    log = tmp_path / "state" / "xstui" / "audit.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
