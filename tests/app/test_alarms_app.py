"""Pilot tests at 80x24 on the Linux console: Status's Load tab edits the
alarms of the host under the cursor (w), whose ALARM the simulator raises and
Logs shows, and the pool's mail alerts (e), refused in words when wrong and
shown when set; both keys are refused in words off the Load tab. Storage's
w edits the SR's alarms, saying a malformed configuration as such."""

from __future__ import annotations

from xstui.screens.status import StatusScreen

from tests.app.test_backup_app import notes, refused
from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.app.test_storage_app import open_storage
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.services.metrics import perfmon
from xstui.sim import rrd
from xstui.widgets.console import foreign_glyphs
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal
from xstui.widgets.rowlist import RowList


async def open_load(pilot) -> StatusScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, StatusScreen) and app.screen.status)
    screen = app.screen
    await pilot.press("l")
    listing = screen.query_one("#load-hosts", RowList)
    await until(pilot, lambda: len(listing.rows) == 3, what="the Load tab")
    return screen


async def test_a_hosts_memory_alarm_set_from_the_load_tab_fires_and_shows_in_logs(
    console,  # noqa: F811
    running_sim,
    connection,
):
    sim = running_sim.sim
    sim.perfmon_stop.set()  # the look is made below, when the alarm is set
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_load(pilot)
        assert "Enter graphs, w alarms, e mail" in flat(screen_text(app))
        await pilot.press("h")
        await until(pilot, lambda: screen.tab == "host")
        await pilot.press("w")
        await until(pilot, lambda: "Alarms: on the Load tab (l)." in notes(app))
        assert app.screen is screen
        await pilot.press("l")
        listing = screen.query_one("#load-hosts", RowList)
        await until(pilot, lambda: screen.tab == "load" and listing.rows)
        listing.go_to([cells[0] for _k, cells in listing.rows].index("xcp-c"))
        await pilot.press("w")
        form = await until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen)
        text = screen_text(app)
        assert "Performance alarms of xcp-c" in flat(text) and not foreign_glyphs(text)
        for label in ("Free memory below (MiB)", "Network above (MiB/s)"):
            assert label in text
        await refused(pilot, form, "memory_free_kib", "lots", "'lots' is not a number")
        await refused(pilot, form, "cpu_usage", "101", "at most 100")
        await fill_form(pilot, cpu_usage="", memory_free_kib="8192", period="1", inhibit="60")
        await confirm_plan(pilot)
        await action_over(pilot)
        host = sim.store.find_one("host", name_label="xcp-c")
        config = perfmon.read(sim.store.get("host", host)["other_config"]["perfmon"])
        assert [(a.name, a.level) for a in config.alarms] == [("memory_free_kib", 8192 * 1024)]
        made = rrd.perfmon_round(sim)  # ~5.6 GiB free is below 8 GiB
        assert [sim.store.get("message", m)["cls"] for m in made] == ["Host"]
        await pilot.press("f10")
        await until(pilot, lambda: "ALARM" in screen_text(app), what="the alert in Logs")
        assert "xcp-c" in screen_text(app)


async def test_mail_alerts_refused_in_words_then_set_and_shown(console, running_sim, connection):  # noqa: F811
    sim = running_sim.sim
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_load(pilot)
        await pilot.press("e")
        form = await until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen)
        assert "Mail alerts of the pool (none set)" in flat(screen_text(app))
        await refused(pilot, form, "destination", "ops", "'ops' is not an e-mail address")
        await refused(pilot, form, "mailhub", "smtp:99999", "between 1 and 65535")
        await fill_form(pilot, destination="ops@example.com", mailhub="", priority="")
        await until(
            pilot,
            lambda: "an address and a mail server go together" in flat(screen_text(app)),
            what="the pair refused",
        )
        pool = sim.store.find_one("pool")
        assert "mail-destination" not in sim.store.get("pool", pool)["other_config"]
        await fill_form(pilot, mailhub="smtp.example.com:587", priority="2")
        await confirm_plan(pilot)
        await action_over(pilot)
        config = sim.store.get("pool", pool)["other_config"]
        assert (config["mail-destination"], config["ssmtp-mailhub"]) == (
            "ops@example.com",
            "smtp.example.com:587",
        )
        assert config["mail-min-priority"] == "2"
        await pilot.press("e")
        form = await until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen)
        await until(pilot, lambda: form.query("#field-mailhub"), what="the form, mounted")
        text = screen_text(app)
        assert "ops@example.com" in text and "smtp.example.com:587" in text


