"""Keys follow what the chosen object can do now (its allowed_operations),
through the same check as a role's refusal: shown disabled, and pressing
one says why in words instead of opening a dialog."""

from xstui.screens.vms import VmsScreen

from tests.app.test_host_app import open_host
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.widgets.rowlist import RowList


async def open_vms(pilot) -> VmsScreen:
    """The VMs area, its list loaded."""
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("vm"))
    await pilot.press("f8")
    await until(pilot, lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows)
    return app.screen


async def test_migrate_key_says_why_a_halted_vm_cannot(running_sim, connection):
    app = XstuiApp(connection)
    notices = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notices.append(message)
        await open_vms(pilot)
        await pilot.press("slash", *"backup-proxy", "enter")
        rows = app.screen.query_one(RowList)
        await until(pilot, lambda: [r.name for r in app.screen.shown] == ["backup-proxy"])
        assert rows.chosen() and app.screen.check_action("migrate", ()) is None  # disabled
        await pilot.press("g")
        await until(pilot, lambda: "Migrate: the VM is halted." in notices)
        assert isinstance(app.screen, VmsScreen)  # no dialog opened


async def test_reboot_key_follows_what_runs_on_the_host(running_sim, connection):
    st = running_sim.sim.store
    b = st.find_one("host", name_label="xcp-b")
    app = XstuiApp(connection)
    notices = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notices.append(message)
        screen = await open_host(pilot, "xcp-b")
        assert screen.check_action("reboot", ()) is True
        # a VM on its way in (xapi_host_helpers.ml: evacuate excludes vm_migrate)
        st.set("host", b, current_operations={"OpaqueRef:task": "vm_migrate"})
        await until(pilot, lambda: screen.check_action("reboot", ()) is None)
        await pilot.press("R")
        await until(pilot, lambda: "Reboot: the host is busy: vm migrate in progress." in notices)
        st.set("host", b, current_operations={})
        await until(pilot, lambda: screen.check_action("reboot", ()) is True)


async def test_ctrl_c_says_how_to_quit_in_plain_words(running_sim, connection):
    app = XstuiApp(connection)
    notices = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notices.append(message)
        await until(pilot, lambda: app.connection.cache.table("host"))
        await pilot.press("ctrl+c")
        await until(pilot, lambda: notices)
        assert notices == ["Ctrl+C does not quit here: press ^q to quit."]


async def test_exit_maintenance_key_shows_for_a_host_in_maintenance(running_sim, connection):
    from textual.widgets import Footer

    st = running_sim.sim.store
    b = st.find_one("host", name_label="xcp-b")
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "xcp-b")

        def footer_keys() -> set[str]:
            return {k.key for k in screen.query_one(Footer).query("FooterKey")}

        assert screen.check_action("exit_maintenance", ()) is False
        await until(pilot, lambda: "x" not in footer_keys() and "m" in footer_keys())
        st.set("host", b, enabled=False)  # disabled: what exiting maintenance undoes
        await until(pilot, lambda: "x" in footer_keys(), what="x Exit maint. in the footer")


async def test_every_area_dims_its_body_while_reconnecting(running_sim, connection):
    """Not only the areas with tabs: the VMs list too (issue 27, item 2)."""
    from textual.widgets import Footer

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_vms(pilot)
        rows = app.screen.query_one(RowList)
        assert rows.styles.text_opacity == 1.0
        master = running_sim.sim.master
        running_sim.server.stop_host(master)
        await until(pilot, lambda: app.screen.has_class("-stale"), what="reconnecting")
        await until(pilot, lambda: rows.styles.text_opacity < 1.0, what="the list dimmed")
        assert app.screen.query_one(Footer).styles.text_opacity == 1.0
        running_sim.server.restart_host(master)
        await until(pilot, lambda: rows.styles.text_opacity == 1.0, what="bright again")


async def test_vm_dialogs_name_the_vm_and_esc_clears_the_filter(running_sim, connection):
    """Issue 27, item 8: "web-03", not "1 VM(s)"; Esc leaves the filter empty."""
    from xstui.widgets.form import FormModal

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_vms(pilot)
        screen = app.screen
        everyone = len(screen.shown)
        await pilot.press("slash", *"web-03", "enter")
        await until(pilot, lambda: [r.name for r in screen.shown] == ["web-03"])
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        assert app.screen.title_text == "Power operation on web-03"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("slash", "escape")
        await until(pilot, lambda: len(screen.shown) == everyone, what="the filter cleared")
