"""Reliability: a connection that drops at any call of a pool-wide change
never applies it twice and never leaves it half done.

A 3-host VLAN creation makes these calls: Async.network.create, then
Async.VLAN.create once per host, each task tidied with task.destroy. Each is
dropped in turn, before the host acts on it and after (the host acted, the
reply is lost). Afterwards the pool has the VLAN on every host, or nothing."""

from __future__ import annotations

import time

import pytest

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.services import network as net
from xstui.services.actions import ActionFailed, RunContext
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target

CALLS = [("Async.network.create", 0)]
CALLS += [("Async.VLAN.create", k) for k in range(3)]
CALLS += [("task.destroy", k) for k in range(4)]
DROPS = [(method, k, when) for method, k in CALLS for when in ("before", "after")]


def pool_outcome(store, name: str, tag: int) -> str:
    """'applied', 'nothing', 'duplicate' or 'half-applied'."""
    networks = [r for r, n in store.table("network").items() if n["name_label"] == name]
    vlans = [v for v in store.table("VLAN").values() if v["tag"] == tag]
    if len(networks) > 1:
        return "duplicate"
    if not networks and not vlans:
        return "nothing"
    on_network = (
        [v for v in vlans if store.get("PIF", v["untagged_PIF"])["network"] == networks[0]]
        if networks
        else []
    )
    if networks and len(vlans) == 3 and len(on_network) == 3:
        return "applied"
    return "half-applied"


@pytest.mark.parametrize("method, k, when", DROPS, ids=[f"{m}#{k}-{w}" for m, k, w in DROPS])
def test_a_dropped_call_never_duplicates_nor_half_applies(running_sim, method, k, when):
    conn = Connection(
        parse_target(running_sim.url), "root", running_sim.password, watch=watched_types()
    )
    conn.login()
    conn.start_events()
    try:
        wait_for(lambda: conn.cache.table("pif"))
        backup = running_sim.sim.store.find_one("network", name_label="Backup")
        action = net.CreateVlan(conn.cache, "VLAN 30", 30, backup)
        running_sim.sim.inject_drop(method, when, after=k)
        started = time.monotonic()
        try:
            action.execute(RunContext(conn))
        except ActionFailed as failed:
            assert failed.undo_report(), "a failure says what its undo did"
        assert time.monotonic() - started < 60
        outcome = pool_outcome(running_sim.sim.store, "VLAN 30", 30)
        assert outcome in ("applied", "nothing"), outcome
        assert method not in running_sim.sim.drops, "the drop happened"
    finally:
        conn.close()
