"""Ejecting a member: refused for the master, with HA on, or while VMs run
there (before any call); the plan lists the VMs that lose local disks; the
host leaves the pool's database and stops answering."""

import urllib.error
import urllib.request

import pytest

from tests.waiting import TIMEOUT, wait_for
from xstui.services import host as hs
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.host.hosts import guests_on
from xstui.services.pool import EjectHost


@pytest.fixture
def live(connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("vbd"))
    return connection


def host_named(conn, name):
    return next(h.ref for h in conn.cache.table("host").values() if h.name_label == name)


def test_refusals_before_any_call(live):
    conn = live
    calls = conn.calls
    with pytest.raises(InvalidInput, match="pool master"):
        EjectHost(conn.cache, host_named(conn, "xcp-a"))
    with pytest.raises(InvalidInput, match="maintenance mode"):
        EjectHost(conn.cache, host_named(conn, "xcp-c"))
    assert conn.calls == calls


def test_eject_after_maintenance(live, running_sim):
    conn = live
    xcp_c = host_named(conn, "xcp-c")
    blockers = hs.evacuation_blockers(conn, xcp_c)
    hs.EnterMaintenance(conn.cache, xcp_c, blockers, "shut down").execute(RunContext(conn))
    wait_for(lambda: not guests_on(conn.cache, xcp_c), what="xcp-c emptied")
    action = EjectHost(conn.cache, xcp_c)
    plan = action.plan()
    assert plan.risk == "high" and plan.confirm_word == "xcp-c"
    assert any("lose their disks" in i for i in plan.impact)
    member_url = running_sim.member_urls["xcp-c"]
    action.execute(RunContext(conn))
    wait_for(lambda: xcp_c not in conn.cache.table("host"), what="xcp-c gone from the pool")
    st = running_sim.sim.store
    assert not st.find("PBD", host=xcp_c) and not st.find("PIF", host=xcp_c)
    assert len(st.table("host")) == 2

    def answers() -> bool:
        try:
            urllib.request.urlopen(member_url, timeout=TIMEOUT)
        except urllib.error.HTTPError:
            return True  # an HTTP answer: still listening
        except (urllib.error.URLError, ConnectionError):
            return False
        return True

    wait_for(lambda: not answers(), what="xcp-c no longer answering")


def standalone(running_sim, name):
    from xstui.areas import watched_types
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    run = running_sim.standalone[name]
    conn = Connection(parse_target(run.url), "root", running_sim.password, watch=watched_types())
    conn.login()
    conn.start_events()
    wait_for(lambda: conn.cache.table("pif"))
    return conn


def test_a_cpu_mismatch_is_refused_unless_forced(running_sim):
    from xstui.services.pool import JoinPool, check_join

    conn = standalone(running_sim, "amd-e")
    try:
        check = check_join(conn, "127.10.0.11", running_sim.password)
        assert check.pool == "Demo Pool" and not check.refusals
        assert "CPU vendor" in check.mismatches[0]
        with pytest.raises(InvalidInput, match="join anyway"):
            JoinPool(conn.cache, "127.10.0.11", running_sim.password, "refuse", check)
        forced = JoinPool(conn.cache, "127.10.0.11", running_sim.password, "join anyway", check)
        plan = forced.plan()
        assert plan.risk == "high" and "force=true" in plan.xe[0]
        assert running_sim.password not in " ".join(plan.xe) + repr(forced)
        with pytest.raises(Exception, match="password"):
            check_join(conn, "127.10.0.11", "wrong")
    finally:
        conn.close()


def test_join_a_fourth_host_then_eject_it(running_sim):
    from xstui.services.pool import JoinPool, check_join

    conn = standalone(running_sim, "xcp-d")
    try:
        check = check_join(conn, "127.10.0.11", running_sim.password)
        assert not check.refusals and not check.mismatches
        JoinPool(conn.cache, "127.10.0.11", running_sim.password, "refuse", check).execute(
            RunContext(conn)
        )
        # the console followed its host to the pool's master
        wait_for(
            lambda: conn.state == "connected" and len(conn.cache.table("host")) == 4,
            what="the console on the pool's master, with four hosts",
        )
        assert conn.target.host == "127.10.0.11"
        xcp_d = host_named(conn, "xcp-d")
        pifs = [p for p in conn.cache.table("pif").values() if p.host == xcp_d]
        assert pifs and all(p.network in conn.cache.table("network") for p in pifs)
        st = running_sim.sim.store
        dom0 = st.get("host", xcp_d)["control_domain"]
        assert sorted(st.get("console", c)["protocol"] for c in st.get("VM", dom0)["consoles"]) == [
            "rfb",
            "vt100",
        ]
        EjectHost(conn.cache, xcp_d).execute(RunContext(conn))
        wait_for(lambda: xcp_d not in conn.cache.table("host"), what="xcp-d gone from the pool")
        assert all(st.exists("VM", c["VM"]) for c in st.table("console").values())
    finally:
        conn.close()
