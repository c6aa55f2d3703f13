"""Pool recovery with HA off, end to end over real HTTP: the master is killed
through the simulator's control endpoint; the diagnosis sees it dead and the
members still pointing at it; a member takes over; the pool ends with one
master that every live member follows, and the console's connection with it.
Over HTTPS (each host with a certificate of its own, the one the pool
records): members are asked once their recorded certificates are trusted, a
member presenting another is not, and from dom0 they are reached over HTTPS."""

import json
import secrets
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.services.actions import ActionFailed, InvalidInput, RunContext
from xstui.services.pool import (
    PointAtMaster,
    TakeOverAsMaster,
    diagnose,
    trust_for_session,
    trustable,
)
from xstui.services.pool.recovery import recorded_certificates
from xstui.sim.control import host_rows
from xstui.sim.runner import start_simulator
from xstui.xapi.connection import Connection
from xstui.xapi.targets import Target, parse_target
from xstui.xapi.tls import server_fingerprint, spaced


def sim_ctl(running, *args):
    return subprocess.run(
        [sys.executable, "-m", "xstui", "sim-ctl", running.control_url, *args],
        capture_output=True,
        text=True,
        env={"XSTUI_PASSWORD": running.password, "PATH": ""},
        timeout=30,
    )


@pytest.fixture
def live(connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("host"))
    return connection


def test_a_healthy_pool_is_not_taken_over(running_sim, live):
    d = diagnose(live)
    assert d.master_answers and not d.master_dead
    assert {m.answer for m in d.members} == {"member of 127.10.0.11"}
    with pytest.raises(InvalidInput):
        TakeOverAsMaster(d, "xcp-b")


def test_the_control_endpoint_refuses_a_wrong_password(running_sim):
    import urllib.error
    import urllib.request

    body = json.dumps({"password": "wrong", "action": "kill-host", "host": "xcp-a"}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(running_sim.control_url, data=body))
    assert refused.value.code == 403
    assert all(r["live"] for r in host_rows(running_sim.sim))


def test_the_control_endpoint_counts_the_calls_it_answered(running_sim, connection):
    before = json.loads(sim_ctl(running_sim, "calls").stdout)["calls"]
    started = time.monotonic()
    connection.call("pool.get_all")
    connection.call("pool.get_all")
    out = sim_ctl(running_sim, "calls")
    assert out.returncode == 0, out.stderr
    after = json.loads(out.stdout)
    assert after["calls"]["pool.get_all"] - before.get("pool.get_all", 0) == 2
    assert after["calls"]["session.login_with_password"] >= 1  # the connection's login
    assert [m for t, m in after["log"] if t >= started] == ["pool.get_all", "pool.get_all"]


def test_master_killed_a_member_takes_over_and_the_others_follow(running_sim, live):
    out = sim_ctl(running_sim, "kill-host", "xcp-a")
    assert out.returncode == 0, out.stderr
    wait_for(lambda: live.state != "connected")
    d = diagnose(live)
    assert not d.master_answers and d.master_dead
    assert all(m.follows == "127.10.0.11" for m in d.members)

    with pytest.raises(InvalidInput):  # no master answers yet
        PointAtMaster(d, "xcp-c", d.new_master)
    action = TakeOverAsMaster(d, "xcp-b")
    plan = action.plan()
    assert plan.risk == "high" and "xe pool-emergency-transition-to-master" in plan.xe[0]
    assert any(line.startswith("When:") for line in plan.impact)
    assert any(line.startswith("Risk:") for line in plan.impact)
    outcome = action.execute(RunContext(live))
    assert "xcp-b is the master. Recovered: xcp-c" in outcome

    rows = {r["name"]: r for r in host_rows(running_sim.sim)}
    assert [n for n, r in rows.items() if r["master"]] == ["xcp-b"]
    assert rows["xcp-c"]["believes_master"] == "xcp-b"
    # the console follows the new master by itself
    wait_for(
        lambda: live.state == "connected" and "127.10.0.12" in live.target.url,
        what="the console on the new master",
    )
    assert live.call("pool.get_master", live.call("pool.get_all")[0]) == live.this_host


def test_a_member_that_missed_the_recovery_is_pointed_at_the_new_master(running_sim, live):
    sim_ctl(running_sim, "kill-host", "xcp-a")
    sim_ctl(running_sim, "kill-host", "xcp-c")  # down while the others recover
    d = diagnose(live)
    TakeOverAsMaster(d, "xcp-b").execute(RunContext(live))
    sim_ctl(running_sim, "revive-host", "xcp-c")
    # whether the console has reloaded from the new master yet or not
    for _ in range(2):
        d = diagnose(live)
        assert d.new_master == "127.10.0.12"
        wait_for(lambda: live.this_host == running_sim.sim.master)
    d = diagnose(live)
    stray = next(m for m in d.members if m.name == "xcp-c")
    assert stray.follows == "127.10.0.11" and d.new_master == "127.10.0.12"
    PointAtMaster(d, "xcp-c", d.new_master).execute(RunContext(live))
    rows = {r["name"]: r for r in host_rows(running_sim.sim)}
    assert rows["xcp-c"]["believes_master"] == "xcp-b"


# over HTTPS -------------------------------------------------------------------


def https_pool(**options):
    return start_simulator("demo", tls=True, own_certificates=True, task_delay=0.01, **options)


def read_pool(conn: Connection) -> Connection:
    """Logged in, the pool read (its hosts and their certificate records)."""
    conn.login()
    conn.start_events()
    wait_for(
        lambda: len(recorded_certificates(conn.cache) or ()) == 3,
        what="the pool's certificate records",
    )
    return conn


