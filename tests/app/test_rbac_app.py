"""RBAC in the console: logged in as a directory user, every action the role
may not perform is shown disabled in every area, and its key says which role
it needs; nothing reaches XAPI."""

import pytest

from tests.waiting import until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target

AREAS = ("f1", "f2", "f3", "f6", "f7", "f8", "f9")
USERS = ("directory", "add_subject", "set_role", "remove_subject")  # Pool Admin's


def login(running, user, password) -> Connection:
    conn = Connection(parse_target(running.url), user, password, watch=watched_types())
    conn.login()
    return conn


def guarded(screen) -> dict[str, str]:
    """binding action -> refusal, for the screen's actions that change something."""
    return {
        b.action: screen.refusal(b.action)
        for b in screen.BINDINGS
        if b.action in screen.acts and screen.acts[b.action].calls
    }


def test_a_session_knows_its_role(joined_sim):
    alice = login(joined_sim, "CORP\\alice", "Alice-Demo1")
    bob = login(joined_sim, "bob", "Bob-Demo1")
    root = login(joined_sim, "root", joined_sim.password)
    try:
        assert (alice.access.role, bob.access.role) == ("read-only", "pool-operator")
        assert root.access.superuser and root.access.may("pool.disable_external_auth")
        assert alice.access.may("host.get_record") and not alice.access.may("Async.host.reboot")
        assert alice.access.refusal(["host.reboot"]) == "needs Pool Operator (you are Read Only)"
        assert bob.access.refusal(["host.reboot"]) == ""
        assert bob.access.refusal(["pool.enable_external_auth"]).startswith("needs Pool Admin")
        assert "root account" in bob.access.refusal(["session.change_password"])
    finally:
        for conn in (alice, bob, root):
            conn.close()


@pytest.mark.parametrize(
    "user,password,denied",
    [
        ("CORP\\alice", "Alice-Demo1", None),  # read-only: every change
        # a pool operator runs the host, network, HA and VM jobs; certificates,
        # SSH (pool-admin) and the root password (root) are not for them
        ("bob", "Bob-Demo1", {"install", "regenerate", "ssh", "password", *USERS}),
    ],
)
async def test_every_area_disables_what_the_role_may_not(joined_sim, user, password, denied):
    conn = login(joined_sim, user, password)
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: conn.cache.table("host"), what="the pool loaded")
        seen = {}
        for key in AREAS:
            await pilot.press(key)
            screen = await until(
                pilot,
                lambda key=key: (
                    getattr(getattr(app.screen, "area", None), "key", "") == key
                    and app.screen.ready
                    and (app.screen.tab or not app.screen.TAB_ACTIONS)  # its tabs shown
                    and app.screen
                ),
                what=f"the area of {key}",
            )
            refusals = guarded(screen)
            assert refusals, f"{key}: no guarded actions on {type(screen).__name__}"
            seen.update(refusals)
            for action, refusal in refusals.items():
                shown = screen.check_action(action, ())
                if shown is not False:  # False: hidden, on another tab of the screen
                    assert (shown is None) == bool(refusal)
        await pilot.press("f6", "u")  # Security's Users tab
        await until(
            pilot,
            lambda: type(app.screen).__name__ == "SecurityScreen" and app.screen.tab == "users",
            what="Security's Users tab",
        )
        for action in USERS:
            assert app.screen.check_action(action, ()) is None  # Pool Admin's
        # the role's refusals (the objects' state dims others: HA's Disable while it is off)
        disabled = {a for a, r in seen.items() if r.startswith("needs ")}
        assert disabled == (set(seen) if denied is None else denied)
        assert "password" in disabled  # the root account's own
        # a disabled key explains itself and changes nothing
        await pilot.press("g")
        await until(pilot, lambda: app.screen.tab == "certs", what="Security's certificates tab")
        await pilot.press("w")
        notes = lambda: [n.message for n in app._notifications]  # noqa: E731
        await until(
            pilot,
            lambda: any("Root password: needs the local root account" in n for n in notes()),
            what="the refusal in words",
        )
        assert type(app.screen).__name__ == "SecurityScreen"  # no form, no plan opened
        # browsing every area made no call the role may not make
        assert joined_sim.sim.denied == []
    conn.close()
