"""The pool's marker for procedures one console at a time (services.claims):
taken with XAPI's own test-and-set, refused in words while another console
holds it, taken over once expired or left by a console that is gone."""

import json
import socket
import time

import pytest

from tests.waiting import wait_for
from xstui.services import claims
from xstui.services.actions import InvalidInput
from xstui.services.ha import EnableHa
from xstui.services.status.health import procedures


def marker(store) -> dict | None:
    with store.lock:
        pool = next(iter(store.table("pool").values()))
        text = pool["other_config"].get(claims.KEY)
    return json.loads(text) if text else None


def plant(store, **fields) -> None:
    """Another console's marker, as it would have written it."""
    record = {
        "what": "a rolling update",
        "owner": "root@admin2",
        "machine": "admin2",
        "pid": 4242,
        "since": time.time() - 60,
        "until": time.time() + 3600,
        **fields,
    }
    with store.lock:
        ref = next(iter(store.table("pool")))
        config = dict(store.get("pool", ref)["other_config"])
        config[claims.KEY] = json.dumps(record)
        store.set("pool", ref, other_config=config)


def seen(conn, owner: str) -> bool:
    claim = claims.current(conn.cache)
    return claim is not None and claim.owner == owner


@pytest.fixture
def live(connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("pool"))
    return connection


def test_taken_released_and_refused_while_held(running_sim, live):
    store = running_sim.sim.store
    claim = claims.take(live, "an HA enable", 60)
    assert marker(store)["owner"] == f"root@{socket.gethostname()}"
    claims.release(live, claim)
    assert marker(store) is None
    plant(store)
    wait_for(lambda: seen(live, "root@admin2"), what="their marker seen")
    why = claims.refusal(live.cache)
    assert why.startswith("a rolling update by root@admin2 since") and "under way" in why
    with pytest.raises(InvalidInput, match="root@admin2"):
        claims.take(live, "an HA enable", 60)
    assert marker(store)["owner"] == "root@admin2"  # theirs, untouched
    flags = procedures(live.cache, time.time())  # Status' Health says it too
    assert [f.severity for f in flags] == ["warning"]
    assert flags[0].text.startswith("A rolling update by root@admin2 since")


def test_an_exclusive_action_says_who_holds_the_pool(running_sim, live):
    plant(running_sim.sim.store)
    wait_for(lambda: seen(live, "root@admin2"), what="their marker seen")
    action = EnableHa.__new__(EnableHa)  # its refusal only: no form needed
    assert "a rolling update by root@admin2" in action.why_not(live)


@pytest.mark.parametrize(
    "fields",
    [
        {"until": time.time() - 1},  # expired
        {"machine": socket.gethostname(), "pid": 2**22 + 17},  # this machine's, process gone
    ],
    ids=["expired", "abandoned"],
)
def test_taken_over_when_expired_or_abandoned(running_sim, live, fields):
    store = running_sim.sim.store
    plant(store, **fields)
    wait_for(lambda: seen(live, "root@admin2"), what="their marker seen")
    assert claims.refusal(live.cache) == ""
    claim = claims.take(live, "an HA enable", 60)
    assert marker(store)["pid"] == claim.pid and marker(store)["what"] == "an HA enable"