@pytest.fixture
def tls_pool():
    """The console pinned the master's certificate, and no member's."""
    running = https_pool()
    target = parse_target(running.url)
    conn = Connection(
        target,
        "root",
        running.password,
        watch=watched_types(),
        fingerprints={target.trust_key: running.fingerprint},
    )
    yield running, read_pool(conn)
    conn.close()
    running.close()


def served(address: str, port: int) -> str:
    try:
        return server_fingerprint(address, port, timeout=5)
    except OSError:
        return ""  # restarting


def test_members_presenting_the_recorded_certificates_are_trusted_once(tls_pool):
    running, conn = tls_pool
    pinned = dict(conn.fingerprints)
    running.sim.kill_host(running.sim.master)
    wait_for(lambda: conn.state != "connected")
    d = diagnose(conn)
    # not asked yet: no conclusion about the master
    assert not d.master_answers and not d.master_dead
    assert {m.name: m.record for m in d.members} == {"xcp-b": "matched", "xcp-c": "matched"}
    assert not any(m.follows for m in d.members)
    assert all("the pool recorded for it" in m.answer for m in d.members)
    presented = {m.untrusted for m in d.members}
    assert len(presented) == 2 and running.fingerprint not in presented
    with pytest.raises(InvalidInput, match="cannot be asked"):
        TakeOverAsMaster(d, "xcp-b")

    trust_for_session(conn, trustable(d))
    assert conn.fingerprints == pinned  # trusted for the session: nothing pinned
    d = diagnose(conn)
    assert d.master_dead and not d.untrusted
    assert all(m.follows == "127.10.0.11" for m in d.members)
    outcome = TakeOverAsMaster(d, "xcp-b").execute(RunContext(conn))
    assert "xcp-b is the master. Recovered: xcp-c" in outcome
    # the console follows the new master, over HTTPS with its own certificate
    wait_for(
        lambda: conn.state == "connected" and conn.target.host == "127.10.0.12",
        what="the console on the new master",
    )
    assert conn.this_host == running.sim.master


def test_a_member_presenting_an_unrecorded_certificate_is_not_trusted(tls_pool):
    running, conn = tls_pool
    st = running.sim.store
    c = st.find_one("host", name_label="xcp-c")
    address, port = st.get("host", c)["address"], conn.target.port
    recorded = recorded_certificates(conn.cache)[address]
    # xcp-c now serves a certificate the pool never recorded (its record stays)
    running.server.reset_certificate(c, [address])
    other = wait_for(lambda: served(address, port) not in ("", *recorded) and served(address, port))
    running.sim.kill_host(running.sim.master)
    wait_for(lambda: conn.state != "connected")

    d = diagnose(conn)
    assert [h.name for h in trustable(d)] == ["xcp-b"]
    trust_for_session(conn, trustable(d))
    d = diagnose(conn)
    b, stray = d.members
    assert b.follows == "127.10.0.11"
    assert stray.record == "not matched" and not stray.follows and stray.untrusted == other
    assert f"presents a certificate the pool never recorded: {spaced(other)}" in stray.answer
    # xcp-c may have taken over already, for all the console knows
    assert not d.master_dead and not trustable(d)
    with pytest.raises(InvalidInput, match="xcp-c cannot be asked"):
        TakeOverAsMaster(d, "xcp-c")
    assert "second master" in TakeOverAsMaster(d, "xcp-b").plan().impact[-1]


def test_with_host_from_dom0_is_https_to_that_host():
    local = Target("local", socket_path="/var/lib/xcp/xapi")
    assert local.with_host("10.0.0.2") == Target("remote", "https", "10.0.0.2", 443)
    assert local.with_host("10.0.0.2").url == "https://10.0.0.2"
    assert replace(local, port=8443).with_host("h").url == "https://h:8443"
    remote = parse_target("http://10.0.0.1:8080")
    assert remote.with_host("10.0.0.2").url == "http://10.0.0.2:8080"


def test_from_dom0_the_members_are_reached_over_https(monkeypatch):
    path = f"/tmp/xstui-test-{secrets.token_hex(4)}_sock"
    running = https_pool(unix_socket=path)
    monkeypatch.setenv("XSTUI_XAPI_SOCKET", path)
    # dom0 of the master; the pool's hosts answer HTTPS on the simulator's port
    target = replace(parse_target("local"), port=parse_target(running.url).port)
    conn = Connection(target, "root", "", watch=watched_types())
    try:
        read_pool(conn)
        assert conn.host_target("127.10.0.11") == target  # its own host: the socket
        assert conn.host_target("127.10.0.12").url == f"https://127.10.0.12:{target.port}"
        d = diagnose(conn)
        assert d.master_answers and {m.record for m in d.members} == {"matched"}
        trust_for_session(conn, trustable(d))
        d = diagnose(conn)
        assert {m.answer for m in d.members} == {"member of 127.10.0.11"}

        running.sim.kill_host(running.sim.master)  # its socket goes with it
        d = diagnose(conn)
        assert d.master_dead
        # the socket took the console's login without a password; the member's
        # own login over HTTPS needs root's
        with pytest.raises(ActionFailed, match="password was not accepted"):
            TakeOverAsMaster(d, "xcp-b").execute(RunContext(conn))
        outcome = TakeOverAsMaster(d, "xcp-b", running.password).execute(RunContext(conn))
        assert "xcp-b is the master. Recovered: xcp-c" in outcome
        assert "stays on this host's socket: connect to 127.10.0.12" in outcome
        rows = {r["name"]: r for r in host_rows(running.sim)}
        assert [n for n, r in rows.items() if r["master"]] == ["xcp-b"]
    finally:
        conn.close()
        running.close()
