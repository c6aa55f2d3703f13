"""Pilot tests of the Status screen at 80x24 on the Linux console: what is
below the fold is reached with the keys, after any tab switch too."""

from tests.app.test_console import console, screen_text  # noqa: F401 (a fixture)
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.widgets.rowlist import RowList


async def test_the_host_tab_scrolls_after_a_tab_switch(console, running_sim, connection):  # noqa: F811
    """Issue #27 item 1: capacity and the TLS fingerprint are below the fold
    at 80x24; after the Pool tab and back, End still scrolls to them (the
    widget that had the keys was on the tab that was hidden)."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None, what="Status")
        screen = app.screen
        scroll = screen.query_one("#host VerticalScroll")
        await until(pilot, lambda: scroll.max_scroll_y > 0, what="the Host tab taller than 24")
        assert "TLS SHA-256" not in screen_text(app)  # below the fold
        await pilot.press("p")
        await until(pilot, lambda: screen.tab == "pool", what="the Pool tab")
        hosts = screen.query_one("#pool-hosts", RowList)
        await until(pilot, lambda: len(hosts.rows) == 3, what="the pool's hosts")
        await pilot.press("down")  # the Pool tab's list takes the keys too
        await until(pilot, lambda: hosts.cursor == 1, what="the cursor on the second host")
        await pilot.press("h")
        await until(pilot, lambda: screen.tab == "host", what="the Host tab again")
        await pilot.press("end")
        await until(
            pilot,
            lambda: scroll.scroll_y == scroll.max_scroll_y > 0,
            what="the Host tab scrolled to its end",
        )
        await until(pilot, lambda: "TLS SHA-256" in screen_text(app), what="the fingerprint")
        await pilot.press("home")
        await until(pilot, lambda: scroll.scroll_y == 0, what="back at the top")
        await pilot.press("pagedown")
        await until(pilot, lambda: scroll.scroll_y > 0, what="a page down")


async def test_the_pool_list_keeps_its_cursor_while_the_pool_changes(
    console,  # noqa: F811
    running_sim,
    connection,
    xapi,
):
    """The Pool tab's hosts are keyed by ref: a rename that puts another host
    before the one under the cursor moves the cursor with its host."""
    st = running_sim.sim.store
    b, c = (st.find_one("host", name_label=n) for n in ("xcp-b", "xcp-c"))
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None, what="Status")
        screen = app.screen
        await pilot.press("p")
        hosts = screen.query_one("#pool-hosts", RowList)
        await until(pilot, lambda: len(hosts.rows) == 3, what="the pool's hosts")
        await pilot.press("down")  # the master first, then by name: xcp-b
        assert hosts.cursor_key == b
        xapi.xenapi.host.set_name_label(c, "aaa-c")
        await until(pilot, lambda: hosts.rows[1][0] == c, what="xcp-c renamed, before xcp-b")
        assert hosts.cursor == 2 and hosts.cursor_key == b


async def test_health_counts_what_it_lists_and_an_old_ha_alert_is_historic(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Trial s12 items 6 and 17: "Health (7)" over a list of 10, one of the
    7 the HA_POOL_OVERCOMMITTED alert of a pool whose HA is off (F3: "the
    pool could tolerate 1 host failure(s) now"). (n) is the rows listed; the
    alert is listed as information, saying it no longer holds."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None, what="Status")
        screen = app.screen
        await pilot.press("a")
        await until(pilot, lambda: screen.tab == "health", what="the Health tab")
        tabs = screen.query_one("TabbedPanes")
        await until(
            pilot,
            lambda: tabs.title("health") == f"Health ({len(screen.status.health)})",
            what="the count of the rows listed",
        )
        assert any(f.severity == "info" for f in screen.status.health)
        (ha,) = [f for f in screen.status.health if f.text.startswith("HA_POOL_OVERCOMMITTED")]
        assert ha.severity == "info" and ha.text.endswith("(not so now: HA is off)")
