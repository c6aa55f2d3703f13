"""The keys that use an HTTP handler are dimmed for a role the handler
refuses (XAPI checks "http/<action>" like a call): a Pool Operator may back
up a VM (GET /export) but not dump or restore the pool database, nor take a
host backup (Pool Admin only: they hold the pool's secrets)."""

from tests.app.test_rbac_app import guarded, login
from tests.waiting import until
from xstui.app import XstuiApp


async def test_backup_keys_follow_the_handlers_roles(joined_sim):
    conn = login(joined_sim, "bob", "Bob-Demo1")
    app = XstuiApp(conn)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.screen.__class__.__name__ == "StatusScreen")
            await pilot.press("f5")
            await until(pilot, lambda: app.screen.__class__.__name__ == "BackupScreen")
            refusals = guarded(app.screen)
            for action in ("dump", "restore", "host_backup"):
                assert refusals[action] == "needs Pool Admin (you are Pool Operator)", action
            assert refusals["export"] == ""
            await pilot.press("d")  # says why, opens nothing
            await until(pilot, lambda: app._notifications, what="the refusal in words")
            (notice,) = list(app._notifications)
            assert "needs Pool Admin" in notice.message
            assert app.screen.__class__.__name__ == "BackupScreen"
    finally:
        conn.close()
    assert not [c for c in joined_sim.sim.denied if c.startswith("http/")]
