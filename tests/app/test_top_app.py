"""Pilot tests at 80x24 on the Linux console: the VMs area's Top tab (F8,
T) lists the running VMs busiest first with their host and a sparkline in
PC console glyphs, sorts by CPU, memory, disk or network (o), applies the VM
list's filter, reads the RRDs only while shown, and a host whose metrics
fail says "no data" with the reason while the others keep their figures."""

from __future__ import annotations

from xstui.screens.vms import VmsScreen

from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.sim import rrd
from xstui.widgets.console import foreign_glyphs
from xstui.widgets.rowlist import RowList


def top_rows(screen) -> list[tuple[str, ...]]:
    return [tuple(cells) for _key, cells in screen.query_one("#top-list", RowList).rows]


async def open_top(pilot) -> VmsScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("vm"), what="the pool loaded")
    await pilot.press("f8")
    await until(pilot, lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows)
    await pilot.press("T")
    screen = app.screen
    await until(pilot, lambda: top_rows(screen) and screen.tab == "top", what="the Top tab")
    return screen


async def open_load_tab(pilot):
    """Status's Load tab, its three hosts listed: (the screen, its list)."""
    from xstui.screens.status import StatusScreen

    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, StatusScreen) and app.screen.status)
    screen = app.screen
    await pilot.press("l")
    listing = screen.query_one("#load-hosts", RowList)
    await until(pilot, lambda: len(listing.rows) == 3, what="the Load tab")
    return screen, listing


async def test_top_finds_the_busiest_vm_in_two_keys(console, running_sim, connection, monkeypatch):  # noqa: F811
    asked = []
    serve = rrd.http_get

    def counted(sim, host, path, query):
        asked.append(sim.store.get("host", host)["name_label"])
        return serve(sim, host, path, query)

    monkeypatch.setattr(rrd, "http_get", counted)
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_top(pilot)
        text = screen_text(app)
        assert "Busiest by CPU" in text and not foreign_glyphs(text)
        rows = top_rows(screen)
        cpus = [int(r[2].rstrip("%")) for r in rows]
        assert cpus == sorted(cpus, reverse=True)
        assert {rows[0][0], rows[1][0]} & {"jenkins", "sql-prod-01", "build-agent-1"}
        assert all(set(r[6]) <= set(" ░▒▓█·") and len(r[6]) == 19 for r in rows)
        assert "legacy-erp" not in [r[0] for r in rows]  # halted: not running
        assert sorted(set(asked)) == ["xcp-a", "xcp-b", "xcp-c"] and len(asked) == 3
        first = rows[0][0]
        assert f"{first} on " in flat(text)  # the detail line: the row under the cursor

        await pilot.press("o")  # by memory
        await until(pilot, lambda: "Busiest by memory" in screen_text(app))
        memory = [r[0] for r in top_rows(screen)]
        assert memory[0] == "sql-prod-01"  # the demo's biggest running VM (32 GiB)

        # a host whose metrics fail: its VMs say no data, with the reason
        b = running_sim.sim.store.find_one("host", name_label="xcp-b")
        running_sim.sim.metrics_faults[b] = ("garbage", 0)
        await screen.top.sample()
        rows = {r[0]: r for r in top_rows(screen)}
        assert rows["jenkins"][6] == "no data" and rows["sql-prod-01"][2] != "-"
        screen.query_one("#top-list", RowList).go_to(
            [r[0] for r in top_rows(screen)].index("jenkins")
        )
        await until(pilot, lambda: "jenkins on xcp-b: no data" in flat(screen_text(app)))
        assert "unreadable answer" in flat(screen_text(app))

        # the VM list's filter applies; the RRDs are not read while the tab is hidden
        await pilot.press("escape")
        await until(pilot, lambda: screen.tab == "list")
        await pilot.press("slash", *"xcp-a", "enter")
        await until(pilot, lambda: all(r.host == "xcp-a" for r in screen.shown))
        count = len(asked)
        await screen.top.sample()
        assert len(asked) == count  # hidden: nothing asked
        await pilot.press("T")
        await until(pilot, lambda: len(asked) > count, what="a refresh as the tab shows")
        await until(
            pilot, lambda: top_rows(screen) and all(r[1] == "xcp-a" for r in top_rows(screen))
        )
        assert "filter: xcp-a" in screen_text(app)


