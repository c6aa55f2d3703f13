"""Ejecting a member: refused for the master, with HA on, or while VMs run
there (before any call); the plan lists the VMs that lose local disks; the
host leaves the pool's database and stops answering."""

import time
import urllib.error
import urllib.request

import pytest

from xstui.services import host as hs
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.host.hosts import guests_on
from xstui.services.pool import EjectHost


@pytest.fixture
def live(connection):
    connection.start_events()
    assert connection.cache.wait_for(lambda: connection.cache.table("vbd"), 5)
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
    deadline = time.monotonic() + 20
    while guests_on(conn.cache, xcp_c):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    action = EjectHost(conn.cache, xcp_c)
    plan = action.plan()
    assert plan.risk == "high" and plan.confirm_word == "xcp-c"
    assert any("lose their disks" in i for i in plan.impact)
    member_url = running_sim.member_urls["xcp-c"]
    action.execute(RunContext(conn))
    deadline = time.monotonic() + 10
    while xcp_c in conn.cache.table("host"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    st = running_sim.sim.store
    assert not st.find("PBD", host=xcp_c) and not st.find("PIF", host=xcp_c)
    assert len(st.table("host")) == 2
    time.sleep(0.5)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(member_url, timeout=2)
