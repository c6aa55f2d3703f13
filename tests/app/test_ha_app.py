"""Pilot tests of the HA area at 80x24: enable HA through the wizard with the
slow-storage timeout, protect VMs in bulk with the plan shown first, and a
protection that would break the plan refused before any write."""

import pytest
from xstui.screens.ha import HaScreen

from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.rowlist import RowList
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


@pytest.fixture
def ha_sim():
    from xstui.sim.runner import start_simulator

    running = start_simulator("ha-demo", task_delay=0.01)
    running.sim.time_scale = 0.05
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    yield running, conn
    conn.close()
    running.close()


async def open_ha(pilot) -> HaScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("vm"))
    await pilot.press("f3")
    await until(
        pilot,
        lambda: (
            isinstance(app.screen, HaScreen)
            and app.screen.status is not None
            and app.screen.status.computed_max is not None
        ),
    )
    return app.screen


async def test_enable_ha_with_the_slow_storage_timeout(running_sim, connection):
    st = running_sim.sim.store
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ha(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal))
        text = str(app.screen.text)
        assert "ISO library: type iso cannot hold a statefile" in text
        assert "Local storage: local to xcp-b" in text
        app.screen.query_one("#answer-go").press()
        await fill_form(pilot, sr="NFS VM store", timeout="120", tolerate="1")
        plan = await confirm_plan(pilot, "ha")
        assert "ha-config:timeout=120" in "\n".join(plan.plan.xe)
        pool = running_sim.sim.pool
        await until(pilot, lambda: st.get("pool", pool)["ha_enabled"])
        assert st.get("pool", pool)["ha_configuration"]["timeout"] == "120"
        assert st.get("pool", pool)["ha_host_failures_to_tolerate"] == 1
        await action_over(pilot)


async def test_protect_in_bulk_with_the_plan_shown(ha_sim):
    running, conn = ha_sim
    st = running.sim.store
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ha(pilot)
        listing = screen.query_one(RowList)
        names = {cells[0]: i for i, (_key, cells) in enumerate(listing.rows)}
        for name in ("proxy-01", "web-03"):
            listing.cursor = names[name]
            await pilot.press("space")
        await pilot.press("p")
        await fill_form(pilot, priority="restart", order="5", delay="")
        plan = await confirm_plan(pilot)
        assert any("The plan then tolerates" in line for line in plan.plan.impact)
        for name in ("proxy-01", "web-03"):
            vm = st.find_one("VM", name_label=name)
            await until(
                pilot,
                lambda vm=vm: (
                    st.get("VM", vm)["ha_restart_priority"] == "restart"
                    and st.get("VM", vm)["order"] == 5
                ),
            )
        await action_over(pilot)


async def test_protection_that_breaks_the_plan_is_refused_before_any_write(ha_sim):
    running, conn = ha_sim
    st = running.sim.store
    app = XstuiApp(conn)
    notices = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notices.append(message)
        await open_ha(pilot)
        await pilot.press("A", "p")  # every VM
        generation = st.generation
        await fill_form(pilot, priority="restart", order="", delay="")
        # the pool's refusal is in the form again, as chosen (issue 27)
        await until(
            pilot,
            lambda: (
                form_mounted(app)
                and "HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"
                in str(app.screen.query_one("#problem-form").render())
            ),
        )
        assert app.screen.query_one("#field-priority").value == "restart"
        assert st.generation == generation