async def test_status_load_tab_per_host_with_a_failing_host(console, running_sim, connection):  # noqa: F811
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, listing = await open_load_tab(pilot)
        text = screen_text(app)
        assert "3 of 3 hosts report" in text and not foreign_glyphs(text)
        c = next(cells for _k, cells in listing.rows if cells[0] == "xcp-c")
        assert int(c[2].split("%")[0]) > 95  # the demo's host near its memory limit
        assert set(c[5]) <= set(" ░▒▓█·")
        b = running_sim.sim.store.find_one("host", name_label="xcp-b")
        running_sim.sim.metrics_faults[b] = ("fail", 0)
        await screen.sampling.sample()
        rows = {cells[0]: cells for _k, cells in listing.rows}
        assert rows["xcp-b"][5] == "no data" and rows["xcp-a"][1] != "-"
        assert "2 of 3 hosts report" in flat(screen_text(app)) and "no data from xcp-b" in flat(
            screen_text(app)
        )
        listing.go_to([cells[0] for _k, cells in listing.rows].index("xcp-b"))
        await until(
            pilot, lambda: "xcp-b: no data, the host answered HTTP 500" in flat(screen_text(app))
        )
        await pilot.press("h")  # another tab: no more reading
        await until(pilot, lambda: screen.tab == "host")
        del running_sim.sim.metrics_faults[b]
        await screen.sampling.sample()
        assert {cells[0]: cells for _k, cells in listing.rows}["xcp-b"][5] == "no data"


async def test_a_cpu_alarm_set_from_top_fires_and_shows_in_logs(console, running_sim, connection):  # noqa: F811
    from tests.app.test_backup_app import refused
    from tests.app.test_network_app import action_over, confirm_plan, fill_form
    from xstui.widgets.form import FormModal

    sim = running_sim.sim
    sim.perfmon_stop.set()  # the look is made below, when the alarm is set
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_top(pilot)
        listing = screen.query_one("#top-list", RowList)
        listing.go_to([r[0] for r in top_rows(screen)].index("sql-prod-01"))
        await pilot.press("a")
        form = await until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen)
        assert "Performance alarms of sql-prod-01" in flat(screen_text(app))
        await refused(pilot, form, "cpu_usage", "150", "at most 100")
        await fill_form(pilot, cpu_usage="50", period="1", inhibit="60")
        await confirm_plan(pilot)
        await action_over(pilot)
        vm = sim.store.find_one("VM", name_label="sql-prod-01")
        assert "cpu_usage" in sim.store.get("VM", vm)["other_config"]["perfmon"]
        made = rrd.perfmon_round(sim)  # the simulator's perfmon looks: ~70 % is above 50 %
        assert [sim.store.get("message", m)["name"] for m in made] == ["ALARM"]
        from tests.app.test_backup_app import notes

        await until(  # told at once, wherever the admin is
            pilot,
            lambda: (
                "ALARM: VM sql-prod-01: CPU usage " in notes(app)
                and "% above the alarm's 50 %; see Logs (F10)." in notes(app)
            ),
            what="the alarm told",
        )
        await pilot.press("f10")
        await until(pilot, lambda: "ALARM" in screen_text(app), what="the alert in Logs")
        text = flat(screen_text(app))
        assert "sql-prod-01" in text and "above the alarm's 50 %." in text


async def test_enter_shows_the_vms_graphs_over_10_min_2_h_and_a_week(
    console,  # noqa: F811
    running_sim,
    connection,
):
    from xstui.widgets.choice import ChoiceModal

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_top(pilot)
        first = top_rows(screen)[0][0]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal), what="the graphs")
        text = screen_text(app)
        assert f"{first} on " in text and "last 10 minutes, 2 hours and week" in text
        for line in ("CPU, now", "Memory used, now", "Network, now", "Disk, now", "1 week"):
            assert line in text
        assert not foreign_glyphs(text)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)


async def test_enter_on_the_load_tab_shows_the_hosts_graphs(console, running_sim, connection):  # noqa: F811
    from xstui.widgets.choice import ChoiceModal

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _listing = await open_load_tab(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal), what="the graphs")
        text = screen_text(app)
        assert "xcp-a: the last 10 minutes, 2 hours and week" in text and "1 week" in text
        assert "Memory used, now" in text and not foreign_glyphs(text)