async def test_an_srs_alarms_read_malformed_then_set_from_storage_fire_and_show_in_logs(
    console,  # noqa: F811
    running_sim,
    connection,
):
    sim = running_sim.sim
    sim.perfmon_stop.set()  # the look is made below, when the alarm is set
    st = sim.store
    nfs = st.find_one("SR", name_label="NFS VM store")  # 41 % used
    st.get("SR", nfs)["other_config"]["perfmon"] = "<config><variable><name value="
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_storage(pilot)
        listing = screen.query_one(RowList)
        await until(pilot, lambda: listing.rows, what="the SRs")
        assert "w: alarms" in flat(screen_text(app))
        listing.go_to([k for k, _cells in listing.rows].index(nfs))
        await pilot.press("w")
        form = await until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen)
        await until(pilot, lambda: form.query("#ok"), what="the form, mounted")
        text = screen_text(app)
        assert "Performance alarms of NFS VM store" in flat(text) and not foreign_glyphs(text)
        assert "is set now is unreadable:" in text and "configuration is not XML" in text
        for label in ("Space used above (%)", "I/O on each host above (MiB/s)"):
            assert label in text
        await refused(pilot, form, "physical_utilisation", "101", "at most 100")
        await refused(pilot, form, "physical_utilisation", "full", "'full' is not a number")
        await fill_form(pilot, physical_utilisation="40", period="1", inhibit="60")
        await until(pilot, lambda: isinstance(app.screen, PlanModal), what="the plan")
        await until(pilot, lambda: "perfmon could not read" in flat(screen_text(app)))
        await confirm_plan(pilot)
        await action_over(pilot)
        config = perfmon.read(st.get("SR", nfs)["other_config"]["perfmon"])
        assert [(a.name, a.level) for a in config.alarms] == [("physical_utilisation", 0.4)]
        made = rrd.perfmon_round(sim)
        assert [st.get("message", m)["cls"] for m in made] == ["SR"]
        await pilot.press("f10")
        await until(pilot, lambda: "ALARM" in screen_text(app), what="the alert in Logs")
        assert "NFS VM store" in screen_text(app)


async def test_logs_says_where_alerts_are_mailed_and_the_keys_that_change_it(
    console,  # noqa: F811
    running_sim,
    connection,
    xapi,
):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StatusScreen) and app.screen.status)
        await pilot.press("f10")
        said = "Mail: No mail alerts. Set in Status, Load tab (F1, l, e)."
        await until(pilot, lambda: said in screen_text(app), what="the mail line")
        # set by another client (xe), with what would be markup: shown as typed, live
        pool = xapi.xenapi.pool.get_all()[0]
        xapi.xenapi.pool.add_to_other_config(pool, "mail-destination", "[b]ops@example.com")
        xapi.xenapi.pool.add_to_other_config(pool, "ssmtp-mailhub", "smtp.example.com")
        await until(
            pilot,
            lambda: (
                "Mail: Alerts mailed to [b]ops@example.com through smtp.example.com, "
                "priority 3 or more important. Changed in Status, Load tab (F1, l, e)."
                in flat(screen_text(app))
            ),
            what="the mail line, redrawn",
        )
        text = screen_text(app)
        assert "HOST_CLOCK_SKEW_DETECTED" in text and not foreign_glyphs(text)
        for key in ("f1", "l", "e"):  # the keys it names
            await pilot.press(key)
        form = await until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen)
        await until(pilot, lambda: form.query("#field-mailhub"), what="the form, mounted")
        assert "smtp.example.com" in screen_text(app)
